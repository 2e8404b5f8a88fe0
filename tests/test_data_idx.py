"""Tests of the IDX format and the MNIST arrays (toolkit/data/idx.py): no exercise mark."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from tests.mnist_fakes import fake_mnist, idx_bytes
from toolkit.data.idx import MNIST, read_idx


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_idx_round_trip(tmp_path: Path, gz: bool) -> None:
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (5, 4, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, 5, dtype=np.uint8)
    for name, array in (("images", images), ("labels", labels)):
        content = idx_bytes(array)
        path = tmp_path / (f"{name}.gz" if gz else name)
        path.write_bytes(gzip.compress(content) if gz else content)
        read = read_idx(path, ndim=array.ndim)
        assert read.dtype == np.uint8 and read.shape == array.shape
        np.testing.assert_array_equal(read, array)
        assert read.flags.writeable


def test_idx_wrong_magic_names_the_file_and_both_numbers(tmp_path: Path) -> None:
    path = tmp_path / "train-labels-idx1-ubyte"
    path.write_bytes(idx_bytes(np.zeros(5, np.uint8)))
    with pytest.raises(ValueError, match="wrong magic number 0x00000801, expected 0x00000803") as e:
        read_idx(path, ndim=3)
    assert str(path) in str(e.value)


def test_idx_wrong_dtype_byte_is_a_wrong_magic(tmp_path: Path) -> None:
    path = tmp_path / "floats"
    path.write_bytes(idx_bytes(np.zeros(5, np.uint8), magic=0x0D01))
    with pytest.raises(ValueError, match="wrong magic number 0x00000D01, expected 0x00000801"):
        read_idx(path, ndim=1)


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_idx_truncated_payload(tmp_path: Path, gz: bool) -> None:
    content = idx_bytes(np.zeros((5, 4, 3), np.uint8))[:-1]
    path = tmp_path / "images"
    path.write_bytes(gzip.compress(content) if gz else content)
    with pytest.raises(ValueError, match=r"truncated.*expected 60 bytes of data, got 59") as e:
        read_idx(path, ndim=3)
    assert str(path) in str(e.value)


def test_idx_truncated_header(tmp_path: Path) -> None:
    path = tmp_path / "images"
    path.write_bytes(idx_bytes(np.zeros((5, 4, 3), np.uint8))[:10])
    with pytest.raises(ValueError, match="truncated header: expected 16 bytes, got 10"):
        read_idx(path, ndim=3)


def test_idx_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "labels"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="truncated: 0 bytes"):
        read_idx(path, ndim=1)


def test_idx_extra_bytes(tmp_path: Path) -> None:
    path = tmp_path / "labels"
    path.write_bytes(idx_bytes(np.zeros(5, np.uint8)) + b"\x00\x00")
    with pytest.raises(ValueError, match="2 extra bytes") as e:
        read_idx(path, ndim=1)
    assert str(path) in str(e.value)


def test_idx_corrupt_gzip(tmp_path: Path) -> None:
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(50, np.uint8)))[:-12])
    with pytest.raises(ValueError, match="corrupt gzip data") as e:
        read_idx(path, ndim=1)
    assert str(path) in str(e.value)


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
