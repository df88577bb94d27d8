"""Text written to a spreadsheet: a formula trigger at the start is defused with a leading quote; anything else
is written as it is."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain.text import FORMULA_TRIGGERS, spreadsheet_text


@pytest.mark.parametrize(("value", "written"), [
    ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
    ("+86 138", "'+86 138"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("阳光花园小区", "阳光花园小区"), ("a=1", "a=1"), ("", ""), ("'=1", "'=1"), (" =1", " =1"),
])
def test_spreadsheet_text_defuses_only_a_leading_trigger(value, written):
    assert spreadsheet_text(value) == written


@given(st.text())
def test_spreadsheet_text_never_starts_with_a_trigger_and_keeps_the_text(value):
    written = spreadsheet_text(value)

    assert not written.startswith(FORMULA_TRIGGERS)
    assert written in (value, "'" + value)
