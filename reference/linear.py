"""Exercise ``linear``: the affine (fully connected) layer ``y = x @ W + b``.

The constructor is given: it checks its arguments and creates the parameters. You write
``forward`` and ``backward``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from toolkit import checks
from toolkit.layer import Initializer, Layer, lecun_default


class Linear(Layer):
    """The affine layer: ``out = x @ W + b``.

    Shapes::

        x          (N, in_features)              N samples, one per row
        W          (in_features, out_features)   params["W"]
        b          (out_features,)               params["b"], added to every row
        out, dout  (N, out_features)             dout = dL/d(out), given to backward
        dx         (N, in_features)              returned by backward
        grads["W"] and grads["b"] have the shapes (and dtypes) of W and b

    Derivation: ``out[n, j] = sum_i x[n, i] W[i, j] + b[j]``, so by the chain rule::

        dL/dW[i, j] = sum_n x[n, i] dout[n, j]   ->  grads["W"] = x.T @ dout
        dL/db[j]    = sum_n dout[n, j]           ->  grads["b"] = dout.sum(axis=0)
        dL/dx[n, i] = sum_j dout[n, j] W[i, j]   ->  dx = dout @ W.T

    Each parameter gradient *sums* over the batch: ``W`` and ``b`` are shared by every sample.
    The loss already divides by N (it is a mean), so the layer must not divide again.

    ``forward`` keeps ``x`` (``backward`` needs it for ``grads["W"]``). ``backward`` *sets*
    ``grads["W"]`` and ``grads["b"]`` to the gradients of that call (it does not add to
    earlier ones): the optimizer consumes them before the next backward.

    Parameters are read from ``self.params`` on every call, never from a copy: the optimizer
    updates them in place, and a user may replace them (``layer.params["W"] = new``).

    ``forward`` starts with a given check: a ``ValueError`` naming the shape expected,
    ``(N, in_features)``, and the shape received when ``x`` is not 2-D with ``in_features``
    columns (numpy would otherwise broadcast some wrong shapes without a word).

    Usual mistakes: dividing the gradients by N (off by the batch size); ``grads["b"] = dout``
    (not summed over the batch: wrong shape) or ``dout.mean(axis=0)``; ``x @ dout.T`` or
    ``W @ dout`` (transposed: the shapes tell you which product is right); forgetting
    ``grads["b"]``.

    Hint: write down the shape of every array and pick the one product whose shape matches.

    Args:
        in_features: size of each input sample (a positive int).
        out_features: size of each output sample (a positive int).
        rng: the generator of the initial weights (default ``np.random.default_rng(0)``).
        init: ``init(shape, rng, dtype) -> array`` for the weights (default
            ``toolkit.layer.lecun_default``, LeCun normal). The bias starts at zero.
        dtype: the dtype of the parameters (float32 to train, float64 to gradient-check).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        rng: np.random.Generator | None = None,
        init: Initializer | None = None,
        dtype: npt.DTypeLike = np.float32,
    ) -> None:
        super().__init__()
        self.in_features = checks.positive_int("in_features", in_features)
        self.out_features = checks.positive_int("out_features", out_features)
        dtype = checks.floating_dtype("dtype", dtype)
        rng = np.random.default_rng(0) if rng is None else rng
        init = lecun_default if init is None else init
        weight = np.asarray(init((self.in_features, self.out_features), rng, dtype), dtype=dtype)
        if weight.shape != (self.in_features, self.out_features):
            raise ValueError(
                f"init returned weights of shape {weight.shape}, expected "
                f"{(self.in_features, self.out_features)}"
            )
        self.params["W"] = weight
        self.params["b"] = np.zeros(self.out_features, dtype=dtype)
        self.x: np.ndarray  # forward keeps its input here

    def forward(self, x: np.ndarray) -> np.ndarray:
        checks.shape("x", x, ("N", self.in_features), where=repr(self))
        # BEGIN SOLUTION
        self.x = x
        return x @ self.params["W"] + self.params["b"]
        # END SOLUTION

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION
        self.grads["W"] = self.x.T @ dout
        self.grads["b"] = dout.sum(axis=0)
        return dout @ self.params["W"].T
        # END SOLUTION

    def __repr__(self) -> str:
        return f"Linear({self.in_features}, {self.out_features})"
