"""Notice board (公示栏) pages without JavaScript: the company posts through the form (refusals beside their fields,
what was typed kept), an audit report with its PDF; a tenant reads the board, the posting and the generated quarter
statement in yuan; a stranger and another street's official get the error page; a tenant gets no form."""
from __future__ import annotations

import html
import io

import pytest
from sqlalchemy import select

from backend.domain import disclosures as rules
from backend.domain.compounds import AreaLevel, ManagementModel
from backend.domain.funds import AccountKind, Category
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import FundAccount, FundEntry, Household
from backend.shared.clock import beijing_date, utcnow

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def world(area_tree, make_area, make_compound, make_user):
    _, district, _, community = area_tree
    compound = make_compound(name="阳光花园", area=community, model=ManagementModel.MARKET, buildings=1,
                             households_per_building=2)
    homes = list(db.session.scalars(select(Household).where(Household.compound_id == compound.id)
                                    .order_by(Household.id)))
    return {
        "compound": compound,
        "manager": make_user(Role.MANAGER, compound),
        "tenant": make_user(Role.RESIDENT, compound, household=homes[0]),
        "stranger": make_user(),
        "other_street": make_user(Role.OFFICIAL, area=make_area("B街道", AreaLevel.STREET, district)),
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


def test_the_company_posts_through_the_form_and_a_tenant_reads_the_board(world, phone):
    compound = world["compound"]
    quarter = rules.quarter_due(beijing_date(utcnow()))
    account = FundAccount(compound_id=compound.id, kind=AccountKind.BASIC, opened_on=quarter.first_day)
    db.session.add(account)
    db.session.flush()
    db.session.add(FundEntry(compound_id=compound.id, account_id=account.id, entry_date=quarter.first_day,
                             month=quarter.first_day, category=Category.ADVERTISING, amount_fen=1_234_56))
    db.session.commit()
    manager = phone(world["manager"])
    board = manager.get(f"/h5/compounds/{compound.id}/disclosures")
    assert board.status_code == 200 and 'data-action="post"' in text(board)
    url = f"/h5/compounds/{compound.id}/disclosures/new"
    assert manager.get(url).status_code == 200
    refused = manager.post(url, data={"csrf_token": manager.csrf, "kind": "service_standards", "body": "",
                                      "title": "本小区物业服务"})
    assert refused.status_code == 422 and 'id="error-body"' in text(refused)
    assert 'value="本小区物业服务"' in text(refused)
    posted = manager.post(url, data={"csrf_token": manager.csrf, "kind": "public_income", "period": str(quarter),
                                     "body": "", "staff": ""})
    assert posted.status_code == 302, text(posted)[:500]
    statement_url = posted.headers["Location"]
    audit = manager.post(url, data={"csrf_token": manager.csrf, "kind": "annual_audit",
                                    "period": str(beijing_date(utcnow()).year - 1),
                                    "file": (io.BytesIO(PDF), "审计报告.pdf")}, content_type="multipart/form-data")
    assert audit.status_code == 302, text(audit)[:500]

    tenant = phone(world["tenant"])
    home = text(tenant.get(f"/h5/c/{compound.code}"))
    assert f'href="/h5/compounds/{compound.id}/disclosures"' in home
    board = text(tenant.get(f"/h5/compounds/{compound.id}/disclosures"))
    assert f"{quarter.label}公共收益季度收支公示" in board and "年度审计报告公示" in board
    assert 'data-action="post"' not in board
    statement = text(tenant.get(statement_url))
    assert "¥1,234.56" in statement and 'id="public-income"' in statement
    audit_page = text(tenant.get(audit.headers["Location"]))
    file_url = audit.headers["Location"] + "/file"
    assert file_url.split("localhost")[-1] in audit_page or "下载PDF文件" in audit_page
    download = tenant.get(file_url)
    assert download.status_code == 200 and download.data == PDF
    assert tenant.get(url).status_code == 403
    for outsider in (world["stranger"], world["other_street"]):
        assert phone(outsider).get(f"/h5/compounds/{compound.id}/disclosures").status_code == 404
        assert phone(outsider).get(statement_url).status_code == 404
