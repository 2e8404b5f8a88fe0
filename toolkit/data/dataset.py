"""MNIST ready to train on: normalized arrays, a validation split, mini-batches, shifts.

This module is infrastructure: it is given, not an exercise.

::

    data = load_dataset()       # float32 (N, 1, 28, 28) normalized, int64 labels, validation
    for batch in minibatches(len(data.x_train), 64, rng):
        x, y = random_shift(data.x_train[batch], 2, rng), data.y_train[batch]
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import DTypeLike

from toolkit.data.idx import IMAGE_SIZE, MNIST
from toolkit.data.sources import load_mnist

MNIST_MEAN = 0.1307
"""Mean of pixel/255 over the 60,000 training images (0.130660...)."""
MNIST_STD = 0.3081
"""Standard deviation of pixel/255 over the 60,000 training images (0.308107...)."""


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
    keeps every training image for training (x_val is then empty). The arrays are read-only:
    every epoch (and every capstone of a grade) reads the same ones, so normalizing or
    augmenting in place would change them for the next; work on copies (``x[batch]`` is one).
    """
    n_train = len(mnist.train_images)
    if not isinstance(validation_size, (int, np.integer)) or not 0 <= validation_size <= n_train:
        raise ValueError(
            f"validation_size must be an integer in 0..{n_train} (the number of training "
            f"images), got {validation_size!r}"
        )
    kept = n_train - int(validation_size)
    labels = mnist.train_labels.astype(np.int64)
    arrays = {
        "x_train": normalize_images(mnist.train_images[:kept], dtype),
        "y_train": labels[:kept],
        "x_val": normalize_images(mnist.train_images[kept:], dtype),
        "y_val": labels[kept:],
        "x_test": normalize_images(mnist.test_images, dtype),
        "y_test": mnist.test_labels.astype(np.int64),
    }
    for array in arrays.values():
        array.flags.writeable = False  # shared by every epoch: a change in place would stay
    return Dataset(**arrays, source=mnist.source)


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
    keeps images and labels paired (shuffling them separately is the usual mistake). The
    arguments are checked at the call, before the first batch is asked for.
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
    shifted: np.ndarray = windows[np.arange(n), :, dy, dx]  # (N, C, H, W)
    return shifted
