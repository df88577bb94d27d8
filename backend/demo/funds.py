"""The demo's public money (公共账本): 五十四街坊 under the trust model keeps its whole journal in a trust account — every
fee payment posted once, the company's 10 % remuneration posted at each close, cleaning, utilities and a roof repair
spent against approved requests, a duplicated electricity bill reversed (红字冲销) — and 阳光花园 keeps its public
income (parking, lift advertising) and its costs in a joint account kept by the company's manager. Every month but
the last ended one is closed (balanced, each opening the closing before; one bank difference explained), so the
desk has a month to close. Rows are written straight through the models, as the services would write them; dates
count from the demo's day (Beijing), so the books read the same on any day the demo is loaded."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from io import BytesIO

from PIL import Image
from sqlalchemy import func, select

from backend.demo import factories
from backend.domain.fees import GrantStatus
from backend.domain.funds import (
    AccountKind,
    Category,
    Direction,
    EntryOrigin,
    SpendingPurpose,
    SpendingStatus,
    direction_of,
)
from backend.domain.roles import Role
from backend.domain.subsidy import add_months
from backend.extensions import db
from backend.models import (
    Compound,
    FundAccount,
    FundEntry,
    FundMonth,
    FundSettings,
    FundVoucher,
    Payment,
    SpendingApproval,
    SpendingRequest,
    SubsidyGrant,
)
from backend.services.audit import record_audit
from backend.services.documents import JPEG, PreparedDocument, store_document
from backend.shared.clock import SHANGHAI, beijing_date

COMPANY = "攀枝花安居物业服务有限公司"
REMUNERATION_RATE_BP = 1000
THRESHOLD_FEN = 500_000
# The bank credited the quarter's interest a day before a close: the difference is explained, entered next month.
INTEREST_FEN = 350


@dataclass(frozen=True)
class _Line:
    """A manual entry of every month: day of the month, category, amount, counterparty, note, request key."""

    day: int
    category: Category
    amount_fen: int
    counterparty: str
    note: str
    request: str | None = None


_TRUST_MONTHLY = (
    _Line(8, Category.CLEANING, 80_000, "攀枝花洁美保洁服务部", "楼道及公共区域保洁服务费", "cleaning"),
    _Line(12, Category.PARKING, 36_000, "院内停车户", "院内停车位月租", None),
    _Line(18, Category.SHARED_UTILITIES, 20_000, "国网攀枝花供电公司", "公共照明电费", "utilities"),
)
_MARKET_MONTHLY = (
    _Line(5, Category.PARKING, 260_000, "阳光花园停车户", "地面停车位月租（公共收益）", None),
    _Line(20, Category.TAX, 13_000, "东区税务局", "公共收益代缴税费", "tax"),
)


def _voucher_photo() -> PreparedDocument:
    """A receipt's photo: a plain slip made here (the demo ships no files)."""
    buffer = BytesIO()
    Image.new("RGB", (96, 64), (250, 246, 232)).save(buffer, "JPEG")
    return PreparedDocument(data=buffer.getvalue(), content_type=JPEG)


def _moment(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=SHANGHAI)


