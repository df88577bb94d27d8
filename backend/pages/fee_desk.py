"""Property fee pages for the people who run the books: the staff's desk (现金 / 银行转账 against a paper receipt)
and the arrears list; the committee's and officials' fee schedules (with the 听证会 that discussed them), collection
rates and the subsidy policies covering the compound; and the street's subsidy settlement for officials. What each
page shows is the fees presenter's, the same the API dumps."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import flash, redirect, render_template, request, url_for

from backend.domain.fees import PAYMENT_METHOD_LABELS, format_fen
from backend.domain.roles import Action
from backend.errors import show_refusal_with
from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import compound_by_code, login_redirect, page_number, require_user_for_post
from backend.policy import authorize
from backend.presenters import fees as presenter
from backend.presenters import payments as payment_presenter
from backend.request_context import client_ip, entry_compound_id, optional_user_id
from backend.schemas.fees import HouseholdOfflinePaymentForm, OfflinePaymentForm, ScheduleForm
from backend.services import fees as fee_service
from backend.services import payments as payment_service

PAGE_SIZE = 20
# A year of monthly periods on one page.
PERIODS_PER_PAGE = 12
BILL_ID = "<int(min=1, max=2147483647):bill_id>"
HOUSEHOLD_ID = "<int(min=1, max=2147483647):household_id>"


def _signed_in(action: Action, code: str, with_entry: bool = False):
    """The compound and the caller's access for a GET page (None for the sign-in redirect)."""
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None and not (with_entry and entry_compound_id() == compound.id):
        return compound, None
    return compound, authorize(action, compound.id, user_id, entry_compound_id() if with_entry else None)


# ---- the staff's desk -------------------------------------------------------------------------------------------


def _render_desk(compound, desk, entered: dict | None = None, error: str | None = None,
                 errors: dict | None = None):
    """The desk; `errors` ({field: [message]}) are said beside the fields of the several-months form."""
    return render_template("fees/desk.html", compound=compound, desk=desk, entered=entered or {},
                           error=error or desk.search.message, errors=errors or {})


@h5.get("/c/<code>/fees/desk")
def fee_desk(code: str):
    compound, access = _signed_in(Action.RECORD_PAYMENTS, code)
    if access is None:
        return login_redirect()
    search = presenter.desk_search(compound.id, request.args)
    return _render_desk(compound, presenter.desk(compound.id, access.roles, search)), search.status


@h5.post(f"/c/<code>/fees/desk/bills/{BILL_ID}")
def fee_desk_record(code: str, bill_id: int):
    """Cash or a bank transfer for one bill, against the paper receipt's number; then the electronic receipt. A
    refusal shows the desk again, with what was typed and the message."""
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    access = authorize(Action.RECORD_PAYMENTS, compound.id, user_id)
    household = fee_service.bill_for(user_id, bill_id, Action.RECORD_PAYMENTS, compound.id).bill.household
    entered = request.form.to_dict() | {"bill_id": bill_id}
    show_refusal_with(lambda refused: _render_desk(
        compound, presenter.desk(compound.id, access.roles, presenter.DeskSearch.found(household)), entered,
        refused.message))
    body = load_form(OfflinePaymentForm())
    payment = payment_service.record_offline_payment(
        bill_id, body["method"], body["amount_fen"], body["offline_receipt_no"], user_id, client_ip())
    flash(f"已登记{PAYMENT_METHOD_LABELS[payment.method]}收款{format_fen(payment.amount_fen)}", "success")
    return redirect(url_for("h5.fee_receipt", code=code, payment_id=payment.id))


