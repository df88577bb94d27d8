"""QR entry (扫码进入): the generated codes decode to signed links that open the compound's home page,
and forged, foreign or revoked codes end on a friendly Chinese page, never a 500."""
from __future__ import annotations

import base64
import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from itsdangerous import URLSafeSerializer

from backend.domain.roles import Role
from backend.services import qr as qr_service
from tests.support import TEST_PASSWORD, buildings_of, first_household

PUBLIC_URL = "http://linli.test"


def decode_qr(png: bytes, tmp_path: Path) -> str:
    """Read the code back the way a phone would: zbarimg from Debian's zbar-tools (required, never skipped)."""
    zbarimg = shutil.which("zbarimg")
    assert zbarimg, "zbarimg is missing: install Debian's zbar-tools (make test does this)"
    image = tmp_path / f"code-{len(list(tmp_path.iterdir()))}.png"
    image.write_bytes(png)
    result = subprocess.run([zbarimg, "--raw", "-q", str(image)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["t"][0]


def sign_in_page(client, user) -> None:
    response = client.post("/h5/login/password", data={"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def assert_friendly_page(response, status: int, text: str) -> None:
    assert response.status_code == status
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert text in body, body[:800]
    assert "返回首页" in body


@pytest.fixture
def compound(make_compound):
    return make_compound(name="金沙苑小区")


@pytest.fixture
def committee(make_user, compound):
    return make_user(role=Role.COMMITTEE, compound=compound)


def test_compound_qr_png_decodes_to_entry_url_that_opens_home(client, compound, committee, sign_in, tmp_path):
    response = client.get(f"/api/v1/compounds/{compound.id}/qr.png", headers=sign_in(committee))
    assert response.status_code == 200 and response.mimetype == "image/png"

    url = decode_qr(response.data, tmp_path)
    assert url.startswith(f"{PUBLIC_URL}/h5/c/{compound.code}?t=")

    entered = client.get(path_and_query(url))
    assert entered.status_code == 302
    assert urlsplit(entered.headers["Location"]).path == f"/h5/c/{compound.code}"
    assert "?" not in entered.headers["Location"], "the token must leave the address bar"
    cookie = client.get_cookie("linli_entry")
    assert cookie is not None and cookie.http_only and cookie.value == token_of(url)

    home = client.get(entered.headers["Location"])
    assert home.status_code == 200
    assert "金沙苑小区" in home.get_data(as_text=True)


def test_building_qr_carries_that_building(client, compound, committee, sign_in, tmp_path):
    building = buildings_of(compound)[1]
    response = client.get(f"/api/v1/compounds/{compound.id}/qr.png?building_id={building.id}", headers=sign_in(committee))
    assert response.status_code == 200

    url = decode_qr(response.data, tmp_path)
    grant = qr_service.verify_entry_token(token_of(url))
    assert (grant.compound_id, grant.building_id) == (compound.id, building.id)
    assert client.get(path_and_query(url)).status_code == 302


def test_building_of_another_compound_is_not_found(client, compound, committee, make_compound, sign_in):
    foreign = buildings_of(make_compound())[0]
    response = client.get(f"/api/v1/compounds/{compound.id}/qr.png?building_id={foreign.id}", headers=sign_in(committee))
    assert response.status_code == 404


def test_qr_svg_is_valid_svg_of_the_entry_url(client, compound, committee, sign_in):
    response = client.get(f"/api/v1/compounds/{compound.id}/qr.svg", headers=sign_in(committee))
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.find(".//{http://www.w3.org/2000/svg}path") is not None


def test_resident_cannot_fetch_qr_codes(client, compound, make_user, sign_in):
    resident = make_user(role=Role.OWNER, compound=compound, household=first_household(compound))
    response = client.get(f"/api/v1/compounds/{compound.id}/qr.png", headers=sign_in(resident))
    assert response.status_code == 403


def test_tampered_token_shows_friendly_403_page(client, compound, make_compound):
    other = make_compound()
    token = qr_service.make_entry_token(compound)
    payload, signature = token.split(".")
    # Keep the genuine signature but claim another compound: the signature no longer matches.
    forged_payload = base64.urlsafe_b64encode(json.dumps({"c": other.id, "v": 1}).encode()).decode().rstrip("=")
    response = client.get(f"/h5/c/{other.code}?t={forged_payload}.{signature}")
    assert_friendly_page(response, 403, "二维码无效或已被篡改")
    assert client.get_cookie("linli_entry") is None


def test_token_signed_with_another_key_shows_friendly_403_page(client, compound):
    forged = URLSafeSerializer("not-our-secret", salt="linli-qr-entry").dumps({"c": compound.id, "v": compound.qr_version})
    assert_friendly_page(client.get(f"/h5/c/{compound.code}?t={forged}"), 403, "二维码无效或已被篡改")


@pytest.mark.parametrize("token", ["", "x" * 600, "no-dot-at-all", "....", "%00"])
def test_garbage_token_shows_friendly_403_page(client, compound, token):
    assert_friendly_page(client.get(f"/h5/c/{compound.code}?t={token}"), 403, "二维码无效")


def test_token_of_another_compound_is_refused_on_this_code(client, compound, make_compound):
    other = make_compound()
    response = client.get(f"/h5/c/{compound.code}?t={qr_service.make_entry_token(other)}")
    assert_friendly_page(response, 403, "该二维码不属于这个小区")
    assert client.get_cookie("linli_entry") is None


def test_revoked_token_shows_friendly_403_page(client, compound):
    old_url = qr_service.entry_url(compound)
    qr_service.revoke_qr_codes(compound.id, actor_id=None)
    assert_friendly_page(client.get(path_and_query(old_url)), 403, "该二维码已停用")
    # A freshly printed code works.
    assert client.get(path_and_query(qr_service.entry_url(compound))).status_code == 302


def test_revoking_ends_entry_already_held_in_cookie(client, compound):
    client.get(path_and_query(qr_service.entry_url(compound)))
    assert client.get(f"/h5/c/{compound.code}").status_code == 200
    qr_service.revoke_qr_codes(compound.id, actor_id=None)
    assert_friendly_page(client.get(f"/h5/c/{compound.code}"), 403, "请扫描小区张贴的二维码进入")


def test_revoked_building_code_is_refused_but_compound_code_still_works(client, compound):
    building = buildings_of(compound)[0]
    building_url = qr_service.entry_url(compound, building)
    qr_service.revoke_qr_codes(compound.id, actor_id=None, building_id=building.id)
    assert_friendly_page(client.get(path_and_query(building_url)), 403, "该楼栋二维码已停用")
    assert client.get(path_and_query(qr_service.entry_url(compound))).status_code == 302


def test_unknown_compound_code_shows_404_page(client, compound):
    assert_friendly_page(client.get("/h5/c/no-such-compound"), 404, "没有找到")
    # A genuine token does not make an unknown code exist.
    assert_friendly_page(client.get(f"/h5/c/no-such-compound?t={qr_service.make_entry_token(compound)}"), 404, "没有找到")
    assert_friendly_page(client.get("/h5/c/" + "x" * 40), 404, "没有找到")


def test_cli_writes_codes_for_compound_and_each_building_and_poster(app, compound, tmp_path):
    out = tmp_path / "qr-out"
    result = app.test_cli_runner().invoke(args=["qr", compound.code, "--out", str(out)])
    assert result.exit_code == 0, result.output

    names = [compound.code] + [f"{compound.code}-{b.name}" for b in buildings_of(compound)]
    for name in names:
        assert (out / f"{name}.png").stat().st_size > 0
        ET.fromstring((out / f"{name}.svg").read_bytes())
    poster = (out / f"{compound.code}-poster.html").read_text(encoding="utf-8")
    assert "金沙苑小区" in poster and "<svg" in poster and "扫一扫" in poster
    # Opened from the folder, not from the server: the large-print stylesheet travels inside the file.
    assert "<style>" in poster and ".steps" in poster and "/h5/static/" not in poster

    decoded_dir = tmp_path / "decoded"
    decoded_dir.mkdir()
    compound_url = decode_qr((out / f"{compound.code}.png").read_bytes(), decoded_dir)
    assert compound_url.startswith(f"{PUBLIC_URL}/h5/c/{compound.code}?t=")
    assert qr_service.verify_entry_token(token_of(compound_url)).building_id is None

    second = buildings_of(compound)[1]
    building_url = decode_qr((out / f"{compound.code}-{second.name}.png").read_bytes(), decoded_dir)
    assert qr_service.verify_entry_token(token_of(building_url)).building_id == second.id


def test_cli_refuses_unknown_compound(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["qr", "no-such-compound", "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert "no-such-compound" in result.output


def test_cli_revoke_invalidates_printed_codes(app, client, compound, tmp_path):
    old_url = qr_service.entry_url(compound)
    result = app.test_cli_runner().invoke(args=["qr", compound.code, "--out", str(tmp_path), "--revoke"])
    assert result.exit_code == 0, result.output
    assert client.get(path_and_query(old_url)).status_code == 403
    new_url = decode_qr((tmp_path / f"{compound.code}.png").read_bytes(), tmp_path)
    assert client.get(path_and_query(new_url)).status_code == 302


def test_poster_page_for_committee_has_inline_svg_and_large_print_steps(client, compound, committee):
    sign_in_page(client, committee)
    response = client.get(f"/h5/c/{compound.code}/poster")
    assert response.status_code == 200 and response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert "金沙苑小区" in body
    assert "<svg" in body and "<img" not in body
    assert 'class="steps"' in body and "扫一扫" in body and "申请绑定" in body
    # Large print: the steps are set in at least 18 pt in the poster's own stylesheet.
    css = Path(__file__).resolve().parent.parent.joinpath("h5/static/css/poster.css").read_text()
    steps_rule = css.split(".steps", 1)[1].split("}", 1)[0]
    assert int(steps_rule.split("font-size:", 1)[1].strip().split("pt", 1)[0]) >= 18


def test_building_poster_names_the_building(client, compound, committee):
    sign_in_page(client, committee)
    building = buildings_of(compound)[1]
    response = client.get(f"/h5/c/{compound.code}/poster?building_id={building.id}")
    assert response.status_code == 200
    assert building.name in response.get_data(as_text=True)


def test_poster_is_forbidden_to_resident_and_hidden_from_strangers(app, compound, make_user, make_compound):
    resident = make_user(role=Role.OWNER, compound=compound, household=first_household(compound))
    stranger = make_user(role=Role.COMMITTEE, compound=make_compound())

    as_resident = app.test_client()
    sign_in_page(as_resident, resident)
    assert_friendly_page(as_resident.get(f"/h5/c/{compound.code}/poster"), 403, "没有权限")

    as_stranger = app.test_client()
    sign_in_page(as_stranger, stranger)
    assert_friendly_page(as_stranger.get(f"/h5/c/{compound.code}/poster"), 404, "没有找到")

    assert_friendly_page(app.test_client().get(f"/h5/c/{compound.code}/poster"), 404, "没有找到")
