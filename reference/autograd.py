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
        # BEGIN SOLUTION
        # HINT 1: Start with the simplest graph: out = a + b. How much does out move when a
        #   moves by a small h, b fixed? And when b moves?
        # DERIVATION:
        #   $\mathrm{out} = a + b$, so $\partial \mathrm{out} / \partial a = 1$ and
        #   $\partial \mathrm{out} / \partial b = 1$: a sum passes its gradient unchanged to
        #   both operands. The children are $(a, b)$, the local derivatives $(1, 1)$.
        # MISTAKES:
        #   - Local derivatives `(1, 0)`: the second operand gets no gradient; the grader
        #     prints `the gradient [x0.grad, x1.grad, x2.grad] differs from the expected
        #     values` for the smallest expression tree it finds.
        return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")
        # END SOLUTION

    def __mul__(self, other: Value | Number) -> Value:
        """``self * other``."""
        other = _as_value(other, "*")
        # BEGIN SOLUTION
        # HINT 2: For out = a * b, d out / d a = b and d out / d b = a, evaluated at the
        #   operands' data. Every operation is the same pattern: the output's data, the
        #   children, and one local derivative per child.
        # DERIVATION:
        #   $\mathrm{out} = a b$: $\partial \mathrm{out} / \partial a = b$ and
        #   $\partial \mathrm{out} / \partial b = a$. Each operand receives the *other*'s
        #   value; for $a \cdot a$ both children are $a$ and both terms land on it
        #   (accumulation in `backward`), giving $2a$.
        # MISTAKES:
        #   - The local derivatives swapped to `(a, b)`: `the gradient [x0.grad, x1.grad,
        #     x2.grad] differs from the expected values` on a product of two different values.
        return Value(self.data * other.data, (self, other), (other.data, self.data), "*")
        # END SOLUTION

    def __pow__(self, exponent: object) -> Value:
        """``self ** exponent`` for a plain number ``exponent`` (not a ``Value``)."""
        if not isinstance(exponent, int | float):
            raise TypeError(
                f"Value ** exponent: the exponent must be a plain int or float, got "
                f"{type(exponent).__name__} (a power of a Value by a Value is not supported)"
            )
        # BEGIN SOLUTION
        # HINT 4: The local derivatives, in the order of the table: 1 and 1; the other
        #   operand's data for each of a product's two; k a^(k-1); the output itself for exp;
        #   1 / a for log; 1 - t^2 with t the output for tanh; 1 where a > 0 and 0 elsewhere
        #   for relu; s (1 - s) with s the output for the sigmoid.
        # DERIVATION:
        #   $\mathrm{out} = a^k$ for a constant $k$: $\partial \mathrm{out} / \partial a =
        #   k a^{k-1}$ (also for negative and fractional $k$, where $a^k$ is defined). The
        #   exponent is a number, not a child: it receives no gradient.
        # MISTAKES:
        #   - `k * a ** k`: the exponent not lowered; the gradient check fails on `a ** 2`.
        return Value(
            self.data**exponent, (self,), (exponent * self.data ** (exponent - 1),), f"**{exponent}"
        )
        # END SOLUTION

    def exp(self) -> Value:
        """``e ** self``."""
        # BEGIN SOLUTION
        # DERIVATION:
        #   $\mathrm{out} = e^a$: $\partial \mathrm{out} / \partial a = e^a = \mathrm{out}$,
        #   the output's own data.
        out = math.exp(self.data)
        return Value(out, (self,), (out,), "exp")
        # END SOLUTION

    def log(self) -> Value:
        """The natural logarithm of ``self`` (``self.data > 0``)."""
        # BEGIN SOLUTION
        # DERIVATION:
        #   $\mathrm{out} = \ln a$ for $a > 0$: $\partial \mathrm{out} / \partial a = 1 / a$.
        return Value(math.log(self.data), (self,), (1.0 / self.data,), "log")
        # END SOLUTION

    def tanh(self) -> Value:
        """The hyperbolic tangent of ``self``."""
        # BEGIN SOLUTION
        # HINT 3: For exp, tanh and sigmoid the local derivative is simplest in terms of the
        #   output t itself: compute t first, then the derivative from t (the activations
        #   exercise derived the same two slopes for whole arrays).
        # DERIVATION:
        #   $t = \tanh a$: $\partial t / \partial a = 1 - \tanh^2 a = 1 - t^2$.
        # MISTAKES:
        #   - `1 - a ** 2`, the input squared instead of the output: the gradient check fails.
        t = math.tanh(self.data)
        return Value(t, (self,), (1.0 - t * t,), "tanh")
        # END SOLUTION

    def relu(self) -> Value:
        """``max(self, 0)``; the local derivative is 1 where ``self > 0`` and 0 elsewhere."""
        # BEGIN SOLUTION
        # DERIVATION:
        #   $\mathrm{out} = \max(a, 0)$: the slope is $1$ for $a > 0$ and $0$ for $a < 0$; at
        #   $a = 0$ the convention is $0$.
        # MISTAKES:
        #   - The slope 1 at exactly 0 (`a >= 0`): `Value(0.0).relu()` then gives its leaf the
        #     gradient 1 and the grader prints `ReLU at 0: the convention is the slope 0 there`.
        # STATED: self.data > 0
        positive = self.data > 0
        return Value(self.data if positive else 0.0, (self,), (1.0 if positive else 0.0,), "relu")
        # END SOLUTION

    def sigmoid(self) -> Value:
        """The logistic function ``1 / (1 + e^-self)``, without overflow for any float."""
        # BEGIN SOLUTION
        # DERIVATION:
        #   $s = \sigma(a) = 1 / (1 + e^{-a})$: $\partial s / \partial a = e^{-a} / (1 +
        #   e^{-a})^2 = s (1 - s)$. For $a < 0$, $e^{-a}$ overflows when $-a > 709$; the same
        #   value written as $e^{a} / (1 + e^{a})$ only takes $e$ to a negative power there.
        # MISTAKES:
        #   - `1 / (1 + math.exp(-a))` for every a: `Value(-1000.0).sigmoid()` raises
        #     `OverflowError: math range error`, and the grader says `the sigmoid overflows:
        #     use a formula whose exponential is never of a large positive number`.
        if self.data >= 0:
            s = 1.0 / (1.0 + math.exp(-self.data))
        else:
            e = math.exp(self.data)
            s = e / (1.0 + e)
        return Value(s, (self,), (s * (1.0 - s),), "sigmoid")
        # END SOLUTION

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
        # BEGIN SOLUTION
        # HINT 1: Write the chain rule for one value v used by several values u first: which
        #   dL/du must be known before dL/dv is complete?
        # HINT 2: dL/dv = sum over the uses (u, c = v) of local(u, c) * dL/du. Processing a
        #   value u means adding local(u, c) * u.grad to c.grad for each of its children c,
        #   and it may happen only once u.grad holds all of its terms.
        # HINT 4: Take the topological order (children before the values made from them),
        #   set every grad in it to 0 and the output's to 1, then walk the order backwards,
        #   adding to each child's grad (+=, never =) its local derivative times the
        #   current value's grad.
        # DERIVATION:
        #   Let $L$ be `self`. For a value $v$, $L$ depends on $v$ only through the values
        #   $u$ that use it as a child, so the chain rule gives
        #
        #   $$\frac{\partial L}{\partial v} = \sum_{(u, c):\ c = v}
        #   \frac{\partial u}{\partial c} \frac{\partial L}{\partial u},$$
        #
        #   one term per use (for $a \cdot a$, two terms). Every $u$ on the right was made
        #   *after* $v$, so it comes after $v$ in a topological order: walking the order
        #   backwards, all of $v$'s users are processed before $v$, and $v$'s `grad` is
        #   complete when its turn comes to pass it on. Start from
        #   $\partial L / \partial L = 1$ and zeros everywhere else; each term is *added*.
        # MISTAKES:
        #   - `child.grad = ...` instead of `+=`: a value used twice keeps only its last
        #     term; the grader prints `gradients overwritten: a value used twice must receive
        #     the sum of one term per use (accumulate into grad)`.
        #   - Gradients not reset: the second call adds to the first, `likely mistake: each
        #     call must give the gradients of that call: backward first sets every grad of the
        #     graph to 0`.
        #   - Walking the order forwards: the leaves are processed before anything reached
        #     them, `likely mistake: every gradient is 0: the values must be processed from
        #     the output back to the leaves (the reverse of the topological order)`.
        order = topological_order(self)
        for value in order:
            value.grad = 0.0
        self.grad = 1.0
        for value in reversed(order):
            for child, local in zip(value.children, value.local_grads, strict=True):
                child.grad += local * value.grad
        # END SOLUTION


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
    # BEGIN SOLUTION
    # HINT 1: A recursive depth-first search would add a value after visiting its children.
    #   Which two situations must an explicit stack tell apart when it pops a value?
    # HINT 2: A value is popped either to be expanded (its children still to visit) or to be
    #   emitted (its children are all in the order). Push it twice: once to be emitted, then
    #   its children on top of it, so they are done first.
    # HINT 3: The stack holds pairs (value, expanded); a set of the values already expanded
    #   makes each appear once, however many users it has.
    # HINT 4: Pop a pair. If it is marked expanded, append the value to the order. Otherwise,
    #   skip it if already seen; else mark it seen, push (value, expanded) back, and push
    #   (child, not expanded) for every child not seen yet. The order is complete when the
    #   stack is empty.
    # DERIVATION:
    #   Depth-first search emits a value when all of its children are emitted (post-order),
    #   which is a topological order of a graph without cycles. Recursion keeps the path in
    #   Python's frames, one frame per level: a chain of depth $10^5$ overflows the limit of
    #   $10^3$. An explicit stack keeps the same state in a list: each value is pushed once
    #   to be expanded (the first time it is reached unseen) and once to be emitted, so the
    #   work is $O(V + E)$ for $V$ values and $E$ child links, and the memory is a list.
    #   When the "emit" entry of $v$ is popped, every entry pushed above it (its children and
    #   everything under them) was popped and emitted before: the children precede $v$.
    # MISTAKES:
    #   - A recursive helper: the grader prints `likely mistake: RecursionError in
    #     topological_order (its helper visit), called by Value.backward: a chain of 100,000
    #     operations needs a walk without recursion (keep your own stack in a list)`.
    #   - No check of the values already seen when one is popped: a value reached along
    #     two paths is expanded twice, `is listed 2 times: every value must appear once`,
    #     and its gradient is counted twice.
    order: list[NodeT] = []
    seen: set[int] = set()
    stack: list[tuple[NodeT, bool]] = [(output, False)]
    while stack:
        value, expanded = stack.pop()
        if expanded:
            order.append(value)
            continue
        if id(value) in seen:
            continue
        seen.add(id(value))
        stack.append((value, True))
        children = cast(Sequence[NodeT], value.children)  # a graph holds one kind of value
        stack.extend((child, False) for child in children if id(child) not in seen)
    return order
    # END SOLUTION


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
        # BEGIN SOLUTION
        # HINT 1: A neuron is the Linear layer for one output column, written with Values:
        #   what are its parameters, and how many?
        # DERIVATION:
        #   $n_{\text{in}}$ weights and one bias, each a leaf `Value`, so that `backward`
        #   reaches them: $z = \sum_i w_i x_i + b$ is built from `*` and `+` of the engine.
        self.w = [Value(float(v)) for v in rng.uniform(-1.0, 1.0, n_in)]
        self.b = Value(0.0)
        self.nonlinear = nonlinear
        # END SOLUTION

    def __call__(self, x: Sequence[Value | Number]) -> Value:
        # BEGIN SOLUTION
        # HINT 2: z = sum_i w[i] x[i] + b; start the sum at b and add one product per input.
        # DERIVATION:
        #   $z$ is a chain of $n_{\text{in}}$ additions of products, starting from $b$; its
        #   gradient with respect to $w_i$ is $x_i$ and with respect to $b$ is 1, which the
        #   engine derives from `*` and `+`.
        if len(x) != len(self.w):
            raise ValueError(f"Neuron({len(self.w)}): expected {len(self.w)} inputs, got {len(x)}")
        z = self.b
        for w, xi in zip(self.w, x, strict=True):
            z = z + w * xi
        return z.relu() if self.nonlinear else z
        # END SOLUTION

    def parameters(self) -> list[Value]:
        # BEGIN SOLUTION
        # DERIVATION:
        #   The weights, then the bias: the order the grader uses to set known weights.
        return [*self.w, self.b]
        # END SOLUTION


