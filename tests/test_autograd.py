"""Exercises ``autograd`` (the scalar ``Value``) and ``moons`` (an MLP of ``Value`` objects).

Gradients are judged on random expression trees drawn by hypothesis: each tree is evaluated
twice, once with the implementation's ``Value`` (then ``backward``) and once with plain float64
arithmetic written here, as a function of a numpy array of leaf values, whose gradient the
trusted central differences (``toolkit.gradcheck``) give. Trees stay in the operations'
domains by construction: a logarithm, a fractional or negative power and a divisor only ever
see ``c + t * t`` (or its negative) with ``c >= 0.5``; trees that get near ReLU's kink or that
grow beyond 1e4 are discarded.
"""

from __future__ import annotations

import inspect
import math
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kata.judge import assert_close
from kata.sandbox import frames_of, repeated
from toolkit.gradcheck import numerical_gradient
from toolkit.moons import train_and_test

AUTOGRAD = pytest.mark.exercise("autograd")
MOONS = pytest.mark.exercise("moons")

LEAVES = 3
LEAF_VALUES = st.floats(-2.0, 2.0, allow_nan=False)
CONSTANTS = st.floats(-2.0, 2.0, allow_nan=False).map(lambda c: round(c, 3))
POSITIVE = st.floats(0.5, 2.0).map(lambda c: round(c, 3))
KINK = 1e-3  # ReLU arguments closer to 0 than this are discarded
LARGEST = 1e4  # trees with a larger intermediate value are discarded
CHAIN = 100_000
CHAIN_FACTOR = 1.00001


# ------------------------------------------------------------------------ expression trees

Tree = tuple[Any, ...]


def _safe(tree: Tree, c: float) -> Tree:
    """``c + tree * tree``: at least c >= 0.5, the argument of log, 1/x and x**0.5."""
    return ("add", ("const", c), ("mul", tree, tree))


def _extend(children: st.SearchStrategy[Tree]) -> st.SearchStrategy[Tree]:
    binary = st.sampled_from(["add", "sub", "mul"])
    unary = st.sampled_from(["exp", "tanh", "relu", "sigmoid", "neg"])
    return st.one_of(
        st.tuples(binary, children, children),
        st.tuples(binary, CONSTANTS.map(lambda c: ("const", c)), children),
        st.tuples(binary, children, CONSTANTS.map(lambda c: ("const", c))),
        st.tuples(unary, children),
        st.tuples(st.just("div"), children, st.builds(_safe, children, POSITIVE)),
        st.tuples(
            st.just("div"), children, st.builds(_safe, children, POSITIVE).map(lambda t: ("neg", t))
        ),
        st.tuples(st.just("rdiv"), CONSTANTS, st.builds(_safe, children, POSITIVE)),
        st.tuples(st.just("log"), st.builds(_safe, children, POSITIVE)),
        st.tuples(st.just("pow"), children, st.sampled_from([2, 3])),
        st.tuples(
            st.just("pow"), st.builds(_safe, children, POSITIVE), st.sampled_from([-1, 0.5, -1.5])
        ),
    )


TREES = st.recursive(st.integers(0, LEAVES - 1).map(lambda i: ("leaf", i)), _extend, max_leaves=8)


class OutOfDomainError(Exception):
    """The float evaluation met a value the test keeps away from (a kink, a huge number)."""


def _float_sigmoid(v: float) -> float:
    if v >= 0:
        return 1.0 / (1.0 + math.exp(-v))
    return math.exp(v) / (1.0 + math.exp(v))


def _float_relu(v: float) -> float:
    if abs(v) < KINK:
        raise OutOfDomainError
    return max(v, 0.0)


def _float_exp(v: float) -> float:
    if v > math.log(LARGEST):
        raise OutOfDomainError
    return math.exp(v)


FLOAT_UNARY: dict[str, Callable[[float], float]] = {
    "exp": _float_exp,
    "log": math.log,
    "tanh": math.tanh,
    "relu": _float_relu,
    "sigmoid": _float_sigmoid,
    "neg": lambda v: -v,
}
VALUE_UNARY: dict[str, Callable[[Any], Any]] = {
    "exp": lambda v: v.exp(),
    "log": lambda v: v.log(),
    "tanh": lambda v: v.tanh(),
    "relu": lambda v: v.relu(),
    "sigmoid": lambda v: v.sigmoid(),
    "neg": lambda v: -v,
}
BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "rdiv": lambda a, b: a / b,
    "pow": lambda a, k: a**k,
}