class _Books:
    """One account's journal being written: entries in date order, then closed month by month."""

    def __init__(self, compound_id: int, account: FundAccount, bookkeeper_id: int, voucher: PreparedDocument):
        self.compound_id = compound_id
        self.account = account
        self.bookkeeper_id = bookkeeper_id
        self.voucher = voucher
        self.closing = account.opening_balance_fen

    def post(self, day: date, category: Category, amount_fen: int, *, counterparty: str = "", note: str = "",
             origin: EntryOrigin = EntryOrigin.MANUAL, request: SpendingRequest | None = None,
             reverses: FundEntry | None = None, reason: str = "", **links: int) -> FundEntry:
        entry = FundEntry(compound_id=self.compound_id, account_id=self.account.id, entry_date=day,
                          month=day.replace(day=1), category=category, amount_fen=amount_fen,
                          counterparty=counterparty, note=note, origin=origin,
                          spending_request_id=request.id if request else None,
                          reverses_id=reverses.id if reverses else None, reason=reason,
                          posted_by_id=self.bookkeeper_id if origin in (EntryOrigin.MANUAL, EntryOrigin.REVERSAL)
                          else None, created_at=_moment(day), **links)
        db.session.add(entry)
        db.session.flush()
        if origin is EntryOrigin.MANUAL:
            key = store_document(self.voucher, "funds", [])
            db.session.add(FundVoucher(entry_id=entry.id, uploader_id=self.bookkeeper_id, storage_key=key,
                                       content_type=self.voucher.content_type, size_bytes=len(self.voucher.data),
                                       created_at=_moment(day)))
        record_audit(actor_id=entry.posted_by_id, action=f"fund.entry.{origin.value}", target_type="fund_entry",
                     target_id=entry.id, compound_id=self.compound_id,
                     after={"category": category.value, "amount_fen": amount_fen, "origin": origin.value})
        return entry

    def close(self, month: date, closed_by_id: int, bank_extra_fen: int = 0, note: str = "") -> None:
        by_category: dict[str, int] = defaultdict(int)
        rows = db.session.execute(select(FundEntry.category, func.sum(FundEntry.amount_fen), func.count())
                                  .where(FundEntry.account_id == self.account.id, FundEntry.month == month)
                                  .group_by(FundEntry.category)).all()
        count = 0
        for category, total, number in rows:
            by_category[Category(category).value] = int(total)
            count += number
        income = sum(fen for category, fen in by_category.items()
                     if direction_of(Category(category)) is Direction.INCOME)
        expense = sum(by_category.values()) - income
        opening, self.closing = self.closing, self.closing + income - expense
        closed_at = _moment(add_months(month, 1)) + timedelta(days=2)
        row = FundMonth(compound_id=self.compound_id, account_id=self.account.id, month=month, opening_fen=opening,
                        income_fen=income, expense_fen=expense, closing_fen=self.closing,
                        by_category=dict(by_category), entry_count=count,
                        bank_balance_fen=self.closing + bank_extra_fen, closed_by_id=closed_by_id,
                        closed_at=closed_at)
        if bank_extra_fen:
            row.difference_note = note
            row.difference_explained_by_id = closed_by_id
            row.difference_explained_at = closed_at
        db.session.add(row)
        db.session.flush()
        record_audit(actor_id=closed_by_id, action="fund_month.close", target_type="fund_month", target_id=row.id,
                     compound_id=self.compound_id, after={"month": month.isoformat(), "closing_fen": self.closing})


def _request(compound_id: int, requester_id: int, title: str, category: Category, amount_fen: int, payee: str,
             approvers: tuple[int, ...], asked_on: date, decided_on: date | None,
             description: str = "") -> SpendingRequest:
    """Below the threshold: approved by two committee members who did not ask, or still waiting."""
    request = SpendingRequest(
        compound_id=compound_id, requester_id=requester_id, title=title, purpose=SpendingPurpose.OTHER,
        description=description, amount_fen=amount_fen, category=category, payee=payee,
        status=SpendingStatus.APPROVED if decided_on else SpendingStatus.PENDING, threshold_fen=THRESHOLD_FEN,
        decided_at=_moment(decided_on) if decided_on else None, created_at=_moment(asked_on))
    db.session.add(request)
    db.session.flush()
    for approver in approvers:
        db.session.add(SpendingApproval(request_id=request.id, approver_id=approver,
                                        created_at=request.created_at + timedelta(days=1)))
    return request


def make_funds(compound_ids: dict[str, int], accounts: dict[str, int], password_hash: str, now: datetime) -> dict[str, int]:
    """Both compounds' books; returns the two committee members of 五十四街坊 made for them (username → id)."""
    today = beijing_date(now)
    this_month = today.replace(day=1)
    voucher = _voucher_photo()
    trust = db.session.get(Compound, compound_ids["wushisi"])
    made: dict[str, int] = {}
    for username, name in (("committee2", "刘淑芬（五十四街坊业委会主任）"), ("committee3", "黄志强（五十四街坊业委会委员）")):
        person = factories.make_user(username, name, password_hash)
        factories.grant_role(person, Role.COMMITTEE, compound=trust)
        made[username] = person.id
    _trust_books(trust.id, made, accounts["first_secretary"], voucher, today, this_month)
    _market_books(compound_ids["yangguang"], accounts, voucher, today, this_month)
    db.session.commit()
    return made


def _days(first_month: date, this_month: date, today: date, day: int) -> list[date]:
    """The `day` of every month from the first to this one, up to today."""
    found, month = [], first_month
    while month <= this_month:
        if month.replace(day=day) <= today:
            found.append(month.replace(day=day))
        month = add_months(month, 1)
    return found


