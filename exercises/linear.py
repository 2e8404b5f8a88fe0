# Generated from reference/linear.py by `nox -s exercises`: this is your file, edit it.
# Replace each `raise NotImplementedError(...)` with your code; `nox` grades it.
"""Exercise ``linear``: the affine (fully connected) layer.

The constructor is given: it checks its arguments and creates the parameters. You write
``forward`` and the two halves of ``backward``: ``backward_params`` and ``backward_input``
(``Layer.backward`` calls them); ``nox -s hint -- linear`` helps when you are stuck.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from toolkit import checks
from toolkit.layer import Initializer, Layer, lecun_default


class Linear(Layer):
    """The affine layer: every output is a weighted sum of the inputs plus a bias.

    Definition, for a batch of N samples::

        out[n, j] = sum_i x[n, i] W[i, j] + b[j]

    Shapes::

        x          (N, in_features)              N samples, one per row
        W          (in_features, out_features)   params["W"]
        b          (out_features,)               params["b"], the same for every sample
        out, dout  (N, out_features)             dout[n, j] = dL/d out[n, j], given to backward
        dx         (N, in_features)              returned by backward

    Contract: ``forward(x)`` returns ``out`` and keeps in ``self.x`` what ``backward`` needs.
    ``backward(dout)`` (given, in ``Layer``) calls your two halves: ``backward_params(dout)``
    sets ``grads["W"]`` to dL/dW and ``grads["b"]`` to dL/db (the shapes and dtypes of W and b);
    ``backward_input(dout)`` returns dL/dx (the shape of x), and is called only when
    ``needs_input_grad`` is True (the first layer of a network in training skips it: its input
    is the data). The gradients are *set* to those of that call, not added to earlier ones: the
    optimizer consumes them before the next backward. Parameters are read from ``self.params``
    on every call, never from a copy: the optimizer updates them in place, and a user may
    replace them (``layer.params["W"] = new``).

    To derive: dL/dW[i, j], dL/db[j] and dL/dx[n, i] from the definition and dout, with the
    chain rule: every ``out[n, j]`` that depends on a quantity contributes to its gradient.
    W and b are shared by all N samples. The loss is already a mean over the batch (it divided
    by N), so the layer divides by nothing.

    The grader checks: ``out`` against a loop-by-loop oracle; the three gradients against
    central differences on random shapes; the shapes and dtypes (float32 in, float32 out);
    that a second backward sets rather than adds; that a parameter changed between calls is
    used; that ``x`` and ``dout`` are never modified, and may be non-contiguous views.

    ``forward`` starts with a given check: a ``ValueError`` naming the shape expected,
    ``(N, in_features)``, and the shape received when ``x`` is not 2-D with ``in_features``
    columns (numpy would otherwise broadcast some wrong shapes without a word).

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
        raise NotImplementedError("linear: implement Linear.forward in exercises/linear.py")

    def backward_params(self, dout: np.ndarray) -> None:
        """Set ``grads["W"]`` = dL/dW and ``grads["b"]`` = dL/db from ``dout`` ``(N, M)``."""
        raise NotImplementedError("linear: implement Linear.backward_params in exercises/linear.py")

    def backward_input(self, dout: np.ndarray) -> np.ndarray:
        """Return dL/dx ``(N, D)`` from ``dout`` ``(N, M)``."""
        raise NotImplementedError("linear: implement Linear.backward_input in exercises/linear.py")

    def __repr__(self) -> str:
        return f"Linear({self.in_features}, {self.out_features})"
