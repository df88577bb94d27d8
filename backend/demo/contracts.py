"""The demo's property contract (市场化): the first compound's company chosen at the owners' assembly before the
platform (its item-4 result recorded as a closed ballot leaves it), the draft that result makes, completed and
signed by the committee through the services, its term ending within 180 days (the next morning's reminder goes
out under `make run`), and a takeover inspection half done with one defect open."""
from __future__ import annotations

import io
from datetime import datetime, timedelta

from sqlalchemy import func, select

from backend.domain.consultations import Step
from backend.domain.contracts import ItemState
from backend.domain.voting import VoteKind
from backend.extensions import db
from backend.models import BallotResult, Compound, Household, Topic
from backend.services import contracts as service
from backend.services.documents import prepare_document
from backend.shared.clock import beijing_date

# The smallest well-formed PDF: the signed contract's scan stands in for it.
CONTRACT_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def decided_on_paper(compound_id: int, company_id: int, committee_id: int) -> int:
    """A selection of `company_id` decided on paper, settled the way the sweep settles one: the draft's id."""
    selection_id = paper_result(compound_id, company_id, committee_id)
    service.settle_selections(compound_id)
    return service.contract_made_by(selection_id)


def paper_result(compound_id: int, company_id: int, committee_id: int) -> int:
    """A selection of `company_id` whose topic carries the result of an item-4 vote held on paper (four in five of
    the households and of the area, all for), not settled yet: its id."""
    selection = service.start_selection(compound_id, committee_id, [company_id])
    selection_id = selection.id
    households, area = db.session.execute(select(func.count(), func.coalesce(func.sum(Household.floor_area_centi_m2), 0))
                                          .where(Household.compound_id == compound_id)).one()
    voted, voted_area = households * 4 // 5, area * 4 // 5
    topic = db.session.get(Topic, selection.topic_id)
    topic.step, topic.vote_kind, topic.civil_code_item = Step.DONE, VoteKind.OWNERS_JOINT, 4
    db.session.add(BallotResult(
        topic_id=topic.id, vote_kind=VoteKind.OWNERS_JOINT, civil_code_item=4, eligible_households=households,
        total_area_centi_m2=area, total_headcount=households, participating_households=voted,
        participating_area_centi_m2=voted_area, participating_headcount=voted, participation_met=True, passed=True,
        reason="表决通过",
        options={"1": {"label": "同意", "is_abstain": False, "is_approval": True, "households": voted,
                       "area_centi_m2": voted_area, "headcount": voted, "approved": True}},
        thresholds={"participation": "2/3", "approval": "1/2", "approval_strict": True}))
    db.session.commit()
    return selection_id


def make_contracts(compound_id: int, accounts: dict[str, int], now: datetime) -> int:
    committee = accounts["committee"]
    company_id = db.session.scalar(select(Compound.property_company_id).where(Compound.id == compound_id))
    contract_id = decided_on_paper(compound_id, company_id, committee)
    today = beijing_date(now)
    schedules = service.fee_schedules(compound_id)
    service.update_terms(contract_id, committee, term_start=today - timedelta(days=3 * 365 - 150),
                         term_end=today + timedelta(days=150), service_level=3,
                         fee_schedule_id=schedules[0].id if schedules else None)
    service.attach_file(contract_id, committee, prepare_document(io.BytesIO(CONTRACT_PDF)))
    service.activate(contract_id, committee)
    inspection = service.start_handover(contract_id, committee)
    for item in service.items_of(inspection.id)[:4]:
        defect = item.position == 4
        service.record_item(inspection.id, item.id, committee, ItemState.DEFECTIVE if defect else ItemState.GOOD,
                            "2栋消防栓水压不足，灭火器3具过期" if defect else "")
    return contract_id
