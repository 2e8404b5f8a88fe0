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
        # BEGIN SOLUTION
        # HINT 1: forward has two jobs: return out, and keep the one array backward cannot do
        #   without. Which input does dL/dW[i, j] depend on?
        # HINT 3: sum_i x[n, i] W[i, j] pairs row n of x with column j of W: it is one matrix
        #   product, (N, D) by (D, M) gives (N, M); b, of shape (M,), broadcasts over the rows.
        # DERIVATION:
        #   With $D$ = `in_features` and $M$ = `out_features`, the definition
        #
        #   $$\mathrm{out}_{nj} = \sum_{i=1}^{D} x_{ni} W_{ij} + b_j$$
        #
        #   is, for every row $n$, the row $x_{n\cdot}$ ($1 \times D$) times $W$ ($D \times M$),
        #   plus $b$ ($1 \times M$): the matrix product $xW$, $(N \times D)(D \times M) =
        #   N \times M$, with $b$ broadcast over the $N$ rows. The gradient of $W$ will need
        #   $x$ (see `backward`), so `forward` keeps it; it is not copied, and never modified.
        # MISTAKES:
        #   - No bias: the grader prints `likely mistake: the bias is missing: out[n, j] needs
        #     + b[j]`.
        #   - Reading a copy of `W` kept from an earlier call: after the optimizer's step the
        #     output is stale, `likely mistake: read self.params['W'] and self.params['b'] on
        #     every call, not a copy kept earlier`.
        self.x = x
        out = x @ self.params["W"]
        out += self.params["b"]  # in place: no second (N, M) array
        return out
        # END SOLUTION

    def backward_params(self, dout: np.ndarray) -> None:
        """Set ``grads["W"]`` = dL/dW and ``grads["b"]`` = dL/db from ``dout`` ``(N, M)``."""
        # BEGIN SOLUTION
        # HINT 1: Start with grads["W"]: write dL/dW[i, j] as a sum over every n and j' of
        #   dL/dout[n, j'] times dout[n, j']/dW[i, j]. Which of those terms are not zero?
        # HINT 2: dout[n, j']/dW[i, j] is x[n, i] when j' = j and 0 otherwise, so
        #   dL/dW[i, j] = sum_n x[n, i] dout[n, j]. The same reasoning gives
        #   dL/db[j] = sum_n dout[n, j].
        # HINT 3: Each of those sums is a matrix product or a sum along one axis; the shapes
        #   pick it. dL/dW is (D, M) and sums over n: a (D, N) array times an (N, M) one.
        #   dL/db is (M,): dout with its batch axis summed away.
        # HINT 4: dL/dW is the transpose of the kept input times dout; dL/db is the sum of
        #   dout over its rows (axis 0). Set both gradients, and divide nothing by N.
        # DERIVATION:
        #   Write $\delta_{nj} = \partial L / \partial \mathrm{out}_{nj}$ for `dout`, shape
        #   $N \times M$. $L$ depends on a parameter only through the outputs, so for any
        #   quantity $\theta$ the chain rule reads
        #
        #   $$\frac{\partial L}{\partial \theta} = \sum_{n=1}^{N} \sum_{j'=1}^{M}
        #   \delta_{nj'} \frac{\partial \mathrm{out}_{nj'}}{\partial \theta}.$$
        #
        #   **Weights.** $\partial \mathrm{out}_{nj'} / \partial W_{ij} = x_{ni}$ if $j' = j$,
        #   and $0$ otherwise, so only $j' = j$ survives:
        #
        #   $$\frac{\partial L}{\partial W_{ij}} = \sum_{n} x_{ni} \delta_{nj}
        #   = (x^\top \delta)_{ij}, \qquad (D \times N)(N \times M) = D \times M,$$
        #
        #   the shape of $W$. The sum over $n$ is the batch: every sample used the same $W$.
        #
        #   **Bias.** $\partial \mathrm{out}_{nj'} / \partial b_j = 1$ if $j' = j$, else $0$:
        #
        #   $$\frac{\partial L}{\partial b_j} = \sum_{n} \delta_{nj},$$
        #
        #   $\delta$ summed over its batch axis, shape $(M,)$, the shape of $b$. A sum, not a
        #   mean: the loss already divided by $N$. Both gradients are *assigned* to `grads`,
        #   so that a second backward replaces the first.
        # MISTAKES:
        #   - The sign flipped: `likely mistake: wrong sign: your gradient is minus the true
        #     one`.
        #   - A gradient divided by the batch size, or `grads["b"]` as a mean over the batch:
        #     `likely mistake: divided by the batch size N = 3 once too often (layers sum over
        #     the batch; only the loss divides by N)`.
        #   - `grads["b"]` never set: `backward did not fill grads['b']`.
        #   - The product the wrong way round (`dout` transposed times `x`): `likely mistake:
        #     transposed: your gradient is the transpose of the true one`, or, when the shapes
        #     differ, `wrong shape: expected (4, 3), got (3, 4)`.
        #   - Adding to `grads` across calls: `likely mistake: the gradients of the calls are
        #     added: backward must set grads, not accumulate into them`.
        self.grads["W"] = self.x.T @ dout
        self.grads["b"] = dout.sum(axis=0)
        # END SOLUTION

    def backward_input(self, dout: np.ndarray) -> np.ndarray:
        """Return dL/dx ``(N, D)`` from ``dout`` ``(N, M)``."""
        # BEGIN SOLUTION
        # HINT 2: Sample n only reaches row n of the output, so
        #   dL/dx[n, i] = sum_j dout[n, j] W[i, j].
        # HINT 3: dL/dx is (N, D) and sums over j: (N, M) times (M, D).
        # HINT 4: dL/dx is dout times the transpose of W.
        # DERIVATION:
        #   **Input.** $\partial \mathrm{out}_{n'j} / \partial x_{ni} = W_{ij}$ if $n' = n$,
        #   else $0$ (sample $n$ only reaches row $n$ of the output):
        #
        #   $$\frac{\partial L}{\partial x_{ni}} = \sum_{j} \delta_{nj} W_{ij}
        #   = (\delta W^\top)_{ni}, \qquad (N \times M)(M \times D) = N \times D,$$
        #
        #   the shape of $x$. `Layer.backward` calls this only when `needs_input_grad` is
        #   True: the first layer of a network in training skips it (its input is the data).
        return dout @ self.params["W"].T
        # END SOLUTION

    def __repr__(self) -> str:
        return f"Linear({self.in_features}, {self.out_features})"
