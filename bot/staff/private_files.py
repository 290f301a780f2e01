"""Files staff commands write that hold personal data or provisional passwords (the accounts
export, the letters PDF): readable by their owner only (0600), whatever the umask, and an
existing file of that name is tightened before it is written."""

from __future__ import annotations

import os
from pathlib import Path

from storage.files import PRIVATE_FILE_MODE


def open_private(path: Path) -> int:
    """A descriptor writing ``path`` from empty, mode 0600 (raises ``PermissionError`` if an
    existing file cannot be made so: another owner's)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    try:
        os.fchmod(descriptor, PRIVATE_FILE_MODE)  # os.open's mode only applies to a new file
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def write_private_bytes(path: Path, data: bytes) -> None:
    """``data`` into ``path``, mode 0600."""
    with os.fdopen(open_private(path), "wb") as handle:
        handle.write(data)
