"""Where data files live, behind one small interface. A local folder today (CITYDATA_STORAGE_URL, by default
var/datastore); an object-storage backend implements the same four methods.

Writes are atomic: a file becomes visible under its key only once complete (temp file, fsync, rename), so
a crash never leaves a half-written file under a real key. Readers that need a file on disk (DuckDB) ask
for `local_path`; a remote backend would download into a local cache there.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from django.conf import settings


class Storage(Protocol):
    def put(self, local: Path, key: str) -> int:
        """Store a finished local file under `key`; returns its size. Atomic."""

    def local_path(self, key: str) -> Path:
        """A path on this machine holding the file (a cached copy for remote storage)."""

    def delete(self, key: str) -> None: ...

    def list_keys(self, prefix: str = "") -> Iterator[tuple[str, float]]:
        """(key, modification time as a Unix timestamp) of every stored file under `prefix`."""


def _safe(key: str) -> str:
    parts = [p for p in key.split("/") if p]
    if not parts or any(p in (".", "..") for p in parts) or key.startswith("/"):
        raise ValueError(f"invalid storage key {key!r}")
    return "/".join(parts)


class LocalStorage:
    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / _safe(key)

    def put(self, local: Path, key: str) -> int:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        os.close(fd)
        try:
            shutil.copyfile(local, temp)
            with open(temp, "rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return target.stat().st_size

    def local_path(self, key: str) -> Path:
        path = self._path(key)
        if not path.exists():
            raise FileNotFoundError(key)
        return path

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def list_keys(self, prefix: str = "") -> Iterator[tuple[str, float]]:
        base = self.root / prefix if prefix else self.root
        if not base.exists():
            return
        for path in base.rglob("*"):
            if path.is_file():
                yield path.relative_to(self.root).as_posix(), path.stat().st_mtime


_storage: Storage | None = None


def get_storage() -> Storage:
    """The configured storage, built once per process."""
    global _storage
    if _storage is None:
        url = settings.STORAGE_URL
        if "://" in url:
            raise ValueError(f"CITYDATA_STORAGE_URL: only a local folder is supported so far, got {url!r}")
        _storage = LocalStorage(Path(url or Path(settings.VAR_DIR) / "datastore"))
    return _storage


def reset_storage() -> None:
    """Forget the built storage (tests change the settings)."""
    global _storage
    _storage = None
