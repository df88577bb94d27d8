"""The app starts, the schema matches the models, and the health check sees the database and Redis."""
from tests.support import assert_error_shape


def test_healthz_reports_database_and_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"ok": True, "database": True, "redis": True}


def test_unknown_api_path_uses_error_shape(client):
    assert_error_shape(client.get("/api/v1/nothing-here"), 404)
