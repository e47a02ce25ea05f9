"""Encryption at rest under `DATA_KEY`: the keys it lists, and a Fernet cipher per use.

`DATA_KEY` may list several keys, newest first, while it is rotated (docs/several-hosts.md).
Each use (phone numbers, webhook signing secrets, their look-up hashes) derives its own key
from each listed key with HKDF and a label of its own, so no key serves two purposes.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def data_keys(data_key: str) -> list[str]:
    """The keys `DATA_KEY` lists, newest first: one key, or several comma-separated during a
    rotation (docs/several-hosts.md)."""
    keys = [key.strip() for key in data_key.split(",") if key.strip()]
    if not keys:
        raise ValueError("DATA_KEY lists no key")
    return keys


def derived_key(secret: bytes, label: bytes) -> bytes:
    """A 32-byte key of `secret` for one use, named by `label` (HKDF-SHA256): keys of one
    `DATA_KEY` under different labels are unrelated."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(secret)


class RotatingFernet:
    """Fernet under `label`'s key of every key `DATA_KEY` lists: encrypts with the newest,
    decrypts with whichever opens the token (`MultiFernet`); `keys rotate` re-encrypts the
    values `is_current` says are not under the newest."""

    def __init__(self, data_key: str, label: bytes, what: str):
        self._fernets = [Fernet(base64.urlsafe_b64encode(derived_key(key.encode(), label)))
                         for key in data_keys(data_key)]
        self._fernet = MultiFernet(self._fernets)
        self._what = what

    def encrypt(self, clear: str) -> str:
        return self._fernet.encrypt(clear.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ValueError(f"a stored {self._what} cannot be decrypted with DATA_KEY") from None

    def is_current(self, token: str) -> bool:
        """Whether `token` is encrypted with the newest key (nothing for `keys rotate` to do)."""
        try:
            self._fernets[0].decrypt(token.encode())
        except InvalidToken:
            return False
        return True
