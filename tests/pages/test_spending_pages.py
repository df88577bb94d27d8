"""Spending request (支出申请) pages without JavaScript: a committee member files a request with a quote through the form
(refusals beside their fields, the entries kept), a second member approves, the requester cannot; an owner reads it
without the forms, a tenant and a stranger get the error page; above the threshold the page names the vote."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from backend.domain.compounds import ManagementModel
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Household
from tests import photo_samples as samples


@pytest.fixture
def world(area_tree, make_compound, make_user):
    compound = make_compound(name="五十四街坊", area=area_tree[3], model=ManagementModel.TRUST, buildings=1,
                             households_per_building=2)
    homes = list(db.session.scalars(select(Household).where(Household.compound_id == compound.id)
                                    .order_by(Household.id)))
    return {
        "compound": compound,
        "first": make_user(Role.COMMITTEE, compound), "second": make_user(Role.COMMITTEE, compound),
        "third": make_user(Role.COMMITTEE, compound),
        "owner": make_user(Role.OWNER, compound, household=homes[0]),
        "tenant": make_user(Role.RESIDENT, compound, household=homes[1]),
        "stranger": make_user(),
    }


@pytest.fixture
def phone(app, page_sign_in):
    def open_as(user):
        client = app.test_client()
        client.csrf = page_sign_in(client, user)
        return client

    return open_as


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _form(csrf: str, **changes) -> dict:
    return {"csrf_token": csrf, "title": "更换单元门禁", "purpose": "other", "category": "repair",
            "amount": "1200.50", "payee": "安居门禁工程部", "description": "门禁坏了三个月"} | changes


def test_a_member_files_with_a_quote_and_a_second_approves(world, phone):
    compound = world["compound"]
    first = phone(world["first"])
    listing = first.get(f"/h5/compounds/{compound.id}/spending")
    assert listing.status_code == 200 and 'data-action="request"' in text(listing)
    form_page = text(first.get(f"/h5/compounds/{compound.id}/spending/new"))
    assert "¥5,000.00 及以下由业委会两名委员审批" in form_page and 'name="quotes"' in form_page

    refused = first.post(f"/h5/compounds/{compound.id}/spending/new", data=_form(first.csrf, amount="12.345"),
                         content_type="multipart/form-data")
    assert refused.status_code == 422 and "请填写金额（元），最多两位小数" in text(refused)
    assert 'value="更换单元门禁"' in text(refused)

    created = first.post(f"/h5/compounds/{compound.id}/spending/new", content_type="multipart/form-data",
                         data=_form(first.csrf, quotes=[samples.camera_jpeg(320, 240).upload(),
                                                        (samples.io.BytesIO(b""), "", "application/octet-stream")]))
    assert created.status_code == 302, text(created)[:500]
    url = created.headers["Location"]
    page = text(first.get(url))
    assert "¥1,200.50" in page and "待业委会审批" in page and 'alt="报价1"' in page and "报价2" not in page
    assert 'id="approve-form"' not in page
    refused_own = first.post(f"{url}/approve", data={"csrf_token": first.csrf})
    assert refused_own.status_code == 403 and "申请人不能审批自己的申请" in text(refused_own)

    second = phone(world["second"])
    assert 'id="approve-form"' in text(second.get(url))
    assert second.post(f"{url}/approve", data={"csrf_token": second.csrf}).status_code == 302
    after = text(second.get(url))
    assert "已同意 1 / 2" in after and 'id="approve-form"' not in after
    third = phone(world["third"])
    assert third.post(f"{url}/approve", data={"csrf_token": third.csrf}).status_code == 302
    assert "已批准（可支出）" in text(third.get(url))

    owner = phone(world["owner"])
    seen = owner.get(url)
    assert seen.status_code == 200 and "更换单元门禁" in text(seen) and 'id="reject-form"' not in text(seen)
    quote = owner.get(text(seen).split('<img class="ll-dispute-agreement" src="')[1].split('"')[0])
    assert quote.status_code == 200 and quote.mimetype == "image/jpeg"
    assert 'data-action="request"' not in text(owner.get(f"/h5/compounds/{compound.id}/spending"))
    assert phone(world["tenant"]).get(url).status_code == 403
    assert phone(world["stranger"]).get(url).status_code == 404
    assert phone(world["owner"]).get(f"/h5/compounds/{compound.id}/spending/new").status_code == 403


def test_above_the_threshold_the_page_names_the_vote(world, phone):
    first = phone(world["first"])
    created = first.post(f"/h5/compounds/{world['compound'].id}/spending/new", content_type="multipart/form-data",
                         data=_form(first.csrf, purpose="maintenance_fund", amount="80000", emergency="true"))
    assert created.status_code == 302
    page = text(first.get(created.headers["Location"]))
    assert "业主表决中" in page and "第二百七十八条第一款第5项" in page and 'id="spending-topic"' in page
    assert "紧急维修" in page and "（可支出）" in page
    second = phone(world["second"])
    assert 'id="approve-form"' not in text(second.get(created.headers["Location"]))
