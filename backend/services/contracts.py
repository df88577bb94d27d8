"""The company's life cycle (市场化): a selection raised as an owners' vote (Art. 278 item 4) in the deliberation
module, the draft contract its passed result makes (once: the selection is unique on the contract), the committee
filling in and signing the contract (which sets the compound's company), handover inspections (承接查验 / 移交)
that close only with every item checked and put right and both sides' signatures, the term-end reminders (180 and
90 days, once each by a unique row), and one-tap renewal, reselection or dismissal topics.

The deliberation module knows nothing of contracts: a selection reads its topic's frozen result when it is next
read and the sweep settles the rest, each under the selection's row lock."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from backend.domain import contracts as rules
from backend.domain.consultations import Step
from backend.domain.contracts import (
    DEFAULT_CHECKLIST,
    SELECTION_ITEM,
    SELECTION_PURPOSE_LABELS,
    ContractAction,
    ContractsRefused,
    ContractStatus,
    HandoverDirection,
    HandoverStatus,
    ItemState,
    SelectionPurpose,
    SelectionStatus,
    Side,
    Verdict,
)
from backend.domain.notifications import CONTRACT_DECIDED, CONTRACT_TERM_END
from backend.domain.refusals import Kind
from backend.domain.roles import Action, Role
from backend.domain.voting import ITEM_LABELS
from backend.extensions import db
from backend.models import (
    BallotResult,
    CompanySelection,
    Compound,
    ContractReminder,
    FeeSchedule,
    HandoverInspection,
    HandoverItem,
    HandoverPhoto,
    Membership,
    PropertyCompany,
    PropertyContract,
    Topic,
    User,
)
from backend.policy import NOT_FOUND, authorize, permits
from backend.services.audit import record_audit
from backend.services.consultations.common import audit as audit_topic
from backend.services.consultations.common import follow, tell_desk
from backend.services.documents import PDF, PreparedDocument, store_document
from backend.services.notifications import notify
from backend.services.photos import PhotoMissing, PreparedPhoto, kept_only_on_commit, load_photo, store_photo
from backend.shared.clock import beijing_date, utcnow


@dataclass(frozen=True)
class Viewer:
    user_id: int | None
    roles: frozenset[Role]
    may_manage: bool
    signs_for_company: bool


def _hidden() -> ContractsRefused:
    return ContractsRefused(NOT_FOUND, Kind.NOT_FOUND)


def viewer(compound_id: int, user_id: int | None, entry_compound_id: int | None = None) -> Viewer:
    access = authorize(Action.VIEW_CONTRACTS, compound_id, user_id, entry_compound_id)
    return Viewer(user_id=user_id, roles=access.roles,
                  may_manage=permits(access.roles, Action.MANAGE_CONTRACTS, compound_id),
                  signs_for_company=permits(access.roles, Action.SIGN_HANDOVER_FOR_COMPANY, compound_id))


def _managing(compound_id: int, user_id: int | None) -> Viewer:
    seen = viewer(compound_id, user_id)
    if not seen.may_manage:
        raise ContractsRefused("只有业委会成员或党组织书记可以办理", Kind.FORBIDDEN)
    return seen


def contract_link(contract_id: int) -> str:
    return f"/h5/contracts/{contract_id}"


def handover_link(inspection_id: int) -> str:
    return f"/h5/handovers/{inspection_id}"


def _desk_ids(compound_id: int) -> list[int]:
    return list(db.session.scalars(select(Membership.user_id).distinct().where(
        Membership.compound_id == compound_id, Membership.role.in_((Role.COMMITTEE, Role.PARTY_SECRETARY)))
        .order_by(Membership.user_id)))


# ---- selections --------------------------------------------------------------------------------------------------


def _companies(company_ids: Sequence[int]) -> dict[int, str]:
    if not company_ids:
        return {}
    return dict(db.session.execute(
        select(PropertyCompany.id, PropertyCompany.name).where(PropertyCompany.id.in_(set(company_ids)))).all())


def start_selection(compound_id: int, user_id: int | None, candidate_ids: Sequence[int],
                    ip: str | None = None) -> CompanySelection:
    """选聘: the committee names the candidate companies and the topic goes to the desk (议题确定), to be accepted
    as an owners' joint decision under item 4."""
    _managing(compound_id, user_id)
    return _raise(compound_id, user_id, SelectionPurpose.HIRE, list(candidate_ids), None, ip)


