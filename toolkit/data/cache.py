"""The MNIST cache: one ``mnist.npz`` under the user's cache directory, written atomically.

This module is infrastructure: it is given, not an exercise.

Where: ``$NUMPY_KATA_CACHE/mnist/mnist.npz``, else
``<$XDG_CACHE_HOME or ~/.cache>/numpy-nn-kata/mnist/mnist.npz``.

What can go wrong, and what happens:

- the file is damaged, of the wrong kind, or not the cache at all (a ``.npy`` saved under its
  name, a zip that is not this archive, a header announcing an absurd shape, truncated, empty):
  ``read_cache`` raises one ValueError that says what is wrong, before allocating anything
  the file could not hold; the source chain then reports it in one line and replaces the file;
- a write killed half-way (``kill -9``, a crash, a power cut) leaves its temporary file
  ``.mnist.npz.<random>.tmp``: ``remove_leftovers`` removes it on the next run, unless a write
  is under way (it holds the lock file ``mnist.npz.lock``).
"""

from __future__ import annotations

import math
import os
import sys
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Literal

import numpy as np

from toolkit.data.idx import ARRAY_NAMES, MNIST
from toolkit.files import atomic_file

if sys.platform != "win32":  # Windows has no advisory locks; an open file cannot be removed there
    import fcntl

CACHE_FILE = "mnist.npz"
ORIGIN = "origin"
"""The member of the archive naming where the arrays were fetched from (a 0-d str array)."""

NPY_MAGIC = b"\x93NUMPY"


def default_cache_dir() -> Path:
    """``$NUMPY_KATA_CACHE/mnist``, else ``<$XDG_CACHE_HOME or ~/.cache>/numpy-nn-kata/mnist``."""
    root = os.environ.get("NUMPY_KATA_CACHE")
    if not root:
        user_cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        root = str(Path(user_cache) / "numpy-nn-kata")
    return Path(root).expanduser() / "mnist"


