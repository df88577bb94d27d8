"""Secrets about people: argon2 password hashes, keyed phone hashes and phone ciphertext."""
from __future__ import annotations

import base64
import hashlib
import hmac
from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet
from flask import current_app

from backend.domain.phones import mask_phone


@cache
def password_hasher(cost: str) -> PasswordHasher:
    """The hasher of an argon2-cffi profile named by the app's LINLI_PASSWORD_COST (backend.config)."""
    return PasswordHasher.from_parameters(getattr(profiles, cost))


@cache
def _dummy_hash(cost: str) -> str:
    # Verifying against this when the user does not exist keeps the timing of a wrong username and a wrong
    # password the same.
    return password_hasher(cost).hash("linli-timing-equaliser")


def hash_password(password: str) -> str:
    return password_hasher(current_app.config["LINLI_PASSWORD_COST"]).hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """A hash is checked at the cost it was made with; only a missing user's dummy hash takes the app's."""
    cost = current_app.config["LINLI_PASSWORD_COST"]
    try:
        return password_hasher(cost).verify(password_hash or _dummy_hash(cost), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def _key(purpose: str) -> bytes:
    secret = current_app.config["SECRET_KEY"].encode()
    return hashlib.sha256(secret + b"\x00" + purpose.encode()).digest()


def phone_hash(phone: str) -> str:
    return hmac.new(_key("phone-hash"), phone.encode(), hashlib.sha256).hexdigest()


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_key("phone-cipher")))


def encrypt_phone(phone: str) -> str:
    return _fernet().encrypt(phone.encode()).decode()


def decrypt_phone(cipher: str) -> str:
    return _fernet().decrypt(cipher.encode()).decode()


def phone_columns(phone: str) -> dict[str, str]:
    """The three stored forms of a normalised phone number."""
    return {"phone_hash": phone_hash(phone), "phone_cipher": encrypt_phone(phone), "phone_masked": mask_phone(phone)}
