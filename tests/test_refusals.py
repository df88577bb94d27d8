"""One refusal, one answer: a `Refused` raised anywhere below a view becomes the API's error shape or the page's
message, after the session is rolled back — no view catches it."""
from __future__ import annotations

import pytest
from flask import Blueprint, Flask, render_template_string

from backend import create_app
from backend.domain.compounds import AreaLevel
from backend.domain.refusals import Kind, Refused
from backend.errors import show_refusal_with
from backend.extensions import db
from backend.models import Area

# The suite's database plays no part: the app below has its own.
pytestmark = pytest.mark.once


def _refusing_views() -> Blueprint:
    views = Blueprint("refusing", __name__)

    def write_then_refuse(kind: str):
        db.session.add(Area(name="不该留下的街道", level=AreaLevel.STREET, path="/"))
        db.session.flush()
        raise Refused(f"不行：{kind}", Kind[kind], errors={"name": ["太长"]} if kind == "INVALID" else None,
                      retry_after=90 if kind == "TOO_MANY" else None)

    views.add_url_rule("/api/v1/refuse/<kind>", "api", write_then_refuse, methods=["GET", "POST"])
    views.add_url_rule("/h5/refuse/<kind>", "page", write_then_refuse, methods=["GET", "POST"])

    def form_that_refuses():
        # The form is drawn after the refusal: it must not see what the refused request wrote.
        show_refusal_with(lambda refused: render_template_string(
            "<p id=form-error>{{ m }}</p><p id=areas>{{ n }}</p>", m=refused.message, n=db.session.query(Area).count()))
        db.session.add(Area(name="不该留下的街道", level=AreaLevel.STREET, path="/"))
        db.session.flush()
        raise Refused("名称不能为空", Kind.INVALID)

    views.add_url_rule("/h5/refuse-on-form", "form", form_that_refuses, methods=["POST"])
    return views


@pytest.fixture(scope="module")
def refusing_app(tmp_path_factory, app) -> Flask:
    """An app of its own (routes cannot be added to the suite's app once it has served), on its own database."""
    made = create_app({**{key: app.config[key] for key in ("LINLI_REDIS_URL", "LINLI_PUBLIC_URL")},
                       "TESTING": True,
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path_factory.mktemp('refusals') / 'r.db'}"})
    made.register_blueprint(_refusing_views())
    with made.app_context():
        db.create_all()
    return made


@pytest.mark.parametrize(("kind", "status"), [
    ("INVALID", 422), ("FORBIDDEN", 403), ("NOT_FOUND", 404), ("CONFLICT", 409), ("TOO_MANY", 429),
    ("TOO_LARGE", 413),
])
def test_the_api_answers_a_refusal_in_the_error_shape_with_its_kinds_status(refusing_app, kind, status):
    response = refusing_app.test_client().post(f"/api/v1/refuse/{kind}")
    assert response.status_code == status
    assert response.json["code"] == status and response.json["message"] == f"不行：{kind}"
    assert response.json.get("errors") == ({"name": ["太长"]} if kind == "INVALID" else None)
    assert response.headers.get("Retry-After") == ("90" if kind == "TOO_MANY" else None)


def test_a_page_form_refused_for_its_input_goes_back_to_the_page_with_the_message(refusing_app):
    client = refusing_app.test_client()
    response = client.post("/h5/refuse/CONFLICT", headers={"Referer": "http://localhost/h5/somewhere?x=1"})
    assert response.status_code == 303 and response.headers["Location"] == "/h5/somewhere?x=1"
    with client.session_transaction() as session:
        assert ("warn", "不行：CONFLICT") in session["_flashes"]


@pytest.mark.parametrize("referer", [None, "https://evil.example/h5/x", "javascript:alert(1)"])
def test_a_refusal_without_a_page_of_ours_to_go_back_to_shows_the_error_page(refusing_app, referer):
    headers = {"Referer": referer} if referer else {}
    response = refusing_app.test_client().post("/h5/refuse/CONFLICT", headers=headers)
    assert response.status_code == 409 and "不行：CONFLICT" in response.text


@pytest.mark.parametrize("kind", ["FORBIDDEN", "NOT_FOUND", "INVALID"])
def test_a_page_refused_on_a_get_shows_the_error_page_with_its_status(refusing_app, kind):
    response = refusing_app.test_client().get(f"/h5/refuse/{kind}", headers={"Referer": "http://localhost/h5/x"})
    assert response.status_code == Kind[kind] and f"不行：{kind}" in response.text


def test_a_page_that_shows_its_own_form_on_refusal_gets_it_with_the_status(refusing_app):
    response = refusing_app.test_client().post("/h5/refuse-on-form", headers={"Referer": "http://localhost/h5/x"})
    assert response.status_code == 422 and "<p id=form-error>名称不能为空</p>" in response.text
    assert "<p id=areas>0</p>" in response.text, "the session was rolled back before the form was drawn"
