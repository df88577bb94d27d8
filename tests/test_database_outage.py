"""A database that is down, hung or locked answers 503 with Retry-After (the error shape on the API, the Chinese
page on H5), within the connect and lock timeouts and well before gunicorn's 30 s; never a 500."""
from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select, text

from backend import DB_CONNECT_TIMEOUT_SECONDS, DB_LOCK_TIMEOUT_MS, create_app
from backend.errors import DATABASE_RETRY_AFTER_SECONDS
from backend.extensions import db
from backend.models import User
from backend.services.auth import issue_tokens
from tests.support import assert_error_shape

NOTHING_LISTENS = "postgresql+psycopg://postgres@127.0.0.1:9/linli"


def app_on(app, database_url: str):
    """A second app on the same Redis whose database is elsewhere (the extensions are shared objects)."""
    return create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "LINLI_REDIS_URL": app.config["LINLI_REDIS_URL"]}
    )


def assert_database_unavailable(response) -> None:
    assert_error_shape(response, 503)
    assert response.json["message"] == "服务暂时不可用，请稍后再试"
    assert response.headers["Retry-After"] == str(DATABASE_RETRY_AFTER_SECONDS)


@pytest.fixture
def signed_in(make_user) -> dict[str, str]:
    """An access token minted while the database was up (it lives 30 minutes)."""
    return {"Authorization": f"Bearer {issue_tokens(make_user())[0]}"}


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server that accepts connections and never says a word (a hung database host)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    for connection in accepted:
        connection.close()
    listener.close()


@pytest.mark.postgresql
def test_postgresql_sessions_carry_the_statement_and_lock_timeouts():
    assert db.session.execute(text("SHOW statement_timeout")).scalar_one() == "15s"
    assert db.session.execute(text("SHOW lock_timeout")).scalar_one() == f"{DB_LOCK_TIMEOUT_MS // 1000}s"


@pytest.mark.postgresql
def test_the_api_answers_503_with_retry_after_while_postgresql_is_unreachable(app, signed_in, caplog):
    client = app_on(app, NOTHING_LISTENS).test_client()

    with caplog.at_level(logging.WARNING, logger="linli.errors"):
        assert_database_unavailable(client.get("/api/v1/me", headers=signed_in))
    assert [record.levelname for record in caplog.records if record.name == "linli.errors"] == ["WARNING"]
    assert "database unavailable on GET /api/v1/me" in caplog.text

    assert_database_unavailable(client.patch("/api/v1/me", json={"display_name": "新名字"}, headers=signed_in))


@pytest.mark.postgresql
def test_a_page_answers_the_chinese_503_page_while_postgresql_is_unreachable(app, signed_in):
    client = app_on(app, NOTHING_LISTENS).test_client()

    # A visitor's compound page, then a resident's inbox (whose sign-in itself needs the database).
    for path, cookie in (("/h5/c/yangguang", None), ("/h5/inbox", signed_in["Authorization"].removeprefix("Bearer "))):
        if cookie:
            client.set_cookie("access_token_cookie", cookie)
        page = client.get(path)
        assert page.status_code == 503
        assert page.headers["Retry-After"] == str(DATABASE_RETRY_AFTER_SECONDS)
        assert "服务暂时不可用，请稍后再试" in page.get_data(as_text=True)


@pytest.mark.postgresql
def test_a_database_that_accepts_and_never_answers_is_given_up_after_the_connect_timeout(app, signed_in, silent_server):
    client = app_on(app, f"postgresql+psycopg://postgres@127.0.0.1:{silent_server}/linli").test_client()

    began = time.monotonic()
    response = client.get("/api/v1/me", headers=signed_in)
    waited = time.monotonic() - began

    assert_database_unavailable(response)
    assert DB_CONNECT_TIMEOUT_SECONDS - 0.5 < waited < DB_CONNECT_TIMEOUT_SECONDS + 3, waited


@pytest.mark.postgresql
@pytest.mark.live  # the lock is held by another connection, which must see the committed user
def test_a_row_locked_elsewhere_answers_503_after_the_lock_timeout(app, client, make_user):
    user = make_user()
    headers = {"Authorization": f"Bearer {issue_tokens(user)[0]}"}
    with db.engine.connect() as other:
        other.execute(select(User.id).where(User.id == user.id).with_for_update())  # a transaction that hangs
        began = time.monotonic()
        response = client.patch("/api/v1/me", json={"display_name": "新名字"}, headers=headers)
        waited = time.monotonic() - began
        other.rollback()

    assert_database_unavailable(response)
    assert DB_LOCK_TIMEOUT_MS / 1000 - 0.5 < waited < DB_LOCK_TIMEOUT_MS / 1000 + 3, waited
    assert client.patch("/api/v1/me", json={"display_name": "新名字"}, headers=headers).status_code == 200


def test_the_api_and_pages_answer_503_while_the_sqlite_file_cannot_be_opened(app, signed_in, tmp_path):
    client = app_on(app, f"sqlite:///{tmp_path / 'no-such-dir' / 'linli.db'}").test_client()

    assert_database_unavailable(client.get("/api/v1/me", headers=signed_in))
    client.set_cookie("access_token_cookie", signed_in["Authorization"].removeprefix("Bearer "))
    page = client.get("/h5/inbox")
    assert page.status_code == 503 and "服务暂时不可用" in page.get_data(as_text=True)