def evaluate(tree: Tree, leaves: Any, value_type: Any = None) -> Any:
    """The tree's value: in float64 when ``value_type`` is None, else with ``Value``s.

    ``leaves`` holds the leaf values (floats, or ``Value`` objects). Constants stay plain
    numbers, so ``2 * v`` and ``v - 1`` meet the implementation's reflected operators.
    """
    kind = tree[0]
    if kind == "leaf":
        result = leaves[tree[1]]
        return float(result) if value_type is None else result
    if kind == "const":
        return tree[1]
    if kind in BINARY:
        a = tree[1] if kind == "rdiv" else evaluate(tree[1], leaves, value_type)
        b = tree[2] if kind == "pow" else evaluate(tree[2], leaves, value_type)
        result = BINARY[kind](a, b)
    else:
        operand = evaluate(tree[1], leaves, value_type)
        if value_type is None:
            result = FLOAT_UNARY[kind](operand)
        else:
            if not isinstance(operand, value_type):
                operand = value_type(operand)
            result = VALUE_UNARY[kind](operand)
    if value_type is None and abs(result) > LARGEST:
        raise OutOfDomainError
    return result


def render(tree: Tree) -> str:
    """The tree as an expression over x0, x1, x2, for messages."""
    kind = tree[0]
    if kind == "leaf":
        return f"x{tree[1]}"
    if kind == "const":
        return repr(tree[1])
    symbols = {"add": "+", "sub": "-", "mul": "*", "div": "/", "rdiv": "/", "pow": "**"}
    if kind in symbols:
        left = repr(tree[1]) if kind == "rdiv" else render(tree[1])
        right = repr(tree[2]) if kind == "pow" else render(tree[2])
        return f"({left} {symbols[kind]} {right})"
    if kind == "neg":
        return f"(-{render(tree[1])})"
    return f"{render(tree[1])}.{kind}()"


def has_leaf(tree: Tree) -> bool:
    if tree[0] == "leaf":
        return True
    return any(isinstance(part, tuple) and has_leaf(part) for part in tree[1:])


def float_value(tree: Tree, x: np.ndarray) -> float:
    try:
        return evaluate(tree, x)
    except OutOfDomainError:
        assume(False)
        raise


def value_graph(impl: Any, tree: Tree, x: np.ndarray) -> tuple[Any, list[Any]]:
    """The implementation's output Value for ``tree`` at leaf values ``x``, and its leaves."""
    leaves = [impl.autograd.Value(float(v)) for v in x]
    return evaluate(tree, leaves, impl.autograd.Value), leaves


# ------------------------------------------------------------------------ forward values


@AUTOGRAD
def test_forward_values_are_exact(impl):
    Value = impl.autograd.Value
    cases = [
        ("Value(3.0) + Value(4.0)", lambda: Value(3.0) + Value(4.0), 7.0),
        ("Value(3.0) * Value(4.0)", lambda: Value(3.0) * Value(4.0), 12.0),
        ("Value(3.0) - 1", lambda: Value(3.0) - 1, 2.0),
        ("1 - Value(3.0)", lambda: 1 - Value(3.0), -2.0),
        ("2 * Value(3.0)", lambda: 2 * Value(3.0), 6.0),
        ("Value(3.0) / 4", lambda: Value(3.0) / 4, 0.75),
        ("3 / Value(4.0)", lambda: 3 / Value(4.0), 0.75),
        ("Value(2.0) ** 3", lambda: Value(2.0) ** 3, 8.0),
        ("Value(4.0) ** 0.5", lambda: Value(4.0) ** 0.5, 2.0),
        ("Value(1.0).exp()", lambda: Value(1.0).exp(), math.e),
        ("Value(math.e).log()", lambda: Value(math.e).log(), 1.0),
        ("Value(0.5).tanh()", lambda: Value(0.5).tanh(), math.tanh(0.5)),
        ("Value(-2.0).relu()", lambda: Value(-2.0).relu(), 0.0),
        ("Value(2.5).relu()", lambda: Value(2.5).relu(), 2.5),
        ("Value(0.0).sigmoid()", lambda: Value(0.0).sigmoid(), 0.5),
        ("Value(2.0).sigmoid()", lambda: Value(2.0).sigmoid(), 1 / (1 + math.exp(-2.0))),
    ]
    for call, build, expected in cases:
        out = build()
        assert isinstance(out, Value), f"{call} returned {out!r}, expected a Value"
        assert_close(out.data, expected, call=call, what="data", rtol=1e-15, atol=0.0)


