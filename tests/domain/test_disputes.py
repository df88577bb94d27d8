"""Dispute mediation's rules (矛盾纠纷调解) as tables: how a person stands to a case, what each standing may do in each
state, the parties, step dates, outcomes and the PDF check."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from backend.domain import disputes as rules
from backend.domain.disputes import CaseRole, DisputeAction, DisputeRefused, DisputeStatus, Outcome, PartyKind
from backend.domain.documents import MAX_PDF_BYTES, pdf_problem
from backend.domain.refusals import Kind

A = DisputeAction
MEDIATING_OPEN = {A.ADD_STEP, A.RECORD_OUTCOME, A.ATTACH_AGREEMENT, A.VIEW_CONTACTS}

ALLOWED = {
    (CaseRole.MEDIATOR, DisputeStatus.OPEN): MEDIATING_OPEN,
    (CaseRole.MEDIATOR, DisputeStatus.SETTLED): {A.ATTACH_AGREEMENT, A.VIEW_CONTACTS},
    (CaseRole.MEDIATOR, DisputeStatus.REFERRED): {A.VIEW_CONTACTS},
    (CaseRole.ABOVE, DisputeStatus.OPEN): MEDIATING_OPEN | {A.CHANGE_MEDIATOR},
    (CaseRole.ABOVE, DisputeStatus.SETTLED): {A.ATTACH_AGREEMENT, A.VIEW_CONTACTS},
    (CaseRole.ABOVE, DisputeStatus.REFERRED): {A.VIEW_CONTACTS},
    (CaseRole.OFFICIAL, DisputeStatus.OPEN): {A.VIEW_CONTACTS},
    (CaseRole.OFFICIAL, DisputeStatus.SETTLED): {A.VIEW_CONTACTS},
    (CaseRole.OFFICIAL, DisputeStatus.REFERRED): {A.VIEW_CONTACTS},
    **{(CaseRole.PARTY, status): set() for status in DisputeStatus},
    **{(CaseRole.NONE, status): set() for status in DisputeStatus},
}


@pytest.mark.parametrize(("role", "status"), sorted(ALLOWED))
def test_allowed_actions_table(role, status):
    assert rules.allowed_actions(role, status) == ALLOWED[(role, status)]


def test_the_table_covers_every_standing_and_state():
    assert set(ALLOWED) == {(role, status) for role in CaseRole for status in DisputeStatus}


@pytest.mark.parametrize(("role", "status", "action", "kind"), [
    (CaseRole.NONE, DisputeStatus.OPEN, A.ADD_STEP, Kind.NOT_FOUND),
    (CaseRole.PARTY, DisputeStatus.OPEN, A.ADD_STEP, Kind.FORBIDDEN),
    (CaseRole.OFFICIAL, DisputeStatus.OPEN, A.RECORD_OUTCOME, Kind.FORBIDDEN),
    (CaseRole.MEDIATOR, DisputeStatus.OPEN, A.CHANGE_MEDIATOR, Kind.FORBIDDEN),
    (CaseRole.MEDIATOR, DisputeStatus.SETTLED, A.ADD_STEP, Kind.CONFLICT),
    (CaseRole.ABOVE, DisputeStatus.REFERRED, A.RECORD_OUTCOME, Kind.CONFLICT),
    (CaseRole.MEDIATOR, DisputeStatus.REFERRED, A.ATTACH_AGREEMENT, Kind.CONFLICT),
    (CaseRole.ABOVE, DisputeStatus.SETTLED, A.CHANGE_MEDIATOR, Kind.CONFLICT),
])
def test_check_allowed_says_why_not(role, status, action, kind):
    with pytest.raises(DisputeRefused) as refused:
        rules.check_allowed(role, status, action)
    assert refused.value.kind is kind


@pytest.mark.parametrize(("mediator", "above", "official", "party", "expected"), [
    (False, True, True, True, CaseRole.ABOVE),
    (True, False, True, False, CaseRole.MEDIATOR),
    (True, True, True, False, CaseRole.ABOVE),
    (False, False, True, True, CaseRole.OFFICIAL),
    (False, False, False, True, CaseRole.PARTY),
    (False, False, False, False, CaseRole.NONE),
])
def test_case_role_takes_the_strongest_standing(mediator, above, official, party, expected):
    assert rules.case_role(is_mediator=mediator, above_mediator=above, official_over=official,
                           party=party) is expected


@pytest.mark.parametrize(("level", "mediates"), [("community", True), ("street", True), ("district", False),
                                                 ("city", False)])
def test_mediators_are_of_a_community_or_street(level, mediates):
    assert rules.may_mediate(level) is mediates


@pytest.mark.parametrize(("parties", "field"), [
    ([(PartyKind.OWNER, "", True)], "parties"),
    ([(PartyKind.OWNER, "张三", False)] * (rules.MAX_PARTIES + 1), "parties"),
    ([(PartyKind.OWNER, "", True), (PartyKind.COMPANY, "  ", False)], "parties.1"),
    ([(PartyKind.COMPANY, "", True), (PartyKind.OWNER, "张三", False)], "parties.0"),
    ([(PartyKind.COMMITTEE, "", True), (PartyKind.OWNER, "张三", False)], "parties.0"),
])
def test_bad_parties_are_refused_at_the_field(parties, field):
    with pytest.raises(DisputeRefused) as refused:
        rules.check_parties(parties)
    assert field in refused.value.errors


def test_two_sides_named_or_residents_pass():
    rules.check_parties([(PartyKind.NEIGHBOUR, "", True), (PartyKind.OWNER, "", True)])
    rules.check_parties([(PartyKind.COMPANY, "阳光物业", False), (PartyKind.COMMITTEE, "业委会", False)])


TODAY = date(2000, 1, 1) + timedelta(days=9000)


@pytest.mark.parametrize(("offset", "ok"), [(0, True), (-1, True), (-rules.MAX_STEP_DAYS_BACK, True),
                                            (-rules.MAX_STEP_DAYS_BACK - 1, False), (1, False)])
def test_step_dates_edges(offset, ok):
    day = TODAY + timedelta(days=offset)
    if ok:
        rules.check_step_date(day, TODAY)
    else:
        with pytest.raises(DisputeRefused):
            rules.check_step_date(day, TODAY)


@pytest.mark.parametrize(("outcome", "referred_to", "ok"), [
    (Outcome.SETTLED, "", True), (Outcome.SETTLED, "法院", False),
    (Outcome.REFERRED, "区人民调解委员会", True), (Outcome.REFERRED, " ", False),
])
def test_outcomes(outcome, referred_to, ok):
    if ok:
        rules.check_outcome(outcome, referred_to)
    else:
        with pytest.raises(DisputeRefused):
            rules.check_outcome(outcome, referred_to)


PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n%%EOF"


@pytest.mark.parametrize(("data", "ok"), [
    (PDF, True),
    (PDF.replace(b"1.7", b"2.0"), True),
    # A name that merely begins like an active one is harmless.
    (PDF.replace(b"/Pages", b"/JSFoo"), True),
    (b"", False),
    (b"%PDF-9.9\n%%EOF", False),
    (b"<html>%PDF-1.4", False),
    (PDF[:-5], False),
    (PDF + b" " * 2000, False),
    (PDF.replace(b"/Pages 2 0 R", b"/OpenAction 3 0 R"), False),
    (PDF.replace(b"/Pages", b"/JS"), False),
    (PDF.replace(b"/Pages 2 0 R", b"/Names << /EmbeddedFiles 4 0 R >>"), False),
    (PDF.replace(b"/Pages 2 0 R", b"/EmbeddedFile 4 0 R"), False),
    (PDF.replace(b"/Pages", b"/Launch"), False),
    (b"%PDF-1.4\n" + b"0" * MAX_PDF_BYTES + b"%%EOF", False),
])
def test_pdf_check(data, ok):
    assert (pdf_problem(data) is None) is ok


def test_dedupe_keys_are_one_per_step_and_one_per_outcome():
    assert rules.step_dedupe_key(3, 7) != rules.step_dedupe_key(3, 8)
    assert rules.outcome_dedupe_key(3) == rules.outcome_dedupe_key(3) != rules.outcome_dedupe_key(4)
