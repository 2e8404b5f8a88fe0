"""Exercises ``tensor_autograd`` and ``mnist_autograd``: the autograd engine over numpy arrays,
and the MNIST MLP trained through it.

The scalar ``Value`` of the ``autograd`` exercise makes one graph node per number: an MLP on
MNIST would need millions of nodes per batch. A ``Tensor`` is the same engine with a numpy
array in each node: ``x @ W`` is one node, whatever the sizes. What changes is the local
derivative. For an array output ``out`` and an operand ``c``, the chain rule needs the
*vector-Jacobian product*::

    dL/dc[i] = sum_k  dL/dout[k]  d out[k] / d c[i]          (k over every element of out)

a function of the output's gradient ``g = dL/dout`` (the shape of out) that returns an array of
the shape of ``c``. Each operation stores one such function per child, in ``vjps``; ``backward``
walks the graph in reverse topological order (your ``topological_order`` of the ``autograd``
exercise) and adds ``vjp(g)`` to each child's ``grad``, exactly as ``Value.backward`` adds
local derivative times grad.

Broadcasting. numpy lets ``a + b`` combine a ``(N, M)`` array with a ``(M,)`` one (the bias of
a layer): ``b`` is used once per row, so its gradient is the sum over the rows of the output's
gradient. In general an operand of shape ``s`` broadcast to the output's shape receives the
output's gradient *summed back to s*: that is ``unbroadcast``, which ``+`` and ``*`` use.

Exercise ``tensor_autograd`` (``nox -s hint -- tensor_autograd``): ``unbroadcast``, the
operations of ``Tensor`` and ``Tensor.backward``; ``-t``, ``a - b`` and the operations with a
number or an array on the left are given, as compositions. Its grader demands that your Tensors
give, on a batch, the very gradients of your own ``Linear``, ``ReLU`` and
``SoftmaxCrossEntropy``.

Exercise ``mnist_autograd`` (``nox -s hint -- mnist_autograd``): ``TensorMLP``, the network of
the ``mlp`` capstone written with Tensors, trained by the given ``fit_epoch`` with your ``SGD``
to the same threshold: 97.5 % test accuracy in at most 3 epochs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from toolkit import checks
from toolkit.data import random_shift
from toolkit.layer import lecun_default

from .autograd import topological_order
from .init import he_normal

Vjp = Callable[[np.ndarray], np.ndarray]


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The gradient ``grad`` of a broadcast result, summed back to an operand of ``shape``.

    numpy's broadcasting of an operand of shape ``shape`` to ``grad.shape``: align the shapes
    on the right; missing leading axes are added; an axis of size 1 is repeated to the size of
    the other. Every element of the operand is therefore used by several elements of the
    result, and (the chain rule) its gradient is the sum of the gradients of those elements::

        out[k] = operand[index of k in the operand]   for every index k of grad.shape
        result[i] = sum over the k whose operand index is i of grad[k]

    Returns an array of exactly ``shape`` (``()`` for a 0-d operand). ``grad`` is never
    modified. ``shape`` must broadcast to ``grad.shape`` (given check: ``ValueError``).

    What the grader checks: against a brute-force sum over every index, on hypothesis-drawn
    pairs of shapes (missing leading axes, axes of size 1 in the middle and at the ends, equal
    shapes, a 0-d operand).
    """
    if np.broadcast_shapes(shape, grad.shape) != grad.shape:
        raise ValueError(
            f"unbroadcast: an operand of shape {shape} does not broadcast to the gradient's "
            f"shape {grad.shape}"
        )
    # BEGIN SOLUTION
    # HINT 1: Two things broadcasting does: it adds axes on the left, and it stretches axes
    #   of size 1. Undo the first, then the second.
    # HINT 2: An operand element used by several output elements gets the sum of their
    #   gradients: for a bias b[j] added to every row, dL/db[j] = sum_n g[n, j].
    # HINT 3: The extra leading axes are the first grad.ndim - len(shape) axes of grad: sum
    #   them away. Then for each remaining axis where shape has 1 and grad does not, sum over
    #   it keeping that axis (size 1).
    # HINT 4: Sum grad over its leading extra axes, then over every axis of size 1 in shape
    #   with the dimension kept; the result has the shape asked for (reshape it to make sure).
    # DERIVATION:
    #   Let $s$ be `shape` ($r$ axes) and $G$ the gradient, shape $t$ ($R \ge r$ axes).
    #   Broadcasting aligns $s$ on the right of $t$: output index $(k_1, \dots, k_R)$ reads
    #   operand index $(i_1, \dots, i_r)$ with $i_a = k_{R - r + a}$ when $s_a = t_{R-r+a}$
    #   and $i_a = 0$ when $s_a = 1$. Then
    #
    #   $$\frac{\partial L}{\partial \mathrm{op}_i} = \sum_{k \mapsto i} G_k,$$
    #
    #   a sum over the $R - r$ leading axes (they never reach the operand) and over every
    #   aligned axis with $s_a = 1$ (all of its positions read $i_a = 0$), that axis kept with
    #   size 1. The result has the shape $s$.
    # MISTAKES:
    #   - Only the leading axes summed: a `(1, M)` operand gets `(N, M)`, and the grader
    #     prints `output has the wrong shape` with `likely mistake: broadcasting not summed
    #     back: an operand of shape (1,) must receive a gradient of shape (1,), got (2,)`.
    #   - A mean instead of a sum: every value is `1 / N` times the expected one.
    extra = grad.ndim - len(shape)
    summed = grad.sum(axis=tuple(range(extra))) if extra else grad
    ones = tuple(axis for axis, size in enumerate(shape) if size == 1 and summed.shape[axis] != 1)
    if ones:
        summed = summed.sum(axis=ones, keepdims=True)
    return summed.reshape(shape)
    # END SOLUTION