@AUTOGRAD
def test_the_sigmoid_does_not_overflow(impl):
    for v, expected in [(-1000.0, 0.0), (1000.0, 1.0), (-745.0, math.exp(-745.0))]:
        call = f"Value({v}).sigmoid()"
        try:
            out = impl.autograd.Value(v).sigmoid()
        except OverflowError as error:
            pytest.fail(
                f"{call} raised OverflowError: {error}\nlikely mistake: the sigmoid overflows: "
                "use a formula whose exponential is never of a large positive number",
                pytrace=False,
            )
        assert_close(out.data, expected, call=call, what="data", rtol=1e-12, atol=0.0)


@AUTOGRAD
@given(tree=TREES, leaves=st.lists(LEAF_VALUES, min_size=LEAVES, max_size=LEAVES))
def test_forward_values_of_random_trees(impl, tree, leaves):
    assume(has_leaf(tree))
    x = np.array(leaves)
    expected = float_value(tree, x)
    out, _ = value_graph(impl, tree, x)
    call = f"{render(tree)} at x = {leaves}"
    assert_close(out.data, expected, call=call, what="data", rtol=1e-12, atol=1e-12)


@AUTOGRAD
def test_operations_do_not_change_their_operands(impl):
    Value = impl.autograd.Value
    a, b = Value(0.7), Value(-1.3)
    for name, op in [
        ("a + b", lambda: a + b),
        ("a * b", lambda: a * b),
        ("a - b", lambda: a - b),
        ("a / b", lambda: a / b),
        ("a ** 2", lambda: a**2),
        ("a.exp()", lambda: a.exp()),
        ("a.log()", lambda: a.log()),
        ("a.tanh()", lambda: a.tanh()),
        ("b.relu()", lambda: b.relu()),
        ("b.sigmoid()", lambda: b.sigmoid()),
    ]:
        out = op()
        assert out is not a and out is not b, f"{name} returned an operand, expected a new Value"
        assert (a.data, b.data) == (0.7, -1.3), (
            f"{name} changed its operands: a.data = {a.data}, b.data = {b.data}, expected "
            "0.7 and -1.3; an operation returns a new Value"
        )


# ------------------------------------------------------------------------------ gradients


@AUTOGRAD
@given(tree=TREES, leaves=st.lists(LEAF_VALUES, min_size=LEAVES, max_size=LEAVES))
def test_gradients_of_random_trees_match_central_differences(impl, tree, leaves):
    assume(has_leaf(tree))
    x = np.array(leaves)
    float_value(tree, x)  # discards the trees out of the domain
    out, leaf_values = value_graph(impl, tree, x)
    out.backward()
    analytic = np.array([leaf.grad for leaf in leaf_values])
    numeric = numerical_gradient(lambda: evaluate(tree, x), x)
    assert_close(
        analytic,
        numeric,
        call=f"{render(tree)} at x = {leaves}, then backward()",
        what="the gradient [x0.grad, x1.grad, x2.grad]",
        rtol=1e-5,
        atol=1e-6,
        hint=_gradient_mistake(analytic),
    )


WALKED_FORWARDS = (
    "every gradient is 0: the values must be processed from the output back to the leaves "
    "(the reverse of the topological order)"
)


def _gradient_mistake(analytic: np.ndarray) -> str | None:
    """Name the mistake when the gradient is zero everywhere (the order walked forwards)."""
    return WALKED_FORWARDS if np.all(analytic == 0.0) else None


