"""Private files: the database (and its ``-wal``/``-shm``) and the server key are readable by
their owner only (files 0600, their folder 0700), whatever the umask.

A file others can read (made before this rule, with umask 022) is tightened to 0600 and a
warning logged: the bot owns its files, so this cannot break it, and refusing would stop every
existing installation at the upgrade. A file whose mode cannot be changed (another owner) is
refused with :class:`UnsafePermissions`.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

PRIVATE_FILE_MODE = 0o600
PRIVATE_FOLDER_MODE = 0o700

logger = logging.getLogger(__name__)


class UnsafePermissions(PermissionError):
    """A private file that others can read, and whose mode cannot be changed."""

    def __init__(self, path: Path, mode: int) -> None:
        super().__init__(f"{path} is readable by others (mode {mode:04o}) and cannot be changed")
        self.path = path
        self.mode = mode


def make_private_folder(folder: Path) -> None:
    """Create ``folder`` (and missing parents) if needed, mode 0700; an existing one is made so
    by :func:`ensure_private_folder`."""
    if folder.is_dir():
        ensure_private_folder(folder)
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        folder.mkdir(mode=PRIVATE_FOLDER_MODE)
    except FileExistsError:
        ensure_private_folder(folder)
        return
    os.chmod(folder, PRIVATE_FOLDER_MODE)  # mkdir's mode is masked by the umask


def ensure_private_folder(folder: Path) -> int | None:
    """Make the existing folder of the database or key unlistable by group and others (0700,
    a warning logged); its old mode if it changed. Left as it is: a shared folder with the
    sticky bit (``/tmp``), and the code's own folder (it holds ``run_bot.py``: others may have
    to read the code). A folder whose mode cannot change (another owner's) only gets a warning:
    the files in it are 0600 whatever it is."""
    try:
        mode = stat.S_IMODE(folder.stat().st_mode)
    except FileNotFoundError:
        return None
    if not mode & 0o077 or mode & stat.S_ISVTX or (folder / "run_bot.py").exists():
        return None
    try:
        os.chmod(folder, mode & 0o700)
    except OSError:
        logger.warning("%s can be listed by others (mode %04o) and cannot be changed", folder, mode)
        return None
    logger.warning("%s could be listed by others (mode %04o): now %04o", folder, mode, mode & 0o700)
    return mode


def create_private_file(path: Path) -> bool:
    """Create an empty ``path`` with mode 0600 if it does not exist; whether it was created."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return False
    os.close(descriptor)
    return True


def ensure_private(path: Path) -> int | None:
    """Make an existing ``path`` unreadable by group and others; its old mode if it changed.

    Raises :class:`UnsafePermissions` if the mode must change and cannot.
    """
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None
    if not mode & 0o077:
        return None
    try:
        os.chmod(path, mode & 0o700)
    except OSError as error:
        raise UnsafePermissions(path, mode) from error
    logger.warning("%s was readable by others (mode %04o): now %04o", path, mode, mode & 0o700)
    return mode
