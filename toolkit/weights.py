"""Save a model's parameters to ``.npz`` by name, and load them back into a model.

A model exposes its parameters as a dictionary ``name -> array`` (``model.params``; for a
``Sequential``, ``"0.W"``, ``"0.b"``, ``"2.W"``...). The file holds exactly those arrays under
those names. Saving is atomic (a temporary file in the same directory, then renamed): an
interrupted save leaves the previous file intact, and weights holding NaN or inf are refused
(they could not be loaded back). Loading reads the file's headers first, checks that it holds
the same names with the same shapes as the model, then reads the values and checks that they
are finite numbers; it changes nothing until every check has passed, and each refusal is a
``ValueError`` naming the file and the parameter.

This module is infrastructure: it is given, not an exercise.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from toolkit.files import atomic_file

NPY_MAGIC = b"\x93NUMPY"
"""The first bytes of a ``.npy`` file (one array, no names)."""

Shapes = dict[str, tuple[int, ...]]


class NotFiniteError(ValueError):
    """Weights holding NaN or inf: refused by :func:`save_params` and :func:`load_params`."""


def save_params(params: Mapping[str, np.ndarray], path: str | os.PathLike[str]) -> Path:
    """Write every array of ``params`` to the ``.npz`` file ``path``, atomically.

    The path is used as given (numpy would append ``.npz`` to a bare name; this does not).
    Raises ``NotFiniteError`` (a ``ValueError``), writing nothing, when a parameter holds NaN
    or inf. Returns the path
    written.
    """
    target = Path(path)
    if not target.parent.is_dir():
        raise FileNotFoundError(f"cannot save weights to {target}: no directory {target.parent}")
    problems = [problem for name, value in params.items() if (problem := not_finite(name, value))]
    if problems:
        raise NotFiniteError(
            f"weights not saved to {target}: the training diverged (lower the learning rate): "
            + "; ".join(problems)
        )
    arrays: dict[str, Any] = {name: np.asarray(value) for name, value in params.items()}
    with atomic_file(target) as file:
        np.savez(file, **arrays)
    return target


def read_shapes(path: str | os.PathLike[str]) -> Shapes:
    """The name and shape of every array in the ``.npz`` file ``path``, from its headers only.

    No array is read, so a header announcing an absurd shape costs nothing. Raises
    ``ValueError`` when the file is not an archive of ``.npy`` arrays of numbers.
    """
    with open_archive(path) as archive:
        shapes: Shapes = {}
        for member in archive.namelist():
            if not member.endswith(".npy"):
                raise ValueError(f"{path} is not a weights file: it holds {member!r}, not arrays")
            name = member.removesuffix(".npy")
            try:
                with archive.open(member) as file:
                    version = np.lib.format.read_magic(file)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(file)
                    else:
                        shape, _, dtype = np.lib.format.read_array_header_2_0(file)
            except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
                raise ValueError(f"{path}: the array {name} is damaged: {error}") from None
            if dtype.kind not in "biuf":
                raise ValueError(f"{path}: {name} holds {dtype} values, not numbers")
            shapes[name] = shape
        return shapes


def read_params(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """The arrays of a ``.npz`` file by name: numbers only, never pickled objects.

    Raises ``ValueError`` naming the file (and the array) when it is not such a file or an
    array's data is damaged or cut short.
    """
    read_shapes(path)  # the headers first: a file that is not weights is refused before reading
    try:
        with np.load(path, allow_pickle=False) as loaded:
            return {name: loaded[name] for name in loaded.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise ValueError(f"{path}: the weights are damaged: {error}") from None


def load_params(params: Mapping[str, np.ndarray], path: str | os.PathLike[str]) -> None:
    """Copy the arrays saved in ``path`` into ``params``, in place, after checking them all.

    The arrays of ``params`` are overwritten in place (``params[name][...] = saved``), so the
    layers that hold them see the new values; their dtype is kept. Raises ``ValueError``,
    changing nothing, when the file is not a weights file, when the names differ (listing the
    missing and the unexpected ones), when a shape differs (listing each name with both
    shapes; checked from the headers, before any value is read), or when a value is NaN or
    infinite (naming each parameter and how many).
    """
    problems = mismatches(params, read_shapes(path))
    if problems:
        raise ValueError(f"the weights in {path} do not fit this network: " + "; ".join(problems))
    saved = read_params(path)
    problems = [problem for name, value in saved.items() if (problem := not_finite(name, value))]
    if problems:
        raise NotFiniteError(
            f"the weights in {path} are not finite numbers (the run that saved them diverged: "
            "train again, with a smaller learning rate): " + "; ".join(problems)
        )
    for name, value in params.items():
        value[...] = saved[name]


def mismatches(params: Mapping[str, np.ndarray], saved: Mapping[str, tuple[int, ...]]) -> list[str]:
    """Human-readable differences of names and shapes between a model's params and saved shapes."""
    problems = []
    missing = [name for name in params if name not in saved]
    unexpected = [name for name in saved if name not in params]
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected {', '.join(unexpected)}")
    for name, value in params.items():
        if name in saved and saved[name] != value.shape:
            problems.append(
                f"{name} has shape {saved[name]} in the file, {value.shape} in the network"
            )
    return problems


def not_finite(name: str, value: np.ndarray) -> str:
    """``""`` when every value is finite, else how many are NaN and how many infinite."""
    value = np.asarray(value)
    if value.dtype.kind != "f":
        return ""
    nans = int(np.count_nonzero(np.isnan(value)))
    infinities = int(np.count_nonzero(np.isinf(value)))
    if not nans and not infinities:
        return ""
    return f"{name} holds {nans:,} NaN and {infinities:,} infinite of {value.size:,} values"


def open_archive(path: str | os.PathLike[str]) -> zipfile.ZipFile:
    """``path`` opened as a zip archive; ``ValueError`` saying what it is when it is not one."""
    try:
        return zipfile.ZipFile(path)
    except (FileNotFoundError, IsADirectoryError):
        raise
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        with open(path, "rb") as file:
            start = file.read(len(NPY_MAGIC))
        if start == NPY_MAGIC:
            raise ValueError(
                f"{path} holds one unnamed array (.npy), not named weights (.npz)"
            ) from None
        raise ValueError(
            f"{path} is not a weights file written by save_params (not an .npz archive: {error})"
        ) from None
