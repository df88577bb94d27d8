"""The roles of DESIGN §1 and what each may do, as plain data."""
from __future__ import annotations

import enum

from backend.domain.compounds import PartyOrgForm


class Role(enum.StrEnum):
    RESIDENT = "resident"
    OWNER = "owner"
    COMMITTEE = "committee"
    PARTY_SECRETARY = "party_secretary"
    STAFF = "staff"
    MANAGER = "manager"
    OFFICIAL = "official"
    EVALUATOR = "evaluator"
    ADMIN = "admin"
    # Not stored: held for the length of a session by whoever scanned the compound's signed QR code.
    VISITOR = "visitor"


class Action(enum.StrEnum):
    VIEW_COMPOUND = "view_compound"
    LIST_BUILDINGS = "list_buildings"
    LIST_HOUSEHOLDS = "list_households"
    REQUEST_BINDING = "request_binding"
    REVIEW_BINDINGS = "review_bindings"
    PRINT_QR = "print_qr"
    IMPORT_LEDGER = "import_ledger"
    # The platform's accounts: deactivate a person, take a role away.
    MANAGE_ACCOUNTS = "manage_accounts"
    # The officials' assessment of a compound (problem compound, open problems), not its public facts.
    VIEW_ASSESSMENT = "view_assessment"
    SUBMIT_WORK_ORDER = "submit_work_order"
    # Every order of the compound, not only one's own.
    VIEW_WORK_ORDERS = "view_work_orders"
    HANDLE_WORK_ORDERS = "handle_work_orders"
    ASSIGN_WORK_ORDERS = "assign_work_orders"
    # Orders this month, times to accept and close, ratings: public to everyone of the compound, no names.
    VIEW_WORK_ORDER_STATS = "view_work_order_stats"
    CONFIGURE_WORK_ORDERS = "configure_work_orders"
    REPLY_TO_RATINGS = "reply_to_ratings"
    # The call buttons: 物业服务电话 (the manager), the committee's own contact (the committee).
    SET_SERVICE_PHONE = "set_service_phone"
    SET_COMMITTEE_PHONE = "set_committee_phone"
    # Deliberation (五步议事法): reading is open to everyone of the compound; the rest by role.
    VIEW_TOPICS = "view_topics"
    PROPOSE_TOPIC = "propose_topic"
    # Straight to 议题确定 without co-signs.
    RAISE_TOPIC = "raise_topic"
    REVIEW_TOPICS = "review_topics"
    COMMENT_ON_TOPICS = "comment_on_topics"
    RUN_CONSULTATIONS = "run_consultations"
    VOTE = "vote"
    FILE_OBJECTION = "file_objection"
    REPORT_PROGRESS = "report_progress"
    RATE_IMPLEMENTATION = "rate_implementation"
    CONFIGURE_CONSULTATIONS = "configure_consultations"
    VIEW_MEETINGS = "view_meetings"
    CONVENE_MEETINGS = "convene_meetings"
    # Satisfaction surveys (满意度测评): an official over an area, or the committee of its own compound.
    RUN_SURVEYS = "run_surveys"
    # Property fees (先买后补): the fee standard is public; bills are the household's own or the desk's.
    VIEW_FEE_SCHEDULES = "view_fee_schedules"
    MANAGE_FEE_SCHEDULES = "manage_fee_schedules"
    PAY_FEES = "pay_fees"
    VIEW_BILLS = "view_bills"
    RECORD_PAYMENTS = "record_payments"
    ADJUST_BILLS = "adjust_bills"
    MANAGE_SUBSIDIES = "manage_subsidies"
    VIEW_SETTLEMENT = "view_settlement"
    # 评星定级: the rating method, credit records, rating rounds (officials over an area).
    RATE_COMPANIES = "rate_companies"
    VIEW_DASHBOARD = "view_dashboard"
    # 通知公告: reading is VIEW_COMPOUND's; posting (and changing another's notice) by role.
    POST_ANNOUNCEMENTS = "post_announcements"
    # 矛盾纠纷调解: officials over the compound open cases and read their area's; the case decides the rest.
    OPEN_DISPUTES = "open_disputes"
    VIEW_DISPUTES = "view_disputes"
    # 问题小区: the flags of the compounds below an area, with their reasons and history (officials only).
    VIEW_FLAGS = "view_flags"
    # The flag rules' thresholds of an area (the service also asks for an official of district level or up).
    SET_FLAG_THRESHOLDS = "set_flag_thresholds"
    # 监督检查 and 整改台账: officials inspect (the service asks for a street or higher level) and keep the
    # checklist; the compound's company, committee and the officials over it follow the items.
    INSPECT_COMPOUNDS = "inspect_compounds"
    VIEW_RECTIFICATIONS = "view_rectifications"
    # 台账 export: carries owners' names, so officials and admins only, each export audited.
    EXPORT_LEDGER = "export_ledger"
    # Party organisation and self-governance body (measures 1, 3): the compound's own desk reads, officials write.
    VIEW_GOVERNANCE = "view_governance"
    MANAGE_GOVERNANCE = "manage_governance"
    # 第一书记: sending one takes a district (or city) official; the service checks the level.
    ASSIGN_FIRST_SECRETARY = "assign_first_secretary"
    # An area's oversight figures: party and self-governance coverage, first secretaries' logs.
    VIEW_COVERAGE = "view_coverage"
    VIEW_REPORTS = "view_reports"
    # 党建+ 社区活动: reading is everyone's; signing up is for people of the compound; organising by role.
    VIEW_ACTIVITIES = "view_activities"
    JOIN_ACTIVITIES = "join_activities"
    ORGANISE_ACTIVITIES = "organise_activities"
    # 老旧小区改造 (issue 19): projects are public to the compound; the officials over it and its self-governance
    # set them up; progress is the responsible party's and rating a household's (the service checks both).
    VIEW_RENOVATION = "view_renovation"
    MANAGE_RENOVATION = "manage_renovation"
    RATE_RENOVATION = "rate_renovation"
    # The company's life cycle (issue 19): selections, contracts and handover inspections.
    VIEW_CONTRACTS = "view_contracts"
    MANAGE_CONTRACTS = "manage_contracts"
    # The company's signature on a handover inspection (its manager in the compound).
    SIGN_HANDOVER_FOR_COMPANY = "sign_handover_for_company"
    # 治理骨干 (issue 19): the community's officials over the compound and its party secretary keep the roster; a
    # verified resident puts themselves forward (the party secretary confirms).
    KEEP_BACKBONES = "keep_backbones"
    VOLUNTEER_AS_BACKBONE = "volunteer_as_backbone"
    # Issue 19, environment campaigns (卫生评比): officials over an area run them (the campaign's appointed
    # evaluators score too, by the campaign's own list); everyone of a covered compound reads its buildings' ranks.
    RUN_CAMPAIGNS = "run_campaigns"
    VIEW_CAMPAIGNS = "view_campaigns"


