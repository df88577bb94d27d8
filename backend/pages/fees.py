"""Property fee pages for residents (物业缴费, 先买后补): my bills with the subsidy line by line, the bill with what
the person may do with it (pay; for the desk and the committee their own steps), paying one bill or every unpaid
month at once (WeChat Pay inside WeChat, the sandbox elsewhere), the household's payment history and the
electronic receipt (电子收据) listing each bill paid together. What each page shows is the fees presenter's,
the same the API dumps."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for

from backend.domain.fees import format_fen, format_yuan, period_label
from backend.domain.roles import Action
from backend.domain.subsidy import format_rate
from backend.errors import show_refusal_with
from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import (
    compound_by_code,
    confirm_step,
    confirmed,
    login_redirect,
    page_number,
    require_user_for_post,
)
from backend.policy import authorize, roles_in_compound
from backend.presenters import fees as presenter
from backend.presenters import payments as payment_presenter
from backend.request_context import client_ip, entry_compound_id, optional_user_id
from backend.schemas.fees import AdjustmentForm, RefundForm, WaiverSchema
from backend.services import fees as fee_service
from backend.services import payments as payment_service
from backend.services import people as people_service
from backend.shared.clock import beijing_date, utcnow

BILL_ID = "<int(min=1, max=2147483647):bill_id>"
HOUSEHOLD_ID = "<int(min=1, max=2147483647):household_id>"
# Receipts per page of a household's payment history: a few years of monthly payments.
PAGE_SIZE = 20
ORDER_ID = "<int(min=1, max=2147483647):order_id>"
PAYMENT_ID = "<int(min=1, max=2147483647):payment_id>"


# ---- template filters: formatting only -------------------------------------------------------------------------


@h5.app_template_filter("fen")
def fen(amount_fen: int) -> str:
    return format_fen(amount_fen)


@h5.app_template_filter("yuan")
def yuan(amount_fen: int) -> str:
    return format_yuan(amount_fen)


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
def period(bill) -> str:
    return period_label(bill.period_start, bill.months)


@h5.app_template_global()
def unpaid_bill_count(compound_id: int) -> int:
    return presenter.unpaid_bill_count(optional_user_id(), compound_id)


# ---- my bills ---------------------------------------------------------------------------------------------------


@h5.get("/c/<code>/bills")
def bill_list(code: str):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return _render_bills(compound, user_id)


def _render_bills(compound, user_id: int, error: str | None = None, household_id: int | None = None):
    """My bills; `error` said on the household `household_id` (a refused 全部缴清)."""
    roles = roles_in_compound(user_id, compound.id, entry_compound_id())
    if not roles:
        abort(404)
    return render_template(
        "fees/bills.html",
        compound=compound,
        households=presenter.my_bills(user_id, compound.id, beijing_date(utcnow())),
        links=presenter.fee_links(roles),
        error=error, error_household=household_id,
    )


def _render_bill(compound, detail, entered: dict | None = None, error: str | None = None):
    return render_template("fees/bill.html", compound=compound, detail=detail, entered=entered or {}, error=error)


@h5.get(f"/c/<code>/bills/{BILL_ID}")
def bill_detail(code: str, bill_id: int):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return _render_bill(compound, presenter.bill_detail(user_id, bill_id, compound.id))


def _refusals_on_the_bill(compound, user_id: int, bill_id: int, entered: dict | None = None) -> None:
    """From here on a refusal shows the bill again (to someone who may see it), with the message and what was
    typed: the page a step was taken from may be a POST's answer (the pay page), which cannot be gone back to."""
    show_refusal_with(lambda refused: _render_bill(
        compound, presenter.bill_detail(user_id, bill_id, compound.id), entered, refused.message))


def _bill_redirect(code: str, bill_id: int):
    return redirect(url_for("h5.bill_detail", code=code, bill_id=bill_id))


# ---- paying -----------------------------------------------------------------------------------------------------


@h5.post(f"/c/<code>/bills/{BILL_ID}/pay")
def bill_pay(code: str, bill_id: int):
    """Fix the subsidy and open the order; the next page pays it (WeChat's own sheet, or the sandbox's button)."""
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    fee_service.payable_bill(user_id, bill_id, compound.id)
    _refusals_on_the_bill(compound, user_id, bill_id)
    started = payment_presenter.started_payment(
        payment_service.start_payment(bill_id, people_service.get_user(user_id)))
    if started.settled:
        flash("补贴已抵扣全部费用，本期物业费已结清", "success")
        return _bill_redirect(code, bill_id)
    return render_template("fees/pay.html", compound=compound, started=started)


@h5.get(f"/c/<code>/bills/{BILL_ID}/pay")
def bill_pay_page(code: str, bill_id: int):
    """The pay page is a form's answer: opened again (a reload, the large-text switch, a shared link) it is the
    bill's page, from which paying starts again."""
    return _bill_redirect(code, bill_id)


@h5.post(f"/c/<code>/households/{HOUSEHOLD_ID}/pay")
def household_pay(code: str, household_id: int):
    """全部缴清: every unpaid month of the household in one order; the next page pays it."""
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    fee_service.paying_household(user_id, household_id, compound.id)
    show_refusal_with(lambda refused: _render_bills(compound, user_id, refused.message, household_id))
    started = payment_presenter.started_payment(
        payment_service.start_household_payment(household_id, None, people_service.get_user(user_id)))
    if started.settled:
        flash("补贴已抵扣全部费用，所选物业费已结清", "success")
        return redirect(url_for("h5.bill_list", code=code))
    return render_template("fees/pay.html", compound=compound, started=started, pay_all=True)


