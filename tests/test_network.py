"""Judge of the ``network`` exercise: ``Sequential``.

The layers inside are toys (an affine map and tanh from ``tests.toys``; a scale, a shift, a
doubling and a recorder written here), so that this exercise does not depend on the learner's
``linear`` or ``activations``.
"""

from __future__ import annotations

import numpy as np
import pytest

from kata.judge import assert_close, check_layer
from tests.oracles import matching_mistake
from tests.toys import Affine, Tanh
from toolkit.layer import Layer

pytestmark = pytest.mark.exercise("network")


# --------------------------------------------------------------------------- toy layers


class Scale(Layer):
    """s * x with a learned scalar s of shape (1,)."""

    def __init__(self, s: float = 1.5) -> None:
        super().__init__()
        self.params["s"] = np.array([s])

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return self.params["s"] * x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        self.grads["s"] = np.array([np.sum(dout * self.x)])
        return self.params["s"] * dout

    def __repr__(self) -> str:
        return "Scale()"


class Shift(Layer):
    """x + c: with Double, a pair of layers that do not commute."""

    def __init__(self, c: float) -> None:
        super().__init__()
        self.c = c

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x + self.c

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout


class Double(Layer):
    def forward(self, x: np.ndarray) -> np.ndarray:
        return 2.0 * x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return 2.0 * dout


class Recorder(Layer):
    """Writes (method, its name) to a shared log; multiplies by its factor both ways."""

    def __init__(self, name: str, factor: float, log: list[tuple[str, str]]) -> None:
        super().__init__()
        self.name, self.factor, self.log = name, factor, log

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.log.append(("forward", self.name))
        return self.factor * x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        self.log.append(("backward", self.name))
        return self.factor * dout


class Halves(Scale):
    """A Scale built on ``Layer.backward``'s two halves, counting the dx it computes."""

    def __init__(self) -> None:
        super().__init__()
        self.input_grads = 0

    backward = Layer.backward

    def backward_params(self, dout: np.ndarray) -> None:
        self.grads["s"] = np.array([np.sum(dout * self.x)])

    def backward_input(self, dout: np.ndarray) -> np.ndarray:
        self.input_grads += 1
        return self.params["s"] * dout


def mlp(impl):
    """The network ``MLP`` names: four layers, three with parameters."""
    return impl.network.Sequential(Affine(3, 4, seed=1), Tanh(), Affine(4, 2, seed=2), Scale())


MLP = "Sequential(Affine(3, 4), Tanh(), Affine(4, 2), Scale())"


# --------------------------------------------------------------------------- forward, backward


def test_forward_applies_the_layers_in_order(impl) -> None:
    x = np.array([[1.0, -2.0, 0.5]])
    out = impl.network.Sequential(Shift(1.0), Double()).forward(x)
    assert_close(
        out,
        2 * (x + 1),
        call="Sequential(Shift(1), Double()).forward(x) with x = [[1, -2, 0.5]]",
        hint=matching_mistake(out, [(2 * x + 1, "the layers ran in reverse order")])
        or "each layer's forward takes the previous layer's output",
    )


def test_backward_runs_in_reverse_order_and_returns_dx(impl) -> None:
    log: list[tuple[str, str]] = []
    net = impl.network.Sequential(
        Recorder("a", 2.0, log), Recorder("b", 3.0, log), Recorder("c", 5.0, log)
    )
    x = np.ones((2, 3))
    out = net.forward(x)
    assert_close(out, 30 * x, call="Sequential(a, b, c).forward(x) (factors 2, 3, 5)")
    assert log == [("forward", "a"), ("forward", "b"), ("forward", "c")], (
        f"Sequential(a, b, c).forward called the layers as {log}, expected a, b, c in order"
    )
    log.clear()
    dout = np.arange(6.0).reshape(2, 3)
    dx = net.backward(dout)
    assert log == [("backward", "c"), ("backward", "b"), ("backward", "a")], (
        f"Sequential(a, b, c).backward called the layers as {log}, expected c, b, a: the "
        "chain rule starts from the output, so the last layer's backward comes first"
    )
    assert_close(
        dx,
        30 * dout,
        call="Sequential(a, b, c).backward(dout) (factors 2, 3, 5)",
        what="dx",
        hint="each backward takes the gradient returned by the layer after it; return the last",
    )


