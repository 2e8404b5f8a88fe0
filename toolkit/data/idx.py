"""The canonical MNIST files: the IDX format, the four file names, the arrays they hold.

This module is infrastructure: it is given, not an exercise.

The IDX format (http://yann.lecun.com/exdb/mnist/): a big-endian header, then the values::

    magic number  0x00 0x00 <dtype: 0x08 = unsigned byte> <number of dimensions>
    dimensions    one 32-bit big-endian unsigned integer each
    data          prod(dimensions) bytes, row-major

so the images file has magic 0x00000803 (N, 28, 28) and the labels file 0x00000801 (N,).
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

IMAGE_SIZE = 28
NUM_CLASSES = 10

CANONICAL_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
"""The canonical file names per split, (images, labels), without the ``.gz``."""

ARRAY_NAMES = ("train_images", "train_labels", "test_images", "test_labels")
"""The arrays of ``MNIST``, in the order of ``CANONICAL_FILES``."""

IDX_UNSIGNED_BYTE = 0x08
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class MNIST:
    """The MNIST images and labels as stored: uint8 pixels 0..255, uint8 labels 0..9.

    Attributes:
        train_images: (N_train, 28, 28) uint8; the canonical training set has N_train = 60000.
        train_labels: (N_train,) uint8.
        test_images: (N_test, 28, 28) uint8; the canonical test set has N_test = 10000.
        test_labels: (N_test,) uint8.
        source: where the arrays came from (a directory, the cache, a mirror, the wheel).

    Construction checks the dtypes, the shapes, that images and labels agree in number and
    that labels are digits, and raises ValueError naming the array otherwise.
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str

    def __post_init__(self) -> None:
        for split in ("train", "test"):
            check_split(
                getattr(self, f"{split}_images"),
                getattr(self, f"{split}_labels"),
                images_name=f"{split}_images",
                labels_name=f"{split}_labels",
            )


def check_split(
    images: np.ndarray, labels: np.ndarray, *, images_name: str, labels_name: str
) -> None:
    """Raise ValueError unless images are (N, 28, 28) uint8 and labels (N,) uint8 digits 0..9."""
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE,) * 2:
        raise ValueError(
            f"{images_name}: expected uint8 images of shape (N, {IMAGE_SIZE}, {IMAGE_SIZE}), "
            f"got {images.dtype} of shape {images.shape}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise ValueError(
            f"{labels_name}: expected uint8 labels of shape (N,), "
            f"got {labels.dtype} of shape {labels.shape}"
        )
    if len(images) != len(labels):
        raise ValueError(
            f"{images_name} holds {len(images)} images but {labels_name} holds "
            f"{len(labels)} labels: they must agree"
        )
    if labels.size and labels.max() >= NUM_CLASSES:
        raise ValueError(
            f"{labels_name}: labels must be digits 0..{NUM_CLASSES - 1}, found {labels.max()}"
        )


def parse_idx(data: bytes, *, ndim: int, name: str) -> np.ndarray:
    """Decode the bytes of an IDX file of unsigned bytes with ``ndim`` dimensions.

    The magic number must be 0x0000080<ndim> (0x00000803 for images, 0x00000801 for labels),
    and the data after the header exactly prod(dimensions) bytes. ``name`` (the file) is named
    in every ValueError. Returns a new, writable uint8 array of the announced shape.
    """
    header_size = 4 + 4 * ndim
    expected_magic = (IDX_UNSIGNED_BYTE << 8) | ndim
    if len(data) < 4:
        raise ValueError(f"{name}: truncated: {len(data)} bytes, too short for an IDX header")
    magic = int.from_bytes(data[:4], "big")
    if magic != expected_magic:
        raise ValueError(
            f"{name}: wrong magic number 0x{magic:08X}, expected 0x{expected_magic:08X} "
            f"(IDX of unsigned bytes with {ndim} dimension{'s' if ndim > 1 else ''})"
        )
    if len(data) < header_size:
        raise ValueError(f"{name}: truncated header: expected {header_size} bytes, got {len(data)}")
    shape = tuple(int.from_bytes(data[4 + 4 * axis : 8 + 4 * axis], "big") for axis in range(ndim))
    expected_size = math.prod(shape)
    payload_size = len(data) - header_size
    if payload_size < expected_size:
        raise ValueError(
            f"{name}: truncated: the header announces shape {shape}, so expected "
            f"{expected_size} bytes of data, got {payload_size}"
        )
    if payload_size > expected_size:
        raise ValueError(
            f"{name}: {payload_size - expected_size} extra bytes after the data: the header "
            f"announces shape {shape} ({expected_size} bytes), the file holds {payload_size}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape).copy()


def decode_idx(data: bytes, *, ndim: int, name: str) -> np.ndarray:
    """``parse_idx`` of ``data``, gunzipped first when gzipped (gzip starts with bytes 1f 8b).

    An IDX file never starts so: its first two bytes are zero.
    """
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as error:
            raise ValueError(f"{name}: corrupt gzip data: {error}") from error
    return parse_idx(data, ndim=ndim, name=name)


def read_idx(path: str | os.PathLike[str], *, ndim: int) -> np.ndarray:
    """Read an IDX file of unsigned bytes, gzipped or not; ValueError names the file."""
    return decode_idx(Path(path).read_bytes(), ndim=ndim, name=str(path))