def cache_file(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The cache ``mnist.npz`` in ``cache_dir`` (default ``default_cache_dir()``)."""
    return Path(cache_dir or default_cache_dir()).expanduser() / CACHE_FILE


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def read_cache(path: Path) -> MNIST:
    """The arrays cached in ``path``.

    Raises:
        OSError: the file cannot be opened or read (missing, no permission, a directory).
        ValueError: the file is not a cache this module wrote, or is damaged; the message
            starts with ``path`` and says what is wrong, in one line.
    """
    with path.open("rb") as file:
        try:
            arrays, origin = read_archive(file)
            return MNIST(**arrays, source=f"cache {path} (fetched from {origin})")
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from error


def read_archive(file: IO[bytes]) -> tuple[dict[str, np.ndarray], str]:
    """The four arrays of ``ARRAY_NAMES`` and the origin string from an open ``.npz`` file.

    Any defect of the file (of the wrong kind, damaged, members missing or of the wrong
    dtype, an announced size the file cannot hold) raises ValueError saying which.
    """
    head = file.read(len(NPY_MAGIC))
    if not head:
        raise ValueError("empty (0 bytes)")
    if head == NPY_MAGIC:
        raise ValueError("a single .npy array, not the .npz archive of the cache")
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist())
            missing = [f"{n}.npy" for n in (*ARRAY_NAMES, ORIGIN) if f"{n}.npy" not in names]
            if missing:
                raise ValueError(f"a zip archive without {', '.join(missing)}: not the cache")
            arrays = {name: read_member(archive, name) for name in ARRAY_NAMES}
            origin = str(read_member(archive, ORIGIN, string=True)[()])
    except zipfile.BadZipFile as error:
        raise ValueError(f"not a readable zip archive: {error}") from error
    except (EOFError, zlib.error, NotImplementedError) as error:
        raise ValueError(f"damaged: {error}") from error
    return arrays, origin


def read_member(archive: zipfile.ZipFile, name: str, *, string: bool = False) -> np.ndarray:
    """The array ``name.npy`` of ``archive``: uint8, or a str when ``string``.

    The ``.npy`` header (magic, dtype, shape) is read and checked first: an array the member
    could not hold (its size exceeds the member's bytes left) is refused before anything is
    allocated for it. Raises ValueError naming the member.
    """
    info = archive.getinfo(f"{name}.npy")
    with archive.open(info) as stream:
        shape, fortran_order, dtype = read_npy_header(stream, name=info.filename)
        if (dtype.kind != "U") if string else (dtype != np.uint8):
            expected = "a string" if string else "uint8"
            raise ValueError(f"{info.filename}: expected {expected}, got dtype {dtype}")
        size = math.prod(shape) * dtype.itemsize
        available = info.file_size - stream.tell()
        if size > available:
            raise ValueError(
                f"{info.filename}: the header announces {dtype} of shape {shape} "
                f"({size} bytes), but the member holds {available} bytes"
            )
        buffer = read_exactly(stream, size, name=info.filename)
    order: Literal["C", "F"] = "F" if fortran_order else "C"
    return np.frombuffer(buffer, dtype=dtype).reshape(shape, order=order)


def read_exactly(stream: IO[bytes], size: int, *, name: str) -> bytearray:
    """The next ``size`` bytes of ``stream`` in a writable buffer; ValueError when fewer.

    The buffer grows with what is read, so a size the zip's directory overstates costs no
    more memory than the data that is there.
    """
    buffer = bytearray()
    while len(buffer) < size:
        chunk = stream.read(min(size - len(buffer), 1 << 24))
        if not chunk:
            raise ValueError(f"{name}: truncated: expected {size} bytes of data, got {len(buffer)}")
        buffer += chunk
    return buffer


def read_npy_header(stream: IO[bytes], *, name: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, fortran_order, dtype) from the header of a ``.npy`` stream, checked.

    The header is a Python literal that numpy parses without evaluating code
    (``ast.literal_eval``), of bounded size.
    """
    fmt = np.lib.format
    version = fmt.read_magic(stream)
    if version == (1, 0):
        shape, fortran_order, dtype = fmt.read_array_header_1_0(stream)
    elif version == (2, 0):
        shape, fortran_order, dtype = fmt.read_array_header_2_0(stream)
    else:
        raise ValueError(f"{name}: .npy format version {version}, expected (1, 0) or (2, 0)")
    if not all(isinstance(n, int) and n >= 0 for n in shape):
        raise ValueError(f"{name}: the header announces an invalid shape {shape}")
    return shape, fortran_order, dtype


# --------------------------------------------------------------------------------------------
# Writing, and what an interrupted write left
# --------------------------------------------------------------------------------------------


def write_cache(mnist: MNIST, path: Path) -> None:
    """Write the arrays to ``path`` atomically: all of them, or nothing and no temporary file.

    They go to a temporary file in the same folder, which ``os.replace`` then renames (atomic
    on one file system: ``toolkit.files.atomic_file``). Uncompressed, so reading it back takes
    a fraction of a second. The lock file beside it is held meanwhile, so that
    ``remove_leftovers`` in another process never takes this write's file for a leftover.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with cache_lock(path, blocking=True), atomic_file(path) as file:
        members = {name: getattr(mnist, name) for name in ARRAY_NAMES}
        members[ORIGIN] = np.array(mnist.source)
        np.savez(file, **members)


def leftover_pattern(path: Path) -> str:
    """The glob of the temporary files ``atomic_file(path)`` writes, beside ``path``."""
    return f".{path.name}.*.tmp"


def remove_leftovers(path: Path) -> list[Path]:
    """Remove the temporary files that interrupted writes of ``path`` left; return them.

    Only when no write is under way (the lock file can be taken at once); a file that cannot
    be removed is left for a later run.
    """
    leftovers = sorted(path.parent.glob(leftover_pattern(path)))
    if not leftovers:
        return []
    removed = []
    try:
        with cache_lock(path, blocking=False) as locked:
            if not locked:
                return []
            for leftover in leftovers:
                try:
                    leftover.unlink()
                except OSError:  # gone meanwhile, or (Windows) still open by its writer
                    continue
                removed.append(leftover)
    except OSError:  # the lock file cannot be created: a read-only cache
        return removed
    return removed


@contextmanager
def cache_lock(path: Path, *, blocking: bool) -> Iterator[bool]:
    """Hold the advisory lock ``<path>.lock``; yield whether it was taken.

    Blocking, it waits for the lock and yields True. The lock goes with the process: one that
    is killed releases it, so a leftover is never mistaken for a write under way. Where
    ``fcntl`` does not exist (Windows) it yields True without locking.
    """
    if sys.platform == "win32":
        yield True
        return
    with open(path.with_name(f"{path.name}.lock"), "ab") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
