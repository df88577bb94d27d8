"""Contracts for tests that need one without running its vote: the demo's selection decided on paper (its topic
carries the frozen result a closed item-4 ballot leaves; the API tests drive the vote itself end to end), and the
rest the real way — the settling makes the draft, the committee's services complete and sign it."""
from __future__ import annotations

import io
from datetime import date

from backend.demo.contracts import CONTRACT_PDF as PDF
from backend.demo.contracts import decided_on_paper as drafted_contract
from backend.services import contracts as service
from backend.services.documents import prepare_document

__all__ = ["PDF", "contract_in_force", "drafted_contract"]


def contract_in_force(compound_id: int, company_id: int, committee_id: int, term_start: date, term_end: date) -> int:
    contract_id = drafted_contract(compound_id, company_id, committee_id)
    service.update_terms(contract_id, committee_id, term_start=term_start, term_end=term_end, service_level=3,
                         fee_schedule_id=None)
    service.attach_file(contract_id, committee_id, prepare_document(io.BytesIO(PDF)))
    service.activate(contract_id, committee_id)
    return contract_id
