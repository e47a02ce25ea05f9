"""Endpoint signing secrets: `whsec_` + 32 random bytes, stored encrypted (they must be read
back to sign, so they cannot be hashed), under a key derived from `DATA_KEY`."""

from __future__ import annotations

import base64
import secrets

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh Standard Webhooks secret: `whsec_` and the base64 of 32 random bytes."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


class SecretCipher:
    """Fernet under an HKDF key of `DATA_KEY` with its own label (never the phones' key)."""

    def __init__(self, data_key: str):
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"webhook-signing-secret").derive(data_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def encrypt(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ValueError("a stored webhook secret cannot be decrypted with DATA_KEY") from None


def _cipher() -> SecretCipher:
    from flask import current_app

    cipher = current_app.extensions.get("webhook_cipher")
    if cipher is None:
        cipher = current_app.extensions["webhook_cipher"] = SecretCipher(current_app.config["DATA_KEY"])
    return cipher


class EncryptedSecret(TypeDecorator):
    """A column holding a signing secret: Python reads and writes it in clear, the database
    sees only the Fernet token."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else _cipher().encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else _cipher().decrypt(value)