def follow_up_contract(contract_id: int, user_id: int | None, purpose: SelectionPurpose,
                       candidate_ids: Sequence[int] = (), ip: str | None = None) -> CompanySelection:
    """The contract page's one tap: 续聘 (the company under contract), 重新选聘 (the candidates named, the company
    under contract among them or not) or 解聘. One selection vote at a time per compound (a unique index)."""
    compound_id = db.session.scalar(select(PropertyContract.compound_id).where(PropertyContract.id == contract_id))
    if compound_id is None:
        raise _hidden()
    _managing(compound_id, user_id)
    contract = _locked_contract(contract_id)
    if contract.status is not ContractStatus.ACTIVE:
        raise ContractsRefused("只有履行中的合同可以续聘、重新选聘或解聘")
    candidates = [contract.company_id] if purpose is SelectionPurpose.RENEW else list(candidate_ids)
    return _raise(compound_id, user_id, purpose, candidates, contract, ip)


def _raise(compound_id: int, user_id: int, purpose: SelectionPurpose, candidate_ids: list[int],
           contract: PropertyContract | None, ip: str | None) -> CompanySelection:
    rules.check_candidates(purpose, candidate_ids)
    names = _companies(candidate_ids)
    if len(names) != len(candidate_ids):
        raise ContractsRefused("候选企业不存在", Kind.INVALID, errors={"candidate_ids": ["候选企业不存在"]})
    ordered = [names[company_id] for company_id in candidate_ids]
    if len(set(ordered)) != len(ordered):
        # The vote's result is read back by the carried option's label, the company's name: two candidates of one
        # name could not be told apart.
        message = "候选企业名称不能相同"
        raise ContractsRefused(message, Kind.INVALID, errors={"candidate_ids": [message]})
    label = SELECTION_PURPOSE_LABELS[purpose]
    current = _companies([contract.company_id])[contract.company_id] if contract is not None else ""
    body = "\n".join(filter(None, [
        f"{label}（业主共同决定事项：《民法典》第二百七十八条第一款第{SELECTION_ITEM}项，{ITEM_LABELS[SELECTION_ITEM]}）",
        f"现合同：{current}，期限至{contract.term_end.isoformat() if contract.term_end else '未填写'}"
        if contract is not None else "",
        f"候选企业：{'、'.join(ordered)}" if ordered else "",
        f"请按第{SELECTION_ITEM}项确定议题；{rules.ballot_hint(purpose, ordered)}。表决通过后自动生成合同草稿"
        if purpose is not SelectionPurpose.DISMISS else
        f"请按第{SELECTION_ITEM}项确定议题；{rules.ballot_hint(purpose, ordered)}。表决通过后合同解除并开始退出移交",
    ]))
    named = ordered[0] if len(ordered) == 1 else current
    title = f"{label}：{named}" if named else label
    topic = Topic(compound_id=compound_id, proposer_id=user_id, title=title[:60], body=body, step=Step.REVIEW)
    db.session.add(topic)
    db.session.flush()
    selection = CompanySelection(compound_id=compound_id, topic_id=topic.id, purpose=purpose,
                                 candidate_ids=candidate_ids, contract_id=contract.id if contract else None,
                                 created_by_id=user_id)
    try:
        with db.session.begin_nested():
            db.session.add(selection)
    except IntegrityError:
        db.session.rollback()
        raise ContractsRefused("本小区已有一项物业选聘表决在进行中") from None
    follow(topic.id, user_id)
    audit_topic(topic, user_id, "topic.raise", after={"title": topic.title, "step": Step.REVIEW,
                                                      "company_selection_id": selection.id}, ip=ip)
    tell_desk(topic, f"{label}须业主表决，等待确定议题", "topic-review",
              f"请按《民法典》第二百七十八条第一款第{SELECTION_ITEM}项确定议题。")
    record_audit(actor_id=user_id, action="contracts.selection", target_type="company_selection",
                 target_id=selection.id, compound_id=compound_id, ip=ip,
                 after={"purpose": purpose.value, "candidate_ids": candidate_ids, "topic_id": topic.id,
                        "contract_id": selection.contract_id})
    db.session.commit()
    return selection


