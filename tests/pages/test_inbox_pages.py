"""The inbox page (我的消息): my notifications with the unread ones marked, the 消息 badge, link-through that
marks read and never leaves the site, 全部已读 and the push setting per kind (forms with the CSRF field)."""
from __future__ import annotations

import itertools
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from rq import Queue, SimpleWorker

from backend.domain.notifications import BINDING_DECISION, FEE_BILL, KINDS, WORK_ORDER_ASSIGNED
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Notification, NotificationPreference
from backend.services.notifications import notify
from backend.services.queueing import QUEUES, push_committed_jobs
from tests.support import first_household

_sent = itertools.count(1)


def send(app, users, title: str, link: str = "/h5/", body: str = "") -> None:
    """notify() as a service would, commit, and let an in-process worker write the inbox rows."""
    notify([user.id for user in users], BINDING_DECISION, title, body, link=link, dedupe_key=f"page-test-{next(_sent)}")
    db.session.commit()
    push_committed_jobs()
    connection = app.extensions["linli_redis"]
    SimpleWorker([Queue(name, connection=connection) for name in QUEUES], connection=connection).work(
        burst=True, logging_level="WARNING"
    )


def rows_of(user) -> list[Notification]:
    return list(db.session.scalars(db.select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)))


def unread_of(user) -> int:
    return sum(row.read_at is None for row in rows_of(user))


def items(html: str) -> list[tuple[int, bool, str]]:
    """(id, unread?, title) of each inbox row on the page, top to bottom."""
    found = re.findall(r'<a class="weui-cell weui-cell_access ll-inbox__item ([^"]*)"\s+href="/h5/inbox/(\d+)"'
                       r'.*?<p class="ll-inbox__title">(.*?)</p>', html, re.S)
    return [(int(nid), "ll-inbox__item_unread" in classes, re.sub(r"<[^>]+>|未读：|\s+", "", title))
            for classes, nid, title in found]


def header_badge(html: str) -> str | None:
    link = re.search(r'<a class="ll-link ll-inbox-link" id="inbox-link"[^>]*>(.*?)</a>', html, re.S)
    assert link, "no 消息 link in the header"
    badge = re.search(r'<span class="weui-badge[^"]*">([^<]*)</span>', link.group(1))
    return badge.group(1) if badge else None


@pytest.fixture
def resident(make_user):
    return make_user()


@pytest.fixture
def browser(app, resident, page_sign_in):
    """The resident's signed-in browser; `.csrf` is the value its forms carry."""
    client = app.test_client()
    client.csrf = page_sign_in(client, resident)
    return client


def test_the_inbox_asks_to_sign_in_first(client):
    response = client.get("/h5/inbox")

    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert (location.path, parse_qs(location.query)["next"]) == ("/h5/login", ["/h5/inbox"])


def test_inbox_lists_my_notifications_newest_first_with_the_unread_marked(app, browser, resident, make_user):
    neighbour = make_user()
    send(app, [resident], "停水通知", body="明天 9:00–12:00 停水")
    send(app, [resident, neighbour], "电梯检修")
    send(app, [neighbour], "只给邻居")
    first = rows_of(resident)[0]
    browser.get(f"/h5/inbox/{first.id}")

    response = browser.get("/h5/inbox")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert [(unread, title) for _, unread, title in items(html)] == [(True, "电梯检修"), (False, "停水通知")]
    assert "明天 9:00–12:00 停水" in html
    assert "只给邻居" not in html
    assert "1 条未读" in html


def test_the_unread_tab_shows_only_unread_ones(app, browser, resident):
    send(app, [resident], "一")
    send(app, [resident], "二")
    browser.get(f"/h5/inbox/{rows_of(resident)[1].id}")

    html = browser.get("/h5/inbox?unread=1").get_data(as_text=True)

    assert [title for _, _, title in items(html)] == ["一"]


def test_older_notifications_are_on_the_next_page(app, browser, resident):
    for number in range(21):
        send(app, [resident], f"通知{number}")

    first = browser.get("/h5/inbox").get_data(as_text=True)
    second = browser.get("/h5/inbox?page=2").get_data(as_text=True)

    assert len(items(first)) == 20 and items(first)[0][2] == "通知20"
    assert [title for _, _, title in items(second)] == ["通知0"]
    assert 'href="/h5/inbox?page=2"' in first
    for page in ("0", "-3", "abc", "99999999999999999999"):
        assert browser.get(f"/h5/inbox?page={page}").status_code == 200


def test_an_empty_inbox_says_so_and_offers_no_read_all(browser):
    html = browser.get("/h5/inbox").get_data(as_text=True)

    assert "暂无消息" in html
    assert 'id="read-all"' not in html


def test_the_header_badge_counts_my_unread_notifications(app, browser, resident, make_user):
    assert header_badge(browser.get("/h5/").get_data(as_text=True)) is None
    send(app, [resident], "一")
    send(app, [resident], "二")
    send(app, [make_user()], "别人的")

    assert header_badge(browser.get("/h5/").get_data(as_text=True)) == "2"
    browser.get(f"/h5/inbox/{rows_of(resident)[0].id}")
    assert header_badge(browser.get("/h5/").get_data(as_text=True)) == "1"


def test_a_signed_out_visitor_has_no_inbox_link(client):
    assert 'id="inbox-link"' not in client.get("/h5/").get_data(as_text=True)


def test_the_badge_costs_one_count_query_and_none_when_signed_out(app, browser, client, resident, count_queries):
    send(app, [resident], "一")

    with count_queries() as signed_in:
        assert browser.get("/h5/").status_code == 200
    with count_queries() as signed_out:
        assert client.get("/h5/").status_code == 200

    counts = [s for s in signed_in if re.search(r"\bnotifications\b", s)]
    assert len(counts) == 1 and "count(" in counts[0].lower()
    assert not [s for s in signed_out if re.search(r"\bnotifications\b", s)]


