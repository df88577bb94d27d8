"""The demo's 治理骨干 roster in 阳光花园: 王秀英 as the head of her building (her account linked by her phone, so a
common-area order of that building reaches her), a social workers' station and a party member by name, a
volunteer the party secretary confirmed and another waiting for her."""
from __future__ import annotations

from datetime import datetime, timedelta

from backend.domain.backbones import BackboneAction, BackboneKind
from backend.extensions import db
from backend.models import Household
from backend.services import backbones
from backend.shared.clock import SHANGHAI


def make_backbones(compound_id: int, accounts: dict[str, int], homes: dict[str, int], now: datetime) -> None:
    today = now.astimezone(SHANGHAI).date()
    official, secretary = accounts["official"], accounts["secretary"]
    building_id = db.session.get(Household, homes["owner"]).building_id
    backbones.add_member(compound_id, official, name="王秀英", kind=BackboneKind.BUILDING_HEAD, building_id=building_id,
                         phone="13900000001", skills=["调解", "邻里互助"], since=today - timedelta(days=2 * 365))
    backbones.add_member(compound_id, official, name="阳光社工站", kind=BackboneKind.SOCIAL_ORG,
                         skills=["助老", "心理疏导"], since=today - timedelta(days=300))
    backbones.add_member(compound_id, secretary, name="黄国庆", kind=BackboneKind.PARTY_MEMBER, skills=["宣讲"],
                         since=today - timedelta(days=150))
    confirmed = backbones.volunteer(compound_id, accounts["owner01"], name="业主01", skills=["水电维修"],
                                    note="退休电工，周末有空")
    backbones.decide(confirmed.id, secretary, BackboneAction.CONFIRM)
    backbones.volunteer(compound_id, accounts["owner02"], name="业主02", skills=["理发"], note="可以给老人理发")