_RUNS_COMPOUND = frozenset({Role.COMMITTEE, Role.PARTY_SECRETARY, Role.STAFF, Role.MANAGER, Role.OFFICIAL, Role.ADMIN})

_SELF_GOVERNANCE = frozenset({Role.COMMITTEE, Role.PARTY_SECRETARY, Role.ADMIN})
_HOUSEHOLD_PEOPLE = frozenset({Role.RESIDENT, Role.OWNER})

PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.VIEW_COMPOUND: frozenset(Role),
    Action.LIST_BUILDINGS: frozenset(Role),
    Action.LIST_HOUSEHOLDS: _RUNS_COMPOUND,
    Action.REQUEST_BINDING: frozenset(Role),
    # DESIGN §1 and the foundation issue: committee, party secretary or staff verify households.
    Action.REVIEW_BINDINGS: frozenset({Role.COMMITTEE, Role.PARTY_SECRETARY, Role.STAFF, Role.ADMIN}),
    Action.PRINT_QR: _RUNS_COMPOUND,
    Action.IMPORT_LEDGER: frozenset({Role.OFFICIAL, Role.ADMIN}),
    Action.MANAGE_ACCOUNTS: frozenset({Role.ADMIN}),
    Action.VIEW_ASSESSMENT: _RUNS_COMPOUND,
    # A verified household's people report; staff do not file orders for themselves.
    Action.SUBMIT_WORK_ORDER: frozenset({Role.RESIDENT, Role.OWNER}),
    Action.VIEW_WORK_ORDERS: _RUNS_COMPOUND,
    Action.HANDLE_WORK_ORDERS: frozenset({Role.STAFF, Role.MANAGER, Role.ADMIN}),
    Action.ASSIGN_WORK_ORDERS: frozenset({Role.MANAGER, Role.ADMIN}),
    Action.VIEW_WORK_ORDER_STATS: frozenset(Role),
    Action.CONFIGURE_WORK_ORDERS: frozenset({Role.MANAGER, Role.COMMITTEE, Role.PARTY_SECRETARY, Role.ADMIN}),
    Action.REPLY_TO_RATINGS: frozenset({Role.MANAGER, Role.ADMIN}),
    Action.SET_SERVICE_PHONE: frozenset({Role.MANAGER, Role.ADMIN}),
    Action.SET_COMMITTEE_PHONE: frozenset({Role.COMMITTEE, Role.ADMIN}),
    Action.VIEW_TOPICS: frozenset(Role),
    # A verified household's people propose and co-sign (the service checks the household is theirs).
    Action.PROPOSE_TOPIC: _HOUSEHOLD_PEOPLE,
    Action.RAISE_TOPIC: _SELF_GOVERNANCE,
    # DESIGN §1: the party secretary 确定议题 (the committee too where there is no party organisation, below).
    Action.REVIEW_TOPICS: frozenset({Role.PARTY_SECRETARY, Role.ADMIN}),
    # Every party at the table speaks: residents, the committee, the property company, the community.
    Action.COMMENT_ON_TOPICS: frozenset(Role) - {Role.VISITOR, Role.EVALUATOR},
    Action.RUN_CONSULTATIONS: _SELF_GOVERNANCE,
    Action.VOTE: _HOUSEHOLD_PEOPLE,
    Action.FILE_OBJECTION: frozenset({Role.OWNER}),
    Action.REPORT_PROGRESS: _SELF_GOVERNANCE | {Role.MANAGER, Role.STAFF},
    Action.RATE_IMPLEMENTATION: _HOUSEHOLD_PEOPLE,
    Action.CONFIGURE_CONSULTATIONS: _SELF_GOVERNANCE,
    Action.VIEW_MEETINGS: frozenset(Role),
    # Officials convene too: a community calls the 协调会 of a dispute.
    Action.CONVENE_MEETINGS: _SELF_GOVERNANCE | {Role.OFFICIAL},
    Action.RUN_SURVEYS: _SELF_GOVERNANCE | {Role.OFFICIAL},
    Action.VIEW_FEE_SCHEDULES: frozenset(Role),
    # DESIGN §1: officials set fee policy; the committee sets fees with the owners.
    Action.MANAGE_FEE_SCHEDULES: _SELF_GOVERNANCE | {Role.OFFICIAL},
    # The household's people see and pay their own bills (the service checks the household is theirs).
    Action.PAY_FEES: _HOUSEHOLD_PEOPLE,
    Action.VIEW_BILLS: _RUNS_COMPOUND,
    Action.RECORD_PAYMENTS: frozenset({Role.STAFF, Role.MANAGER, Role.ADMIN}),
    # Waivers, adjustments and refunds: the committee or an official, never the company that collects.
    Action.ADJUST_BILLS: _SELF_GOVERNANCE | {Role.OFFICIAL},
    Action.MANAGE_SUBSIDIES: frozenset({Role.OFFICIAL, Role.ADMIN}),
    Action.VIEW_SETTLEMENT: frozenset({Role.OFFICIAL, Role.ADMIN}),
    Action.RATE_COMPANIES: frozenset({Role.OFFICIAL, Role.ADMIN}),
    Action.VIEW_DASHBOARD: frozenset({Role.OFFICIAL, Role.ADMIN}),
    # The compound's self-governance, its property manager, and the community and above over their area.
    Action.POST_ANNOUNCEMENTS: _SELF_GOVERNANCE | {Role.MANAGER, Role.OFFICIAL},
    # Mediation is the community's and the street's (measure 6): the committee and the company are often a side of
    # the dispute, so they are parties to a case, never the ones who open or mediate it.
    Action.OPEN_DISPUTES: frozenset({Role.OFFICIAL, Role.ADMIN}),
    Action.VIEW_DISPUTES: frozenset({Role.OFFICIAL, Role.ADMIN}),
    Action.VIEW_FLAGS: frozenset({Role.OFFICIAL, Role.ADMIN}),
    Action.SET_FLAG_THRESHOLDS: frozenset({Role.OFFICIAL, Role.ADMIN}),
    Action.INSPECT_COMPOUNDS: frozenset({Role.OFFICIAL, Role.ADMIN}),
    Action.VIEW_RECTIFICATIONS: _RUNS_COMPOUND,
    Action.EXPORT_LEDGER: frozenset({Role.OFFICIAL, Role.ADMIN}),
    Action.VIEW_GOVERNANCE: _SELF_GOVERNANCE | {Role.OFFICIAL},
    Action.MANAGE_GOVERNANCE: frozenset({Role.OFFICIAL, Role.ADMIN}),
    Action.ASSIGN_FIRST_SECRETARY: frozenset({Role.OFFICIAL, Role.ADMIN}),
    Action.VIEW_COVERAGE: frozenset({Role.OFFICIAL, Role.ADMIN}),
    # 定期通报: read and built on demand by the officials of the area and above.
    Action.VIEW_REPORTS: frozenset({Role.OFFICIAL, Role.ADMIN}),
    Action.VIEW_ACTIVITIES: frozenset(Role),
    # Staff and the committee volunteer too; a QR visitor or a third-party evaluator holds no place here.
    Action.JOIN_ACTIVITIES: frozenset(Role) - {Role.VISITOR, Role.EVALUATOR},
    # The party secretary, the committee and the community's officials organise (measure 2, 党建+).
    Action.ORGANISE_ACTIVITIES: _SELF_GOVERNANCE | {Role.OFFICIAL},
}

