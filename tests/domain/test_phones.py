"""Mobile numbers: every way people type one normalises to the same 11 digits; masks hide the middle."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain.phones import InvalidPhone, mask_phone, normalize_phone

mobiles = st.builds(
    lambda second, rest: f"1{second}{rest}",
    st.sampled_from("3456789"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
)
prefixes = st.sampled_from(["", "+86", "0086", "+86 ", "0086-", "+86-", " "])
separators = st.sampled_from(["", " ", "-", "  ", "\t"])


@st.composite
def typed_mobiles(draw) -> tuple[str, str]:
    """A mobile number and the way someone typed it: a country prefix, spaces and hyphens anywhere."""
    phone = draw(mobiles)
    typed = "".join(digit + draw(separators) for digit in phone)
    return phone, draw(prefixes) + draw(separators) + typed


@given(typed_mobiles())
def test_typed_mobile_normalises_to_its_eleven_digits(case):
    phone, typed = case
    assert normalize_phone(typed) == phone


@given(mobiles)
def test_normalising_is_idempotent(phone):
    assert normalize_phone(normalize_phone(phone)) == phone


@given(st.text(max_size=24))
def test_anything_accepted_is_eleven_ascii_digits(raw):
    try:
        phone = normalize_phone(raw)
    except InvalidPhone:
        return
    assert re.fullmatch(r"1[3-9][0-9]{9}", phone)


def test_fullwidth_digits_from_a_chinese_keyboard_normalise_to_ascii():
    assert normalize_phone("＋８６ １３８ ００１３ ８０００") == "13800138000"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "1380013800",  # 10 digits
        "138001380000",  # 12 digits
        "12800138000",  # no mobile network starts 12
        "23800138000",
        "8613800138000",  # country code without + or 00
        "+8513800138000",
        "1380013800a",
        "138.0013.8000",
        "١٣٨٠٠١٣٨٠٠٠",  # Arabic-Indic digits are digits to Python's \d, not a phone number here
    ],
)
def test_not_a_mainland_mobile_is_refused_with_a_chinese_message(raw):
    with pytest.raises(InvalidPhone, match="手机号"):
        normalize_phone(raw)


@given(mobiles)
def test_mask_keeps_first_three_and_last_four_and_hides_the_rest(phone):
    masked = mask_phone(phone)
    assert masked == phone[:3] + "****" + phone[-4:]
    assert phone not in masked


@given(mobiles, st.text(alphabet="0123456789", min_size=4, max_size=4))
def test_numbers_differing_only_in_the_middle_mask_alike(phone, middle):
    other = phone[:3] + middle + phone[-4:]
    assert mask_phone(other) == mask_phone(phone)