def _locked_selection(selection_id: int) -> CompanySelection:
    return db.session.scalar(select(CompanySelection).where(CompanySelection.id == selection_id).with_for_update()
                             .execution_options(populate_existing=True))


def _outcome(topic_id: int) -> rules.BallotOutcome | None:
    result = db.session.get(BallotResult, topic_id)
    if result is None:
        return None
    options = tuple((option["label"], bool(option.get("is_approval")), bool(option.get("approved")))
                    for _, option in sorted(result.options.items(), key=lambda pair: int(pair[0])))
    return rules.BallotOutcome(kind=result.vote_kind, item=result.civil_code_item, passed=result.passed,
                               options=options)


def _settle_locked(selection: CompanySelection) -> bool:
    """Apply the topic's outcome to a locked selection still voting; True when it changed."""
    if selection.status is not SelectionStatus.VOTING:
        return False
    step = db.session.scalar(select(Topic.step).where(Topic.id == selection.topic_id))
    decision = rules.decide(selection.purpose, _companies(selection.candidate_ids), step, _outcome(selection.topic_id))
    if decision.verdict is Verdict.WAITING:
        return False
    now = utcnow()
    selection.status = SelectionStatus.FAILED if decision.verdict is Verdict.NONE else SelectionStatus.DECIDED
    selection.decision_note, selection.decided_at = decision.note, now
    made = None
    if decision.verdict is Verdict.CONTRACT:
        made = _draft_contract(selection, decision.company_id)
    elif decision.verdict is Verdict.DISMISS:
        _dismiss(selection, now)
    record_audit(actor_id=None, action=f"contracts.selection_{selection.status.value}", target_type="company_selection",
                 target_id=selection.id, compound_id=selection.compound_id,
                 after={"topic_id": selection.topic_id, "note": decision.note,
                        "contract_id": made.id if made else selection.contract_id})
    about = made.id if made else selection.contract_id
    link = contract_link(about) if about else f"/h5/compounds/{selection.compound_id}/contracts"
    notify(_desk_ids(selection.compound_id), CONTRACT_DECIDED,
           f"{SELECTION_PURPOSE_LABELS[selection.purpose]}：{decision.note}"[:64],
           "请填写合同期限、服务等级、收费标准并上传合同文件。" if made else "", link=link,
           dedupe_key=f"company-selection-{selection.id}-decided")
    return True


def _draft_contract(selection: CompanySelection, company_id: int) -> PropertyContract:
    """The draft contract of a passed selection; a renewal carries the old contract's level and fee standard and
    starts the day after it ends."""
    contract = PropertyContract(compound_id=selection.compound_id, company_id=company_id, selection_id=selection.id,
                                status=ContractStatus.DRAFT)
    if selection.contract_id is not None:
        old = db.session.get(PropertyContract, selection.contract_id)
        if old.company_id == company_id:
            contract.service_level, contract.fee_schedule_id = old.service_level, old.fee_schedule_id
            contract.term_start = old.term_end + timedelta(days=1) if old.term_end else None
    db.session.add(contract)
    db.session.flush()
    return contract