def _trust_books(compound_id: int, crew: dict[str, int], secretary_id: int, voucher: PreparedDocument, today: date,
                 this_month: date) -> None:
    chair, member = crew["committee2"], crew["committee3"]
    db.session.add(FundSettings(compound_id=compound_id, spending_threshold_fen=THRESHOLD_FEN,
                                remuneration_rate_bp=REMUNERATION_RATE_BP, updated_by_id=chair))
    payments = db.session.execute(
        select(Payment.id, Payment.amount_fen, Payment.paid_at).where(Payment.compound_id == compound_id)
        .where(~select(FundEntry.id).where(FundEntry.payment_id == Payment.id).exists())
        .order_by(Payment.paid_at, Payment.id)).all()
    grants = db.session.execute(
        select(SubsidyGrant.id, SubsidyGrant.amount_fen, SubsidyGrant.granted_at)
        .where(SubsidyGrant.compound_id == compound_id, SubsidyGrant.status == GrantStatus.GRANTED)
        .where(~select(FundEntry.id).where(FundEntry.subsidy_grant_id == SubsidyGrant.id).exists())
        .order_by(SubsidyGrant.granted_at, SubsidyGrant.id)).all()
    earliest = min([beijing_date(row.paid_at) for row in payments] + [add_months(this_month, -3)])
    opened = earliest.replace(day=1)
    account = FundAccount(compound_id=compound_id, kind=AccountKind.TRUST, bank_name="攀枝花农村商业银行炳草岗支行",
                          account_no_masked="6214 **** **** 5404", holder="五十四街坊业主大会（信托）",
                          opening_balance_fen=1_268_000, opened_on=opened, created_by_id=chair,
                          created_at=_moment(opened))
    db.session.add(account)
    db.session.flush()
    record_audit(actor_id=chair, action="fund.account.open", target_type="fund_account", target_id=account.id,
                 compound_id=compound_id, after={"kind": AccountKind.TRUST.value})
    books = _Books(compound_id, account, chair, voucher)
    last_closed = add_months(this_month, -2)
    requests = {
        "cleaning": _request(compound_id, chair, "楼道保洁服务费（按月支付）", Category.CLEANING, 80_000 * 6,
                             "攀枝花洁美保洁服务部", (member, secretary_id), opened - timedelta(days=4), opened - timedelta(days=1),
                             "半年保洁服务合同，每月800.00元按月结算。"),
        "utilities": _request(compound_id, chair, "公共照明电费", Category.SHARED_UTILITIES, 20_000 * 8,
                              "国网攀枝花供电公司", (member, secretary_id), opened - timedelta(days=4), opened - timedelta(days=1)),
        "roof": _request(compound_id, chair, "3栋屋面防水修补", Category.REPAIR, 85_000, "攀枝花宏达防水工程部",
                         (member, secretary_id), add_months(this_month, -1),
                         add_months(this_month, -1) + timedelta(days=2),
                         "3栋4楼两户雨天渗水，局部屋面防水层修补约20平方米。"),
    }
    # Every entry of the account in date order: fee payments and grants as they arrived, the month's manual lines.
    planned: list[tuple[date, int, dict]] = []
    for row in payments:
        if not row.amount_fen:
            continue
        planned.append((beijing_date(row.paid_at), 0, {
            "category": Category.PROPERTY_FEE, "amount_fen": row.amount_fen, "origin": EntryOrigin.FEE_PAYMENT,
            "note": "物业费缴费", "payment_id": row.id}))
    for row in grants:
        planned.append((beijing_date(row.granted_at), 0, {
            "category": Category.SUBSIDY, "amount_fen": row.amount_fen, "origin": EntryOrigin.SUBSIDY_GRANT,
            "note": "过渡期补贴拨付", "subsidy_grant_id": row.id}))
    for line in _TRUST_MONTHLY:
        for day in _days(opened, this_month, today, line.day):
            planned.append((day, 1, {"category": line.category, "amount_fen": line.amount_fen,
                                     "counterparty": line.counterparty, "note": f"{day.month}月{line.note}",
                                     "request": requests[line.request] if line.request else None}))
    # The same bill entered twice: reversed today, the closed month keeps both lines.
    duplicated_month = last_closed
    planned.append((duplicated_month.replace(day=19), 2, {
        "category": Category.SHARED_UTILITIES, "amount_fen": 20_000, "counterparty": "国网攀枝花供电公司",
        "note": f"{duplicated_month.month}月公共照明电费", "request": requests["utilities"]}))
    repair_day = add_months(this_month, -1) + timedelta(days=9)
    planned.append((repair_day, 1, {"category": Category.REPAIR, "amount_fen": 85_000,
                                    "counterparty": "攀枝花宏达防水工程部", "note": "3栋屋面防水修补（验收合格）",
                                    "request": requests["roof"]}))
    planned.append((add_months(this_month, -1) + timedelta(days=2), 1, {
        "category": Category.INTEREST, "amount_fen": INTEREST_FEN, "counterparty": "攀枝花农村商业银行",
        "note": "季度结息（上月已到账）"}))

    month = opened
    duplicate: FundEntry | None = None
    for day, order, entry in sorted(planned, key=lambda item: (item[0], item[1])):
        while month <= last_closed and day >= add_months(month, 1):
            _close_trust_month(books, month, chair, last_closed)
            month = add_months(month, 1)
        posted = books.post(day, **entry)
        if order == 2:
            duplicate = posted
    while month <= last_closed:
        _close_trust_month(books, month, chair, last_closed)
        month = add_months(month, 1)
    books.post(today, Category.SHARED_UTILITIES, -20_000, origin=EntryOrigin.REVERSAL, reverses=duplicate,
               request=requests["utilities"], note=f"冲销{duplicated_month.month}月重复入账的电费",
               reason="同一张电费发票重复记账，红字冲销")