class Layer:
    """``n_out`` neurons, each reading the same ``n_in`` inputs.

    Contract: ``self.neurons`` holds ``n_out`` ``Neuron(n_in, nonlinear=nonlinear, rng=rng)``,
    created in order from the same ``rng``; ``__call__(x)`` returns the list of their
    ``n_out`` outputs; ``parameters()`` the parameters of neuron 0, then neuron 1, ...
    """

    def __init__(
        self, n_in: int, n_out: int, *, nonlinear: bool = True, rng: np.random.Generator
    ) -> None:
        # BEGIN SOLUTION
        # DERIVATION:
        #   One neuron per output; each draws its weights from `rng` in turn, so a seed
        #   builds the same layer.
        # STATED: Neuron(n_in, nonlinear=nonlinear, rng=rng)
        self.neurons = [Neuron(n_in, nonlinear=nonlinear, rng=rng) for _ in range(n_out)]
        # END SOLUTION

    def __call__(self, x: Sequence[Value | Number]) -> list[Value]:
        # BEGIN SOLUTION
        # DERIVATION:
        #   $\mathrm{out}_j = \text{neuron}_j(x)$ for $j < n_{\text{out}}$.
        return [neuron(x) for neuron in self.neurons]
        # END SOLUTION

    def parameters(self) -> list[Value]:
        # BEGIN SOLUTION
        # DERIVATION:
        #   The parameters of every neuron, in the neurons' order.
        return [p for neuron in self.neurons for p in neuron.parameters()]
        # END SOLUTION


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
        # BEGIN SOLUTION
        # HINT 3: The sizes of the layers' inputs are [n_in, *sizes] shifted by one: layer k
        #   goes from entry k to entry k + 1 of that list.
        # HINT 4: Build Layer(inputs[k], sizes[k]) for each k, nonlinear for every k but the
        #   last; call them in turn, each on the previous one's output list.
        # DERIVATION:
        #   With $d_0 = n_{\text{in}}$ and $d_{k+1}$ = `sizes[k]`, layer $k$ maps
        #   $d_k$ values to $d_{k+1}$ values: it has $d_{k+1}(d_k + 1)$ parameters. The last
        #   layer is linear, so that the score can take any sign.
        dims = [n_in, *sizes]
        self.layers: list[Layer] = []
        for k in range(len(sizes)):
            self.layers.append(Layer(dims[k], dims[k + 1], nonlinear=k < len(sizes) - 1, rng=rng))
        # END SOLUTION

    def __call__(self, x: Sequence[Value | Number]) -> list[Value]:
        # BEGIN SOLUTION
        # DERIVATION:
        #   $h^{(0)} = x$, $h^{(k+1)} = \text{layer}_k(h^{(k)})$; the output is the last $h$.
        h: Sequence[Value | Number] = x
        for layer in self.layers:
            h = layer(h)
        return list(h)  # type: ignore[arg-type]
        # END SOLUTION

    def parameters(self) -> list[Value]:
        # BEGIN SOLUTION
        # DERIVATION:
        #   The parameters of every layer, in the layers' order.
        return [p for layer in self.layers for p in layer.parameters()]
        # END SOLUTION


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