def _dismiss(selection: CompanySelection, now) -> None:
    """解聘: the contract ends at once, the compound has no company, and the company's hand-back inspection opens."""
    company_id = db.session.scalar(select(PropertyContract.company_id)
                                   .where(PropertyContract.id == selection.contract_id))
    # The owners' later decision stands: a draft with the dismissed company (an earlier renewal's) is void. Drafts
    # are locked before the contract in force, in the order activation locks them.
    drafts = list(db.session.scalars(select(PropertyContract).where(
        PropertyContract.compound_id == selection.compound_id, PropertyContract.company_id == company_id,
        PropertyContract.status == ContractStatus.DRAFT).order_by(PropertyContract.id).with_for_update()
        .execution_options(populate_existing=True)))
    contract = _locked_contract(selection.contract_id)
    if contract.status is not ContractStatus.ACTIVE:
        # Renewed while the owners voted: the company's contract now in force is the one they dismissed.
        contract = db.session.scalar(select(PropertyContract).where(
            PropertyContract.compound_id == selection.compound_id, PropertyContract.company_id == company_id,
            PropertyContract.status == ContractStatus.ACTIVE).with_for_update()
            .execution_options(populate_existing=True))
        if contract is None:
            return
    contract.status, contract.ended_at, contract.end_note = ContractStatus.DISMISSED, now, rules.DISMISSED
    for draft in drafts:
        draft.status, draft.ended_at, draft.end_note = ContractStatus.DISMISSED, now, rules.DISMISSED
    compound = db.session.get(Compound, contract.compound_id)
    if compound.property_company_id == contract.company_id:
        compound.property_company_id = None
        record_audit(actor_id=None, action="compound.property_company", target_type="compound", target_id=compound.id,
                     compound_id=compound.id, before={"property_company_id": contract.company_id},
                     after={"property_company_id": None, "contract_id": contract.id})
    _open_handover(contract, HandoverDirection.HAND_BACK, None)


def _settleable():
    return (
        select(CompanySelection.id).join(Topic, Topic.id == CompanySelection.topic_id)
        .outerjoin(BallotResult, BallotResult.topic_id == Topic.id)
        .where(CompanySelection.status == SelectionStatus.VOTING,
               (BallotResult.topic_id.is_not(None)) | Topic.step.in_((Step.DECLINED, Step.MERGED)))
    )


def settleable_selection_ids(compound_id: int | None = None, limit: int = 200) -> list[int]:
    """The selections still voting whose topic has a result or was not adopted, oldest first."""
    query = _settleable()
    if compound_id is not None:
        query = query.where(CompanySelection.compound_id == compound_id)
    ids = list(db.session.scalars(query.order_by(CompanySelection.id).limit(limit)))
    db.session.rollback()
    return ids


def settle_selection(selection_id: int) -> bool:
    """One selection brought up to its topic's result under its own lock and commit; whether it changed."""
    changed = _settle_locked(_locked_selection(selection_id))
    db.session.commit()
    return changed


def settle_selections(compound_id: int | None = None, limit: int = 200) -> int:
    """Every settleable selection (of one compound, when it is read), each on its own. Returns how many changed."""
    return sum(settle_selection(selection_id) for selection_id in settleable_selection_ids(compound_id, limit))


# ---- the contract ------------------------------------------------------------------------------------------------


def _locked_contract(contract_id: int) -> PropertyContract:
    contract = db.session.scalar(select(PropertyContract).where(PropertyContract.id == contract_id).with_for_update()
                                 .execution_options(populate_existing=True))
    if contract is None:
        raise _hidden()
    return contract


def _for_change(contract_id: int, user_id: int | None, action: ContractAction) -> PropertyContract:
    compound_id = db.session.scalar(select(PropertyContract.compound_id).where(PropertyContract.id == contract_id))
    if compound_id is None:
        raise _hidden()
    _managing(compound_id, user_id)
    contract = _locked_contract(contract_id)
    if action not in rules.allowed_actions(contract.status, True, False, handovers_of(contract.id)):
        raise ContractsRefused({ContractAction.EDIT: "合同已生效，不能再修改",
                                ContractAction.START_HANDOVER: "承接查验已开始"}.get(action, "合同状态不允许此操作"))
    return contract