@pytest.mark.parametrize("batch", [1, 5])
def test_gradients_of_the_whole_chain(impl, batch: int) -> None:
    x = np.random.default_rng(batch).standard_normal((batch, 3))
    check_layer(mlp(impl), x, call=f"{MLP} on x of shape {x.shape}")


def test_gradients_through_a_nested_sequential(impl) -> None:
    Sequential = impl.network.Sequential
    net = Sequential(Sequential(Affine(2, 3, seed=4), Tanh()), Scale(0.7), Affine(3, 2, seed=5))
    x = np.random.default_rng(9).standard_normal((4, 2))
    check_layer(
        net,
        x,
        call="Sequential(Sequential(Affine(2, 3), Tanh()), Scale(), Affine(3, 2)) on x (4, 2)",
    )


# --------------------------------------------------------------------------- params and grads


def test_only_the_first_layer_is_told_that_its_input_needs_no_gradient(impl) -> None:
    inner = impl.network.Sequential(Affine(3, 4), Tanh())
    net = impl.network.Sequential(inner, Tanh(), Affine(4, 2))
    names = ["net", "inner", "inner[0]", "inner[1]", "net[1]", "net[2]"]
    layers = [net, inner, inner[0], inner[1], net[1], net[2]]
    assert all(layer.needs_input_grad for layer in layers), "by default every dx is needed"
    assert net.set_needs_input_grad(False) is net
    flags = [layer.needs_input_grad for layer in layers]
    assert flags == [False, False, False, True, True, True], (
        f"after net.set_needs_input_grad(False), needs_input_grad is {flags} for {names}: only "
        "the first layer (at every depth) receives the network's input"
    )


def test_a_network_whose_input_is_data_computes_no_dx(impl) -> None:
    first = Halves()
    net = impl.network.Sequential(first, Tanh(), Scale()).set_needs_input_grad(False)
    x, dout = np.linspace(-1.0, 1.0, 6).reshape(2, 3), np.ones((2, 3))
    net.forward(x)
    dx = net.backward(dout)
    assert dx is None and first.input_grads == 0, (
        f"Sequential(Halves(), Tanh(), Scale()) with needs_input_grad False: backward returned "
        f"{type(dx).__name__} and the first layer computed dx {first.input_grads} time(s), "
        "expected None and 0: return what the first layer's backward returns"
    )
    assert sorted(net.grads) == ["0.s", "2.s"], "the parameter gradients are still set"
    net.set_needs_input_grad(True)
    net.forward(x)
    assert net.backward(dout) is not None and first.input_grads == 1


def test_parameter_names_are_index_dot_name(impl) -> None:
    names = list(mlp(impl).params)
    expected = ["0.W", "0.b", "2.W", "2.b", "3.s"]
    assert names == expected, (
        f"list({MLP}.params) is {names}, expected {expected}: '<index of the layer>.<name>', "
        "the index counting every layer (Tanh, without parameters, is layer 1)"
    )


def test_params_are_the_layers_own_arrays(impl) -> None:
    net = mlp(impl)
    for key, array in net.params.items():
        index, name = key.split(".")
        assert array is net.layers[int(index)].params[name], (
            f"{MLP}.params[{key!r}] is not the array layer {index} holds in params[{name!r}]: "
            "an optimizer updating net.params in place would not reach the layer\n"
            "likely mistake: a copy (np.copy, .copy(), np.array(...))"
        )
    weights = net.layers[0].params["W"]
    before = weights.copy()
    net.params["0.W"] -= 0.5  # what an optimizer does
    assert_close(
        weights, before - 0.5, call=f"net.params['0.W'] -= 0.5 on {MLP}", what="layer 0's W"
    )


def test_params_follow_a_replaced_array(impl) -> None:
    net = mlp(impl)
    replacement = np.zeros((4, 2))
    net.layers[2].params["W"] = replacement
    assert net.params["2.W"] is replacement, (
        f"after net.layers[2].params['W'] = new, {MLP}.params['2.W'] is not the new array\n"
        "likely mistake: a dictionary built once in the constructor; build it on every access"
    )


def test_grads_are_the_layers_own_arrays_after_each_backward(impl) -> None:
    net = mlp(impl)
    x = np.random.default_rng(0).standard_normal((5, 3))
    for attempt in range(2):  # the toy layers put new arrays in grads at every backward
        net.forward(x)
        net.backward(np.ones((5, 2)))
        grads = net.grads
        assert list(grads) == list(net.params), (
            f"after backward, list({MLP}.grads) is {list(grads)}, expected the keys of "
            f"params, {list(net.params)}"
        )
        for key, array in grads.items():
            index, name = key.split(".")
            assert array is net.layers[int(index)].grads[name], (
                f"after backward number {attempt + 1}, {MLP}.grads[{key!r}] is not the array "
                f"layer {index} holds in grads[{name!r}]\n"
                "likely mistake: gradients collected once (stale), or copied"
            )


