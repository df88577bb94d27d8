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
