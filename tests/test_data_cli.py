"""Tests of ``python -m toolkit.data`` (toolkit/data/__main__.py) and the package's names."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import toolkit.data
from kata.paths import REPOSITORY
from tests.mnist_fakes import fake_mirror, fake_mnist, isolate, write_directory
from toolkit.data import cache, sources
from toolkit.data.__main__ import main, pixel_statistics


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)


def test_command_line_describes_and_verifies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = write_directory(tmp_path / "mnist", fake_mnist())
    status = main(["--dir", str(directory), "--cache-dir", str(tmp_path / "cache")])
    out, err = capsys.readouterr()
    assert f"source:     directory {directory}" in out
    assert "train_images: (12, 28, 28) uint8" in out and "class counts 0..9" in out
    assert status == 1 and "NOT the real MNIST" in err and "class counts" in err


def test_command_line_when_every_source_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--cache-dir", str(tmp_path / "cache")]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: could not load MNIST; every source failed:")
    assert "set MNIST_DIR" in err


def test_command_line_replaces_a_damaged_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "cache" / cache.CACHE_FILE
    path.parent.mkdir()
    path.write_bytes(b"")
    mnist = fake_mnist()
    monkeypatch.setattr(sources, "default_downloads", lambda: [fake_mirror("https://m/", mnist)])
    assert main(["--cache-dir", str(path.parent)]) == 1  # a fake MNIST is not the real one
    assert [r.getMessage() for r in caplog.records] == [
        f"MNIST: damaged cache file ({path}: empty (0 bytes)); removed it, fetching MNIST again"
    ]
    assert cache.read_cache(path).source.endswith("(fetched from mirror https://m/)")


def test_python_m_toolkit_data_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "toolkit.data", "--help"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m toolkit.data")


def test_pixel_statistics_are_exact() -> None:
    images = np.random.default_rng(0).integers(0, 256, (7, 28, 28), dtype=np.uint8)
    mean, std = pixel_statistics(images)
    assert mean == pytest.approx((images / 255).mean(), rel=1e-12)
    assert std == pytest.approx((images / 255).std(), rel=1e-12)


def test_the_package_exports_what_other_code_imports() -> None:
    for name in toolkit.data.__all__:
        assert hasattr(toolkit.data, name), name
    assert {"load_dataset", "load_mnist", "MNISTNotFoundError", "random_shift"} <= set(
        toolkit.data.__all__
    )
