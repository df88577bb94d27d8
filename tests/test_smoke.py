"""The health check: database and Redis decide the status; the worker's heartbeat is reported."""
from backend import create_app
from backend.jobs.health import record_worker_heartbeat
from backend.redis_conn import connect
from tests.support import TEST_PASSWORD, assert_error_shape


def test_healthz_reports_database_and_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"ok": True, "database": True, "redis": True, "worker_heartbeat": None}


def test_healthz_shows_the_last_worker_heartbeat(client):
    stamp = record_worker_heartbeat()
    assert client.get("/healthz").json["worker_heartbeat"] == stamp


def test_healthz_is_503_when_redis_is_unreachable(app, client, monkeypatch):
    monkeypatch.setitem(app.extensions, "linli_redis", connect("redis://127.0.0.1:9/0"))  # nothing listens
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json == {"ok": False, "database": True, "redis": False, "worker_heartbeat": None}


def test_healthz_is_503_when_the_database_is_unreachable(app, tmp_path):
    # A second app on the same Redis: the extensions are shared objects, so only the database may differ.
    broken = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'no-such-dir' / 'x.db'}",
            "LINLI_REDIS_URL": app.config["LINLI_REDIS_URL"],
        }
    )
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] is False and response.json["redis"] is True


def test_unknown_api_path_uses_error_shape(client):
    assert_error_shape(client.get("/api/v1/nothing-here"), 404)


def test_signed_in_reading_survives_a_redis_outage(app, client, make_user, monkeypatch):
    """The revocation list fails open (tokens live 30 minutes): an outage must not sign everyone out."""
    user = make_user(username="reader")
    token = client.post("/api/v1/auth/password", json={"username": "reader", "password": TEST_PASSWORD}).json
    monkeypatch.setitem(app.extensions, "linli_redis", connect("redis://127.0.0.1:9/0"))
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert response.status_code == 200 and response.json["id"] == user.id


def test_sms_sign_in_says_it_is_unavailable_while_redis_is_down(app, client, monkeypatch):
    monkeypatch.setitem(app.extensions, "linli_redis", connect("redis://127.0.0.1:9/0"))
    asked = client.post("/api/v1/auth/sms/request", json={"phone": "13800138000"})
    assert_error_shape(asked, 503)
    assert "短信登录暂时不可用" in asked.json["message"]
    assert_error_shape(client.post("/api/v1/auth/sms/verify", json={"phone": "13800138000", "code": "123456"}), 503)
    page = client.post("/h5/login/sms/request", data={"phone": "13800138000"})
    assert page.status_code == 503 and "短信登录暂时不可用" in page.get_data(as_text=True)


def test_a_seven_digit_code_on_the_sms_form_is_refused_not_cut(client):
    page = client.post("/h5/login/sms/verify", data={"phone": "13800138000", "code": "1234567"})
    # The API's schema answers it on both doors: input to fix (422), not a failed sign-in.
    assert page.status_code == 422 and "请输入6位数字验证码" in page.get_data(as_text=True)


def test_logout_while_redis_is_down_is_refused_and_changes_nothing(app, client, make_user, monkeypatch):
    """A revocation the sign-in cache cannot hear of is not made (a worker's cached "not revoked" would outlive
    it): the API answers 503 with the error shape, the page says so, and the person stays signed in."""
    make_user(username="leaver")
    api_tokens = client.post("/api/v1/auth/password", json={"username": "leaver", "password": TEST_PASSWORD}).json
    client.post("/h5/login/password", data={"username": "leaver", "password": TEST_PASSWORD})
    page_access, csrf = client.get_cookie("access_token_cookie").value, client.get_cookie("csrf_access_token").value
    monkeypatch.setitem(app.extensions, "linli_redis", connect("redis://127.0.0.1:9/0"))

    api = client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {api_tokens['access_token']}"})
    page = client.post("/h5/logout", data={"csrf_token": csrf})

    assert_error_shape(api, 503)
    assert page.status_code == 503 and "服务暂时不可用" in page.get_data(as_text=True)
    assert client.get_cookie("access_token_cookie") is not None
    for access in (api_tokens["access_token"], page_access):
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {access}"}).status_code == 200