def update_terms(contract_id: int, user_id: int | None, *, term_start: date | None, term_end: date | None,
                 service_level: int | None, fee_schedule_id: int | None, ip: str | None = None) -> PropertyContract:
    """The draft's terms: term, service level and the fee standard (one of the compound's fee schedules)."""
    contract = _for_change(contract_id, user_id, ContractAction.EDIT)
    rules.check_terms(term_start, term_end)
    if fee_schedule_id is not None and db.session.scalar(select(FeeSchedule.compound_id).where(
            FeeSchedule.id == fee_schedule_id)) != contract.compound_id:
        raise ContractsRefused("收费标准不是本小区的", Kind.INVALID, errors={"fee_schedule_id": ["请选择本小区的收费标准"]})
    contract.term_start, contract.term_end = term_start, term_end
    contract.service_level, contract.fee_schedule_id = service_level, fee_schedule_id
    record_audit(actor_id=user_id, action="contracts.terms", target_type="property_contract", target_id=contract.id,
                 compound_id=contract.compound_id, ip=ip, after={
                     "term_start": term_start.isoformat() if term_start else None,
                     "term_end": term_end.isoformat() if term_end else None, "service_level": service_level,
                     "fee_schedule_id": fee_schedule_id})
    db.session.commit()
    return contract


def attach_file(contract_id: int, user_id: int | None, document: PreparedDocument,
                ip: str | None = None) -> PropertyContract:
    """The signed contract as a file (PDF or photo) on the draft; a later one replaces it."""
    with kept_only_on_commit() as stored:
        contract = _for_change(contract_id, user_id, ContractAction.EDIT)
        contract.file_key = store_document(document, "contracts", stored)
        contract.file_type, contract.file_bytes = document.content_type, len(document.data)
        record_audit(actor_id=user_id, action="contracts.file", target_type="property_contract", target_id=contract.id,
                     compound_id=contract.compound_id, ip=ip, after={"content_type": document.content_type,
                                                                     "size_bytes": len(document.data)})
        db.session.commit()
    return contract


def activate(contract_id: int, user_id: int | None, ip: str | None = None) -> PropertyContract:
    """签订生效: the compound's company becomes the contract's (audited); a contract in force before it ends, and
    when it was another company's, that company's hand-back inspection opens."""
    contract = _for_change(contract_id, user_id, ContractAction.ACTIVATE)
    rules.check_activation(contract.status, rules.missing_for_activation(
        contract.term_start, contract.term_end, contract.service_level, contract.file_key is not None))
    now = utcnow()
    for previous in db.session.scalars(select(PropertyContract).where(
            PropertyContract.compound_id == contract.compound_id, PropertyContract.status == ContractStatus.ACTIVE)
            .with_for_update()):
        previous.status, previous.ended_at, previous.end_note = ContractStatus.ENDED, now, "由新合同接续"
        if previous.company_id != contract.company_id:
            _open_handover(previous, HandoverDirection.HAND_BACK, user_id)
    db.session.flush()
    # Two drafts signed at once both find no contract in force: the partial unique index lets one through.
    try:
        with db.session.begin_nested():
            contract.status, contract.activated_at = ContractStatus.ACTIVE, now
    except IntegrityError:
        db.session.rollback()
        raise ContractsRefused("另一份合同刚刚生效，请刷新后再看") from None
    compound = db.session.get(Compound, contract.compound_id)
    before = compound.property_company_id
    compound.property_company_id = contract.company_id
    record_audit(actor_id=user_id, action="compound.property_company", target_type="compound", target_id=compound.id,
                 compound_id=compound.id, ip=ip, before={"property_company_id": before},
                 after={"property_company_id": contract.company_id, "contract_id": contract.id})
    record_audit(actor_id=user_id, action="contracts.activate", target_type="property_contract", target_id=contract.id,
                 compound_id=contract.compound_id, ip=ip, after={"company_id": contract.company_id})
    db.session.commit()
    return contract


def contract_seen(contract_id: int, user_id: int | None) -> tuple[PropertyContract, Viewer]:
    compound_id = db.session.scalar(select(PropertyContract.compound_id).where(PropertyContract.id == contract_id))
    if compound_id is None:
        raise _hidden()
    seen = viewer(compound_id, user_id)
    settle_selections(compound_id)
    return db.session.get(PropertyContract, contract_id), seen


@dataclass(frozen=True)
class ContractFile:
    data: bytes
    content_type: str
    filename: str


def contract_file(contract_id: int, user_id: int | None) -> ContractFile:
    contract, _ = contract_seen(contract_id, user_id)
    if contract.file_key is None:
        raise _hidden()
    try:
        data = load_photo(contract.file_key)
    except PhotoMissing:
        raise _hidden() from None
    extension = "pdf" if contract.file_type == PDF else "jpg"
    return ContractFile(data, contract.file_type, f"contract-{contract.id}.{extension}")


