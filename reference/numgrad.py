"""Exercise ``numerical_gradient``: the gradient of a function by central differences.

Every backward pass you write in this kata is checked against a numerical gradient: the slope
of the function measured by nudging each input a little. This exercise builds that tool. (The
kata's judge uses its own trusted copy, ``toolkit.gradcheck``; yours is tested against
derivatives known on paper.)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """The gradient of the scalar function ``f`` at ``x``, by central differences.

    For every index ``i`` of ``x`` (``x`` may have any number of dimensions)::

        grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2 h)

    where ``e_i`` is the array of the shape of ``x`` with a 1 at ``i`` and 0 elsewhere.

    Why central: by Taylor, ``f(x ± h e_i) = f(x) ± h f'(x) + h²/2 f''(x) ± h³/6 f'''(x) + ...``.
    Subtracting the two cancels the even terms, so the error is ``h²/6 f'''`` (O(h²)); the
    forward difference ``(f(x + h e_i) - f(x)) / h`` keeps the ``h/2 f''`` term (O(h)). With
    ``h = 1e-5`` that is the difference between an error near 1e-10 and one near 1e-5.

    Args:
        f: a function of the whole array returning a scalar (a float or a 0-d array). It is
            called with ``x`` itself, perturbed in place one element at a time, so ``f`` may
            also read ``x`` through a view or a closure.
        x: a float64 array of any shape, possibly a non-contiguous view. It is perturbed in
            place during the computation and must hold exactly its original values on return.
        h: the step.

    Returns:
        A new float64 array of the shape of ``x``: ``grad[i] = df/dx[i]``.

    Usual mistakes:
        - dividing by ``h`` instead of ``2 h`` (every entry off by a factor of two);
        - the forward difference (an O(h) error: visible on a cubic);
        - restoring ``x`` with ``x[i] -= h`` or ``x[i] += h`` arithmetic instead of putting
          the saved value back: ``(v + h) - h`` is not always ``v`` in floating point;
        - iterating over ``range(len(x))``, which only works for 1-D arrays; or over
          ``x.ravel()`` / ``x.reshape(-1)``, which are copies when ``x`` is a transposed or
          sliced view, so perturbing them never reaches ``x``.

    Hint:
        ``for i in np.ndindex(x.shape):`` visits every index tuple of an n-d array; save
        ``old = x[i]``, set ``x[i] = old + h``, evaluate, set ``x[i] = old - h``, evaluate,
        then ``x[i] = old``. Convert each value of ``f`` with ``float(...)``.
    """
    # BEGIN SOLUTION
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