@h5.post(f"/c/<code>/fees/desk/households/{HOUSEHOLD_ID}")
def fee_desk_record_months(code: str, household_id: int):
    """Cash or a bank transfer for several months of one household: the months ticked, ONE amount (their total
    due) and ONE paper receipt number; then the one receipt listing them. A refusal records nothing and shows the
    desk again, the message beside the field at fault and what was typed kept."""
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    access = authorize(Action.RECORD_PAYMENTS, compound.id, user_id)
    household = fee_service.household_access(user_id, household_id, Action.RECORD_PAYMENTS, compound.id).household
    entered = request.form.to_dict() | {"form": "months", "bill_ids": request.form.getlist("bill_ids")}
    show_refusal_with(lambda refused: _render_desk(
        compound, presenter.desk(compound.id, access.roles, presenter.DeskSearch.found(household)), entered,
        refused.message, refused.errors))
    body = load_form(HouseholdOfflinePaymentForm())
    receipt = payment_service.record_offline_payments(
        body["bill_ids"], body["method"], body["amount_fen"], body["offline_receipt_no"], user_id, client_ip(),
        household_id=household_id)
    first = payment_presenter.receipt_of(user_id, receipt)
    flash(f"已登记{PAYMENT_METHOD_LABELS[receipt.method]}收款{format_fen(receipt.amount_fen)}（{len(first.lines)}个账单）",
          "success")
    return redirect(url_for("h5.fee_receipt", code=code, payment_id=first.payment.id))


@h5.post(f"/c/<code>/fees/desk/bills/{BILL_ID}/online-payment/close")
def fee_desk_close_online(code: str, bill_id: int):
    """查询并关闭线上支付: what became of the household's online payment; then the desk again, saying it."""
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    authorize(Action.RECORD_PAYMENTS, compound.id, user_id)
    bill = fee_service.bill_for(user_id, bill_id, Action.RECORD_PAYMENTS, compound.id).bill
    household_id = bill.household_id
    check = payment_service.close_online_payment(bill_id, user_id, client_ip())
    flash(check.message, "success" if check.settled else "warn")
    return redirect(url_for("h5.fee_desk", code=code, household_id=household_id))


# ---- arrears ------------------------------------------------------------------------------------------------------


@h5.get("/c/<code>/fees/arrears")
def fee_arrears(code: str):
    compound, access = _signed_in(Action.VIEW_BILLS, code)
    if access is None:
        return login_redirect()
    return render_template("fees/arrears.html", compound=compound,
                           arrears=presenter.arrears(compound.id, access.roles, page_number(), PAGE_SIZE))


# ---- fee schedules ------------------------------------------------------------------------------------------------


def _render_schedules(compound, roles, entered: dict, error: str | None = None):
    return render_template("fees/schedules.html", compound=compound, screen=presenter.schedules(compound, roles),
                           form=entered, error=error)


@h5.get("/c/<code>/fees/schedules")
def fee_schedules(code: str):
    compound, access = _signed_in(Action.VIEW_FEE_SCHEDULES, code, with_entry=True)
    if access is None:
        return login_redirect()
    return _render_schedules(compound, access.roles, presenter.new_schedule_entries(compound))


@h5.post("/c/<code>/fees/schedules")
def fee_schedule_create(code: str):
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    access = authorize(Action.MANAGE_FEE_SCHEDULES, compound.id, user_id)
    entered = request.form.to_dict()
    show_refusal_with(lambda refused: _render_schedules(compound, access.roles, entered, refused.message))
    body = load_form(ScheduleForm())
    fee_service.create_schedule(compound, fee_service.ScheduleDraft(**body), user_id, client_ip())
    flash("收费标准已保存：用于生效日之后开具的账单，已开具的账单不变", "success")
    return redirect(url_for("h5.fee_schedules", code=code))


# ---- collection rate ------------------------------------------------------------------------------------------------


@h5.get("/c/<code>/fees/collection")
def fee_collection(code: str):
    compound, access = _signed_in(Action.VIEW_BILLS, code)
    if access is None:
        return login_redirect()
    return render_template("fees/collection.html", compound=compound,
                           page=presenter.collection(compound.id, None, page_number(), PERIODS_PER_PAGE))


# ---- subsidy policies -----------------------------------------------------------------------------------------------


@h5.get("/c/<code>/fees/policies")
def fee_policies(code: str):
    compound, access = _signed_in(Action.VIEW_BILLS, code)
    if access is None:
        return login_redirect()
    return render_template("fees/policies.html", compound=compound,
                           policies=payment_presenter.compound_policies(compound))


# ---- the street's settlement ----------------------------------------------------------------------------------------


@h5.get("/settlement")
def settlement():
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    screen = payment_presenter.settlement_screen(user_id, request.args)
    return (
        render_template("fees/settlement.html", screen=screen,
                        xlsx_url="/api/v1/subsidies/settlement.xlsx?" + urlencode(screen.xlsx_query)),
        422 if screen.error else 200,
    )
