"""The compound home page after a scan, who may see it, the start page and the sign-in page."""
from __future__ import annotations

import re

import pytest

from backend.domain.compounds import MANAGEMENT_MODEL_LABELS, ManagementModel
from backend.domain.roles import Role
from tests.support import TEST_PASSWORD, buildings_of, first_household

TILES = ("报事报修", "议事协商", "物业缴费", "服务评价")


def without_scripts(html: str) -> str:
    """What a browser with JavaScript off shows: the server HTML minus every <script> element."""
    return re.sub(r"<script\b.*?</script>", "", html, flags=re.S | re.I)


def test_home_after_scan_shows_compound_model_tiles_and_my_household(client, make_compound, area_tree, scan):
    compound = make_compound(name="金沙苑小区", area=area_tree[3], model=ManagementModel.MARKET)
    scan(client, compound)

    response = client.get(f"/h5/c/{compound.code}")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = without_scripts(response.get_data(as_text=True))
    assert '<html lang="zh-CN">' in html and 'name="viewport"' in html
    assert "<h1 class=\"ll-hero__title\">金沙苑小区</h1>" in html
    assert "市场化物业服务" in html and "金沙社区" in html
    for tile in TILES:
        assert tile in html
    assert "我的房屋" in html and "尚未绑定房屋" in html
    assert "登录后绑定房屋" in html
    assert "住户认证审核" not in html


@pytest.mark.parametrize("model", list(ManagementModel))
def test_home_names_each_management_model_in_chinese(client, make_compound, scan, model):
    compound = make_compound(model=model)
    scan(client, compound)
    assert MANAGEMENT_MODEL_LABELS[model] in client.get(f"/h5/c/{compound.code}").get_data(as_text=True)


def test_building_scan_also_opens_the_compound_home(client, make_compound, scan):
    compound = make_compound(name="炳草岗小区")
    scan(client, compound, buildings_of(compound)[1])
    assert "炳草岗小区" in client.get(f"/h5/c/{compound.code}").get_data(as_text=True)


def test_home_without_scan_or_membership_is_forbidden(client, app, make_compound, make_user, page_sign_in):
    compound = make_compound(name="金沙苑小区")
    response = client.get(f"/h5/c/{compound.code}")
    assert response.status_code == 403 and response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert "请扫描小区张贴的二维码进入" in body and "金沙苑小区" not in body

    stranger = app.test_client()
    page_sign_in(stranger, make_user())
    response = stranger.get(f"/h5/c/{compound.code}")
    assert response.status_code == 403
    assert "您还不是该小区的住户" in response.get_data(as_text=True)


def test_scan_of_one_compound_does_not_open_another(client, make_compound, scan):
    scanned, other = make_compound(), make_compound()
    scan(client, scanned)
    assert client.get(f"/h5/c/{other.code}").status_code == 403


def test_verified_owner_sees_household_without_scanning(client, make_compound, make_user, page_sign_in):
    compound = make_compound()
    household = first_household(compound)
    page_sign_in(client, make_user(role=Role.OWNER, compound=compound, household=household))

    html = client.get(f"/h5/c/{compound.code}").get_data(as_text=True)
    mine = html.split('id="my-households"', 1)[1].split("</div>\n<div", 1)[0]
    assert f"1栋1单元{household.room}室" in mine
    assert "81.25 m²" in mine  # 8125 × 0.01 m²
    assert "业主 · 已认证" in mine


def test_committee_home_links_to_review_with_pending_count(client, make_compound, make_user, page_sign_in):
    compound = make_compound()
    page_sign_in(client, make_user(role=Role.COMMITTEE, compound=compound))
    html = client.get(f"/h5/c/{compound.code}").get_data(as_text=True)
    assert "小区管理" in html and f'href="/h5/c/{compound.code}/bindings"' in html
    assert f'href="/h5/c/{compound.code}/poster"' in html
    # The committee membership itself is no household of theirs.
    assert "尚未绑定房屋" in html.split('id="my-households"', 1)[1]


def test_names_are_escaped_in_pages(client, make_compound, scan):
    compound = make_compound(name="<script>alert(1)</script>小区")
    scan(client, compound)
    html = client.get(f"/h5/c/{compound.code}").get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;小区" in html


def test_start_page_invites_strangers_to_scan(client):
    response = client.get("/h5/")
    assert response.status_code == 200
    assert "请用微信扫描小区或楼栋张贴的二维码" in response.get_data(as_text=True)
    assert client.get("/").headers["Location"].endswith("/h5/")


def test_start_page_lists_my_compounds(client, make_compound, make_user, page_sign_in):
    mine, other = make_compound(name="我的小区甲"), make_compound(name="别人的小区乙")
    page_sign_in(client, make_user(role=Role.OWNER, compound=mine, household=first_household(mine)))
    html = without_scripts(client.get("/h5/").get_data(as_text=True))
    assert "我的小区甲" in html and f'href="/h5/c/{mine.code}"' in html
    assert other.name not in html


def test_sign_in_page_offers_wechat_phone_and_password(client):
    response = client.get("/h5/login?next=/h5/c/c1")
    assert response.status_code == 200
    html = without_scripts(response.get_data(as_text=True))
    assert "微信一键登录" in html and "手机号验证码登录" in html and "工作人员账号登录" in html
    assert 'action="/h5/login/password"' in html
    assert 'name="next" value="/h5/c/c1"' in html


def test_sign_in_page_never_forwards_to_another_site(client):
    html = client.get("/h5/login?next=//evil.example/x").get_data(as_text=True)
    password_form = html.split('id="password-form"', 1)[1].split("</form>", 1)[0]
    assert 'name="next" value="/h5/"' in password_form
    assert "evil.example" not in html.split("<main", 1)[1]


def test_wrong_password_shows_chinese_error(client, make_user):
    user = make_user()
    response = client.post("/h5/login/password", data={"username": user.username, "password": "wrong"})
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get_cookie("access_token_cookie") is None


def test_password_sign_in_returns_to_next_page(client, make_user):
    user = make_user()
    response = client.post(
        "/h5/login/password", data={"username": user.username, "password": TEST_PASSWORD, "next": "/h5/c/c1"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/h5/c/c1"
    assert client.get_cookie("access_token_cookie").http_only


def test_sandbox_wechat_sign_in_returns_to_the_compound(client, make_compound, scan):
    compound = make_compound()
    scan(client, compound)
    response = client.get(f"/h5/auth/wechat/start?next=/h5/c/{compound.code}", follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == f"/h5/c/{compound.code}"
    html = response.get_data(as_text=True)
    assert "退出" in html and 'id="bind-link"' in html