def compound_overview(compound_id: int, user_id: int | None
                      ) -> tuple[Viewer, list[PropertyContract], list[CompanySelection]]:
    """The compound's contracts (latest first) and selections, the selections brought up to their votes first."""
    seen = viewer(compound_id, user_id)
    settle_selections(compound_id)
    contracts = list(db.session.scalars(select(PropertyContract).where(PropertyContract.compound_id == compound_id)
                                        .order_by(PropertyContract.id.desc())))
    selections = list(db.session.scalars(select(CompanySelection).where(CompanySelection.compound_id == compound_id)
                                         .order_by(CompanySelection.id.desc())))
    return seen, contracts, selections


def selections_about(contract_id: int) -> list[CompanySelection]:
    return list(db.session.scalars(select(CompanySelection).where(CompanySelection.contract_id == contract_id)
                                   .order_by(CompanySelection.id.desc())))


def selection_of(selection_id: int) -> CompanySelection:
    return db.session.get(CompanySelection, selection_id)


def contract_made_by(selection_id: int) -> int | None:
    return db.session.scalar(select(PropertyContract.id).where(PropertyContract.selection_id == selection_id))


def company_names(company_ids: Sequence[int]) -> dict[int, str]:
    return _companies(company_ids)


def compound_name(compound_id: int) -> str:
    return db.session.scalar(select(Compound.name).where(Compound.id == compound_id)) or ""


def all_companies() -> list[PropertyCompany]:
    return list(db.session.scalars(select(PropertyCompany).order_by(PropertyCompany.name, PropertyCompany.id)))


def fee_schedules(compound_id: int) -> list[FeeSchedule]:
    return list(db.session.scalars(select(FeeSchedule).where(FeeSchedule.compound_id == compound_id)
                                   .order_by(FeeSchedule.effective_from.desc(), FeeSchedule.id)))


def topic_steps(topic_ids: Sequence[int]) -> dict[int, Step]:
    if not topic_ids:
        return {}
    return dict(db.session.execute(select(Topic.id, Topic.step).where(Topic.id.in_(topic_ids))).all())


def reminders_of(contract_id: int) -> list[ContractReminder]:
    return list(db.session.scalars(select(ContractReminder).where(ContractReminder.contract_id == contract_id)
                                   .order_by(ContractReminder.id)))


def handovers_of(contract_id: int) -> frozenset[HandoverDirection]:
    return frozenset(db.session.scalars(select(HandoverInspection.direction).where(
        HandoverInspection.contract_id == contract_id)))


def inspections_of(contract_id: int) -> list[HandoverInspection]:
    return list(db.session.scalars(select(HandoverInspection).where(HandoverInspection.contract_id == contract_id)
                                   .order_by(HandoverInspection.id)))


# ---- handover inspections ------------------------------------------------------------------------------------------


def _open_handover(contract: PropertyContract, direction: HandoverDirection, user_id: int | None
                   ) -> HandoverInspection | None:
    """The inspection with the default checklist, once per contract and direction (the unique key)."""
    inspection = HandoverInspection(contract_id=contract.id, compound_id=contract.compound_id, direction=direction,
                                    created_by_id=user_id)
    try:
        with db.session.begin_nested():
            db.session.add(inspection)
            db.session.flush()
    except IntegrityError:
        return None
    db.session.add_all([HandoverItem(inspection_id=inspection.id, position=position, name=name)
                        for position, name in enumerate(DEFAULT_CHECKLIST, start=1)])
    return inspection


def start_handover(contract_id: int, user_id: int | None, ip: str | None = None) -> HandoverInspection:
    """承接查验 of a draft or active contract: the committee opens it once."""
    contract = _for_change(contract_id, user_id, ContractAction.START_HANDOVER)
    inspection = _open_handover(contract, HandoverDirection.TAKE_OVER, user_id)
    if inspection is None:
        raise ContractsRefused("承接查验已开始")
    record_audit(actor_id=user_id, action="contracts.handover", target_type="handover_inspection",
                 target_id=inspection.id, compound_id=contract.compound_id, ip=ip,
                 after={"contract_id": contract.id, "direction": inspection.direction.value})
    db.session.commit()
    return inspection