# Issue 19: renovation projects.
PERMISSIONS |= {
    Action.VIEW_RENOVATION: frozenset(Role),
    Action.MANAGE_RENOVATION: _SELF_GOVERNANCE | {Role.OFFICIAL},
    Action.RATE_RENOVATION: _HOUSEHOLD_PEOPLE,
    # The company's contract and its handover are the owners' business and the company's; officials oversee.
    Action.VIEW_CONTRACTS: _HOUSEHOLD_PEOPLE | _RUNS_COMPOUND,
    Action.MANAGE_CONTRACTS: _SELF_GOVERNANCE,
    Action.SIGN_HANDOVER_FOR_COMPANY: frozenset({Role.MANAGER}),
    # Issue 19, 治理骨干: the public roster is VIEW_COMPOUND's.
    Action.KEEP_BACKBONES: frozenset({Role.PARTY_SECRETARY, Role.OFFICIAL, Role.ADMIN}),
    Action.VOLUNTEER_AS_BACKBONE: _HOUSEHOLD_PEOPLE,
    # Issue 19, environment campaigns.
    Action.RUN_CAMPAIGNS: frozenset({Role.OFFICIAL, Role.ADMIN}),
    Action.VIEW_CAMPAIGNS: frozenset(Role),
}


# Who also holds an action where the compound has no party organisation (党组织): DESIGN §1, the committee
# 确定议题 there. An action listed here is answered only with the compound's party organisation in hand.
WITHOUT_PARTY_ORGANISATION: dict[Action, frozenset[Role]] = {
    Action.REVIEW_TOPICS: frozenset({Role.COMMITTEE}),
}


def has_party_organisation(form: PartyOrgForm) -> bool:
    return form is not PartyOrgForm.NONE


def allows(roles: frozenset[Role] | set[Role], action: Action, *, party_organisation: bool | None = None) -> bool:
    """Whether one of `roles` may take `action`. For an action of WITHOUT_PARTY_ORGANISATION, `party_organisation`
    says whether the compound has one (policy.permits reads it from the compound); asking without it is a
    mistake of the caller's, not a no."""
    granted = PERMISSIONS[action]
    if action in WITHOUT_PARTY_ORGANISATION:
        if party_organisation is None:
            raise ValueError(f"who may {action} depends on whether the compound has a party organisation")
        if not party_organisation:
            granted = granted | WITHOUT_PARTY_ORGANISATION[action]
    return bool(granted & set(roles))
