"""Where data files live, behind one small interface: a local folder (CITYDATA_STORAGE_URL, by default
var/datastore) or S3-compatible object storage (`s3://bucket/prefix?endpoint=…`).

Writes are atomic: a file becomes visible under its key only once complete (a local temp file, fsync and
rename; an S3 object is visible only once its upload completes), so a crash never leaves a half-written
file under a real key. Readers that need a file on disk (DuckDB) ask for `local_path`; object storage
downloads the file once into a local cache (version files never change, so a cached copy is never stale)
and the hourly cleanup trims that cache to CITYDATA_STORAGE_CACHE_MB, least recently used first.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from django.conf import settings


class Storage(Protocol):
    def put(self, local: Path, key: str) -> int:
        """Store a finished local file under `key`; returns its size. Atomic."""

    def local_path(self, key: str) -> Path:
        """A path on this machine holding the file (a cached copy for remote storage)."""

    def delete(self, key: str) -> None: ...

    def list_keys(self, prefix: str = "") -> Iterator[tuple[str, float]]:
        """(key, modification time as a Unix timestamp) of every stored file under `prefix`."""

    def trim_cache(self) -> int:
        """Remove local copies beyond the cache size; returns how many were removed."""


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

    def trim_cache(self) -> int:
        return 0  # the folder is the storage itself, not a cache


def _atomic_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    os.close(fd)
    try:
        shutil.copyfile(source, temp)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class S3Storage:
    """S3-compatible object storage, with a local cache of the files queries read."""

    def __init__(self, url: str, cache: Path, cache_bytes: int):
        try:
            import boto3
            from botocore.config import Config
        except ImportError:  # pragma: no cover - depends on the installation
            raise ValueError(
                "CITYDATA_STORAGE_URL is s3://…: install the S3 support with pip install 'citydata[s3]'"
            ) from None
        parts = urlsplit(url)
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if not parts.netloc:
            raise ValueError(f"CITYDATA_STORAGE_URL: no bucket in {url!r}")
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self.cache = Path(cache)
        self.cache_bytes = cache_bytes
        endpoint = options.get("endpoint") or None
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=options.get("region") or None,
            config=Config(
                # Self-hosted S3 (MinIO, Ceph) wants bucket/key paths; cloud endpoints take either.
                s3={"addressing_style": options.get("addressing") or ("path" if endpoint else "auto")},
                retries={"max_attempts": 5, "mode": "standard"},
            ),
        )

    def _name(self, key: str) -> str:
        return f"{self.prefix}/{_safe(key)}" if self.prefix else _safe(key)

    def _cached(self, key: str) -> Path:
        return self.cache / _safe(key)

    def put(self, local: Path, key: str) -> int:
        self.client.upload_file(str(local), self.bucket, self._name(key))
        _atomic_copy(local, self._cached(key))  # the process that wrote it is often the next to read it
        return Path(local).stat().st_size

    def local_path(self, key: str) -> Path:
        path = self._cached(key)
        if path.exists():
            os.utime(path)  # recently used: trimmed last
            return path
        from botocore.exceptions import ClientError

        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        os.close(fd)
        try:
            self.client.download_file(self.bucket, self._name(key), temp)
            os.replace(temp, path)
        except ClientError as exc:
            Path(temp).unlink(missing_ok=True)
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(key) from None
            raise
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return path

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))
        self._cached(key).unlink(missing_ok=True)

    def list_keys(self, prefix: str = "") -> Iterator[tuple[str, float]]:
        start = self._name(prefix) if prefix else (f"{self.prefix}/" if self.prefix else "")
        skip = len(self.prefix) + 1 if self.prefix else 0
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start):
            for item in page.get("Contents", []):
                yield item["Key"][skip:], item["LastModified"].timestamp()

    def trim_cache(self) -> int:
        if not self.cache.exists():
            return 0
        removed = 0
        files = []
        for path in self.cache.rglob("*"):
            if not path.is_file():
                continue
            if path.name.startswith(".incoming-"):
                if path.stat().st_mtime < time.time() - 3600:  # a download that died
                    path.unlink(missing_ok=True)
                    removed += 1
                continue
            files.append((path.stat().st_mtime, path.stat().st_size, path))
        total = sum(size for _m, size, _p in files)
        for _mtime, size, path in sorted(files):  # least recently used first
            if total <= self.cache_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size
            removed += 1
        return removed


_storage: Storage | None = None


def get_storage() -> Storage:
    """The configured storage, built once per process."""
    global _storage
    if _storage is None:
        url = settings.STORAGE_URL
        if url.startswith("s3://"):
            cache = Path(settings.VAR_DIR) / "storage-cache"
            _storage = S3Storage(url, cache, settings.STORAGE_CACHE_BYTES)
        elif "://" in url:
            raise ValueError(f"CITYDATA_STORAGE_URL: a folder or s3://bucket/prefix, got {url!r}")
        else:
            _storage = LocalStorage(Path(url or Path(settings.VAR_DIR) / "datastore"))
    return _storage


def reset_storage() -> None:
    """Forget the built storage (tests change the settings)."""
    global _storage
    _storage = None
