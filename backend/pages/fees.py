"""Property fee pages for residents (物业缴费, 先买后补): my bills with the subsidy line by line, the bill and its
pay button (WeChat Pay inside WeChat, the sandbox elsewhere), and the electronic receipt (电子收据)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import abort, current_app, flash, redirect, render_template, url_for

from backend.domain.fees import (
    BILL_STATUS_LABELS,
    PAYMENT_METHOD_LABELS,
    BillStatus,
    FeeRefused,
    PaymentMethod,
    format_fen,
    period_label,
)
from backend.domain.roles import Action, Role, allows
from backend.domain.subsidy import format_rate
from backend.extensions import db
from backend.integrations.wechat_pay import NotificationRejected, WeChatPayError
from backend.models import Bill, PaymentOrder
from backend.pages import h5
from backend.pages.helpers import compound_by_code, login_redirect, require_user_for_post
from backend.policy import fee_reader, roles_in_compound
from backend.request_context import entry_compound_id, optional_user_id
from backend.services import fees as fee_service
from backend.services import payments as payment_service
from backend.services import people as people_service
from backend.services.payment_orders import AmountMismatch
from backend.services.subsidies import SubsidyBusy, SubsidyView, subsidy_view
from backend.shared.clock import beijing_date, utcnow

BILL_ID = "<int(min=1, max=2147483647):bill_id>"
ORDER_ID = "<int(min=1, max=2147483647):order_id>"
PAYMENT_ID = "<int(min=1, max=2147483647):payment_id>"
BUSY_MESSAGE = "当前缴费的人较多，请稍后再试"


# ---- template filters -----------------------------------------------------------------------------------------


@h5.app_template_filter("fen")
def fen(amount_fen: int) -> str:
    return format_fen(amount_fen)


@h5.app_template_filter("rate")
def rate(rate_bp: int) -> str:
    return format_rate(rate_bp)


@h5.app_template_filter("month_zh")
def month_zh(month: date | str) -> str:
    """A month (its first day, or that day in ISO as a grant's lines store it) as "2026年1月"."""
    if isinstance(month, str):
        month = date.fromisoformat(month)
    return f"{month.year}年{month.month}月"


@h5.app_template_filter("period")
def period(bill: Bill) -> str:
    return period_label(bill.period_start, bill.months)


@h5.app_template_global()
def unpaid_bill_count(compound_id: int) -> int:
    """The home page's 待缴 badge: unpaid bills of my verified households here."""
    user_id = optional_user_id()
    if user_id is None:
        return 0
    return sum(
        1
        for household in fee_service.my_households(user_id, compound_id)
        for bill in fee_service.household_bills(household.id)
        if bill.status is BillStatus.UNPAID
    )


# ---- what a bill shows ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BillLine:
    """A bill as the pages show it: the subsidy (fixed, or what it would be if paid now) and the resident's share,
    which add up to the bill's amount."""

    bill: Bill
    subsidy: SubsidyView | None
    subsidy_fen: int
    share_fen: int
    overdue: bool

    @property
    def status_label(self) -> str:
        return BILL_STATUS_LABELS[self.bill.status]


def bill_line(bill: Bill, today: date) -> BillLine:
    # A waived bill asks nothing and a subsidy released with it is no estimate of anything.
    view = subsidy_view(bill) if bill.status is not BillStatus.WAIVED else None
    subsidy_fen = view.subsidy_fen if view else bill.subsidy_fen
    unpaid = bill.status is BillStatus.UNPAID
    return BillLine(
        bill=bill,
        subsidy=view,
        subsidy_fen=subsidy_fen,
        share_fen=bill.amount_fen - subsidy_fen,
        overdue=unpaid and bill.due_date < today,
    )


@dataclass(frozen=True)
class BillAccess:
    bill: Bill
    roles: frozenset[Role]
    member: bool

    @property
    def may_pay(self) -> bool:
        return self.member and self.bill.status is BillStatus.UNPAID


def bill_access(compound_id: int, bill_id: int, user_id: int) -> BillAccess:
    """The bill and the caller's standing: its household's verified people, or whoever keeps the compound's books
    (VIEW_BILLS). Anyone else gets 404, a neighbour of the same compound too, so a bill's existence stays hidden."""
    bill = db.session.get(Bill, bill_id)
    reader = None if bill is None or bill.compound_id != compound_id else fee_reader(
        user_id, compound_id, bill.household_id)
    if reader is None:
        abort(404)
    return BillAccess(bill=bill, roles=reader.roles, member=reader.member)


def fee_links(compound, roles: frozenset[Role]) -> list[tuple[str, str, str]]:
    """The fee pages the caller's roles open, as (id, label, url)."""
    links = [("schedules-link", "收费标准", url_for("h5.fee_schedules", code=compound.code))]
    if allows(roles, Action.RECORD_PAYMENTS):
        links.append(("desk-link", "收费台（现金 / 银行转账）", url_for("h5.fee_desk", code=compound.code)))
    if allows(roles, Action.VIEW_BILLS):
        links += [
            ("arrears-link", "欠费清单", url_for("h5.fee_arrears", code=compound.code)),
            ("collection-link", "收缴率", url_for("h5.fee_collection", code=compound.code)),
            ("policies-link", "物业费补贴政策", url_for("h5.fee_policies", code=compound.code)),
        ]
    if allows(roles, Action.VIEW_SETTLEMENT):
        links.append(("settlement-link", "补贴结算", url_for("h5.settlement")))
    return links


# ---- my bills ---------------------------------------------------------------------------------------------------


@h5.get("/c/<code>/bills")
def bill_list(code: str):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    roles = roles_in_compound(user_id, compound.id, entry_compound_id())
    if not roles:
        abort(404)
    today = beijing_date(utcnow())
    households = [
        (household, [bill_line(bill, today) for bill in fee_service.household_bills(household.id)])
        for household in fee_service.my_households(user_id, compound.id)
    ]
    return render_template(
        "fees/bills.html",
        compound=compound,
        households=households,
        label=lambda h: fee_service.household_label(h.building.name, h.unit, h.room),
        links=fee_links(compound, roles),
    )


@h5.get(f"/c/<code>/bills/{BILL_ID}")
def bill_detail(code: str, bill_id: int):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    access = bill_access(compound.id, bill_id, user_id)
    bill = access.bill
    household = bill.household
    return render_template(
        "fees/bill.html",
        compound=compound,
        access=access,
        line=bill_line(bill, beijing_date(utcnow())),
        household_label=fee_service.household_label(household.building.name, household.unit, household.room),
        payments=payment_service.bill_payments(bill.id),
        refunds=payment_service.bill_refunds(bill.id),
        method_labels=PAYMENT_METHOD_LABELS,
        can_adjust=allows(access.roles, Action.ADJUST_BILLS),
        can_record=allows(access.roles, Action.RECORD_PAYMENTS),
    )


def _bill_redirect(code: str, bill_id: int):
    return redirect(url_for("h5.bill_detail", code=code, bill_id=bill_id))


# ---- paying -----------------------------------------------------------------------------------------------------


@h5.post(f"/c/<code>/bills/{BILL_ID}/pay")
def bill_pay(code: str, bill_id: int):
    """Fix the subsidy and open the order; the next page pays it (WeChat's own sheet, or the sandbox's button)."""
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    access = bill_access(compound.id, bill_id, user_id)
    if not access.member:
        abort(403)
    try:
        started = payment_service.start_payment(bill_id, people_service.get_user(user_id))
    except LookupError:
        abort(404)
    except FeeRefused as exc:
        db.session.rollback()
        flash(exc.message, "warn")
        return _bill_redirect(code, bill_id)
    except SubsidyBusy:
        db.session.rollback()
        flash(BUSY_MESSAGE, "warn")
        return _bill_redirect(code, bill_id)
    except WeChatPayError:
        db.session.rollback()
        current_app.logger.exception("WeChat Pay refused or missed the order of bill %s", bill_id)
        flash("微信支付暂时无法下单，请稍后再试", "warn")
        return _bill_redirect(code, bill_id)
    if started.settled:
        flash("补贴已抵扣全部费用，本期物业费已结清", "success")
        return _bill_redirect(code, bill_id)
    return render_template(
        "fees/pay.html",
        compound=compound,
        bill=started.bill,
        order=started.order,
        sandbox=started.order.provider is PaymentMethod.SANDBOX,
        pay_params=started.pay_params,
    )


@h5.post(f"/c/<code>/bills/{BILL_ID}/orders/{ORDER_ID}/sandbox-pay")
def bill_sandbox_pay(code: str, bill_id: int, order_id: int):
    """The sandbox's 确认支付（模拟）: the same signed notification path as WeChat Pay's, then the receipt."""
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    access = bill_access(compound.id, bill_id, user_id)
    order = db.session.get(PaymentOrder, order_id)
    if not access.member or order is None or order.bill_id != bill_id:
        abort(404)
    try:
        payment = payment_service.complete_sandbox_payment(order_id, user_id)
    except LookupError:
        abort(404)
    except FeeRefused as exc:
        db.session.rollback()
        flash(exc.message, "warn")
        return _bill_redirect(code, bill_id)
    except (NotificationRejected, AmountMismatch):
        db.session.rollback()
        flash("支付未能确认，请稍后刷新账单查看", "warn")
        return _bill_redirect(code, bill_id)
    if payment is None:
        flash("支付未完成", "warn")
        return _bill_redirect(code, bill_id)
    flash("缴费成功", "success")
    return redirect(url_for("h5.fee_receipt", code=code, payment_id=payment.id))


# ---- receipts ---------------------------------------------------------------------------------------------------


@h5.get(f"/c/<code>/receipts/{PAYMENT_ID}")
def fee_receipt(code: str, payment_id: int):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    found = payment_service.receipt(payment_id)
    if found is None or found.payment.compound_id != compound.id:
        abort(404)
    bill_access(compound.id, found.bill.id, user_id)
    return render_template("fees/receipt.html", compound=compound, receipt=found)
