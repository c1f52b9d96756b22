"""Encryption and keyed digests for protected personal fields (resident IDs).

The ciphertext is what the database holds; the keyed digest lets the platform find duplicates
without decrypting; the masked form is the only one ever shown.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet
from django.conf import settings


@cache
def _key_material(field_key: str, secret_key: str) -> bytes:
    if field_key:
        return base64.urlsafe_b64decode(field_key)
    return hashlib.sha256(b"citydata-field-key:" + secret_key.encode()).digest()


def _key() -> bytes:
    return _key_material(settings.FIELD_ENCRYPTION_KEY, settings.SECRET_KEY)


def encrypt(value: str) -> str:
    return Fernet(base64.urlsafe_b64encode(_key())).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return Fernet(base64.urlsafe_b64encode(_key())).decrypt(token.encode()).decode()


def digest(value: str) -> str:
    return hmac.new(_key(), value.encode(), hashlib.sha256).hexdigest()
