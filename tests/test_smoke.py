"""The health check: database and Redis decide the status; the worker's heartbeat is reported."""
from backend import create_app
from backend.jobs.health import record_worker_heartbeat
from tests.support import assert_error_shape


def test_healthz_reports_database_and_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"ok": True, "database": True, "redis": True, "worker_heartbeat": None}


def test_healthz_shows_the_last_worker_heartbeat(client):
    stamp = record_worker_heartbeat()
    assert client.get("/healthz").json["worker_heartbeat"] == stamp


def test_healthz_is_503_when_redis_or_the_database_is_unreachable(app, tmp_path):
    broken = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'no-such-dir' / 'x.db'}",
            "LINLI_REDIS_URL": "redis://127.0.0.1:9/0",  # the discard port: nothing listens
        }
    )
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"ok": False, "database": False, "redis": False, "worker_heartbeat": None}


def test_unknown_api_path_uses_error_shape(client):
    assert_error_shape(client.get("/api/v1/nothing-here"), 404)
