# Generated from reference/tensor_autograd.py by `nox -s exercises`: this is your file, edit it.
# Replace each `raise NotImplementedError(...)` with your code; `nox` grades it.
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
    raise NotImplementedError(
        "tensor_autograd: implement unbroadcast in exercises/tensor_autograd.py"
    )


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
        raise NotImplementedError(
            "tensor_autograd: implement Tensor.__add__ in exercises/tensor_autograd.py"
        )

    def __mul__(self, other: Tensor | npt.ArrayLike) -> Tensor:
        other = self._operand(other)
        raise NotImplementedError(
            "tensor_autograd: implement Tensor.__mul__ in exercises/tensor_autograd.py"
        )

    def __matmul__(self, other: Tensor | npt.ArrayLike) -> Tensor:
        other = self._operand(other)
        if self.data.ndim != 2 or other.data.ndim != 2 or self.shape[1] != other.shape[0]:
            raise ValueError(
                f"Tensor @ Tensor: expected (N, D) @ (D, M), got {self.shape} @ {other.shape}"
            )
        raise NotImplementedError(
            "tensor_autograd: implement Tensor.__matmul__ in exercises/tensor_autograd.py"
        )

    def sum(self, axis: int | None = None) -> Tensor:
        """The sum of every element (a 0-d tensor), or along ``axis`` (that axis removed)."""
        if axis is not None and not -self.data.ndim <= axis < self.data.ndim:
            raise ValueError(f"sum: axis {axis} is out of range for shape {self.shape}")
        raise NotImplementedError(
            "tensor_autograd: implement Tensor.sum in exercises/tensor_autograd.py"
        )

    def reshape(self, *shape: int) -> Tensor:
        """The same elements, in row-major order, in ``shape`` (one entry may be -1)."""
        raise NotImplementedError(
            "tensor_autograd: implement Tensor.reshape in exercises/tensor_autograd.py"
        )

    def relu(self) -> Tensor:
        """``max(self, 0)`` elementwise; the slope is 1 where ``self > 0``, 0 elsewhere."""
        raise NotImplementedError(
            "tensor_autograd: implement Tensor.relu in exercises/tensor_autograd.py"
        )

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
        raise NotImplementedError(
            "tensor_autograd: implement Tensor.cross_entropy in exercises/tensor_autograd.py"
        )

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
        raise NotImplementedError(
            "tensor_autograd: implement Tensor.backward in exercises/tensor_autograd.py"
        )


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
        raise NotImplementedError(
            "mnist_autograd: implement TensorMLP.__init__ in exercises/tensor_autograd.py"
        )

    def __call__(self, x: np.ndarray) -> Tensor:
        """The logits ``(N, sizes[-1])`` of the batch ``x`` ``(N, sizes[0])``, as a Tensor."""
        checks.shape("x", x, ("N", self.sizes[0]), where=repr(self))
        raise NotImplementedError(
            "mnist_autograd: implement TensorMLP.__call__ in exercises/tensor_autograd.py"
        )

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
