"""Signed QR entry links (扫码进入): make, verify, revoke, and render as PNG / SVG / terminal text."""
from __future__ import annotations

import io
from dataclasses import dataclass
from urllib.parse import quote

import qrcode
import qrcode.image.svg
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from backend.domain.refusals import Kind, Refused
from backend.extensions import db
from backend.models import Building, Compound
from backend.services.audit import record_audit

_SALT = "linli-qr-entry"


@dataclass(frozen=True)
class EntryGrant:
    """Proof that the holder scanned a current code of this compound (and building)."""

    compound_id: int
    building_id: int | None


class EntryRefused(Refused):
    """Shown to the person who scanned: the code was forged, revoked or is for another compound."""

    default_kind = Kind.FORBIDDEN


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def make_entry_token(compound: Compound, building: Building | None = None) -> str:
    payload = {"c": compound.id, "v": compound.qr_version}
    if building is not None:
        payload |= {"b": building.id, "bv": building.qr_version}
    return _serializer().dumps(payload)


def entry_url(compound: Compound, building: Building | None = None) -> str:
    token = make_entry_token(compound, building)
    return f"{current_app.config['LINLI_PUBLIC_URL']}/h5/c/{quote(compound.code)}?t={token}"


def verify_entry_token(token: str | None) -> EntryGrant:
    """Check signature and version against the database; raise EntryRefused with a Chinese reason."""
    if not token or len(token) > 512:
        raise EntryRefused("二维码无效，请重新扫描小区张贴的二维码")
    try:
        payload = _serializer().loads(token)
    except BadSignature as exc:
        raise EntryRefused("二维码无效或已被篡改，请重新扫描小区张贴的二维码") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("c"), int):
        raise EntryRefused("二维码无效，请重新扫描小区张贴的二维码")
    compound = db.session.get(Compound, payload["c"])
    if compound is None or compound.qr_version != payload.get("v"):
        raise EntryRefused("该二维码已停用，请扫描小区最新张贴的二维码")
    building_id = payload.get("b")
    if building_id is not None:
        building = db.session.get(Building, building_id)
        if building is None or building.compound_id != compound.id or building.qr_version != payload.get("bv"):
            raise EntryRefused("该楼栋二维码已停用，请扫描最新张贴的二维码")
    return EntryGrant(compound_id=compound.id, building_id=building_id)


def enter(token: str, compound_id: int) -> EntryGrant:
    """The grant of a code scanned to enter the compound `compound_id` (refused when it is another's)."""
    grant = verify_entry_token(token)
    if grant.compound_id != compound_id:
        raise EntryRefused("该二维码不属于这个小区")
    return grant


def revoke_qr_codes(compound_id: int, actor_id: int | None, building_id: int | None = None) -> None:
    """Printed codes stop working; new ones must be printed (audit event)."""
    compound = db.session.get(Compound, compound_id)
    target = db.session.get(Building, building_id) if building_id else compound
    before = target.qr_version
    target.qr_version += 1
    record_audit(
        actor_id=actor_id,
        action="qr.revoke",
        target_type="building" if building_id else "compound",
        target_id=target.id,
        compound_id=compound_id,
        before={"qr_version": before},
        after={"qr_version": target.qr_version},
    )
    db.session.commit()


def _qr(url: str) -> qrcode.QRCode:
    # Level M survives a poster that is scuffed or partly covered by tape.
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, box_size=10)
    code.add_data(url)
    code.make(fit=True)
    return code


def qr_png(url: str) -> bytes:
    buffer = io.BytesIO()
    _qr(url).make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(url: str) -> str:
    image = _qr(url).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    return image.to_string(encoding="unicode")


def qr_text(url: str) -> str:
    buffer = io.StringIO()
    _qr(url).print_ascii(out=buffer, invert=True)
    return buffer.getvalue()