def test_the_compound_home_shows_my_unread_count(app, make_compound, make_user, page_sign_in):
    compound = make_compound()
    member = make_user(Role.OWNER, compound, household=first_household(compound))
    member_browser = app.test_client()
    page_sign_in(member_browser, member)
    send(app, [member], "一")
    send(app, [member], "二")
    send(app, [member], "三")

    html = member_browser.get(f"/h5/c/{compound.code}").get_data(as_text=True)

    home_link = re.search(r'id="home-inbox-link".*?</a>', html, re.S).group(0)
    assert "我的消息" in home_link and '<span class="weui-badge">3</span>' in home_link


def test_opening_a_notification_marks_it_read_and_goes_to_its_link(app, browser, resident, make_compound):
    compound = make_compound()
    send(app, [resident], "房屋认证已通过", link=f"/h5/c/{compound.code}")
    notification = rows_of(resident)[0]

    response = browser.get(f"/h5/inbox/{notification.id}")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/h5/c/{compound.code}"
    db.session.refresh(notification)
    assert notification.read_at is not None


@pytest.mark.parametrize(
    "link", ["https://evil.example/phish", "//evil.example/phish", "/\t/evil.example", "javascript:alert(1)", ""]
)
def test_a_link_off_the_site_or_none_goes_back_to_the_inbox(app, browser, resident, link):
    send(app, [resident], "可疑链接", link=link)
    notification = rows_of(resident)[0]

    response = browser.get(f"/h5/inbox/{notification.id}")

    assert response.status_code == 302
    assert response.headers["Location"] == "/h5/inbox"
    assert unread_of(resident) == 0


def test_someone_elses_notification_cannot_be_opened(app, browser, make_user):
    neighbour = make_user()
    send(app, [neighbour], "邻居的通知")

    response = browser.get(f"/h5/inbox/{rows_of(neighbour)[0].id}")

    assert response.status_code == 404
    assert unread_of(neighbour) == 1
    assert browser.get("/h5/inbox/99999999999").status_code == 404


def test_read_all_needs_the_csrf_field(app, browser, resident):
    send(app, [resident], "一")
    send(app, [resident], "二")

    refused = browser.post("/h5/inbox/read-all")
    assert refused.status_code == 403
    assert unread_of(resident) == 2

    html = browser.get("/h5/inbox").get_data(as_text=True)
    assert re.search(r'action="/h5/inbox/read-all".*?name="csrf_token" value="' + re.escape(browser.csrf), html, re.S)
    response = browser.post("/h5/inbox/read-all", data={"csrf_token": browser.csrf})

    assert response.status_code == 302 and response.headers["Location"] == "/h5/inbox"
    assert unread_of(resident) == 0
    page = browser.get("/h5/inbox").get_data(as_text=True)
    assert "已全部标为已读" in page
    assert not any(unread for _, unread, _ in items(page))


def test_read_all_signed_out_goes_to_sign_in(client):
    response = client.post("/h5/inbox/read-all")

    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/h5/login"


def test_each_kind_can_be_turned_off_and_on_from_the_inbox(browser, resident):
    html = browser.get("/h5/inbox").get_data(as_text=True)
    # Someone bound to no household yet hears only of their binding request: the one switch shown.
    assert re.findall(r'data-kind="(\w+)"', html) == [BINDING_DECISION]
    assert re.search(rf'data-kind="{BINDING_DECISION}">.*?{KINDS[BINDING_DECISION]}.*?微信提醒已开启', html, re.S)

    refused = browser.post(f"/h5/inbox/preferences/{BINDING_DECISION}", data={"enabled": "0"})
    assert refused.status_code == 403
    off = browser.post(f"/h5/inbox/preferences/{BINDING_DECISION}", data={"enabled": "0", "csrf_token": browser.csrf})

    assert off.status_code == 302 and off.headers["Location"] == "/h5/inbox#settings"
    assert db.session.get(NotificationPreference, (resident.id, BINDING_DECISION)).enabled is False
    html = browser.get("/h5/inbox").get_data(as_text=True)
    assert re.search(rf'data-kind="{BINDING_DECISION}">.*?微信提醒已关闭', html, re.S)
    assert "紧急通知始终提醒" in html

    browser.post(f"/h5/inbox/preferences/{BINDING_DECISION}", data={"enabled": "1", "csrf_token": browser.csrf})
    assert db.session.get(NotificationPreference, (resident.id, BINDING_DECISION)).enabled is True


def test_a_staff_member_sees_the_switches_of_their_work_and_a_resident_does_not(app, page_sign_in, make_compound,
                                                                                 make_user):
    compound = make_compound()
    pages = {}
    for role in (Role.STAFF, Role.OWNER):
        person = make_user(role, compound, household=first_household(compound) if role is Role.OWNER else None)
        phone = app.test_client()
        page_sign_in(phone, person)
        pages[role] = phone.get("/h5/inbox").get_data(as_text=True)

    assert f'data-kind="{WORK_ORDER_ASSIGNED}"' in pages[Role.STAFF] and "新报修与派单" in pages[Role.STAFF]
    assert f'data-kind="{WORK_ORDER_ASSIGNED}"' not in pages[Role.OWNER] and "新报修与派单" not in pages[Role.OWNER]
    assert f'data-kind="{FEE_BILL}"' in pages[Role.OWNER] and f'data-kind="{FEE_BILL}"' not in pages[Role.STAFF]


def test_an_unknown_kind_cannot_be_set(browser):
    response = browser.post("/h5/inbox/preferences/lottery", data={"enabled": "0", "csrf_token": browser.csrf})
    assert response.status_code == 404
