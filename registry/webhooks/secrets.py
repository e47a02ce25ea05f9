"""Endpoint signing secrets: `whsec_` + 32 random bytes, stored encrypted (they must be read
back to sign, so they cannot be hashed), under a key derived from `DATA_KEY`."""

from __future__ import annotations

import base64
import secrets

from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

from registry.core.ciphers import RotatingFernet

PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh Standard Webhooks secret: `whsec_` and the base64 of 32 random bytes."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


class SecretCipher(RotatingFernet):
    """Fernet under an HKDF key of `DATA_KEY` with its own label (never the phones' key)."""

    def __init__(self, data_key: str):
        super().__init__(data_key, b"webhook-signing-secret", "webhook secret")


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

    def key_rotation(self) -> SecretCipher:
        """The cipher `keys rotate` re-encrypts this column's values with (`core.keys`)."""
        return _cipher()

    def process_bind_param(self, value, dialect):
        return None if value is None else _cipher().encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else _cipher().decrypt(value)