class Tensor:
    """A numpy array that records how it was made, so that gradients flow back through it.

    Attributes:
        data: the array (floating dtype; integers and Python numbers become float64).
        grad: dL/d(data) after ``L.backward()``, an array of the shape and dtype of ``data``
            (None before any backward reached it).
        children: the tensors this one was made from (empty for a leaf).
        vjps: for each child c, the function ``g -> dL/dc`` for the output's gradient ``g``
            (the shape of ``data``), returning an array of the shape of ``c.data``.
        op: the name of the operation that made it ("" for a leaf).

    The operations you write (each returns a new ``Tensor`` and never changes its operands;
    a number or an array as operand is wrapped in a leaf of ``self``'s dtype, given)::

        a + b                  out = a + b, numpy broadcasting
        a * b                  out = a * b (elementwise), numpy broadcasting
        a @ b                  out[n, m] = sum_d a[n, d] b[d, m]     a (N, D), b (D, M) only
        a.sum(axis=None)       the sum of every element (0-d), or along one axis (it is removed)
        a.reshape(*shape)      the same elements in row-major order, another shape
        a.relu()               max(a, 0) elementwise; slope 0 at 0
        a.cross_entropy(y)     L = -(1/N) sum_n log softmax(a[n])[y[n]]   a (N, C) logits,
                               y (N,) integer labels in [0, C): a 0-d tensor

    To derive, for each: the vector-Jacobian product of every child, with the shape of that
    child (a broadcast operand receives the gradient summed back by ``unbroadcast``). The
    cross-entropy is fused: derive dL/da[n, c] of the whole expression (softmax and log
    together) rather than chaining a softmax node and a log node, which would be slower and
    overflow; compute log-softmax stably (the ``softmax_cross_entropy`` exercise did).

    What the grader checks: every operation's gradients against central differences on
    hypothesis-drawn shapes (broadcasting ones included), that the gradients of a small MLP
    equal those of your ``Linear``, ``ReLU`` and ``SoftmaxCrossEntropy`` on the same batch to
    float64 precision, dtypes (float32 stays float32), a tensor used twice, two backward calls,
    a chain of 100,000 operations, and that operands are never modified.
    """

    __slots__ = ("children", "data", "grad", "op", "vjps")
    __array_ufunc__ = None  # numpy defers to Tensor: array * tensor calls Tensor.__rmul__

    def __init__(
        self,
        data: npt.ArrayLike,
        children: tuple[Tensor, ...] = (),
        vjps: tuple[Vjp, ...] = (),
        op: str = "",
    ) -> None:
        array = np.asarray(data)
        if not np.issubdtype(array.dtype, np.floating):
            if not (np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_):
                raise TypeError(f"Tensor(data): expected numbers, got an array of {array.dtype}")
            array = array.astype(np.float64)
        if len(children) != len(vjps):
            raise ValueError(
                f"Tensor: {len(children)} children but {len(vjps)} vjps; give one per child"
            )
        self.data: np.ndarray = array
        self.grad: np.ndarray | None = None
        self.children = children
        self.vjps = vjps
        self.op = op

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of ``data``."""
        return self.data.shape

    def __repr__(self) -> str:
        made = f", op={self.op!r}" if self.op else ""
        return f"Tensor(shape={self.shape}, dtype={self.data.dtype}{made})"

    # ---------------------------------------------------------------- the operations you write

    def __add__(self, other: Tensor | npt.ArrayLike) -> Tensor:
        other = self._operand(other)
        # BEGIN SOLUTION
        # HINT 1: Start with a + b of equal shapes: what is d out[k] / d a[i]? Then let b be a
        #   bias of shape (M,) added to every row of an (N, M) a.
        # DERIVATION:
        #   $\mathrm{out}_k = a_k + b_k$ (after broadcasting), so $\partial \mathrm{out}_k /
        #   \partial a_k = 1$: each operand receives $g$ itself, summed back to its shape,
        #   $\partial L / \partial a = \mathrm{unbroadcast}(g, \text{shape of } a)$, and the
        #   same for $b$.
        # MISTAKES:
        #   - `g` given to both children as it is: a bias `(M,)` receives an `(N, M)` gradient,
        #     numpy refuses to add it (`non-broadcastable output operand`), and the grader
        #     prints `likely mistake: broadcasting not summed back: every operand must receive
        #     a gradient of its own shape (the axes that broadcasting added or stretched are
        #     summed away)`.
        a_shape, b_shape = self.shape, other.shape
        return Tensor(
            self.data + other.data,
            (self, other),
            (lambda g: unbroadcast(g, a_shape), lambda g: unbroadcast(g, b_shape)),
            "+",
        )
        # END SOLUTION

    def __mul__(self, other: Tensor | npt.ArrayLike) -> Tensor:
        other = self._operand(other)
        # BEGIN SOLUTION
        # HINT 2: For an elementwise product, d out[k] / d a[k] = b[k] and every other
        #   derivative is 0: the vjp of a is g times b elementwise, summed back to a's shape.
        # DERIVATION:
        #   $\mathrm{out}_k = a_k b_k$ (broadcast): $\partial L / \partial a =
        #   \mathrm{unbroadcast}(g \odot b)$ and $\partial L / \partial b =
        #   \mathrm{unbroadcast}(g \odot a)$, each to its operand's shape.
        a, b = self.data, other.data
        return Tensor(
            a * b,
            (self, other),
            (lambda g: unbroadcast(g * b, a.shape), lambda g: unbroadcast(g * a, b.shape)),
            "*",
        )
        # END SOLUTION

    def __matmul__(self, other: Tensor | npt.ArrayLike) -> Tensor:
        other = self._operand(other)
        if self.data.ndim != 2 or other.data.ndim != 2 or self.shape[1] != other.shape[0]:
            raise ValueError(
                f"Tensor @ Tensor: expected (N, D) @ (D, M), got {self.shape} @ {other.shape}"
            )
        # BEGIN SOLUTION
        # HINT 3: The vjp of a must be (N, D) and the vjp of b (D, M), from g (N, M): which
        #   products of g with the other operand, transposed, give those shapes? (The Linear
        #   exercise derived the same two.)
        # DERIVATION:
        #   $\mathrm{out}_{nm} = \sum_d a_{nd} b_{dm}$, so (as for `Linear`)
        #   $\partial L / \partial a_{nd} = \sum_m g_{nm} b_{dm} = (g b^\top)_{nd}$, shape
        #   $(N, D)$, and $\partial L / \partial b_{dm} = \sum_n a_{nd} g_{nm} = (a^\top g)_{dm}$,
        #   shape $(D, M)$.
        a, b = self.data, other.data
        return Tensor(a @ b, (self, other), (lambda g: g @ b.T, lambda g: a.T @ g), "@")
        # END SOLUTION

    def sum(self, axis: int | None = None) -> Tensor:
        """The sum of every element (a 0-d tensor), or along ``axis`` (that axis removed)."""
        if axis is not None and not -self.data.ndim <= axis < self.data.ndim:
            raise ValueError(f"sum: axis {axis} is out of range for shape {self.shape}")
        # BEGIN SOLUTION
        # HINT 2: d (sum_k a[k]) / d a[i] = 1 for every i: every element receives g. Along an
        #   axis, each element receives the g of the output position it was summed into.
        # DERIVATION:
        #   $\mathrm{out} = \sum_k a_k$ gives $\partial \mathrm{out} / \partial a_k = 1$:
        #   every element receives $g$ (a 0-d array), broadcast to the shape of $a$. Along an
        #   axis, $\mathrm{out}_{\dots j \dots} = \sum_i a_{\dots i \dots j}$: each element
        #   receives the $g$ of its own output position, $g$ with the summed axis put back
        #   (size 1) and broadcast along it.
        # MISTAKES:
        #   - The summed axis not put back before broadcasting: numpy aligns the shapes on the
        #     right, so `g` of shape `(N,)` spreads over the wrong axis of `(N, M)`: when
        #     N = M the grader prints `a.sum(axis=-1) with a of shape (2, 2), then (out *
        #     u).sum().backward() for a random u: a.grad differs from the expected values`,
        #     otherwise numpy raises `operands could not be broadcast together`.
        shape = self.shape
        if axis is None:
            return Tensor(self.data.sum(), (self,), (lambda g: np.broadcast_to(g, shape),), "sum")
        kept = axis
        return Tensor(
            self.data.sum(axis=axis),
            (self,),
            (lambda g: np.broadcast_to(np.expand_dims(g, kept), shape),),
            f"sum({axis})",
        )
        # END SOLUTION

    def reshape(self, *shape: int) -> Tensor:
        """The same elements, in row-major order, in ``shape`` (one entry may be -1)."""
        # BEGIN SOLUTION
        # DERIVATION:
        #   A reshape moves no value: element $k$ of the output (row-major) is element $k$ of
        #   the input, so the gradient is $g$ read back in the input's shape.
        old = self.shape
        return Tensor(self.data.reshape(shape), (self,), (lambda g: g.reshape(old),), "reshape")
        # END SOLUTION

    def relu(self) -> Tensor:
        """``max(self, 0)`` elementwise; the slope is 1 where ``self > 0``, 0 elsewhere."""
        # BEGIN SOLUTION
        # DERIVATION:
        #   $\mathrm{out}_k = \max(a_k, 0)$: $\partial L / \partial a_k = g_k$ where
        #   $a_k > 0$ and $0$ elsewhere (at 0 too), the shape of $a$.
        # STATED: self.data > 0
        positive = self.data > 0
        return Tensor(
            np.maximum(self.data, 0),
            (self,),
            (lambda g: g * positive,),
            "relu",
        )
        # END SOLUTION

    def cross_entropy(self, labels: npt.ArrayLike) -> Tensor:
        """The mean cross-entropy of the logits ``self`` ``(N, C)`` with integer ``labels``."""
        y = np.asarray(labels)
        if self.data.ndim != 2:
            raise ValueError(f"cross_entropy: logits must be (N, C), got shape {self.shape}")
        n, classes = self.shape
        if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
            raise ValueError(
                f"cross_entropy: labels must be {n} integers (shape ({n},)), got {y.dtype} of "
                f"shape {y.shape}"
            )
        if n and (y.min() < 0 or y.max() >= classes):
            raise ValueError(
                f"cross_entropy: labels must be in [0, {classes}), got labels from {y.min()} "
                f"to {y.max()}"
            )
        # BEGIN SOLUTION
        # HINT 4: With p = softmax of each row, dL/da[n, c] = (p[n, c] - [c = y[n]]) / N;
        #   the vjp is that array times g (a 0-d array). Compute the log-softmax with the row
        #   maximum subtracted first, keep p for the vjp.
        # DERIVATION:
        #   With $z_n = a_{n\cdot} - \max_c a_{nc}$ (the same softmax, no overflow),
        #   $\log p_{nc} = z_{nc} - \log \sum_{c'} e^{z_{nc'}}$ and
        #   $L = -\frac{1}{N} \sum_n \log p_{n y_n}$. As in the `softmax_cross_entropy`
        #   exercise, $\partial L / \partial a_{nc} = (p_{nc} - [c = y_n]) / N$, an
        #   $(N, C)$ array; the vjp multiplies it by $g$, the 0-d gradient of $L$.
        # MISTAKES:
        #   - Not divided by $N$: `likely mistake: every value is 2 times the expected one, and
        #     2 is the batch size N: ...` on a batch of 2.
        #   - No maximum subtracted: logits near 1000 overflow, `1 of 1 values are nan or inf
        #     where finite values were expected (overflow? use the stable formula)`.
        z = self.data - self.data.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        rows = np.arange(n)
        loss = -log_p[rows, y].mean()
        slope = np.exp(log_p)
        slope[rows, y] -= 1.0
        slope /= n
        value = np.asarray(loss, dtype=self.data.dtype)
        return Tensor(value, (self,), (lambda g: g * slope,), "cross_entropy")
        # END SOLUTION

    # --------------------------------------------------------------- given: compositions

    def __neg__(self) -> Tensor:
        return self * -1.0

    def __sub__(self, other: Tensor | npt.ArrayLike) -> Tensor:
        return self + (-self._operand(other))

    def __radd__(self, other: npt.ArrayLike) -> Tensor:
        return self._operand(other) + self

    def __rsub__(self, other: npt.ArrayLike) -> Tensor:
        return self._operand(other) - self

    def __rmul__(self, other: npt.ArrayLike) -> Tensor:
        return self._operand(other) * self

    def __rmatmul__(self, other: npt.ArrayLike) -> Tensor:
        return self._operand(other) @ self

    def _operand(self, other: Tensor | npt.ArrayLike) -> Tensor:
        """``other`` as a Tensor: a number or an array becomes a leaf of ``self``'s dtype."""
        if isinstance(other, Tensor):
            return other
        return Tensor(np.asarray(other, dtype=self.data.dtype))

    # ------------------------------------------------------------------ the backward pass

    def backward(self) -> None:
        """Back-propagate from this scalar tensor: afterwards ``t.grad`` is dself/dt for every t.

        The contract (that of ``Value.backward``): ``self`` holds one element (a loss); every
        tensor of its graph first gets ``grad`` = zeros of its shape and dtype, then
        ``self.grad`` = ones; then, in the reverse of ``topological_order(self)``, each tensor
        adds ``vjp(self.grad)`` of each of its children to that child's ``grad``. Each call
        gives the gradients of that call (nothing to zero between steps), and a tensor used
        twice receives the sum. No recursion (``topological_order`` has none).

        Raises (given): ``ValueError`` when ``self`` holds more than one element.
        """
        if self.data.size != 1:
            raise ValueError(
                f"backward() starts from a loss of one element, got a tensor of shape "
                f"{self.shape}: reduce it first (sum, cross_entropy)"
            )
        # BEGIN SOLUTION
        # HINT 4: The walk of Value.backward with arrays: zeros of each tensor's shape and
        #   dtype for every grad of the order, ones for the output's, then, backwards through
        #   the order, add to each child's grad the child's vjp applied to the tensor's grad.
        # DERIVATION:
        #   The same walk as `Value.backward`, with arrays: for a tensor $v$,
        #   $\partial L / \partial v = \sum_{(u, c = v)} \mathrm{vjp}_{u,c}(\partial L /
        #   \partial u)$, every term of the shape of $v$; the reverse topological order makes
        #   each $\partial L / \partial u$ complete before it is passed on.
        # MISTAKES:
        #   - `child.grad = vjp(...)` instead of adding: `likely mistake: gradients
        #     overwritten: a tensor used twice must receive the sum of one term per use
        #     (accumulate into grad)`.
        order = topological_order(self)
        for tensor in order:
            tensor.grad = np.zeros_like(tensor.data)
        self.grad = np.ones_like(self.data)
        for tensor in reversed(order):
            assert tensor.grad is not None
            for child, vjp in zip(tensor.children, tensor.vjps, strict=True):
                assert child.grad is not None
                child.grad += vjp(tensor.grad)
        # END SOLUTION


