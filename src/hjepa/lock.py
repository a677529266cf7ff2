"""One writer at a time: an exclusive lock on a run folder or a trajectory store.

The lock is an OS file lock on `.<name>.lock` beside the folder (beside, not inside, so that
deleting and re-creating the folder, as `--overwrite` does, keeps it locked). The OS releases it
when the holder exits, however it exits (kill -9 too), so a lock is never left stale; the empty
lock file itself may stay. A second process asking for it gets a LockedError at once, naming the
folder, instead of waiting or writing beside the first.
"""

import os
import sys
from contextlib import contextmanager
from pathlib import Path

from hjepa.errors import LockedError

if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True


_held: set[Path] = set()  # locks this process holds (taking one again is a no-op)


def lock_file(folder: str | os.PathLike) -> Path:
    folder = Path(folder).resolve()
    return folder.with_name(f".{folder.name}.lock")


@contextmanager
def exclusive(folder: str | os.PathLike, what: str):
    """Hold the lock on `folder` (a `what`, e.g. "run folder") for the `with` block."""
    path = lock_file(folder)
    if path in _held:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _try_lock(fd):
            raise LockedError(
                f"another hjepa process is writing the {what} {folder} (it holds {path}); wait "
                f"for it to finish, or use another name"
            )
        _held.add(path)
        try:
            yield
        finally:
            _held.discard(path)
    finally:
        os.close(fd)  # closing releases the lock
