"""Schemathesis over /api/v1/openapi.json, in-process, signed in as an admin over seeded data: no 5xx, and
every response matches the documented status codes, content types and schemas."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backend.domain.bindings import BindingStatus, Relation
from backend.domain.roles import Role
from backend.extensions import db, limiter
from backend.models import BindingRequest
from tests.support import first_household

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


@pytest.fixture
def seeded(area_tree, make_compound, make_user) -> dict[str, int]:
    """A compound with buildings and households, a pending binding, and the ids worth aiming at."""
    community = area_tree[3]
    compound = make_compound(area=community, buildings=2, households_per_building=3)
    applicant = make_user()
    binding = BindingRequest(
        user_id=applicant.id, compound_id=compound.id, household_id=first_household(compound).id,
        claimed_name="王秀英", relation=Relation.OWNER, status=BindingStatus.PENDING,
    )
    db.session.add(binding)
    db.session.commit()
    return {"compound_id": compound.id, "binding_id": binding.id, "area_id": community.id}


@pytest.fixture
def admin_headers(make_user, sign_in) -> dict[str, str]:
    return sign_in(make_user(role=Role.ADMIN))


@pytest.fixture
def api_schema(app, seeded):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)

    @schema.hook
    def flatmap_path_parameters(context, path_parameters):
        # Random ids almost never exist; aim half of the cases at the seeded rows so the real work runs too.
        known = {name: seeded[name] for name in path_parameters or {} if name in seeded}
        if not known:
            return st.just(path_parameters)
        return st.sampled_from([path_parameters, {**path_parameters, **known}])

    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    # schemathesis runs every operation as a subtest of one test, so the fixtures are made once for all.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_openapi_document(case, admin_headers, sign_in, make_user):
    # The login endpoints allow 10 calls a minute; without a reset the first operations would use up the
    # budget and every later case would only see 429.
    limiter.reset()
    headers = admin_headers
    if case.path == "/api/v1/auth/logout":
        # Logging out revokes the token it is called with: give it one of its own.
        headers = sign_in(make_user(role=Role.ADMIN))
    case.call_and_validate(headers=headers, checks=CHECKS)