def contract_of(inspection: HandoverInspection) -> PropertyContract:
    return db.session.get(PropertyContract, inspection.contract_id)


def inspection_seen(inspection_id: int, user_id: int | None) -> tuple[HandoverInspection, Viewer]:
    compound_id = db.session.scalar(select(HandoverInspection.compound_id).where(HandoverInspection.id == inspection_id))
    if compound_id is None:
        raise _hidden()
    return db.session.get(HandoverInspection, inspection_id), viewer(compound_id, user_id)


def _locked_inspection(inspection_id: int) -> HandoverInspection:
    return db.session.scalar(select(HandoverInspection).where(HandoverInspection.id == inspection_id)
                             .with_for_update().execution_options(populate_existing=True))


def _item_for_change(inspection_id: int, item_id: int, user_id: int | None
                     ) -> tuple[HandoverInspection, HandoverItem]:
    inspection, seen = inspection_seen(inspection_id, user_id)
    if not seen.may_manage:
        raise ContractsRefused("只有业委会成员或党组织书记可以记录查验", Kind.FORBIDDEN)
    inspection = _locked_inspection(inspection_id)
    item = db.session.get(HandoverItem, item_id)
    if item is None or item.inspection_id != inspection.id:
        raise _hidden()
    return inspection, item


def record_item(inspection_id: int, item_id: int, user_id: int | None, state: ItemState, note: str,
                photos: Sequence[PreparedPhoto] = (), ip: str | None = None) -> HandoverItem:
    """The committee records what it found on one item, with photos; a new finding is open again until put right."""
    with kept_only_on_commit() as stored:
        inspection, item = _item_for_change(inspection_id, item_id, user_id)
        rules.check_may_record(inspection.status, bool(inspection.committee_signed_at or inspection.company_signed_at))
        held = db.session.scalar(select(func.count()).where(HandoverPhoto.item_id == item.id)) or 0
        rules.check_photo_count(held + len(photos))
        # Every recording is a new finding: a defect found again after it was put right is open until put right.
        item.resolved_at = item.resolved_by_id = None
        item.state, item.note, item.checked_by_id, item.checked_at = state, note, user_id, utcnow()
        for prepared in photos:
            key = store_photo(prepared)
            stored.append(key)
            db.session.add(HandoverPhoto(item_id=item.id, uploader_id=user_id, storage_key=key, width=prepared.width,
                                         height=prepared.height, size_bytes=len(prepared.data)))
        record_audit(actor_id=user_id, action="contracts.handover_item", target_type="handover_item", target_id=item.id,
                     compound_id=inspection.compound_id, ip=ip,
                     after={"state": state.value, "photos": len(photos)})
        db.session.commit()
    return item


def resolve_item(inspection_id: int, item_id: int, user_id: int | None, ip: str | None = None) -> HandoverItem:
    """A defect put right or a missing thing supplied: the committee closes the item (销项)."""
    inspection, item = _item_for_change(inspection_id, item_id, user_id)
    rules.check_may_record(inspection.status, bool(inspection.committee_signed_at or inspection.company_signed_at))
    rules.check_may_resolve(item.state, item.resolved_at is not None)
    item.resolved_at, item.resolved_by_id = utcnow(), user_id
    record_audit(actor_id=user_id, action="contracts.handover_resolve", target_type="handover_item", target_id=item.id,
                 compound_id=inspection.compound_id, ip=ip)
    db.session.commit()
    return item


def items_of(inspection_id: int) -> list[HandoverItem]:
    return list(db.session.scalars(select(HandoverItem).where(HandoverItem.inspection_id == inspection_id)
                                   .order_by(HandoverItem.position)))


def photos_of(item_ids: Sequence[int]) -> dict[int, list[HandoverPhoto]]:
    found: dict[int, list[HandoverPhoto]] = {item_id: [] for item_id in item_ids}
    if item_ids:
        for photo in db.session.scalars(select(HandoverPhoto).where(HandoverPhoto.item_id.in_(item_ids))
                                        .order_by(HandoverPhoto.id)):
            found[photo.item_id].append(photo)
    return found


