"""The demo's dispute cases (矛盾纠纷调解) in 阳光花园, mediated by the street's official: a neighbours' leak still being
mediated, and a fee dispute with the property company settled last week."""
from __future__ import annotations

from datetime import datetime, timedelta

from backend.domain.disputes import DisputeKind, Outcome, PartyKind
from backend.services.disputes import CaseDraft, PartyInput, add_step, open_case, record_outcome
from backend.shared.clock import beijing_date


def make_disputes(compound_id: int, accounts: dict[str, int], homes: dict[str, int], now: datetime) -> None:
    """Step dates count back from the demo's day (Beijing), so they read the same on any day it is loaded."""
    today = beijing_date(now)
    official = accounts["official"]
    leak = open_case(compound_id, official, CaseDraft(
        title="1栋楼上卫生间漏水纠纷", kind=DisputeKind.NEIGHBOUR,
        summary="1栋101室王秀英家天花板渗水，认为是楼上卫生间防水失效所致，双方对维修和赔偿有分歧。",
        parties=[PartyInput(kind=PartyKind.OWNER, household_id=homes["owner"]),
                 PartyInput(kind=PartyKind.NEIGHBOUR, household_id=homes["owner01"])],
    ))
    add_step(leak.id, official, today - timedelta(days=2),
             "到现场查看渗水情况，约请物业做闭水试验，双方同意等试验结果后再谈赔偿。")
    fees = open_case(compound_id, official, CaseDraft(
        title="电梯分摊费用争议", kind=DisputeKind.FEES,
        summary="部分业主对物业费中电梯运行费按楼层分摊有异议，拒交本季度费用。",
        parties=[PartyInput(kind=PartyKind.OWNER, household_id=homes["owner02"]),
                 PartyInput(kind=PartyKind.COMPANY, name="攀枝花安居物业服务有限公司"),
                 PartyInput(kind=PartyKind.COMMITTEE, name="阳光花园小区业主委员会")],
    ))
    add_step(fees.id, official, today - timedelta(days=14),
             "召集业委会、物业和业主代表在党群服务站协商，物业公开电梯运行费用明细。")
    add_step(fees.id, official, today - timedelta(days=8),
             "业委会提出按户均摊、一楼减半的方案，物业和业主代表同意。")
    record_outcome(fees.id, official, Outcome.SETTLED,
                   note="自下季度起电梯运行费按户均摊、一楼减半；本季度按原方式缴纳。")
