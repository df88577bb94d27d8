"""Secrets about people: argon2 password hashes, keyed phone hashes and phone ciphertext."""
from __future__ import annotations

import base64
import hashlib
import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet
from flask import current_app

from backend.domain.phones import mask_phone

_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps the timing of a wrong username and a wrong
# password the same.
_DUMMY_HASH = _hasher.hash("linli-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
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