def _close_trust_month(books: _Books, month: date, chair: int, last_closed: date) -> None:
    """The trust model's remuneration of the month is posted on its last day before the month is frozen."""
    # A sum of BIGINT is a NUMERIC (Decimal) on PostgreSQL.
    fee_income = int(db.session.scalar(
        select(func.coalesce(func.sum(FundEntry.amount_fen), 0))
        .where(FundEntry.account_id == books.account.id, FundEntry.month == month,
               FundEntry.category.in_((Category.PROPERTY_FEE, Category.SUBSIDY)))))
    remuneration = (fee_income * REMUNERATION_RATE_BP + 5_000) // 10_000
    if remuneration:
        books.post(add_months(month, 1) - timedelta(days=1), Category.REMUNERATION, remuneration,
                   origin=EntryOrigin.REMUNERATION, counterparty=COMPANY, note=f"{month.month}月酬金（物业费收入的10%）")
    if month == last_closed:
        books.close(month, chair, INTEREST_FEN, "银行季度结息3.50元已到账，账上下月补记")
    else:
        books.close(month, chair)


def _market_books(compound_id: int, accounts: dict[str, int], voucher: PreparedDocument, today: date,
                  this_month: date) -> None:
    manager, committee, secretary = accounts["manager"], accounts["committee"], accounts["secretary"]
    db.session.add(FundSettings(compound_id=compound_id, spending_threshold_fen=THRESHOLD_FEN,
                                updated_by_id=committee))
    opened = add_months(this_month, -3)
    account = FundAccount(compound_id=compound_id, kind=AccountKind.JOINT, bank_name="中国建设银行攀枝花分行",
                          account_no_masked="6217 **** **** 2101", holder="阳光花园小区业主委员会（共管）",
                          opening_balance_fen=356_000, opened_on=opened, created_by_id=manager,
                          created_at=_moment(opened))
    db.session.add(account)
    db.session.flush()
    record_audit(actor_id=manager, action="fund.account.open", target_type="fund_account", target_id=account.id,
                 compound_id=compound_id, after={"kind": AccountKind.JOINT.value})
    books = _Books(compound_id, account, manager, voucher)
    requests = {
        "tax": _request(compound_id, manager, "公共收益代缴税费", Category.TAX, 13_000 * 6, "东区税务局",
                        (committee, secretary), opened - timedelta(days=4), opened - timedelta(days=1)),
        "lines": _request(compound_id, manager, "地面停车位重新划线", Category.REPAIR, 45_000, "攀枝花路美标线工程部",
                          (committee, secretary), add_months(this_month, -1),
                          add_months(this_month, -1) + timedelta(days=1),
                          "地面停车位标线磨损，重新划线32个车位。"),
    }
    # Waits for its second approval on the desk.
    _request(compound_id, manager, "2栋单元门禁维修", Category.REPAIR, 120_000, "攀枝花安智门禁工程部", (committee,),
             today - timedelta(days=2), None, "2栋1单元、2单元门禁主板损坏，更换主板和读卡器。")
    planned: list[tuple[date, dict]] = []
    for line in _MARKET_MONTHLY:
        for day in _days(opened, this_month, today, line.day):
            planned.append((day, {"category": line.category, "amount_fen": line.amount_fen,
                                  "counterparty": line.counterparty, "note": f"{day.month}月{line.note}",
                                  "request": requests[line.request] if line.request else None}))
    planned.append((opened + timedelta(days=14), {"category": Category.ADVERTISING, "amount_fen": 180_000,
                                                  "counterparty": "攀枝花分众传媒", "note": "电梯广告位季度租金"}))
    planned.append((add_months(this_month, -1) + timedelta(days=11), {
        "category": Category.REPAIR, "amount_fen": 45_000, "counterparty": "攀枝花路美标线工程部",
        "note": "地面停车位重新划线（验收合格）", "request": requests["lines"]}))
    last_closed = add_months(this_month, -2)
    month = opened
    for day, entry in sorted(planned, key=lambda item: item[0]):
        while month <= last_closed and day >= add_months(month, 1):
            books.close(month, manager)
            month = add_months(month, 1)
        books.post(day, **entry)
    while month <= last_closed:
        books.close(month, manager)
        month = add_months(month, 1)