# --------------------------------------------------------------------------- nested containers


def nested(impl):
    """The network ``NESTED`` names: a Sequential two levels deep inside a Sequential."""
    Sequential = impl.network.Sequential
    inner = Sequential(Affine(3, 2, seed=6), Scale(0.8))
    middle = Sequential(Tanh(), inner)
    return Sequential(Affine(2, 3, seed=7), middle, Double())


NESTED = "Sequential(Affine(2, 3), Sequential(Tanh(), Sequential(Affine(3, 2), Scale())), Double())"


def _copy_hint(got: np.ndarray, own: np.ndarray) -> str:
    """The likely mistake when ``got`` is not ``own``, if the values show one."""
    if np.shape(got) == np.shape(own) and np.array_equal(got, own):
        return "\nlikely mistake: a copy of the layer's array (np.copy, .copy(), np.array(...))"
    return f"\nits values differ from the layer's: got {got!r}"


def sgd_step(params: dict[str, np.ndarray], grads: dict[str, np.ndarray], lr: float) -> None:
    """What every optimizer does to a model: update each array of params in place."""
    for name, param in params.items():
        param -= lr * grads[name]


def test_nested_names_join_every_index(impl) -> None:
    net = nested(impl)
    expected = ["0.W", "0.b", "1.1.0.W", "1.1.0.b", "1.1.1.s"]
    names = list(net.params)
    assert names == expected, (
        f"list({NESTED}.params) is {names}, expected {expected}: a Sequential inside a "
        "Sequential names its arrays '<index>.<its own name>', so names nest as '1.1.0.W'"
    )
    inner = net.layers[1].layers[1]
    for key in expected[2:]:
        index, name = key.split(".")[-2:]
        own = inner.layers[int(index)].params[name]
        assert net.params[key] is own, (
            f"{NESTED}.params[{key!r}] is not the array the innermost layer {index} holds in "
            f"params[{name!r}]" + _copy_hint(net.params[key], own)
        )


def test_nested_grads_are_the_inner_layers_arrays(impl) -> None:
    net = nested(impl)
    x = np.random.default_rng(3).standard_normal((4, 2))
    inner = net.layers[1].layers[1]
    for attempt in range(2):  # each backward puts new arrays in the toy layers' grads
        net.forward(x)
        net.backward(np.ones((4, 2)))
        grads = net.grads
        assert list(grads) == list(net.params), (
            f"after backward number {attempt + 1}, list({NESTED}.grads) is {list(grads)}, "
            f"expected the keys of params, {list(net.params)}"
        )
        for key in ("1.1.0.W", "1.1.0.b", "1.1.1.s"):
            index, name = key.split(".")[-2:]
            own = inner.layers[int(index)].grads[name]
            assert grads[key] is own, (
                f"after backward number {attempt + 1}, {NESTED}.grads[{key!r}] is not the "
                f"array the innermost layer {index} holds in grads[{name!r}]"
                + _copy_hint(grads[key], own)
            )


def test_an_optimizer_step_through_nested_containers_updates_the_inner_layers(impl) -> None:
    net = nested(impl)
    x = np.random.default_rng(5).standard_normal((3, 2))
    inner_affine = net.layers[1].layers[1].layers[0]
    weights = inner_affine.params["W"]
    net.forward(x)
    net.backward(np.ones((3, 2)))
    expected = weights - 0.1 * inner_affine.grads["W"]
    sgd_step(net.params, net.grads, lr=0.1)
    assert inner_affine.params["W"] is weights, (
        f"an optimizer step on {NESTED}.params replaced the innermost Affine's W instead of "
        "updating it in place"
    )
    assert_close(
        weights,
        expected,
        call=f"param -= 0.1 * grad for every name of {NESTED}.params",
        what="the innermost Affine's W",
        hint="net.params must hand out the layers' own arrays, at every depth, not copies",
    )
    # The network computes with the updated weights: its output is the chain of its parts.
    first, scale = net.layers[0], net.layers[1].layers[1].layers[1]
    expected_out = 2 * scale.forward(inner_affine.forward(np.tanh(first.forward(x))))
    assert_close(
        net.forward(x),
        expected_out,
        call=f"{NESTED}.forward(x) after an optimizer step",
        hint="forward must run the layers as they are now, with their updated parameters",
    )


