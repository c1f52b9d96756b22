"""Raw uploads kept after ingest (CITYDATA_KEEP_RAW_UPLOADS) are sealed: encrypted at rest with AES-256-GCM
under a key derived from the field-encryption key, and readable only by operators, each read audited.
The published version is the de-identified data; the raw file may hold the personal data it masked.

Format: b"CDRAW1" + 12-byte nonce + ciphertext + 16-byte GCM tag. Encryption and decryption stream in
1 MiB chunks, so a large upload never sits in memory; a tampered file fails the tag check."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from citydata.accounts import protect
from citydata.datastore.storage import get_storage

MAGIC = b"CDRAW1"
CHUNK = 1 << 20
TAG = 16


class SealBroken(Exception):
    """The sealed file was altered or the key changed: its contents cannot be trusted."""


def _key() -> bytes:
    return hashlib.sha256(b"citydata-raw-upload:" + protect._key()).digest()


def seal(key: str) -> str:
    """Encrypt the stored file `key` into `key + ".sealed"`, delete the plain file, return the new key."""
    storage = get_storage()
    plain = storage.local_path(key)
    nonce = os.urandom(12)
    encryptor = Cipher(algorithms.AES(_key()), modes.GCM(nonce)).encryptor()
    with tempfile.NamedTemporaryFile(delete=False, suffix=".sealed") as out, open(plain, "rb") as source:
        out.write(MAGIC + nonce)
        while chunk := source.read(CHUNK):
            out.write(encryptor.update(chunk))
        out.write(encryptor.finalize() + encryptor.tag)
        sealed = Path(out.name)
    try:
        storage.put(sealed, key + ".sealed")
    finally:
        sealed.unlink(missing_ok=True)
    storage.delete(key)
    return key + ".sealed"


def unseal(key: str) -> Iterator[bytes]:
    """The plain bytes of a sealed file, chunk by chunk. The GCM tag is checked at the end: a consumer that
    must not act on unauthenticated data collects everything first (the download streams and the tag check
    ends the stream with SealBroken, so a tampered file never arrives whole)."""
    path = get_storage().local_path(key)
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(len(MAGIC) + 12)
        if size < len(head) + TAG or not head.startswith(MAGIC):
            raise SealBroken(key)
        handle.seek(size - TAG)
        tag = handle.read(TAG)
        handle.seek(len(head))
        decryptor = Cipher(algorithms.AES(_key()), modes.GCM(head[len(MAGIC) :], tag)).decryptor()
        left = size - len(head) - TAG
        while left > 0:
            chunk = handle.read(min(CHUNK, left))
            left -= len(chunk)
            yield decryptor.update(chunk)
        try:
            yield decryptor.finalize()
        except Exception as exc:  # cryptography's InvalidTag
            raise SealBroken(key) from exc
