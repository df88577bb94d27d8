"""Mainland mobile numbers: normalise and mask (个人信息保护法: never shown whole)."""
from __future__ import annotations

import re
import unicodedata

# ASCII only: Python's \d also matches other scripts' digits, which no SMS gateway or register uses.
MOBILE_RE = re.compile(r"^1[3-9][0-9]{9}$")


class InvalidPhone(ValueError):
    pass


def normalize_phone(raw: str) -> str:
    # NFKC turns full-width input from a Chinese IME (＋８６ １３８…) into ASCII.
    digits = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", raw or ""))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not MOBILE_RE.match(digits):
        raise InvalidPhone("请输入正确的11位手机号")
    return digits


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}"


# A number residents call: a mobile, a landline with its area code (0812-3334567) or a 400/800 service line.
# Area codes: 010 and 020–029 have three digits, all others four (0812 攀枝花).
LANDLINE_RE = re.compile(r"^(0(?:10|2[0-9]|[3-9][0-9]{2}))([2-9][0-9]{6,7})$")
SERVICE_LINE_RE = re.compile(r"^([48]00)([0-9]{7})$")


def normalize_contact_phone(raw: str) -> str:
    """A call button's number as shown: "13812345678", "0812-3334567", "400-1234567"; "" clears it."""
    digits = re.sub(r"[\s()（）-]", "", unicodedata.normalize("NFKC", raw or ""))
    if not digits:
        return ""
    if digits.startswith("+86"):
        digits = digits[3:]
    if MOBILE_RE.match(digits):
        return digits
    match = LANDLINE_RE.match(digits) or SERVICE_LINE_RE.match(digits)
    if match is None:
        raise InvalidPhone("请输入正确的电话号码：手机号、带区号的座机（如0812-3334567）或400电话")
    return f"{match.group(1)}-{match.group(2)}"


def tel_uri(phone: str) -> str:
    """The tel: link of a shown number (digits only, so every phone dials it)."""
    return "tel:" + re.sub(r"[^0-9]", "", phone)