@AUTOGRAD
def test_a_value_used_twice_accumulates_its_gradient(impl):
    Value = impl.autograd.Value
    overwritten = (
        "gradients overwritten: a value used twice must receive the sum of one term per use "
        "(accumulate into grad)"
    )
    a = Value(3.0)
    out = a * a
    out.backward()
    assert_close(
        a.grad,
        6.0,
        call="a = Value(3.0); (a * a).backward()",
        what="a.grad",
        hint=overwritten if a.grad == 3.0 else None,
    )
    a, b = Value(2.0), Value(-1.5)
    c = a * b
    out = c + a + c.tanh()  # a used twice directly, c twice
    out.backward()
    local = 1 - math.tanh(-3.0) ** 2
    assert_close(
        np.array([a.grad, b.grad]),
        np.array([-1.5 * (1 + local) + 1, 2.0 * (1 + local)]),
        call="a, b = Value(2.0), Value(-1.5); c = a * b; (c + a + c.tanh()).backward()",
        what="[a.grad, b.grad]",
    )


@AUTOGRAD
def test_relu_at_zero_has_slope_zero(impl):
    a = impl.autograd.Value(0.0)
    a.relu().backward()
    assert a.grad == 0.0, (
        f"Value(0.0).relu().backward() gave the leaf the gradient {a.grad}, expected 0.0\n"
        "likely mistake: ReLU at 0: the convention is the slope 0 there (1 only where a > 0)"
    )


@AUTOGRAD
def test_backward_sets_the_output_gradient_to_one(impl):
    a = impl.autograd.Value(1.5)
    out = a * 2
    out.backward()
    assert out.grad == 1.0, f"after out.backward(), out.grad is {out.grad}, expected 1.0"
    leaf = impl.autograd.Value(4.0)
    leaf.backward()
    assert leaf.grad == 1.0, f"Value(4.0).backward() left grad {leaf.grad}, expected 1.0"


@AUTOGRAD
def test_calling_backward_twice_gives_the_gradients_of_one_call(impl):
    Value = impl.autograd.Value
    a, b = Value(0.5), Value(2.0)
    out = (a * b).tanh() * a
    out.backward()
    first = (a.grad, b.grad)
    out.backward()
    call = "a, b = Value(0.5), Value(2.0); out = (a * b).tanh() * a; out.backward() twice"
    assert_close(
        np.array([a.grad, b.grad]),
        np.array(first),
        call=call,
        what="[a.grad, b.grad] after the second call",
        hint="each call must give the gradients of that call: backward first sets every grad "
        "of the graph to 0",
    )
    second_graph = a * 3.0
    second_graph.backward()
    assert_close(
        a.grad,
        3.0,
        call=call + ", then (a * 3.0).backward()",
        what="a.grad",
        hint="each call must give the gradients of that call: a grad left from the first "
        "graph was added to",
    )


# -------------------------------------------------------------------- the order, no recursion


def _reachable(output: Any) -> dict[int, Any]:
    found, stack = {id(output): output}, [output]
    while stack:
        for child in stack.pop().children:
            if id(child) not in found:
                found[id(child)] = child
                stack.append(child)
    return found


@AUTOGRAD
@given(tree=TREES, leaves=st.lists(LEAF_VALUES, min_size=LEAVES, max_size=LEAVES))
def test_topological_order_lists_each_value_once_after_its_children(impl, tree, leaves):
    assume(has_leaf(tree))
    x = np.array(leaves)
    float_value(tree, x)
    out, _ = value_graph(impl, tree, x)
    order = impl.autograd.topological_order(out)
    call = f"topological_order({render(tree)})"
    assert isinstance(order, list), f"{call} returned {type(order).__name__}, expected a list"
    position: dict[int, int] = {}
    for index, value in enumerate(order):
        if id(value) in position:
            count = sum(v is value for v in order)
            pytest.fail(
                f"{call}: {value!r} is listed {count} times: every value must appear once",
                pytrace=False,
            )
        position[id(value)] = index
    expected = _reachable(out)
    missing = [v for key, v in expected.items() if key not in position]
    assert not missing, f"{call} misses {len(missing)} value(s) of the graph, e.g. {missing[0]!r}"
    assert len(position) == len(expected), f"{call} lists values that are not in the graph"
    for value in order:
        for child in value.children:
            assert position[id(child)] < position[id(value)], (
                f"{call}: {child!r} comes after {value!r}, which was made from it: children "
                "must come before the values made from them"
            )
    assert order[-1] is out, f"{call}: the output must be last, got {order[-1]!r}"