@h5.get(f"/c/<code>/households/{HOUSEHOLD_ID}/pay")
def household_pay_page(code: str, household_id: int):
    return redirect(url_for("h5.bill_list", code=code))


@h5.post(f"/c/<code>/households/{HOUSEHOLD_ID}/orders/{ORDER_ID}/sandbox-pay")
def household_sandbox_pay(code: str, household_id: int, order_id: int):
    """The sandbox's 确认支付（模拟） for several months: one notification, one receipt listing every bill."""
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    fee_service.paying_household(user_id, household_id, compound.id)
    show_refusal_with(lambda refused: _render_bills(compound, user_id, refused.message, household_id))
    payment = payment_service.complete_sandbox_payment(order_id, user_id, household_id=household_id)
    flash("缴费成功", "success")
    return redirect(url_for("h5.fee_receipt", code=code, payment_id=payment.id))


@h5.post(f"/c/<code>/bills/{BILL_ID}/orders/{ORDER_ID}/sandbox-pay")
def bill_sandbox_pay(code: str, bill_id: int, order_id: int):
    """The sandbox's 确认支付（模拟）: the same signed notification path as WeChat Pay's, then the receipt."""
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    fee_service.bill_for(user_id, bill_id, compound_id=compound.id)
    _refusals_on_the_bill(compound, user_id, bill_id)
    payment = payment_service.complete_sandbox_payment(order_id, user_id, bill_id=bill_id)
    flash("缴费成功", "success")
    return redirect(url_for("h5.fee_receipt", code=code, payment_id=payment.id))


# ---- the committee's steps on a bill: adjusting, waiving, refunding ----------------------------------------------


def _committee_step(code: str, bill_id: int, form_name: str, schema) -> tuple[int, dict]:
    """The caller and their form, for a step of the committee (or an official) on a bill. A refusal from here on
    shows the bill again, with what was typed in the `form_name` form and the message."""
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    authorize(Action.ADJUST_BILLS, compound.id, user_id)
    fee_service.bill_for(user_id, bill_id, Action.ADJUST_BILLS, compound.id)
    _refusals_on_the_bill(compound, user_id, bill_id, request.form.to_dict() | {"form": form_name})
    return user_id, load_form(schema)


@h5.post(f"/c/<code>/bills/{BILL_ID}/adjust")
def bill_adjust(code: str, bill_id: int):
    user_id, body = _committee_step(code, bill_id, "adjust", AdjustmentForm())
    if body["amount_fen"] == 0 and not confirmed():
        # Adjusted to nothing, the bill is waived: it asks first, as waiving does.
        confirmation = presenter.waiver_confirmation(user_id, bill_id, compound_by_code(code).id, body["reason"])
        if confirmation is not None:
            return confirm_step(confirmation, compound_by_code(code).name, url_for("h5.bill_detail", code=code,
                                bill_id=bill_id), {"amount": request.form["amount"], "reason": body["reason"]})
    fee_service.adjust_bill(bill_id, body["amount_fen"], body["reason"], user_id, client_ip())
    flash(f"账单金额已调整为{format_fen(body['amount_fen'])}", "success")
    return _bill_redirect(code, bill_id)


@h5.post(f"/c/<code>/bills/{BILL_ID}/waive")
def bill_waive(code: str, bill_id: int):
    """Waiving asks first: the form's first submit shows what will happen (a page of its own, no JavaScript
    needed), and only its 确认减免 — the same form again with confirm=1 — waives."""
    user_id, body = _committee_step(code, bill_id, "waive", WaiverSchema())
    if not confirmed():
        confirmation = presenter.waiver_confirmation(user_id, bill_id, compound_by_code(code).id, body["reason"])
        if confirmation is not None:
            return confirm_step(confirmation, compound_by_code(code).name, url_for("h5.bill_detail", code=code,
                                bill_id=bill_id), {"reason": body["reason"]})
    fee_service.waive_bill(bill_id, body["reason"], user_id, client_ip())
    flash("账单已减免", "success")
    return _bill_redirect(code, bill_id)


@h5.post(f"/c/<code>/bills/{BILL_ID}/refund")
def bill_refund(code: str, bill_id: int):
    user_id, body = _committee_step(code, bill_id, "refund", RefundForm())
    payment_service.refund_overpayment(bill_id, body["amount_fen"], body["method"], body["reason"], user_id,
                                       client_ip())
    flash(f"已退款{format_fen(body['amount_fen'])}", "success")
    return _bill_redirect(code, bill_id)


# ---- a household's payments and the receipts ----------------------------------------------------------------------


@h5.get(f"/c/<code>/households/{HOUSEHOLD_ID}/payments")
def household_payments(code: str, household_id: int):
    """缴费记录: the household's payments newest first, a receipt per online order or desk entry."""
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    access = fee_service.household_access(user_id, household_id, compound_id=compound.id)
    return render_template("fees/history.html", compound=compound, access=access,
                           label=presenter.household_label(access.household),
                           history=payment_presenter.payment_history(access.household, page_number(), PAGE_SIZE))


# ---- receipts ---------------------------------------------------------------------------------------------------


@h5.get(f"/c/<code>/receipts/{PAYMENT_ID}")
def fee_receipt(code: str, payment_id: int):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return render_template("fees/receipt.html", compound=compound,
                           receipt=payment_presenter.receipt(user_id, payment_id, compound.id))
