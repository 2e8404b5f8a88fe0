"""Exercise ``numerical_gradient``: the gradient of a function by central differences.

Every backward pass you write in this kata is checked against a numerical gradient: the slope
of the function measured by nudging each input a little. This exercise builds that tool. (The
kata's judge uses its own trusted copy, ``toolkit.gradcheck``; yours is tested against
derivatives known on paper.) ``nox -s hint -- numerical_gradient`` gives hints.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """The gradient of the scalar function ``f`` at ``x``, by central differences.

    Definition, for every index ``i`` of ``x`` (``x`` may have any number of axes)::

        grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2 h)

    where ``e_i`` is the array of the shape of ``x`` with a 1 at ``i`` and 0 elsewhere.

    Why central: by Taylor, ``f(x ± h e_i) = f(x) ± h f'(x) + h²/2 f''(x) ± h³/6 f'''(x) + ...``.
    Subtracting the two cancels the even terms, so the error is ``h²/6 f'''`` (O(h²)); the
    forward difference ``(f(x + h e_i) - f(x)) / h`` keeps the ``h/2 f''`` term (O(h)). With
    ``h = 1e-5`` that is the difference between an error near 1e-10 and one near 1e-5.

    Contract:

    - ``f`` is a function of the whole array returning a scalar (a float or a 0-d array). It
      is called with ``x`` itself, perturbed in place one element at a time, so ``f`` may also
      read ``x`` through a view or a closure made before the call.
    - ``x`` is a float64 array of any shape, possibly a non-contiguous view (``x.T``,
      ``x[:, ::2]``). It holds exactly its original values, bit for bit, on return. The given
      first lines check it, and ``h``, with a ``ValueError`` naming the argument.
    - The result is a new float64 array of the shape of ``x``: ``grad[i] = df/dx[i]``.

    The grader checks, against derivatives known on paper (never against a numerical
    gradient): sums of squares, of sines and of cubes, a quadratic form with a non-symmetric
    matrix, arrays of 1 to 3 axes; a cubic with a large ``h``, where only a central difference
    with the ``h`` given is exact; ``x`` restored bit for bit; transposed, strided and sliced
    views of ``x``, seen by ``f`` through a view made beforehand.

    Args:
        f: the scalar function.
        x: the point, perturbed in place during the computation.
        h: the step.

    Returns:
        ``grad``, float64, the shape of ``x``.

    Raises:
        ValueError: given check, when ``x`` is not a float64 array or ``h`` is not > 0.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise ValueError(
            f"x must be a float64 numpy array, got {getattr(x, 'dtype', type(x).__name__)}"
        )
    if not h > 0:
        raise ValueError(f"h must be a step > 0, got {h!r}")
    # BEGIN SOLUTION
    # HINT 1: Work one index at a time. What must x hold when you call f for the + side, for
    #   the - side, and after both?
    # HINT 2: For each index i: save the value of x[i]; set x[i] to that value plus h and
    #   evaluate f; set it to the value minus h and evaluate f; put the saved value back.
    #   grad[i] is the difference of the two values of f divided by 2h.
    # HINT 3: x may have any number of axes: visit every index tuple of x.shape (range(len(x))
    #   gives whole rows), and write into x itself, never into a flattened copy, which f does
    #   not see. The result is a new float64 array of the shape of x.
    # HINT 4: numpy can enumerate every index tuple of a shape for you (an n-dimensional
    #   index iterator); x[i] with such a tuple reads and writes one element. Convert each
    #   value of f to a Python float, and restore x[i] by assigning the saved value, not by
    #   adding h back.
    # DERIVATION:
    #   For one index $i$ (a tuple, for an array of any number of axes), Taylor's expansion
    #   of $g(t) = f(x + t\,e_i)$ around $t = 0$ gives
    #
    #   $$g(\pm h) = f(x) \pm h\,\partial_i f + \tfrac{h^2}{2}\,\partial_i^2 f
    #   \pm \tfrac{h^3}{6}\,\partial_i^3 f + O(h^4),$$
    #
    #   so the even terms cancel in the difference:
    #
    #   $$\frac{g(h) - g(-h)}{2h} = \partial_i f + \tfrac{h^2}{6}\,\partial_i^3 f + O(h^4).$$
    #
    #   Computing it needs $f$ at $x + h e_i$ and $x - h e_i$: change the one element
    #   $x_i$ in place (so that $f$, which may read $x$ through a view, sees it), evaluate,
    #   and restore the *saved* value: $(v + h) - h$ is not always $v$ in floating point.
    #   The result has one entry per entry of $x$: a float64 array of `x.shape`, filled
    #   index by index.
    # MISTAKES:
    #   - The forward difference: `likely mistake: a forward difference (f(x + h) - f(x)) /
    #     h, whose error is O(h): use the central one`.
    #   - Dividing by $h$: `likely mistake: twice the gradient: x + h and x - h are 2h
    #     apart`.
    #   - Perturbing a copy (`x.ravel()` of a view, `x.copy()`): `likely mistake: the
    #     gradient is all zeros: f never saw x change`.
    #   - Restoring with arithmetic (adding `h` back): on a test whose values span many
    #     magnitudes `x` is not bit for bit what it was, and the grader ends with `put the
    #     saved value back rather than undoing the step with arithmetic`.
    #   - Iterating over `range(len(x))`: on a 2-D `x`, `likely mistake: x has 2
    #     dimensions: perturb one element at a time`.
    grad = np.zeros(x.shape, dtype=np.float64)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = float(f(x))
        x[i] = old - h
        f_minus = float(f(x))
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad
    # END SOLUTION
