"""Argument checks shared by every layer, loss and optimizer: one message style everywhere.

Each check takes the argument's name and its value, returns the value converted to the plain
Python type the caller stores (``int``, ``float``, ``numpy.dtype``), and otherwise raises
``ValueError`` naming the argument, what was expected and what was received::

    self.in_features = checks.positive_int("in_features", in_features)
    # ValueError: in_features must be a positive integer, got 0

A ``bool`` is refused wherever a number is expected (``True`` is an ``int`` to Python, but
``Linear(True, 3)`` is a mistake, not a layer of one input).

This module is infrastructure: it is given, not an exercise.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np
import numpy.typing as npt


def positive_int(name: str, value: object) -> int:
    """``value`` as an ``int`` if it is an integer ``>= 1`` (a size, a count, a stride).

    Raises:
        ValueError: "<name> must be a positive integer, got <value>".
    """
    return _integer(name, value, minimum=1, expected="a positive integer")


def non_negative_int(name: str, value: object) -> int:
    """``value`` as an ``int`` if it is an integer ``>= 0`` (a padding).

    Raises:
        ValueError: "<name> must be an integer >= 0, got <value>".
    """
    return _integer(name, value, minimum=0, expected="an integer >= 0")


def positive(name: str, value: object) -> float:
    """``value`` as a ``float`` if it is a number ``> 0`` (a learning rate, an epsilon).

    Raises:
        ValueError: "<name> must be > 0, got <value>".
    """
    number = _real(value)
    if number is None or not number > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return number


def non_negative(name: str, value: object) -> float:
    """``value`` as a ``float`` if it is a number ``>= 0`` (a weight decay).

    Raises:
        ValueError: "<name> must be >= 0, got <value>".
    """
    number = _real(value)
    if number is None or not number >= 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return number


def fraction(name: str, value: object) -> float:
    """``value`` as a ``float`` if it is a number in ``[0, 1)`` (a momentum, a beta, a slope).

    1 is excluded: a decay of 1 never forgets, a leaky slope of 1 is the identity.

    Raises:
        ValueError: "<name> must be a number in [0, 1), got <value>".
    """
    number = _real(value)
    if number is None or not 0 <= number < 1:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return number


def floating_dtype(name: str, value: npt.DTypeLike) -> np.dtype:
    """``value`` as a ``numpy.dtype`` if it names a floating-point type (float32, float64).

    Raises:
        ValueError: "<name> must be a floating-point dtype, got <dtype>".
    """
    try:
        dtype = np.dtype(value)
    except TypeError as error:
        raise ValueError(f"{name} must be a floating-point dtype, got {value!r}") from error
    if not np.issubdtype(dtype, np.floating):
        raise ValueError(f"{name} must be a floating-point dtype, got {dtype}")
    return dtype


def shape(
    name: str, array: np.ndarray, expected: Sequence[int | str], *, where: str = ""
) -> tuple[int, ...]:
    """``array.shape`` if it matches ``expected``, where a ``str`` entry is any size.

    ``expected`` lists one entry per axis: an ``int`` requires that size, a ``str`` (``"N"``,
    ``"H"``) names a free one. ``shape("x", x, ("N", 3))`` accepts any ``(n, 3)``.

    Raises:
        ValueError: "<where> expects <name> of shape (N, 3), got (2, 4)"; ``where`` names the
            caller (``repr(self)``), and is left out when empty.
    """
    got = tuple(int(size) for size in np.shape(array))
    fits = len(got) == len(expected) and all(
        isinstance(want, str) or size == want for size, want in zip(got, expected, strict=True)
    )
    if not fits:
        wanted = "(" + ", ".join(str(want) for want in expected) + ")"
        prefix = f"{where} expects" if where else "expected"
        raise ValueError(f"{prefix} {name} of shape {wanted}, got {got}")
    return got


def _integer(name: str, value: object, *, minimum: int, expected: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return int(value)


def _real(value: object) -> float | None:
    """``value`` as a float if it is a real number (a bool is not), else None."""
    if isinstance(value, bool) or not isinstance(value, Real):
        return None
    return float(value)
