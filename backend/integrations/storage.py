"""Where uploaded photos live: a storage protocol and its local-disk implementation.

Keys are relative POSIX paths such as ``wo/2026/11/<uuid4hex>.jpg``. Production can plug an
object-storage implementation (Alibaba Cloud OSS, Tencent COS or any S3-compatible service) behind the
same protocol by setting ``app.extensions["linli_photo_storage"]``; its ``read`` must raise
FileNotFoundError for a key it does not hold, as the local disk does."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol


class PhotoStorage(Protocol):
    def save(self, key: str, data: bytes, content_type: str) -> None: ...

    def read(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


def is_plain_key(key: str) -> bool:
    """A relative POSIX path that stays below whatever root it is joined to (no `..`, no absolute path)."""
    return bool(key) and "\x00" not in key and "\\" not in key and not key.startswith("/") \
        and ".." not in key.split("/")


class LocalDiskStorage:
    """Files under one root directory, which is created on the first save."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        """Refuse (ValueError) any key that could name a file outside the root."""
        if not is_plain_key(key):
            raise ValueError(f"storage key {key!r} is not a plain relative path")
        root = self.root.resolve()
        path = (root / key).resolve()
        # A symlink inside the root could still lead out of it.
        if path == root or not path.is_relative_to(root):
            raise ValueError(f"storage key {key!r} leaves the storage root")
        return path

    def save(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Readers never see half a file: write beside it, then rename over it in one step.
        fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".upload-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as temp:
                temp.write(data)
                temp.flush()
                os.fsync(temp.fileno())
            os.replace(temp_name, path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise

    def read(self, key: str) -> bytes:
        path = self._path(key)
        if not path.is_file():
            # A key naming a directory is as absent as one naming nothing.
            raise FileNotFoundError(key)
        return path.read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)
