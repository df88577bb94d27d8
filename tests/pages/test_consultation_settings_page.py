"""The deliberation settings page: who may open it, what it saves, and how it refuses bad numbers."""
from __future__ import annotations

import pytest

from backend.domain.roles import Role
from backend.extensions import db
from backend.models import AuditEvent, ConsultationSettings, Household


@pytest.fixture
def compound(make_compound):
    return make_compound(buildings=1, households_per_building=1)


def test_the_committee_sees_the_defaults(client, compound, make_user, page_sign_in):
    page_sign_in(client, make_user(Role.COMMITTEE, compound))
    page = client.get(f"/h5/c/{compound.code}/topics/settings")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="cosign_threshold"\n        value="5"' in html
    assert 'name="publicity_days"\n        value="7"' in html


def test_saving_changes_the_threshold_and_is_audited(client, compound, make_user, page_sign_in):
    secretary = make_user(Role.PARTY_SECRETARY, compound)
    csrf = page_sign_in(client, secretary)
    response = client.post(f"/h5/c/{compound.code}/topics/settings", data={
        "csrf_token": csrf, "cosign_threshold": "3", "publicity_days": "10", "residents_may_vote": "1"})
    assert response.status_code == 302
    saved = db.session.get(ConsultationSettings, compound.id)
    assert (saved.cosign_threshold, saved.publicity_days, saved.residents_may_vote) == (3, 10, True)
    audit = db.session.query(AuditEvent).filter_by(action="consultation.settings", target_id=compound.id).one()
    assert audit.actor_id == secretary.id
    assert audit.after == {"cosign_threshold": 3, "residents_may_vote": True, "publicity_days": 10}
    assert "已保存议事设置" in client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize(("cosign", "publicity", "message"), [
    ("0", "7", "联名户数请填写1到1000之间的整数"),
    ("1001", "7", "联名户数请填写1到1000之间的整数"),
    ("五", "7", "联名户数请填写1到1000之间的整数"),
    ("5", "31", "公示天数请填写1到30之间的整数"),
    ("5", "", "公示天数请填写1到30之间的整数"),
    ("９", "7", "联名户数请填写1到1000之间的整数"),
])
def test_bad_numbers_are_refused_and_what_was_typed_is_kept(client, compound, make_user, page_sign_in, cosign,
                                                            publicity, message):
    csrf = page_sign_in(client, make_user(Role.COMMITTEE, compound))
    response = client.post(f"/h5/c/{compound.code}/topics/settings", data={
        "csrf_token": csrf, "cosign_threshold": cosign, "publicity_days": publicity})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert f'value="{cosign}"' in html
    assert db.session.get(ConsultationSettings, compound.id) is None


@pytest.mark.parametrize("role", [Role.OWNER, Role.STAFF, Role.MANAGER])
def test_others_of_the_compound_may_not_change_the_settings(client, compound, make_user, page_sign_in, role):
    household = db.session.query(Household).filter_by(compound_id=compound.id).first() if role is Role.OWNER else None
    csrf = page_sign_in(client, make_user(role, compound, household=household))
    assert client.get(f"/h5/c/{compound.code}/topics/settings").status_code == 403
    response = client.post(f"/h5/c/{compound.code}/topics/settings",
                           data={"csrf_token": csrf, "cosign_threshold": "1", "publicity_days": "1"})
    assert response.status_code == 403
    assert db.session.get(ConsultationSettings, compound.id) is None


def test_another_compounds_committee_gets_not_found(client, compound, make_compound, make_user, page_sign_in):
    page_sign_in(client, make_user(Role.COMMITTEE, make_compound()))
    assert client.get(f"/h5/c/{compound.code}/topics/settings").status_code == 404


def test_signed_out_goes_to_sign_in(client, compound):
    response = client.get(f"/h5/c/{compound.code}/topics/settings")
    assert response.status_code == 302
    assert "/h5/login" in response.headers["Location"]
