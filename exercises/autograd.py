# Generated from reference/autograd.py by `nox -s exercises`: this is your file, edit it.
# Replace each `raise NotImplementedError(...)` with your code; `nox` grades it.
"""Exercises ``autograd`` and ``moons``: a scalar automatic differentiation engine, and a
small neural network built of its values.

Every layer so far had its backward pass written by hand. An autograd engine writes it for you:
each number remembers the operation that made it and the numbers it was made from, so the whole
computation is a graph, and one walk over that graph from the output back to the inputs applies
the chain rule everywhere at once. This is the idea under every framework (PyTorch's
``autograd``, JAX); the ``Value`` below is a scalar version of it, in the spirit of Andrej
Karpathy's micrograd.

The graph. A ``Value`` made by an operation keeps its *children* (the operands) and, for each
child c, the *local derivative* ``d out / d c`` evaluated at the operands' values, computed in
the forward pass. Were ``out = a + 3 * b`` one operation, its children would be ``(a, b)`` and
its local derivatives ``(1.0, 3.0)``. Leaves (values made by ``Value(3.0)``) have neither.

The chain rule on a graph. For the output L and any value v of the graph::

    dL/dv = sum over every use of v as a child c of some value u:  (d u / d c) * dL/du

A value used twice (``a * a``, or ``a`` feeding two layers) gets one term per use: gradients
*accumulate*. The terms of ``u`` can be added to its children only once ``dL/du`` is complete,
that is after every value that uses ``u`` was processed: the values are walked in *reverse
topological order* (the output first; a value only after all the values made from it).

Exercise ``autograd`` (``nox -s hint -- autograd``): the operations of ``Value`` (their forward
values and local derivatives), ``topological_order`` and ``Value.backward``. The operations
``-v``, ``a - b``, ``a / b`` and those with a plain number on the left (``2 * v``, ``1 - v``)
are given: each is a composition of the operations you write (``a / b`` is ``a * b**-1``), so
its gradient is right as soon as yours are.

Exercise ``moons`` (``nox -s hint -- moons``): ``Neuron``, ``Layer`` and ``MLP``, a multilayer
perceptron whose every weight is a ``Value``; the given ``train_classifier`` fits it to the two
interleaved half-moons of ``toolkit.moons`` with the gradients of your ``backward``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar, cast

import numpy as np

Number = int | float


class Node(Protocol):
    """What ``topological_order`` needs of a value: the values it was made from."""

    @property
    def children(self) -> Sequence[Node]: ...


NodeT = TypeVar("NodeT", bound=Node)


class Value:
    """A scalar that records how it was made, so that gradients can flow back through it.

    Attributes:
        data: the number (a Python float).
        grad: dL/d(this value) after ``L.backward()`` on an output L of the graph (0.0 before).
        children: the values this one was made from (empty for a leaf), in operand order.
        local_grads: for each child c, the number ``d self / d c`` at the forward values.
        op: the name of the operation that made it ("" for a leaf), for ``repr``.

    The operations (each returns a new ``Value``, never changes its operands)::

        a + b       data a + b          children (a, b)
        a * b       data a * b          children (a, b)
        a ** k      data a^k            children (a,)      k a plain int or float
        a.exp()     data e^a            children (a,)
        a.log()     data ln a           children (a,)      a > 0 (math.log raises otherwise)
        a.tanh()    data tanh a         children (a,)
        a.relu()    data max(a, 0)      children (a,)
        a.sigmoid() data 1 / (1 + e^-a) children (a,)

    A plain number on either side is wrapped in a leaf ``Value`` (given: ``_as_value``).

    The contract of each operation you write: compute ``data``, and store with the children
    their local derivatives, as plain floats, evaluated at the operands' data. To derive: the
    local derivative of each of the eight operations, with respect to each operand, written
    with the operands' data and, where it is simpler, with the output's own data. ReLU at 0:
    the derivative is taken as 0 there (the convention of PyTorch: the slope is 1 only where
    a > 0). The sigmoid must not overflow for any float (e^1000 does, in Python as in numpy).

    What the grader checks: forward values against known results and against a float64
    evaluation of random expression trees; every gradient against central differences on
    random expression trees drawn by hypothesis; a value used twice; ReLU at 0; the sigmoid of
    +-1000; that no operation changes its operands.
    """

    __slots__ = ("children", "data", "grad", "local_grads", "op")

    def __init__(
        self,
        data: Number,
        children: tuple[Value, ...] = (),
        local_grads: tuple[float, ...] = (),
        op: str = "",
    ) -> None:
        if type(data) is not float:  # the fast path: every operation passes a float
            data = _real_number(data, "Value(data)")
        if len(children) != len(local_grads):
            raise ValueError(
                f"Value: {len(children)} children but {len(local_grads)} local gradients; "
                "give one local derivative per child"
            )
        self.data = data
        self.grad = 0.0
        self.children = children
        self.local_grads = local_grads
        self.op = op

    def __repr__(self) -> str:
        made = f", op={self.op!r}" if self.op else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{made})"

    # ---------------------------------------------------------------- the operations you write

    def __add__(self, other: Value | Number) -> Value:
        """``self + other``."""
        other = _as_value(other, "+")
        raise NotImplementedError("autograd: implement Value.__add__ in exercises/autograd.py")

    def __mul__(self, other: Value | Number) -> Value:
        """``self * other``."""
        other = _as_value(other, "*")
        raise NotImplementedError("autograd: implement Value.__mul__ in exercises/autograd.py")

    def __pow__(self, exponent: object) -> Value:
        """``self ** exponent`` for a plain number ``exponent`` (not a ``Value``)."""
        if not isinstance(exponent, int | float):
            raise TypeError(
                f"Value ** exponent: the exponent must be a plain int or float, got "
                f"{type(exponent).__name__} (a power of a Value by a Value is not supported)"
            )
        raise NotImplementedError("autograd: implement Value.__pow__ in exercises/autograd.py")

    def exp(self) -> Value:
        """``e ** self``."""
        raise NotImplementedError("autograd: implement Value.exp in exercises/autograd.py")

    def log(self) -> Value:
        """The natural logarithm of ``self`` (``self.data > 0``)."""
        raise NotImplementedError("autograd: implement Value.log in exercises/autograd.py")

    def tanh(self) -> Value:
        """The hyperbolic tangent of ``self``."""
        raise NotImplementedError("autograd: implement Value.tanh in exercises/autograd.py")

    def relu(self) -> Value:
        """``max(self, 0)``; the local derivative is 1 where ``self > 0`` and 0 elsewhere."""
        raise NotImplementedError("autograd: implement Value.relu in exercises/autograd.py")

    def sigmoid(self) -> Value:
        """The logistic function ``1 / (1 + e^-self)``, without overflow for any float."""
        raise NotImplementedError("autograd: implement Value.sigmoid in exercises/autograd.py")

    # --------------------------------------------------------------- given: compositions

    def __neg__(self) -> Value:
        """``-self``, as ``self * -1``."""
        return self * -1.0

    def __sub__(self, other: Value | Number) -> Value:
        """``self - other``, as ``self + (-other)``."""
        return self + (-_as_value(other, "-"))

    def __truediv__(self, other: Value | Number) -> Value:
        """``self / other``, as ``self * other ** -1``."""
        return self * _as_value(other, "/") ** -1

    def __radd__(self, other: Number) -> Value:
        """``other + self`` for a plain number ``other``."""
        return _as_value(other, "+") + self

    def __rsub__(self, other: Number) -> Value:
        """``other - self`` for a plain number ``other``."""
        return _as_value(other, "-") - self

    def __rmul__(self, other: Number) -> Value:
        """``other * self`` for a plain number ``other``."""
        return _as_value(other, "*") * self

    def __rtruediv__(self, other: Number) -> Value:
        """``other / self`` for a plain number ``other``."""
        return _as_value(other, "/") / self

    # ------------------------------------------------------------------ the backward pass

    def backward(self) -> None:
        """Back-propagate from this value: afterwards ``v.grad`` is d self / d v for every v.

        The contract:

        - every value of the graph of ``self`` (``self``, and every value reachable through
          ``children``) first has its ``grad`` set to 0, then ``self.grad`` is set to 1
          (d self / d self); then the values are processed in the reverse of
          ``topological_order(self)``, each passing its ``grad`` on to its children by the
          chain rule (what a child receives from one use is yours to derive);
        - so a value used several times receives the sum of one term per use, and each call
          gives the gradients of that call: calling ``backward`` twice leaves the same
          gradients as calling it once, and a second graph built on the same leaves starts
          from 0 (unlike micrograd and PyTorch, which add to the gradients of earlier calls
          until they are zeroed; here nothing needs zeroing, as the layers' ``backward`` sets
          its gradients);
        - no recursion: a graph as deep as a chain of 100,000 operations must work with
          Python's default recursion limit (1,000 frames), so neither the order nor the walk
          may call itself.

        To derive: why reverse topological order is the order in which every ``grad`` is
        complete before it is passed on.

        What the grader checks: the gradients of random expression trees against central
        differences, a value used twice, a chain of 100,000 operations run with the recursion
        limit lowered, and two calls in a row.
        """
        raise NotImplementedError("autograd: implement Value.backward in exercises/autograd.py")


def topological_order(output: NodeT) -> list[NodeT]:
    """Every value of the graph of ``output``, each once, children before their users.

    Any object with ``children`` will do: the ``Tensor`` of the next exercise uses this
    function too.

    Returns a list holding ``output`` and every value reachable from it through ``children``,
    each exactly once (a value used twice is listed once), in which every value comes after
    all of its children; ``output`` is therefore last. Values are distinct objects: compare
    them by identity (a ``set`` of values does), never by ``data``.

    No recursion: a chain of 100,000 operations must work with Python's default recursion
    limit. Designing the order without the call stack is the exercise.

    What the grader checks: on random graphs, that every value is listed once and after its
    children; a chain of 100,000 operations with the recursion limit lowered.
    """
    raise NotImplementedError("autograd: implement topological_order in exercises/autograd.py")


def _real_number(value: object, what: str) -> float:
    """``value`` as a float if it is a real number (not a bool, not a Value); else TypeError."""
    if isinstance(value, int | float | np.floating | np.integer) and not isinstance(value, bool):
        return float(value)
    raise TypeError(f"{what}: expected a real number (int or float), got {type(value).__name__}")


def _as_value(other: object, operator: str) -> Value:
    """``other`` as a ``Value``: a plain number becomes a leaf; a ``TypeError`` otherwise."""
    if isinstance(other, Value):
        return other
    return Value(_real_number(other, f"Value {operator} other: the other operand"))


# ------------------------------------------------------------------------- exercise moons


class Neuron:
    """One neuron: a weighted sum of its inputs plus a bias, then ReLU unless it is linear.

    Definition, for inputs ``x[0], ..., x[n_in - 1]`` (``Value`` objects or plain numbers)::

        z = sum_i w[i] x[i] + b          out = relu(z) if nonlinear, else z

    Contract: the constructor creates ``self.w``, a list of ``n_in`` leaf ``Value`` objects
    drawn uniformly from [-1, 1) by ``rng`` (one array of ``n_in`` draws:
    ``rng.uniform(-1, 1, n_in)``), and ``self.b``, a leaf ``Value(0.0)``; ``parameters()``
    returns ``[*self.w, self.b]`` (this order); ``__call__(x)`` returns ``out`` and raises a
    ``ValueError`` naming both sizes when ``len(x) != n_in``.

    What the grader checks: the number of parameters, their order, the output against a
    float64 formula with the same weights, the gradients that flow to every parameter.
    """

    def __init__(self, n_in: int, *, nonlinear: bool = True, rng: np.random.Generator) -> None:
        raise NotImplementedError("moons: implement Neuron.__init__ in exercises/autograd.py")

    def __call__(self, x: Sequence[Value | Number]) -> Value:
        raise NotImplementedError("moons: implement Neuron.__call__ in exercises/autograd.py")

    def parameters(self) -> list[Value]:
        raise NotImplementedError("moons: implement Neuron.parameters in exercises/autograd.py")


class Layer:
    """``n_out`` neurons, each reading the same ``n_in`` inputs.

    Contract: ``self.neurons`` holds ``n_out`` ``Neuron(n_in, nonlinear=nonlinear, rng=rng)``,
    created in order from the same ``rng``; ``__call__(x)`` returns the list of their
    ``n_out`` outputs; ``parameters()`` the parameters of neuron 0, then neuron 1, ...
    """

    def __init__(
        self, n_in: int, n_out: int, *, nonlinear: bool = True, rng: np.random.Generator
    ) -> None:
        raise NotImplementedError("moons: implement Layer.__init__ in exercises/autograd.py")

    def __call__(self, x: Sequence[Value | Number]) -> list[Value]:
        raise NotImplementedError("moons: implement Layer.__call__ in exercises/autograd.py")

    def parameters(self) -> list[Value]:
        raise NotImplementedError("moons: implement Layer.parameters in exercises/autograd.py")


class MLP:
    """A multilayer perceptron of ``Value`` objects: ``n_in -> sizes[0] -> ... -> sizes[-1]``.

    Contract: ``self.layers`` holds one ``Layer`` per entry of ``sizes`` (layer k reads the
    outputs of layer k - 1, the first reads the ``n_in`` inputs), every layer but the last
    nonlinear (ReLU), the last linear (its outputs are scores); built in order from ``rng``.
    ``__call__(x)`` returns the list of the last layer's outputs; ``parameters()`` those of
    layer 0, then layer 1, ...

    ``MLP(2, [16, 16, 1], rng=rng)`` has 2*16 + 16 + 16*16 + 16 + 16 + 1 = 337 parameters.

    What the grader checks: the structure and the parameter count, the output against a numpy
    forward pass with the same weights, that the last layer is linear (negative scores occur),
    and that ``train_classifier`` brings it to at least 95 % accuracy on held-out moons.
    """

    def __init__(self, n_in: int, sizes: Sequence[int], *, rng: np.random.Generator) -> None:
        raise NotImplementedError("moons: implement MLP.__init__ in exercises/autograd.py")

    def __call__(self, x: Sequence[Value | Number]) -> list[Value]:
        raise NotImplementedError("moons: implement MLP.__call__ in exercises/autograd.py")

    def parameters(self) -> list[Value]:
        raise NotImplementedError("moons: implement MLP.parameters in exercises/autograd.py")


def train_classifier(
    model: MLP,
    x: np.ndarray,
    y: np.ndarray,
    *,
    steps: int = 40,
    alpha: float = 1e-4,
    on_step: Callable[[int, float, float], None] | None = None,
) -> float:
    """Fit ``model`` (one output, a score) to labels ``y`` in {0, 1} by full-batch gradient
    descent; return the final training accuracy. Given: it uses your ``Value`` and ``MLP``.

    The loss is micrograd's: the mean hinge loss of the scores ``s_n`` with the labels as
    ``t_n = 2 y_n - 1`` in {-1, +1}, plus an L2 penalty on every parameter::

        L = (1/N) sum_n relu(1 - t_n s_n)  +  alpha * sum_p p^2

    and the step ``p <- p - lr_k dL/dp`` with ``lr_k = 1 - 0.9 k / steps`` (from 1 to 0.1).
    A sample counts as right when ``t_n s_n > 0``. ``on_step(step, loss, accuracy)`` is called
    after each step (the training command's progress).
    """
    if x.ndim != 2 or len(x) != len(y):
        raise ValueError(f"x must be (N, D) and y (N,), got {x.shape} and {y.shape}")
    targets = 2.0 * np.asarray(y, dtype=np.float64) - 1.0
    parameters = model.parameters()
    inputs = [[float(v) for v in row] for row in x]
    accuracy = 0.0
    for step in range(steps):
        scores = [model(row)[0] for row in inputs]
        margins = [(1.0 - float(t) * s).relu() for t, s in zip(targets, scores, strict=True)]
        data_loss = sum(margins, Value(0.0)) * (1.0 / len(margins))
        penalty = sum((p * p for p in parameters), Value(0.0)) * alpha
        loss = data_loss + penalty
        loss.backward()
        learning_rate = 1.0 - 0.9 * step / steps
        for p in parameters:
            p.data -= learning_rate * p.grad
        right = [float(t) * s.data > 0 for t, s in zip(targets, scores, strict=True)]
        accuracy = sum(right) / len(right)
        if on_step is not None:
            on_step(step, loss.data, accuracy)
    return accuracy


def predict_scores(model: MLP, x: np.ndarray) -> np.ndarray:
    """The model's score for every row of ``x`` ``(N, D)``, as a float64 array ``(N,)``."""
    return np.array([model([float(v) for v in row])[0].data for row in x], dtype=np.float64)
