"""Encryption of stored secrets (channel credentials) with a key that never lives in the database."""

from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class SecretError(Exception):
    pass


def _fernet() -> Fernet:
    return Fernet(settings.RESONANZ_ENCRYPTION_KEY.encode())


def encrypt_json(value: dict) -> str:
    if not value:
        return ""
    return _fernet().encrypt(json.dumps(value).encode()).decode()


def decrypt_json(token: str) -> dict:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise SecretError(
            "Stored credentials cannot be decrypted: RESONANZ_ENCRYPTION_KEY differs from the key they "
            "were saved with. Restore the old key or enter the credentials again."
        ) from exc


def mask(value: str) -> str:
    """What an administrator sees of a stored secret: enough to recognise it, never enough to use it."""
    if not value:
        return ""
    if len(value) <= 6:
        return "•" * len(value)
    return value[:2] + "•" * 6 + value[-2:]