def _run_with_low_recursion_limit(function: Callable[[], object]) -> BaseException | None:
    """Run ``function`` with room for 100 frames beyond the caller; return what it raised."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack(0)) + 100)
    try:
        function()
    except RecursionError as error:
        return error
    finally:
        sys.setrecursionlimit(limit)
    return None


def recursion_mistake(error: BaseException, caller: str) -> str:
    """The likely mistake behind a ``RecursionError`` raised from ``caller``, naming the function
    the recursion is in: the one whose frames fill the traceback (``topological_order``, or a
    helper defined inside it, when the walk recurses there)."""
    frames = Counter(name for _, _, name in frames_of(error))  # where the code under test ran
    where = caller
    if frames:
        qualname, count = frames.most_common(1)[0]
        if count >= 10:  # a function that called itself, not the few frames around it
            outer, _, helper = qualname.partition(".<locals>.")
            where = f"{outer} (its helper {helper})" if helper else outer
            if outer != caller:
                where += f", called by {caller}"
    return (
        f"RecursionError in {where}: a chain of {CHAIN:,} operations needs a walk without "
        "recursion (keep your own stack in a list)"
    )


@AUTOGRAD
def test_a_chain_of_100000_operations_needs_no_recursion(impl):
    x = impl.autograd.Value(0.5)
    y = repeated("mul", x, CHAIN_FACTOR, CHAIN)  # y = x * CHAIN_FACTOR, CHAIN times
    error = _run_with_low_recursion_limit(y.backward)
    assert error is None, (
        f"y = x * {CHAIN_FACTOR} repeated {CHAIN:,} times; y.backward() with the recursion "
        f"limit at 100 frames beyond the caller raised RecursionError\nlikely mistake: "
        + recursion_mistake(error, "Value.backward")
    )
    assert_close(
        x.grad,
        CHAIN_FACTOR**CHAIN,
        call=f"x = Value(0.5); y = x * {CHAIN_FACTOR} repeated {CHAIN:,} times; y.backward()",
        what="x.grad",
        rtol=1e-9,
        hint=WALKED_FORWARDS if x.grad == 0.0 else None,
    )


# -------------------------------------------------------------------------- exercise moons

MOONS_SIZES = [16, 16, 1]
MOONS_SEED = 0
MOONS_STEPS = 40
MOONS_THRESHOLD = 0.95


def _numpy_mlp(weights: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray) -> np.ndarray:
    """The MLP in float64: ``h <- relu(W h + b)`` for every layer but the last, linear."""
    h = x
    for k, (W, b) in enumerate(weights):
        h = W @ h + b
        if k < len(weights) - 1:
            h = np.maximum(h, 0.0)
    return h


def _set_weights(model: Any, sizes: list[int], n_in: int, rng: np.random.Generator) -> list:
    """Give ``model`` random weights through ``parameters()`` (the stated order) and return
    them as ``(W, b)`` per layer, W of shape (n_out, n_in)."""
    parameters = model.parameters()
    dims = [n_in, *sizes]
    expected = sum(dims[k + 1] * (dims[k] + 1) for k in range(len(sizes)))
    assert len(parameters) == expected, (
        f"MLP({n_in}, {sizes}).parameters() holds {len(parameters)} values, expected {expected}"
    )
    weights, index = [], 0
    for k in range(len(sizes)):
        W = rng.normal(size=(dims[k + 1], dims[k]))
        b = rng.normal(size=dims[k + 1])
        for j in range(dims[k + 1]):
            for i in range(dims[k]):
                parameters[index].data = float(W[j, i])
                index += 1
            parameters[index].data = float(b[j])
            index += 1
        weights.append((W, b))
    return weights


@MOONS
def test_parameters_are_distinct_leaves_in_order(impl):
    rng = np.random.default_rng(3)
    model = impl.autograd.MLP(2, MOONS_SIZES, rng=rng)
    parameters = model.parameters()
    assert len(parameters) == 337, (
        f"MLP(2, {MOONS_SIZES}).parameters() holds {len(parameters)} values, expected "
        "2*16 + 16 + 16*16 + 16 + 16 + 1 = 337"
    )
    assert len({id(p) for p in parameters}) == 337, "parameters() lists a value twice"
    for p in parameters:
        assert isinstance(p, impl.autograd.Value) and not p.children, (
            f"parameters() holds {p!r}: every parameter must be a leaf Value"
        )
    first = impl.autograd.Neuron(5, rng=np.random.default_rng(4))
    draws = np.random.default_rng(4).uniform(-1.0, 1.0, 5)
    assert_close(
        np.array([p.data for p in first.parameters()]),
        np.append(draws, 0.0),
        call="Neuron(5, rng=np.random.default_rng(4)).parameters()",
        what="the data of [w0, ..., w4, b]",
        hint="the weights are rng.uniform(-1, 1, n_in) in order, the bias 0, listed last",
    )


@MOONS
@given(
    sizes=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    n_in=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_mlp_matches_a_numpy_forward_pass_and_its_gradients(impl, sizes, n_in, seed):
    rng = np.random.default_rng(seed)
    model = impl.autograd.MLP(n_in, sizes, rng=rng)
    weights = _set_weights(model, sizes, n_in, rng)
    x = rng.normal(size=n_in)
    outputs = model([float(v) for v in x])
    call = f"MLP({n_in}, {sizes}) on x = {x.tolist()}"
    assert isinstance(outputs, list) and len(outputs) == sizes[-1], (
        f"{call} returned {outputs!r}, expected a list of {sizes[-1]} Value(s)"
    )
    expected = _numpy_mlp(weights, x)
    hint = None
    if np.all(np.array([o.data for o in outputs]) >= 0) and np.any(expected < 0):
        hint = "the last layer must be linear: its scores can be negative"
    assert_close(np.array([o.data for o in outputs]), expected, call=call, hint=hint)
    total = outputs[0]
    for o in outputs[1:]:
        total = total + o
    total.backward()
    analytic = np.array([p.grad for p in model.parameters()])
    flat = np.concatenate([np.column_stack([W, b]).ravel() for W, b in weights])

    def summed() -> float:
        index, rebuilt = 0, []
        for W, _ in weights:
            block = flat[index : index + W.size + len(W)].reshape(len(W), -1)
            rebuilt.append((block[:, :-1], block[:, -1]))
            index += W.size + len(W)
        return float(_numpy_mlp(rebuilt, x).sum())

    assert_close(
        analytic,
        numerical_gradient(summed, flat),
        call=call + ", then backward() from the sum of its outputs",
        what="the gradients of parameters()",
        rtol=1e-5,
        atol=1e-6,
    )


@MOONS
def test_a_neuron_refuses_the_wrong_number_of_inputs(impl):
    neuron = impl.autograd.Neuron(3, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="3"):
        neuron([1.0, 2.0])


@MOONS
def test_capstone_the_mlp_learns_the_two_moons(impl, capsys, capstone_cache):
    key = capstone_cache.key(impl, "moons", recipe="moons", steps=MOONS_STEPS)
    if capstone_cache.replay(key, capsys):
        return
    x_train, y_train, x_test, y_test = train_and_test()
    model = impl.autograd.MLP(2, MOONS_SIZES, rng=np.random.default_rng(MOONS_SEED))
    train_accuracy = impl.autograd.train_classifier(model, x_train, y_train, steps=MOONS_STEPS)
    scores = np.array([model([float(v) for v in row])[0].data for row in x_test], dtype=np.float64)
    accuracy = float(np.mean((scores > 0) == (y_test == 1)))
    report = (
        f"moons: MLP(2, {MOONS_SIZES}) after {MOONS_STEPS} steps: train accuracy "
        f"{train_accuracy:.1%}, test accuracy {accuracy:.1%} on {len(y_test)} held-out moons "
        f"(threshold {MOONS_THRESHOLD:.0%})"
    )
    with capsys.disabled():
        print(f"\n[capstone] {report}")
    passed = accuracy >= MOONS_THRESHOLD
    message = f"{report}: below the threshold, trained by train_classifier"
    capstone_cache.store(key, passed=passed, report=report if passed else message)
    assert passed, message
