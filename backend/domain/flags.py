"""Problem compounds (问题小区, measure 1): the rules that flag a compound. Each rule is a pure function of a
compound's figures and its area's thresholds, and says why it fires."""
from __future__ import annotations

import enum


class FlagRule(enum.StrEnum):
    NO_SELF_GOVERNANCE = "no_self_governance"
    LOW_COLLECTION = "low_collection"
    OVERDUE_ORDERS = "overdue_orders"
    LOW_SATISFACTION = "low_satisfaction"
    OPEN_DISPUTES = "open_disputes"
    FAILED_VOTES = "failed_votes"
    OVERDUE_RECTIFICATIONS = "overdue_rectifications"


FLAG_RULE_LABELS = {
    FlagRule.NO_SELF_GOVERNANCE: "未成立自治组织",
    FlagRule.LOW_COLLECTION: "收缴率持续偏低",
    FlagRule.OVERDUE_ORDERS: "超时工单过多",
    FlagRule.LOW_SATISFACTION: "满意度低",
    FlagRule.OPEN_DISPUTES: "矛盾纠纷较多",
    FlagRule.FAILED_VOTES: "业主表决两次未达参与门槛",
    FlagRule.OVERDUE_RECTIFICATIONS: "整改逾期",
}
