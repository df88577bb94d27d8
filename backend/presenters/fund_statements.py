"""What the 公共账本 screens show, built once for the API to dump and the pages to render: the overview (balance, this
month by category, latest entries for those who see entries, closed months), the list of months, a month's statement
with its sections per account (bank details and differences only to those who see accounts) and this person's
actions (close, explain)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from backend.domain import fund_statements as rules
from backend.domain.compounds import ManagementModel
from backend.domain.fund_statements import MONTH_STATUS_LABELS, MonthStatus, Statement
from backend.domain.funds import (
    ACCOUNT_KIND_LABELS,
    CATEGORY_LABELS,
    DIRECTION_LABELS,
    AccountKind,
    Category,
    EntryOrigin,
    FundRefused,
    direction_of,
    fund_rights,
)
from backend.domain.refusals import Kind
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Compound
from backend.models.funds import FundVoucher
from backend.services import fund_statements as service
from backend.services.fund_access import FundAccess, fund_access, require

ORIGIN_LABELS = {
    EntryOrigin.MANUAL: "手工记账",
    EntryOrigin.FEE_PAYMENT: "物业费缴费",
    EntryOrigin.SUBSIDY_GRANT: "补贴到账",
    EntryOrigin.FEE_REFUND: "多缴退款",
    EntryOrigin.REMUNERATION: "结账计提酬金",
    EntryOrigin.REVERSAL: "红字冲销",
}


def parse_month(text: str) -> date:
    """A month in a path ("2026-07"); anything else names no statement (404)."""
    if len(text) == 7 and text[4] == "-" and text[:4].isdigit() and text[5:].isdigit() and 1 <= int(text[5:]) <= 12 \
            and int(text[:4]) >= 1900:
        return date(int(text[:4]), int(text[5:]), 1)
    raise FundRefused("没有这个月份", Kind.NOT_FOUND)


def _categories(by_category: dict[str, int]) -> list[dict]:
    order = list(Category)
    return [{"category": category, "label": CATEGORY_LABELS[Category(category)],
             "direction": direction_of(Category(category)).value,
             "direction_label": DIRECTION_LABELS[direction_of(Category(category))], "amount_fen": amount}
            for category, amount in sorted(by_category.items(), key=lambda item: order.index(Category(item[0])))]


def _figures(statement: Statement) -> dict:
    return {"opening_fen": statement.opening_fen, "income_fen": statement.income_fen,
            "expense_fen": statement.expense_fen, "closing_fen": statement.closing_fen,
            "by_category": _categories(statement.by_category)}


def _account(account, access: FundAccess) -> dict:
    kind = AccountKind(account.kind)
    return {"id": account.id, "kind": kind.value, "kind_label": ACCOUNT_KIND_LABELS[kind],
            "label": service.account_label(account) if access.rights.see_accounts else ACCOUNT_KIND_LABELS[kind]}


def summary(compound_id: int, user_id: int | None, entry_compound_id: int | None = None) -> dict:
    access = fund_access(compound_id, user_id, entry_compound_id)
    require(access, "see_statements")
    found = service.summary(compound_id)
    entries = None
    if access.rights.see_entries:
        rows = service.latest_entries(compound_id)
        vouchers: dict[int, list[int]] = {}
        if rows and access.rights.see_vouchers:
            for entry_id, voucher_id in db.session.execute(
                    select(FundVoucher.entry_id, FundVoucher.id).where(FundVoucher.entry_id.in_([r.id for r in rows]))
                    .order_by(FundVoucher.id)):
                vouchers.setdefault(entry_id, []).append(voucher_id)
        entries = [{
            "id": row.id, "entry_date": row.entry_date, "category": Category(row.category).value,
            "category_label": CATEGORY_LABELS[Category(row.category)],
            "direction": direction_of(Category(row.category)).value, "amount_fen": row.amount_fen,
            "origin": EntryOrigin(row.origin).value, "origin_label": ORIGIN_LABELS[EntryOrigin(row.origin)],
            "counterparty": row.counterparty, "note": row.note, "voucher_ids": vouchers.get(row.id, []),
        } for row in rows]
    this_month = rules.month_of(found.today)
    return {
        "compound_id": compound_id,
        "today": found.today,
        "balance_fen": found.balance_fen,
        "accounts": [_account(account, access) | {"balance_fen": balance} for account, balance in found.balances],
        "this_month": {"month": f"{this_month:%Y-%m}", "income_fen": found.this_month.income_fen,
                       "expense_fen": found.this_month.expense_fen,
                       "by_category": _categories(found.this_month.by_category)},
        "latest_closed": [{"month": f"{month:%Y-%m}", "income_fen": s.income_fen, "expense_fen": s.expense_fen,
                           "closing_fen": s.closing_fen} for month, s in found.latest_closed],
        "latest_entries": entries,
        "actions": ["keep_books"] if access.rights.keep_books else [],
    }


def months(compound_id: int, user_id: int | None, entry_compound_id: int | None = None) -> dict:
    access = fund_access(compound_id, user_id, entry_compound_id)
    require(access, "see_statements")
    items = [{"month": f"{month:%Y-%m}", "status": status.value, "status_label": MONTH_STATUS_LABELS[status],
              "income_fen": s.income_fen if s else None, "expense_fen": s.expense_fen if s else None,
              "closing_fen": s.closing_fen if s else None}
             for month, status, s in service.months(compound_id)]
    return {"items": items, "total": len(items), "page": 1, "page_size": max(len(items), 1)}


def statement(compound_id: int, month: date, user_id: int | None, entry_compound_id: int | None = None) -> dict:
    access = fund_access(compound_id, user_id, entry_compound_id)
    report = service.statement(compound_id, month, user_id, entry_compound_id)
    sees_bank = access.rights.see_accounts
    sections = []
    for section in report.accounts:
        frozen = section.frozen
        difference = section.difference_fen if sees_bank else None
        note = frozen.difference_note if frozen is not None and sees_bank else ""
        sections.append(_account(section.account, access) | _figures(section.statement) | {
            "status": section.status.value, "status_label": MONTH_STATUS_LABELS[section.status],
            "entry_count": section.entry_count,
            "needs_bank_balance": sees_bank and AccountKind(section.account.kind) != AccountKind.NONE,
            "bank_balance_fen": frozen.bank_balance_fen if frozen is not None and sees_bank else None,
            "difference_fen": difference,
            "difference_note": note,
            "needs_explanation": rules.needs_explanation(difference, note),
        })
    actions = []
    if access.rights.keep_books:
        if report.status == MonthStatus.CLOSABLE:
            actions.append("close")
        if any(section["needs_explanation"] for section in sections):
            actions.append("explain")
    return {
        "compound_id": compound_id, "month": f"{month:%Y-%m}", "status": report.status.value,
        "status_label": MONTH_STATUS_LABELS[report.status], "accounts": sections,
        "total": _figures(report.total), "actions": actions,
        "see_entries": access.rights.see_entries,
    }


def workbook(compound_id: int, month: date, user_id: int | None, entry_compound_id: int | None = None
             ) -> tuple[str, bytes]:
    access = fund_access(compound_id, user_id, entry_compound_id)
    report = service.statement(compound_id, month, user_id, entry_compound_id)
    compound = db.session.get(Compound, compound_id)
    return (f"公共账本收支表-{month:%Y-%m}.xlsx",
            service.workbook(report, compound.name, with_bank=access.rights.see_accounts))


def home_block(compound_id: int, model: ManagementModel, roles: frozenset[Role]) -> dict | None:
    """What the compound home shows of the public money, from the roles the home already read: the 公共账本 block (the
    balance and this month) for those who see statements, the 公示栏 tile for those who see disclosures."""
    rights = fund_rights(model, roles)
    if not rights.sees_anything:
        return None
    block = {"see_statements": rights.see_statements, "see_disclosures": rights.see_disclosures}
    if rights.see_statements:
        found = service.summary(compound_id)
        block |= {"balance_fen": found.balance_fen, "income_fen": found.this_month.income_fen,
                  "expense_fen": found.this_month.expense_fen, "has_accounts": bool(found.balances)}
    return block


def heading(compound_id: int) -> dict:
    """The compound as a page's heading names it (asked after the page's own fund_access)."""
    compound = db.session.get(Compound, compound_id)
    if compound is None:
        raise FundRefused("没有这个小区", Kind.NOT_FOUND)
    return {"id": compound.id, "name": compound.name, "management_model": compound.management_model.value}
