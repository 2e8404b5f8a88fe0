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
        # BEGIN SOLUTION
        # HINT 1: Treat the two modes apart. In training, draw the mask first: one uniform
        #   number per element of x, from self.rng. When is an element kept?
        # HINT 2: An element with a uniform u in [0, 1) is kept when u >= p, which happens with
        #   probability 1 - p; out[i] = x[i] / (1 - p) where kept, 0 elsewhere.
        # HINT 3: The mask has the shape of x (one draw per element, not per sample or per
        #   feature). Fold the scale 1 / (1 - p) into the kept mask once, in x's dtype, and the
        #   output is x times it, elementwise; backward will want the same array.
        # HINT 4: In training, keep as self.mask the array that is 1 / (1 - p) where a uniform
        #   draw of x's shape is at least p and 0 elsewhere (in x's dtype), and return x times
        #   it. In evaluation, keep an all-ones mask (or remember the mode) and return x.
        # DERIVATION:
        #   Let $u_i \sim U[0, 1)$, one per element of $x$. With $k_i = [u_i \ge p]$,
        #   $P(k_i = 1) = 1 - p$. Write the scaled mask $m_i = k_i / (1 - p)$, the shape of $x$:
        #
        #   $$\mathrm{out}_i = m_i x_i, \qquad \mathbb{E}[\mathrm{out}_i] =
        #   (1 - p) \cdot \frac{x_i}{1 - p} + p \cdot 0 = x_i.$$
        #
        #   Keeping $m$ (not $k$) lets backward reuse it as it is. In evaluation $m_i = 1$:
        #   the identity, and nothing is drawn. Building $m$ in $x$'s dtype keeps a float32
        #   input float32.
        # MISTAKES:
        #   - Scaling in evaluation too: `Dropout(0.25) in evaluation mode: forward(x): output
        #     differs from the expected values`, then `likely mistake: evaluation mode is the
        #     identity: the scale 1 / (1 - p) is applied in training only (inverted dropout)`.
        #   - `p` taken as the probability to keep: `Dropout(0.2) in training on 200,000 elements:
        #     39,882 kept (19.9 %), expected 80.0 % within 0.45 points`, then `likely mistake: p is
        #     the probability to drop (PyTorch's convention), not to keep`.
        #   - The kept elements not rescaled: `Dropout(0.2) in training on 200,000 elements of x =
        #     1: each kept element differs from the expected values` (`got 1, expected 1.25`), then
        #     `likely mistake: the kept elements must be divided by 1 - p (inverted dropout), so
        #     that the mean is preserved`.
        #   - One mask for the whole batch (drawn of the shape of one sample): `Dropout(0.5) on x of
        #     shape (64, 100): every sample got the same mask`, then `likely mistake: draw one
        #     number per element of x, not one mask for all the samples`.
        #   - numpy's global generator: `Dropout(0.5) twice with default_rng(7), forward of the same
        #     x: the outputs differ`, then `likely mistake: draw the mask from self.rng, the
        #     generator given at construction, not from numpy's global one`.
        #   - A mask drawn once and reused: `Dropout(0.5): two training forward calls of the same x
        #     of shape (20, 30) dropped the same elements`, then `likely mistake: every training
        #     forward draws a new mask (a mask drawn once, in the constructor or at the first call,
        #     is reused)`.
        if not self.training:
            self.mask = np.ones((), dtype=x.dtype)
            return x.copy()
        keep = self.rng.random(x.shape) >= self.p
        self.mask = keep.astype(x.dtype) / x.dtype.type(1.0 - self.p)
        return x * self.mask
        # END SOLUTION

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION
        # HINT 1: Once drawn, the mask is a constant: write d out[i] / d x[j].
        # HINT 2: d out[i] / d x[j] is m[i] / (1 - p) when i = j and 0 otherwise (1 when
        #   i = j in evaluation), so dL/dx[i] = dout[i] m[i] / (1 - p).
        # HINT 3: The gradient is elementwise: dout and the kept scaled mask have the same
        #   shape, no sum and no product of matrices.
        # HINT 4: Return dout times the scaled mask the latest forward kept (in evaluation,
        #   dout itself), without drawing a new mask.
        # DERIVATION:
        #   Each output element depends on its own input element only, with the slope $m_i$:
        #
        #   $$\frac{\partial L}{\partial x_i} = \sum_j \frac{\partial L}{\partial
        #   \mathrm{out}_j} \frac{\partial \mathrm{out}_j}{\partial x_i} =
        #   \mathrm{dout}_i \, m_i,$$
        #
        #   the shape of $x$: dropped elements get no gradient, kept ones get
        #   $\mathrm{dout}_i / (1 - p)$. The mask is the one of the latest forward; drawing
        #   again would pair the gradient with another network.
        # MISTAKES:
        #   - The scale forgotten in backward (only the 0/1 mask): `gradient check failed: dx of
        #     Dropout(0.3) on a non-contiguous view x of shape (4, 6)`, then `likely mistake: your
        #     gradient is 0.7 times the true one: a constant factor is wrong`, and `likely
        #     mistake: backward scaled the gradient of the kept elements by 1, the scale of
        #     evaluation, ...`.
        #   - A new mask drawn in backward: `Dropout(0.5): training forward(x) number 1, batch 5,
        #     backward(dout): backward drew numbers from the generator`, then `likely mistake:
        #     backward must use the mask of the latest forward, not draw a new one`.
        return dout * self.mask
        # END SOLUTION

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"
