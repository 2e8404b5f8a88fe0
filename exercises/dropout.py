# Generated from reference/dropout.py by `nox -s exercises`: this is your file, edit it.
# Replace each `raise NotImplementedError(...)` with your code; `nox` grades it.
"""Exercise ``dropout``: inverted dropout, PyTorch's convention.

In training, dropout zeroes each input element at random and scales the survivors up, so that
a network cannot lean on any one unit; in evaluation it does nothing. The constructor is given:
it checks ``p`` and keeps the generator. You write ``forward`` and ``backward``;
``nox -s hint -- dropout`` helps when you are stuck.
"""

from __future__ import annotations

import numpy as np

from toolkit import checks
from toolkit.layer import Layer


class Dropout(Layer):
    """Inverted dropout with drop probability ``p`` (the convention of ``torch.nn.Dropout``).

    Definition, elementwise, for an input x of any shape. In training mode (``training`` is
    True, the default), a fresh mask m of x's shape is drawn at every forward call, each element
    independently::

        m[i] = 0 with probability p        (dropped)
        m[i] = 1 with probability 1 - p    (kept)

        out[i] = m[i] * x[i] / (1 - p)

    so that E[out[i]] = x[i]: the expected output is the input, and evaluation needs no
    rescaling. In evaluation mode (after ``eval()``), ``out[i] = x[i]``: the identity, and no
    number is drawn from the generator.

    ``p`` is the probability to *drop*, not to keep (``Dropout(0.2)`` keeps about 80 % of
    the elements). ``p = 0`` keeps everything; ``p = 1`` is refused (nothing would survive to
    be scaled by 1 / (1 - p)).

    Shapes: x, out, dout and dx all have the same shape (any), and the same dtype.

    Contract: ``forward(x)`` returns ``out`` and keeps in ``self.mask`` what ``backward`` needs
    (the mask of *this* call: every training forward draws a new one, from ``self.rng``, the
    generator given at construction, never from numpy's global one, so that the same seed gives
    the same masks). ``backward(dout)`` returns dL/dx for the latest forward call; it draws
    nothing. No parameters (``params`` stays empty).

    To derive: dL/dx[i] from the definition, in training mode (m is a constant once drawn) and
    in evaluation mode.

    The grader checks: the fraction of elements kept (within a binomial tolerance of 1 - p),
    that the mean is preserved, that kept elements are scaled by 1 / (1 - p), that the mask is
    drawn per element from the given generator (the same seed gives the same output, a new
    call a new mask), dx against central differences with the mask held fixed, that backward
    uses the latest mask, evaluation mode (the identity, nothing drawn), p = 0, dtypes,
    non-contiguous inputs, and that x and dout are never modified.

    Args:
        p: the drop probability, a number in [0, 1) (default 0.5).
        rng: the generator of the masks (default ``np.random.default_rng(0)``).
    """

    def __init__(self, p: float = 0.5, *, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.p = checks.fraction("p", p)
        self.rng = np.random.default_rng(0) if rng is None else rng
        self.mask: np.ndarray  # forward keeps what backward needs here (its form is yours)

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError("dropout: implement Dropout.forward in exercises/dropout.py")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError("dropout: implement Dropout.backward in exercises/dropout.py")

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"