def test_train_and_eval_reach_every_depth(impl) -> None:
    net = nested(impl)
    middle = net.layers[1]
    inner = middle.layers[1]
    everything = [net, net.layers[0], middle, middle.layers[0], inner, *inner.layers, net[2]]
    described = "[net, Affine, middle, Tanh, inner, Affine, Scale, Double]"
    net.eval()
    modes = [layer.training for layer in everything]
    assert not any(modes), (
        f"after {NESTED}.eval(), training is {modes} for {described}, expected all False: "
        "eval() must call eval() on every layer, and a nested Sequential passes it on"
    )
    inner.train()
    modes = [layer.training for layer in everything]
    expected = [layer in (inner, *inner.layers) for layer in everything]
    assert modes == expected, (
        f"after net.eval() then inner.train(), training is {modes} for {described}, expected "
        f"{expected}: train() reaches the layers inside, never the ones around"
    )
    net.train()
    modes = [layer.training for layer in everything]
    assert all(modes), f"after {NESTED}.train(), training is {modes} for {described}"


# --------------------------------------------------------------------------- modes, container


def test_train_and_eval_reach_every_layer(impl) -> None:
    Sequential = impl.network.Sequential
    inner = Sequential(Tanh(), Scale())
    net = Sequential(Affine(2, 2), inner, Double())
    everything = [net, net.layers[0], inner, *inner.layers, net.layers[2]]
    returned = net.eval()
    assert returned is net, f"net.eval() returned {returned!r}, expected the network itself"
    modes = [layer.training for layer in everything]
    assert not any(modes), (
        f"after net.eval(), training is {modes} for [net, Affine, inner Sequential, Tanh, "
        "Scale, Double], expected all False: eval() must reach every layer (dropout!)"
    )
    returned = net.train()
    assert returned is net, f"net.train() returned {returned!r}, expected the network itself"
    modes = [layer.training for layer in everything]
    assert all(modes), (
        f"after net.train(), training is {modes} for [net, Affine, inner Sequential, Tanh, "
        "Scale, Double], expected all True"
    )


def test_behaves_like_a_list_of_layers(impl) -> None:
    layers = [Affine(3, 4), Tanh(), Scale()]
    net = impl.network.Sequential(*layers)
    assert isinstance(net, Layer), "Sequential must be a Layer (class Sequential(Layer))"
    assert len(net) == 3, f"len(Sequential(a, b, c)) is {len(net)}, expected 3"
    for index, layer in enumerate(layers):
        assert net[index] is layer, f"Sequential(a, b, c)[{index}] is not the layer given"
    assert net[-1] is layers[-1], "Sequential(a, b, c)[-1] is not the last layer"
    assert list(net) == layers, "list(Sequential(a, b, c)) is not [a, b, c]"
    assert net.training is True, "a new Sequential must be in training mode"


def test_empty_sequential_is_the_identity(impl) -> None:
    net = impl.network.Sequential()
    x = np.arange(6.0).reshape(2, 3)
    assert_close(net.forward(x), x, call="Sequential().forward(x)")
    assert_close(net.backward(-x), -x, call="Sequential().backward(dout)", what="dx")
    assert net.params == {} and net.grads == {} and len(net) == 0, (
        "Sequential() must have no params, no grads and length 0"
    )


@pytest.mark.parametrize(
    ("bad", "type_name"),
    [("relu", "str"), (np.tanh, "ufunc"), (Tanh, "type"), (lambda x: x, "function")],
    ids=["a string", "np.tanh", "a class", "a function"],
)
def test_an_element_that_is_not_a_layer_is_refused(impl, bad: object, type_name: str) -> None:
    try:
        impl.network.Sequential(Affine(2, 2), Tanh(), bad)
    except TypeError as error:
        message = str(error)
        assert "2" in message and type_name in message, (
            f"Sequential(Affine, Tanh(), {bad!r}) raised TypeError({message!r}): the message "
            f"should name the position, 2, and the type received, {type_name}"
        )
    else:
        raise AssertionError(
            f"Sequential(Affine, Tanh(), {bad!r}) was accepted: expected a TypeError naming "
            f"position 2 and the type {type_name}"
        )
