"""Password hashes cost what the app's config says: argon2-cffi's default (RFC 9106's low-memory profile) unless
the app is made with TESTING, which takes the cheapest; a hash is checked at the cost it was made with."""
from __future__ import annotations

import pytest
from argon2 import Parameters, extract_parameters, profiles

from backend import create_app
from backend.services.identity import hash_password, verify_password


def _cost(parameters: Parameters) -> tuple[int, int, int]:
    return parameters.time_cost, parameters.memory_cost, parameters.parallelism


@pytest.fixture
def production_like(app):
    """An app made as `make run` and production make theirs: without TESTING."""
    return create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "LINLI_REDIS_URL": app.config["LINLI_REDIS_URL"]})


def test_an_app_without_testing_hashes_at_the_librarys_default_cost(production_like):
    with production_like.app_context():
        made = hash_password("正确的密码")

        assert verify_password(made, "正确的密码") and not verify_password(made, "错误的密码")
    assert production_like.config["LINLI_PASSWORD_COST"] == "RFC_9106_LOW_MEMORY"
    assert _cost(extract_parameters(made)) == _cost(profiles.RFC_9106_LOW_MEMORY)


def test_the_tests_app_hashes_at_the_cheapest_cost(app):
    made = hash_password("正确的密码")

    assert app.config["LINLI_PASSWORD_COST"] == "CHEAPEST"
    assert _cost(extract_parameters(made)) == _cost(profiles.CHEAPEST)
    assert verify_password(made, "正确的密码") and not verify_password(made, "错误的密码")


def test_a_hash_made_at_production_cost_signs_in_anywhere(production_like):
    with production_like.app_context():
        made = hash_password("正确的密码")

    assert verify_password(made, "正确的密码")
    assert not verify_password(made, "错误的密码") and not verify_password(None, "正确的密码")


def test_an_explicit_cost_wins_over_testing(app):
    chosen = create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "LINLI_REDIS_URL": app.config["LINLI_REDIS_URL"],
        "LINLI_PASSWORD_COST": "RFC_9106_LOW_MEMORY",
    })

    assert chosen.config["LINLI_PASSWORD_COST"] == "RFC_9106_LOW_MEMORY"
