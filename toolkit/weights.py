"""Save a model's parameters to ``.npz`` by name, and load them back into a model.

A model exposes its parameters as a dictionary ``name -> array`` (``model.params``; for a
``Sequential``, ``"0.W"``, ``"0.b"``, ``"2.W"``...). The file holds exactly those arrays under
those names. Saving is atomic (a temporary file in the same directory, then renamed): an
interrupted save leaves the previous file intact. Loading checks that the file holds the same
names with the same shapes as the model, and says which differ, before it changes anything.

This module is infrastructure: it is given, not an exercise.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from toolkit.files import atomic_file


def save_params(params: Mapping[str, np.ndarray], path: str | os.PathLike[str]) -> Path:
    """Write every array of ``params`` to the ``.npz`` file ``path``, atomically.

    The path is used as given (numpy would append ``.npz`` to a bare name; this does not).
    Returns the path written.
    """
    target = Path(path)
    if not target.parent.is_dir():
        raise FileNotFoundError(f"cannot save weights to {target}: no directory {target.parent}")
    with atomic_file(target) as file:
        np.savez(file, **{name: np.asarray(value) for name, value in params.items()})
    return target


def read_params(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """The arrays of a ``.npz`` file by name (no pickled objects are accepted)."""
    try:
        loaded = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path} is not a weights file written by save_params: {error}") from error
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} holds one unnamed array (.npy), not named weights (.npz)")
    with loaded:
        return {name: loaded[name] for name in loaded.files}


def load_params(params: Mapping[str, np.ndarray], path: str | os.PathLike[str]) -> None:
    """Copy the arrays saved in ``path`` into ``params``, in place, after checking them all.

    The arrays of ``params`` are overwritten in place (``params[name][...] = saved``), so the
    layers that hold them see the new values; their dtype is kept. Raises ``ValueError``,
    changing nothing, when the names differ (listing the missing and the unexpected ones) or
    when a shape differs (listing each name with both shapes).
    """
    saved = read_params(path)
    problems = mismatches(params, saved)
    if problems:
        raise ValueError(f"the weights in {path} do not fit this network: " + "; ".join(problems))
    for name, value in params.items():
        value[...] = saved[name]


def mismatches(params: Mapping[str, np.ndarray], saved: Mapping[str, np.ndarray]) -> list[str]:
    """Human-readable differences of names and shapes between a model's params and saved ones."""
    problems = []
    missing = [name for name in params if name not in saved]
    unexpected = [name for name in saved if name not in params]
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected {', '.join(unexpected)}")
    for name, value in params.items():
        if name in saved and saved[name].shape != value.shape:
            problems.append(
                f"{name} has shape {saved[name].shape} in the file, {value.shape} in the network"
            )
    return problems