# ------------------------------------------------------------------ exercise mnist_autograd


class TensorMLP:
    """The MLP of the ``mlp`` capstone, written with Tensors: ``sizes[0] -> ... -> sizes[-1]``.

    Layer k holds ``W_k`` ``(sizes[k], sizes[k+1])`` and ``b_k`` ``(sizes[k+1],)``, leaf
    Tensors stored in ``self.weights`` as ``[(W_0, b_0), (W_1, b_1), ...]``::

        h_0 = x                       x (N, sizes[0]), a numpy array
        h_{k+1} = relu(h_k W_k + b_k)  for every layer but the last
        logits = h_K W_K + b_K         (N, sizes[-1]), no ReLU

    Contract: every ``W_k`` is drawn from ``rng``, in layer order, with He initialization
    (your ``he_normal``) where it feeds a ReLU and ``toolkit.layer.lecun_default`` for the last
    layer, in ``dtype``; every bias starts at 0. ``__call__(x)`` returns the logits as a
    ``Tensor`` whose graph reaches every weight. ``params`` and ``grads`` (given) expose the
    arrays by the names of ``Sequential`` (``"0.W"``, ``"0.b"``, ``"2.W"``...), so your
    optimizers update the very arrays the Tensors hold.

    What the grader checks: shapes and dtypes, the logits against a numpy forward pass, then
    it trains ``TensorMLP([784, 1024, 10])`` with the given ``fit_epoch`` (the recipe of the
    ``mlp`` capstone: SGD with lr 0.05 and momentum 0.9, batches of 128, 3 epochs, the
    learning rate halved after each, shifts of one pixel) to at least 97.5 % test accuracy.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        *,
        rng: np.random.Generator,
        dtype: npt.DTypeLike = np.float32,
    ) -> None:
        if len(sizes) < 2:
            raise ValueError(f"sizes must list at least the input and the output, got {sizes}")
        self.sizes = [checks.positive_int("sizes", size) for size in sizes]
        self.dtype = checks.floating_dtype("dtype", dtype)
        # BEGIN SOLUTION
        # HINT 1: Write the shapes of W_k and b_k down first, then which initializer each W_k
        #   needs: does the layer feed a ReLU?
        # HINT 2: W_k is (sizes[k], sizes[k + 1]): h_k W_k turns N rows of sizes[k] values
        #   into N rows of sizes[k + 1]. he_normal(shape, rng, dtype) for every layer but the
        #   last, lecun_default(shape, rng, dtype) for the last.
        # DERIVATION:
        #   The shapes follow from $h_{k+1} = h_k W_k + b_k$ with $h_k$ of shape
        #   $(N, d_k)$: $W_k$ is $(d_k, d_{k+1})$ and $b_k$ is $(d_{k+1},)$, broadcast over the
        #   rows (its gradient summed back by your `unbroadcast`). He's variance $2 / d_k$
        #   keeps the activations of order one through each ReLU (see `models.py`).
        # STATED: sizes[k + 1]
        last = len(self.sizes) - 2
        self.weights: list[tuple[Tensor, Tensor]] = []
        for k in range(last + 1):
            shape = (self.sizes[k], self.sizes[k + 1])
            init = lecun_default if k == last else he_normal
            W = Tensor(np.asarray(init(shape, rng, self.dtype), dtype=self.dtype))
            b = Tensor(np.zeros(self.sizes[k + 1], dtype=self.dtype))
            self.weights.append((W, b))
        # END SOLUTION

    def __call__(self, x: np.ndarray) -> Tensor:
        """The logits ``(N, sizes[-1])`` of the batch ``x`` ``(N, sizes[0])``, as a Tensor."""
        checks.shape("x", x, ("N", self.sizes[0]), where=repr(self))
        # BEGIN SOLUTION
        # HINT 3: x is a numpy array: make it a leaf Tensor first; every layer is one @, one +
        #   and, but for the last, one relu.
        # HINT 4: Start from a leaf Tensor of x; for each pair (W, b), the next h is the matrix
        #   product of h with W plus b, then its relu unless the layer is the last; return the
        #   last h.
        # DERIVATION:
        #   The forward definition with the operations of `Tensor`; `backward` then derives
        #   every gradient of the MLP, which your `Linear` and `ReLU` computed by hand.
        h = Tensor(x)
        for k, (W, b) in enumerate(self.weights):
            h = h @ W + b
            if k < len(self.weights) - 1:
                h = h.relu()
        return h
        # END SOLUTION

    @property
    def params(self) -> dict[str, np.ndarray]:
        """The weight arrays by name: ``"0.W"``, ``"0.b"``, ``"2.W"``, ... (as ``Sequential``,
        where the ReLU between two layers takes an index)."""
        return {
            f"{2 * k}.{name}": tensor.data
            for k, pair in enumerate(self.weights)
            for name, tensor in zip(("W", "b"), pair, strict=True)
        }

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """The gradients of ``params`` after the last ``backward``, by the same names."""
        grads = {}
        for k, pair in enumerate(self.weights):
            for name, tensor in zip(("W", "b"), pair, strict=True):
                if tensor.grad is None:
                    raise RuntimeError(f"{2 * k}.{name} has no gradient: call backward first")
                grads[f"{2 * k}.{name}"] = tensor.grad
        return grads

    def __repr__(self) -> str:
        return f"TensorMLP({self.sizes})"


class StepOptimizer(Protocol):
    """What ``fit_epoch`` needs of an optimizer (your ``SGD`` and ``Adam`` are ones)."""

    lr: float

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None: ...


def fit_epoch(
    model: TensorMLP,
    optimizer: StepOptimizer,
    images: np.ndarray,
    labels: np.ndarray,
    rng: np.random.Generator,
    *,
    batch_size: int = 128,
    max_shift: int = 1,
    lr_decay: float = 0.5,
    on_batch: Callable[[int, float], None] | None = None,
) -> float:
    """One epoch of ``model`` on MNIST ``images`` ``(N, 1, 28, 28)``; returns the mean loss.

    Given. The recipe of the ``mlp`` capstone through Tensors: the images shifted by up to
    ``max_shift`` pixels, shuffled by ``rng``, then for each mini-batch the logits, the fused
    cross-entropy, ``backward`` and ``optimizer.step(model.params, model.grads)``; last, the
    learning rate is multiplied by ``lr_decay``. ``on_batch(examples_done, loss)`` reports
    progress.
    """
    if max_shift:
        images = random_shift(images, max_shift, rng)
    x = images.reshape(len(images), -1)
    order = rng.permutation(len(x))
    total, done = 0.0, 0
    for start in range(0, len(x), batch_size):
        batch = order[start : start + batch_size]
        loss = model(x[batch]).cross_entropy(labels[batch])
        loss.backward()
        optimizer.step(model.params, model.grads)
        total += float(loss.data) * len(batch)
        done += len(batch)
        if on_batch is not None:
            on_batch(done, float(loss.data))
    optimizer.lr *= lr_decay
    return total / done


def predict(model: TensorMLP, images: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """The predicted class of each image ``(N, 1, 28, 28)`` (the argmax of its logits)."""
    x = images.reshape(len(images), -1)
    return np.concatenate(
        [model(x[i : i + batch_size]).data.argmax(axis=1) for i in range(0, len(x), batch_size)]
    )
