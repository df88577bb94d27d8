"""Review probes of issue 16's ledger round-trip, governance, first secretaries and problem flags: each test is a
bug found in review, failing before its fix."""
from __future__ import annotations

import pytest

from backend.domain.roles import Role


@pytest.mark.parametrize("month", ["9999-12-01", "9999-12-31"])
def test_first_secretary_logs_of_the_last_month_of_year_9999_is_not_a_500(client, area_tree, make_user, sign_in,
                                                                          month):
    _, _, street, _ = area_tree
    response = client.get(f"/api/v1/areas/{street.id}/first-secretary-logs?month={month}",
                          headers=sign_in(make_user(Role.OFFICIAL, area=street)))

    assert response.status_code in (200, 422), response.get_data(as_text=True)[:300]
