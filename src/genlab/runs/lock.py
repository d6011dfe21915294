"""The writer's lock of a results store: one driver writes a store at a time.

The lock is ``flock`` on ``REALPATH.lock`` (symbolic links resolved, so two
drivers naming one file through different paths meet at one lock), a file
holding the holder's pid, which the holder removes on close while still
holding it. Removing a lock file is safe only for its holder, and only if a
process that opened the file before the removal and locks it after notices: so
after locking, the inode locked must still be the one at the path, or the lock
is dropped and taken again on the current file. The lock goes with its
process, even on ``kill -9`` (which leaves the file, unlocked, for the next
driver to take and remove).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from ..core.errors import GenlabError


def acquire(real: Path, shown: Path) -> tuple[int, Path] | None:
    """Take the writer's lock of the store at ``real``; give its file descriptor and path.

    Parameters
    ----------
    real : Path
        The store's real path (symbolic links resolved).
    shown : Path
        The path the caller gave, for the message.

    Returns
    -------
    (int, Path) or None
        The descriptor holding the lock and the lock file; None where there
        is no advisory lock (Windows: one driver per store by convention).

    Raises
    ------
    GenlabError
        If another process holds the lock (the message gives its pid).
    """
    try:
        import fcntl
    except ImportError:
        return None
    lock_path = real.with_name(real.name + ".lock")
    while True:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise GenlabError(f"store {shown} is being written by another genlab process (pid {holder}); "
                              "wait for it to finish or give another --store") from None
        try:
            current = os.stat(lock_path)
        except FileNotFoundError:
            current = None
        if current is not None and os.path.samestat(os.fstat(fd), current):
            break
        os.close(fd)  # its holder removed it after we opened it: lock the file there now
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd, lock_path


def release(fd: int, lock_path: Path) -> None:
    """Remove the lock file while still holding it (see the module docstring), then let the lock go."""
    with contextlib.suppress(OSError):
        lock_path.unlink()
    os.close(fd)  # releases the flock
