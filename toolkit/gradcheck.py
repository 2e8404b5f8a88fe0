"""The trusted numerical gradient: central differences in float64.

Every gradient the kata judges is compared with these functions. The idea is the definition
of the derivative, evaluated on both sides of the point::

    df/dx_i  ~=  (f(x + h e_i) - f(x - h e_i)) / (2 h)

Taylor's theorem gives the error. Expanding f on both sides of x_i::

    f(x +/- h e_i) = f(x) +/- h f'(x) + h^2/2 f''(x) +/- h^3/6 f'''(x) + ...

the even terms cancel in the difference, so the truncation error of the central difference is
``h^2/6 f'''``: O(h^2), against O(h) for the one-sided ``(f(x + h) - f(x)) / h``.

The other error is rounding. Each value of f carries a relative error of about the machine
epsilon eps, and the difference is divided by 2h, so rounding contributes about ``eps |f| / h``.
The total ``h^2 |f'''| + eps |f| / h`` is smallest near ``h = eps^(1/3)``:

- in float64 (eps = 2.2e-16), h = 1e-6 gives a truncation error near 1e-13 and a rounding
  error near 1e-10 for values of order one: gradients agree to about 1e-9 relative;
- in float32 (eps = 1.2e-7), h = 1e-6 is *below the spacing of the numbers* around 1.0, so
  ``x + h == x`` and the quotient is noise. Even the best h (~5e-3) leaves errors near 1e-4,
  too coarse to tell a correct gradient from a slightly wrong one. These functions therefore
  refuse anything but float64 arrays.

All functions perturb the array ``x`` *in place*, one element (or one direction) at a time,
call ``f()`` (which must read ``x``, typically a layer's forward pass on it), and put the
original values back in a ``finally`` block, so ``x`` is restored bit for bit even if ``f``
raises. Because ``f`` re-runs the computation for each perturbation, a layer's cached
intermediate values are overwritten along the way: compute the analytic gradient first.

This module is infrastructure: it is given, never stubbed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

DEFAULT_STEP = 1e-6
# f() with x[index] = value, for each (index, value) in turn: see numerical_vjp's outputs_at
OutputsAt = Callable[[list[tuple[tuple[int, ...], float]]], Sequence[np.ndarray]]
"""h: near the optimal eps^(1/3) ~ 6e-6 for float64 values of order one (see the module)."""


def numerical_gradient(
    f: Callable[[], float], x: np.ndarray, h: float = DEFAULT_STEP
) -> np.ndarray:
    """The gradient of the scalar ``f()`` with respect to the array ``x``, by central differences.

    For every index i::

        grad[i] = (f() with x[i] = x[i] + h  -  f() with x[i] = x[i] - h) / (2 h)

    with an error O(h^2) (see the module docstring).

    Args:
        f: a function of no arguments returning a number; it must read ``x`` (which is
            perturbed in place), e.g. ``lambda: loss.forward(x, target)``.
        x: a float64 array, perturbed in place one element at a time and restored exactly.
        h: the step.

    Returns:
        An array of the shape of ``x`` (float64).

    Raises:
        TypeError: if ``x`` is not a float64 numpy array.
        ValueError: if ``f()`` does not return a single number.
    """
    _require_float64(x, "x", "numerical_gradient")
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):
        plus, minus, step = _evaluate_both_sides(lambda: _as_number(f()), x, index, h)
        grad[index] = (plus - minus) / step
    return grad


def numerical_vjp(
    f: Callable[[], np.ndarray],
    x: np.ndarray,
    upstream: np.ndarray,
    h: float = DEFAULT_STEP,
    *,
    outputs_at: OutputsAt | None = None,
) -> np.ndarray:
    """The vector-Jacobian product ``upstream . d f()/dx``, by central differences.

    This is the gradient of the scalar ``L = sum(f() * upstream)``, which is exactly what a
    layer's ``backward(upstream)`` must return when ``f`` is its forward pass::

        vjp[i] = sum((f(x + h e_i) - f(x - h e_i)) * upstream) / (2 h)

    One random ``upstream`` covers the whole Jacobian: a wrong entry of the Jacobian shows up
    in the product with probability one. Subtracting the two outputs before weighting them
    keeps the rounding error as small as for a scalar function.

    Args:
        f: a function of no arguments returning an array; it must read ``x``.
        x: a float64 array, perturbed in place one element at a time and restored exactly.
        upstream: the weights of the outputs (dL/d(output)), of the shape of ``f()``.
        h: the step.
        outputs_at: for a caller that can evaluate many points at once: given the list of
            ``(index, value)`` settings, it returns ``f()`` with ``x[index] = value`` for each
            in turn (``x`` restored after), and ``f`` is not called here. The judge uses it
            for a layer in a worker process: one request instead of two per element.

    Returns:
        An array of the shape of ``x`` (float64).

    Raises:
        TypeError: if ``x`` is not a float64 numpy array.
        ValueError: if ``f()`` does not return an array of the shape of ``upstream``.
    """
    _require_float64(x, "x", "numerical_vjp")
    upstream = np.asarray(upstream, dtype=np.float64)

    def output() -> np.ndarray:
        value = np.array(f(), dtype=np.float64)  # a copy: f() may return a view of x
        if value.shape != upstream.shape:
            raise ValueError(
                f"numerical_vjp: f() returned shape {value.shape}, "
                f"but upstream has shape {upstream.shape}"
            )
        return value

    grad = np.zeros(x.shape, dtype=np.float64)
    if outputs_at is None:
        for index in np.ndindex(x.shape):
            plus, minus, step = _evaluate_both_sides(output, x, index, h)
            grad[index] = np.sum((plus - minus) * upstream) / step
        return grad
    indices = list(np.ndindex(x.shape))
    sides = [(float(x[index]) + h, float(x[index]) - h) for index in indices]
    settings = [
        (index, value) for index, pair in zip(indices, sides, strict=True) for value in pair
    ]
    values = iter(outputs_at(settings))
    for index, (above, below) in zip(indices, sides, strict=True):
        outputs = []
        for value in (next(values), next(values)):
            outputs.append(np.array(value, dtype=np.float64))
            if outputs[-1].shape != upstream.shape:
                raise ValueError(
                    f"numerical_vjp: f() returned shape {outputs[-1].shape}, "
                    f"but upstream has shape {upstream.shape}"
                )
        grad[index] = np.sum((outputs[0] - outputs[1]) * upstream) / (above - below)
    return grad


def directional_derivative(
    f: Callable[[], float],
    x: np.ndarray,
    direction: np.ndarray,
    h: float = DEFAULT_STEP,
) -> float:
    """The derivative of the scalar ``f()`` along ``direction``: ``grad f . direction``.

    ::

        (f(x + h d) - f(x - h d)) / (2 h)  =  sum(grad f * d) + O(h^2)

    Two evaluations of f instead of two per element: the way to check a gradient of a tensor
    too large to perturb element by element. Compare it with ``np.sum(analytic * direction)``
    for a few random directions. ``direction`` is not normalized.

    Args:
        f: a function of no arguments returning a number; it must read ``x``.
        x: a float64 array, moved in place along ``direction`` and restored exactly.
        direction: a float64 array of the shape of ``x``.
        h: the step.

    Raises:
        TypeError: if ``x`` or ``direction`` is not a float64 numpy array.
        ValueError: if their shapes differ, or ``f()`` does not return a single number.
    """
    _require_float64(x, "x", "directional_derivative")
    _require_float64(direction, "direction", "directional_derivative")
    if direction.shape != x.shape:
        raise ValueError(
            f"directional_derivative: direction has shape {direction.shape}, x has shape {x.shape}"
        )
    original = x.copy()
    try:
        x += h * direction
        plus = _as_number(f())
        x[...] = original - h * direction
        minus = _as_number(f())
    finally:
        x[...] = original
    return (plus - minus) / (2 * h)


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """How far ``analytic`` is from ``numeric``, relative to their size.

    ::

        max_i |a_i - n_i|  /  max(max_i (|a_i| + |n_i|), 1e-12)

    The scale is the largest element of the pair, not each element's own size, so elements
    that are tiny next to the others (and carry mostly rounding noise) do not blow the error
    up. The result is symmetric in its arguments, 0 for equal arrays, and at most 1 unless the
    arrays are both below 1e-12. A correct float64 gradient scores about 1e-10 to 1e-8; a
    wrong one, 1e-2 and more.

    Raises:
        ValueError: if the shapes differ.
    """
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"relative_error: shapes differ: {a.shape} and {n.shape}")
    if a.size == 0:
        return 0.0
    scale = max(float(np.max(np.abs(a) + np.abs(n))), 1e-12)
    return float(np.max(np.abs(a - n))) / scale


def _evaluate_both_sides(
    evaluate: Callable[[], float | np.ndarray],
    x: np.ndarray,
    index: tuple[int, ...],
    h: float,
) -> tuple[float | np.ndarray, float | np.ndarray, float]:
    """Evaluate at x[index] + h and x[index] - h; return both values and the step taken.

    The step is measured as ``(x_i + h) - (x_i - h)`` in floating point rather than assumed to
    be ``2 h``: when |x_i| is large, ``x_i + h`` is rounded and the measured step is the true one.
    """
    original = x[index].copy()
    above, below = original + h, original - h
    try:
        x[index] = above
        plus = evaluate()
        x[index] = below
        minus = evaluate()
    finally:
        x[index] = original
    return plus, minus, float(above - below)


def _require_float64(array: object, name: str, function: str) -> None:
    if not isinstance(array, np.ndarray):
        raise TypeError(
            f"{function}: {name} must be a float64 numpy array (perturbed in place), "
            f"got {type(array).__name__}"
        )
    if array.dtype != np.float64:
        raise TypeError(
            f"{function}: {name} has dtype {array.dtype}, float64 is required: central "
            f"differences in {array.dtype} are meaningless (a step of 1e-6 is lost in "
            f"rounding); build the input and the layer with dtype=np.float64"
        )


def _as_number(value: object) -> float:
    array = np.asarray(value)
    if array.ndim != 0:
        raise ValueError(f"f() must return a single number, got an array of shape {array.shape}")
    return float(array)
