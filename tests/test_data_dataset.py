"""Tests of MNIST ready to train on (toolkit/data/dataset.py): splits, batches, shifts."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.mnist_fakes import fake_mnist, isolate, write_directory
from toolkit.data import dataset


def test_load_dataset_splits_and_normalizes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate(monkeypatch, tmp_path)
    mnist = fake_mnist(n_train=12, n_test=5)
    monkeypatch.setenv("MNIST_DIR", str(write_directory(tmp_path / "mnist", mnist)))
    data = dataset.load_dataset(validation_size=4)

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
        got = getattr(data, name)
        assert got.shape == want.shape, f"{name}: shape {got.shape}, expected {want.shape}"
        assert got.dtype == (np.float32 if name.startswith("x") else np.int64), name
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, err_msg=name)


def test_make_dataset_options() -> None:
    mnist = fake_mnist(n_train=12, n_test=5)
    everything = dataset.make_dataset(mnist, validation_size=0, dtype=np.float64)
    assert everything.x_train.shape == (12, 1, 28, 28) and everything.x_train.dtype == np.float64
    assert everything.x_val.shape == (0, 1, 28, 28) and everything.y_val.shape == (0,)
    assert everything.source == "fake"
    with pytest.raises(ValueError, match=r"validation_size must be an integer in 0\.\.12"):
        dataset.make_dataset(mnist, validation_size=13)
    with pytest.raises(ValueError, match="validation_size"):
        dataset.make_dataset(mnist, validation_size=-1)
    with pytest.raises(ValueError, match="dtype must be a floating-point type, got uint8"):
        dataset.make_dataset(mnist, dtype=np.uint8, validation_size=2)


def test_normalization_constants_are_the_documented_ones() -> None:
    assert (dataset.MNIST_MEAN, dataset.MNIST_STD) == (0.1307, 0.3081)


@given(n=st.integers(0, 50), batch_size=st.integers(1, 60), seed=st.integers(0, 2**32 - 1))
def test_minibatches_visit_every_index_once(n: int, batch_size: int, seed: int) -> None:
    batches = list(dataset.minibatches(n, batch_size, np.random.default_rng(seed)))
    sizes = [len(batch) for batch in batches]
    expected_sizes = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    assert sizes == expected_sizes
    everything = np.concatenate(batches) if batches else np.array([], dtype=np.int64)
    np.testing.assert_array_equal(np.sort(everything), np.arange(n))
    again = list(dataset.minibatches(n, batch_size, np.random.default_rng(seed)))
    assert all(np.array_equal(a, b) for a, b in zip(batches, again, strict=True))


def test_minibatches_shuffle() -> None:
    order = np.concatenate(list(dataset.minibatches(100, 7, np.random.default_rng(0))))
    assert not np.array_equal(order, np.arange(100))


@pytest.mark.parametrize("batch_size", [0, -3, 2.5])
def test_minibatches_reject_a_bad_batch_size_at_once(batch_size: object) -> None:
    with pytest.raises(ValueError, match=f"batch_size must be an integer >= 1, got {batch_size}"):
        dataset.minibatches(10, batch_size, np.random.default_rng(0))  # type: ignore[arg-type]


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
    shifted = dataset.random_shift(images, 2, np.random.default_rng(1))
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
    first = dataset.random_shift(images, 1, np.random.default_rng(5))
    again = dataset.random_shift(images, 1, np.random.default_rng(5))
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(dataset.random_shift(images, 0, np.random.default_rng(5)), images)


@pytest.mark.parametrize(
    ("shape", "max_shift", "message"),
    [
        ((4, 6, 6), 1, "(N, C, H, W)"),
        ((2, 1, 6, 6), -1, "max_shift"),
        ((2, 1, 6, 6), 1.5, "max_shift"),
    ],
)
def test_random_shift_rejects_bad_arguments(
    shape: tuple[int, ...], max_shift: int, message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        dataset.random_shift(np.zeros(shape), max_shift, np.random.default_rng(0))
