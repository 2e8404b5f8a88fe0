"""Writing a file so that it is either all there or not changed at all.

This module is infrastructure: it is given, not an exercise.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def atomic_file(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a file for binary writing that replaces ``path`` only once fully written.

    The bytes go to a temporary file in the same folder; when the ``with`` block ends without
    an error, the file is flushed to disk and renamed over ``path`` (``os.replace``: atomic on
    one file system), keeping the permissions ``path`` had (``0o644`` for a new file). On any
    error, or an interruption, the temporary file is removed and ``path`` is left as it was::

        with atomic_file("weights.npz") as file:
            np.savez(file, W=W)

    The folder must exist.
    """
    target = Path(path)
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
