"""A contract in force for tests that need one without running its vote: the selection's topic carries the
frozen result a closed item-4 ballot leaves (the API tests drive the vote itself end to end), and the rest goes
the real way — the settling makes the draft, the committee's services complete and sign it."""
from __future__ import annotations

import io
from datetime import date

from backend.domain.consultations import Step
from backend.domain.contracts import SelectionPurpose
from backend.domain.voting import VoteKind
from backend.extensions import db
from backend.models import BallotResult, Topic
from backend.services import contracts as service
from backend.services.documents import prepare_document

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def contract_in_force(compound_id: int, company_id: int, committee_id: int, term_start: date, term_end: date) -> int:
    selection = service.start_selection(compound_id, committee_id, SelectionPurpose.HIRE, [company_id])
    selection_id = selection.id
    topic = db.session.get(Topic, selection.topic_id)
    topic.step, topic.vote_kind, topic.civil_code_item = Step.PUBLICITY, VoteKind.OWNERS_JOINT, 4
    db.session.add(BallotResult(
        topic_id=topic.id, vote_kind=VoteKind.OWNERS_JOINT, civil_code_item=4, eligible_households=3,
        total_area_centi_m2=30000, total_headcount=3, participating_households=3, participating_area_centi_m2=30000,
        participating_headcount=3, participation_met=True, passed=True, reason="表决通过",
        options={"1": {"label": "同意", "is_abstain": False, "is_approval": True, "households": 3,
                       "area_centi_m2": 30000, "headcount": 3, "approved": True}},
        thresholds={"participation": "2/3", "approval": "1/2", "approval_strict": True}))
    db.session.commit()
    assert service.settle_selections(compound_id) == 1
    contract_id = service.contract_made_by(selection_id)
    service.update_terms(contract_id, committee_id, term_start=term_start, term_end=term_end, service_level=3,
                         fee_schedule_id=None)
    service.attach_file(contract_id, committee_id, prepare_document(io.BytesIO(PDF)))
    service.activate(contract_id, committee_id)
    return contract_id