def sign(inspection_id: int, user_id: int | None, side: Side, ip: str | None = None) -> HandoverInspection:
    """A side's signature (the committee's member, or the company's manager in the compound). Refused while any
    item is unchecked or not put right; with both signatures the inspection is closed."""
    inspection, seen = inspection_seen(inspection_id, user_id)
    if (side is Side.COMMITTEE and not seen.may_manage) or (side is Side.COMPANY and not seen.signs_for_company):
        raise ContractsRefused("您不能代表这一方签字", Kind.FORBIDDEN)
    inspection = _locked_inspection(inspection_id)
    open_items = rules.open_count((item.state, item.resolved_at is not None) for item in items_of(inspection.id))
    signed = inspection.committee_signed_at if side is Side.COMMITTEE else inspection.company_signed_at
    rules.check_may_sign(inspection.status, open_items, signed is not None)
    now = utcnow()
    if side is Side.COMMITTEE:
        inspection.committee_signer_id, inspection.committee_signed_at = user_id, now
    else:
        inspection.company_signer_id, inspection.company_signed_at = user_id, now
    if inspection.committee_signed_at and inspection.company_signed_at:
        inspection.status, inspection.closed_at = HandoverStatus.CLOSED, now
    record_audit(actor_id=user_id, action="contracts.handover_sign", target_type="handover_inspection",
                 target_id=inspection.id, compound_id=inspection.compound_id, ip=ip,
                 after={"side": side.value, "status": inspection.status.value})
    db.session.commit()
    return inspection


def visible_photo(inspection_id: int, photo_id: int, user_id: int | None) -> HandoverPhoto | None:
    inspection_seen(inspection_id, user_id)
    photo = db.session.get(HandoverPhoto, photo_id)
    if photo is None:
        return None
    item = db.session.get(HandoverItem, photo.item_id)
    return photo if item.inspection_id == inspection_id else None


def user_names(user_ids: Sequence[int | None]) -> dict[int, str]:
    wanted = {user_id for user_id in user_ids if user_id}
    if not wanted:
        return {}
    return dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(wanted))).all())


# ---- term-end reminders ------------------------------------------------------------------------------------------


def due_reminders(today: date) -> list[tuple[int, date, int]]:
    """(contract, term end, step) for active contracts whose step is due and not yet sent."""
    rows = db.session.execute(select(PropertyContract.id, PropertyContract.term_end).where(
        PropertyContract.status == ContractStatus.ACTIVE, PropertyContract.term_end >= today,
        PropertyContract.term_end <= today + timedelta(days=max(rules.REMINDER_DAYS)))).all()
    due = [(contract_id, term_end, rules.reminder_step(today, term_end)) for contract_id, term_end in rows]
    sent = set(db.session.execute(select(ContractReminder.contract_id, ContractReminder.term_end,
                                         ContractReminder.days_before)
                                  .where(ContractReminder.contract_id.in_([row[0] for row in rows]))).all()) \
        if rows else set()
    return [item for item in due if item[2] is not None and item not in sent]


def remind(contract_id: int, term_end: date, step: int) -> int:
    """Tell the committee the contract ends within `step` days; the reminder row's key makes it once. Returns how
    many were told (0 when it had been sent)."""
    try:
        with db.session.begin_nested():
            db.session.add(ContractReminder(contract_id=contract_id, term_end=term_end, days_before=step))
    except IntegrityError:
        return 0
    contract = db.session.get(PropertyContract, contract_id)
    company = _companies([contract.company_id])[contract.company_id]
    people = _desk_ids(contract.compound_id)
    notify(people, CONTRACT_TERM_END, f"物业服务合同将于{term_end.isoformat()}到期",
           f"{company}的合同距到期不足{step}天，请及时组织续聘或重新选聘。", link=contract_link(contract_id),
           dedupe_key=f"contract-{contract_id}-{term_end.isoformat()}-{step}")
    return len(people)


def today() -> date:
    return beijing_date(utcnow())

