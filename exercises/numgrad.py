# Generated from reference/numgrad.py by `nox -s exercises`: this is your file, edit it.
# Replace each `raise NotImplementedError(...)` with your code; `nox` grades it.
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
    raise NotImplementedError(
        "numerical_gradient: implement numerical_gradient in exercises/numgrad.py"
    )
