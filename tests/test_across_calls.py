"""Judge of state across calls: what one call never shows.

A layer, a loss, an optimizer, a container and a training loop live for many calls, and the
code that is almost right keeps something from one call to the next that it should not: a
gradient added to the last one (``grads["W"] += ...``), an input, a mask or a batch size kept
from the first call, a buffer allocated for the first shape, optimizer state created at the
first step only or shared between instances, a ``Sequential`` that builds its parameter
dictionary once, a training loop that reads ``model.grads`` once before its loop. Each test
here makes several calls in a row, with different batch sizes (and image sizes for the
convolutions and pools), and judges every call against an oracle that knows nothing of the
earlier ones:

- forward values from brute-force oracles (``tests.oracles`` and the small ones below), and
  gradients from the trusted central differences of ``toolkit.gradcheck`` applied to those
  oracles, never to the code under test;
- a "likely mistake" line only when the numbers show it: the gradient equals the sum of this
  call's and the earlier calls' true gradients, the values of an earlier call, the result with
  the parameters before they were replaced; or a call that raises works on a new object.

The last section holds two findings in ``reference/optim.py``, as tests expected to fail there
(see their docstrings); they judge no exercise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from kata.judge import assert_close
from tests.oracles import conv2d_oracle, output_size
from tests.toys import Affine, Tanh
from toolkit.gradcheck import numerical_vjp
from toolkit.layer import Layer

pytestmark = pytest.mark.late  # after each exercise's basic checks

Arrays = dict[str, np.ndarray]
Oracle = Callable[[Arrays, np.ndarray], np.ndarray]


def copies(named: Arrays) -> Arrays:
    return {name: np.array(value, dtype=np.float64, copy=True) for name, value in named.items()}


def close(got: object, predicted: np.ndarray | None) -> bool:
    """Whether ``got`` is what a mistake predicts, to the precision of a numerical gradient."""
    if got is None or predicted is None:
        return False
    got = np.asarray(got)
    if got.shape != predicted.shape or not np.issubdtype(got.dtype, np.number):
        return False
    return bool(np.allclose(got, predicted, rtol=1e-5, atol=1e-7))


def require(condition: object, message: str) -> None:
    """Fail with ``message`` alone (no assertion rewriting) unless ``condition`` holds."""
    if not condition:
        raise AssertionError(message)


def first_match(got: object, predictions: Iterator[tuple[np.ndarray, str]]) -> str | None:
    """The words of the first mistake whose prediction ``got`` matches (computed lazily)."""
    for predicted, mistake in predictions:
        if close(got, predicted):
            return mistake
    return None


def distinct(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Float64 values in (-1, 1), all distinct and at least 1e-3 apart, none near 0.

    Away from every kink of the layers judged here (ReLU at 0, ties of max pooling), so a
    central difference of step 1e-6 sees a smooth function.
    """
    size = math.prod(shape)
    step = min(2.0 / size, 0.05)
    ranks = np.random.default_rng(seed).permutation(size).reshape(shape)
    return (ranks - size / 2 + 0.5) * step


# ------------------------------------------------------------------------------ layer oracles


def relu(params: Arrays, x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, 0.0)


def leaky_relu(params: Arrays, x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, 0.1 * x)


def sigmoid(params: Arrays, x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))  # |x| < 1 here: no overflow


def tanh(params: Arrays, x: np.ndarray) -> np.ndarray:
    return (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))


def affine(params: Arrays, x: np.ndarray) -> np.ndarray:
    """``out[n, j] = sum_i x[n, i] W[i, j] + b[j]``, one output element at a time."""
    W, b = params["W"], params["b"]
    out = np.zeros((x.shape[0], W.shape[1]))
    for n, j in np.ndindex(out.shape):
        out[n, j] = sum(x[n, i] * W[i, j] for i in range(W.shape[0])) + b[j]
    return out


def windows(x: np.ndarray, kh: int, kw: int, stride: int) -> np.ndarray:
    """``x`` (N, C, H, W) seen as its windows, (N, C, OH, OW, kh, kw): a view, no arithmetic."""
    view = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))
    return view[:, :, ::stride, ::stride]


def convolution(stride: int, padding: int) -> Oracle:
    """``out[n, o, i, j] = b[o] + sum_{c, p, q} W[o, c, p, q] xpad[n, c, i*s + p, j*s + q]``.

    The sum of ``tests.oracles.conv2d_oracle`` over every window at once (fast enough to be
    differentiated numerically); ``test_the_window_oracles_match_the_loop_oracles`` holds it
    to the loops.
    """

    def oracle(params: Arrays, x: np.ndarray) -> np.ndarray:
        W, b = params["W"], params["b"]
        pad = ((0, 0), (0, 0), (padding, padding), (padding, padding))
        patches = windows(np.pad(x, pad), W.shape[2], W.shape[3], stride)
        return np.einsum("ncijpq,ocpq->noij", patches, W) + b[None, :, None, None]

    return oracle


def pooling(kernel: int, stride: int, reduce: Callable[..., np.ndarray]) -> Oracle:
    """``out[n, c, i, j] = reduce(x[n, c, i*s : i*s + k, j*s : j*s + k])``, every window."""

    def oracle(params: Arrays, x: np.ndarray) -> np.ndarray:
        return reduce(windows(x, kernel, kernel, stride), axis=(4, 5))

    return oracle


def pooling_loops(
    x: np.ndarray, kernel: int, stride: int, reduce: Callable[..., np.ndarray]
) -> np.ndarray:
    """The same as :func:`pooling`, one window at a time."""
    n, channels, height, width = x.shape
    oh, ow = output_size(height, kernel, stride, 0), output_size(width, kernel, stride, 0)
    out = np.zeros((n, channels, oh, ow))
    for sample, channel, i, j in np.ndindex(out.shape):
        rows, columns = (
            slice(i * stride, i * stride + kernel),
            slice(j * stride, j * stride + kernel),
        )
        out[sample, channel, i, j] = reduce(x[sample, channel, rows, columns])
    return out


def flatten(params: Arrays, x: np.ndarray) -> np.ndarray:
    return x.reshape(x.shape[0], -1)


# ------------------------------------------------------------------------------ layers


@dataclass(frozen=True)
class Subject:
    """A layer to call four times: its exercise, how to build it, its oracle, two shapes.

    ``small`` and ``large`` differ in the batch size, and for images in the height and width
    too; the small one comes first, so slices or buffers sized for it do not fit the large one.
    """

    exercise: str
    description: str
    build: Callable[[Any], Any]
    oracle: Oracle
    small: tuple[int, ...]
    large: tuple[int, ...]


SUBJECTS = [
    Subject("activations", "ReLU()", lambda impl: impl.activations.ReLU(), relu, (1, 4), (5, 4)),
    Subject(
        "activations",
        "LeakyReLU(negative_slope=0.1)",
        lambda impl: impl.activations.LeakyReLU(negative_slope=0.1),
        leaky_relu,
        (1, 4),
        (3, 2, 4),
    ),
    Subject(
        "activations", "Sigmoid()", lambda impl: impl.activations.Sigmoid(), sigmoid, (1, 3), (4, 3)
    ),
    Subject("activations", "Tanh()", lambda impl: impl.activations.Tanh(), tanh, (2, 3), (5, 3)),
    Subject(
        "linear",
        "Linear(4, 3)",
        lambda impl: impl.linear.Linear(4, 3, rng=np.random.default_rng(1), dtype=np.float64),
        affine,
        (1, 4),
        (5, 4),
    ),
    Subject(
        "conv_naive",
        "NaiveConv2d(2, 3, kernel_size=3, stride=1, padding=1)",
        lambda impl: impl.conv_naive.NaiveConv2d(
            2, 3, 3, 1, 1, rng=np.random.default_rng(2), dtype=np.float64
        ),
        convolution(1, 1),
        (1, 2, 3, 4),
        (3, 2, 5, 4),
    ),
    Subject(
        "conv",
        "Conv2d(2, 3, kernel_size=(3, 2), stride=2, padding=1)",
        lambda impl: impl.conv.Conv2d(
            2, 3, (3, 2), 2, 1, rng=np.random.default_rng(3), dtype=np.float64
        ),
        convolution(2, 1),
        (1, 2, 4, 3),
        (3, 2, 7, 6),
    ),
    Subject(
        "pool",
        "MaxPool2d(kernel_size=2, stride=2)",
        lambda impl: impl.pool.MaxPool2d(2),
        pooling(2, 2, np.max),
        (1, 2, 4, 4),
        (3, 2, 7, 6),
    ),
    Subject(
        "pool",
        "AvgPool2d(kernel_size=3, stride=2)",
        lambda impl: impl.pool.AvgPool2d(3, 2),
        pooling(3, 2, np.mean),
        (1, 2, 3, 5),
        (3, 1, 7, 8),
    ),
    Subject(
        "pool", "Flatten()", lambda impl: impl.pool.Flatten(), flatten, (1, 2, 3), (4, 3, 2, 2)
    ),
]

ADDED = (
    "backward added this call's gradient to those of the earlier calls: set (=) "
    "self.grads[name] to the gradient of this call, do not add to it (+=)"
)
NOT_SET = "grads[{name!r}] still holds the gradient of the call before: set it at every backward"
STALE = (
    "backward used what the forward before the last one kept: keep what backward needs at "
    "every forward"
)
REPLACED = (
    "{what} used params[{name!r}] from before it was replaced by a new array: read "
    "self.params[name] at every call, keep no copy or reshape of it"
)
KEPT = (
    "the same call on a new {new} {works}: something kept from an earlier call (a buffer, a "
    "shape, a size, a mask, window slices) does not fit this one; compute it from this call"
)


def attempt(
    action: Callable[[], Any], where: str, again: Callable[[], Any] | None, new: str
) -> Any:
    """``action()``; any error but a stub's NotImplementedError becomes a failure at ``where``.

    ``again()`` repeats the failing call on a new object (a ``new``): when it raises nothing,
    the failure names what was kept from an earlier call as the likely mistake.
    """
    try:
        return action()
    except NotImplementedError:
        raise
    except Exception as error:
        message = f"{where}: raised {type(error).__name__}: {error}"
        if again is not None:
            try:
                again()
            except Exception:
                pass
            else:
                message += f"\nlikely mistake: {KEPT.format(new=new, works='raises nothing')}"
        raise AssertionError(message) from None


@dataclass
class Expected:
    """What a backward must give: dx and every parameter's gradient (float64)."""

    dx: np.ndarray
    grads: Arrays


def expected_call(oracle: Oracle, params: Arrays, x: np.ndarray, upstream: np.ndarray) -> Expected:
    """The vector-Jacobian products of the oracle with ``upstream``, by central differences."""
    params, x = copies(params), x.copy()

    def output() -> np.ndarray:
        return oracle(params, x)

    grads = {name: numerical_vjp(output, value, upstream) for name, value in params.items()}
    return Expected(numerical_vjp(output, x, upstream), grads)


@dataclass
class LayerJudge:
    """Calls one layer again and again; each call is judged on its own terms."""

    impl: Any
    subject: Subject
    layer: Any = None
    history: list[str] = field(default_factory=list)
    grad_history: list[Arrays] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.layer = self.subject.build(self.impl)

    def where(self, now: str) -> str:
        if not self.history:
            return f"{self.subject.description}: {now}"
        shapes = ", ".join(self.history)
        return (
            f"{self.subject.description}, after forward and backward on x of shape {shapes}: {now}"
        )

    def new_layer(self) -> Any:
        """A layer that has seen no call, holding copies of this one's parameters."""
        layer = self.subject.build(self.impl)
        for name, value in self.layer.params.items():
            layer.params[name] = np.array(value, copy=True)
        return layer

    def attempt(self, action: Callable[[], Any], now: str, again: Callable[[Any], Any]) -> Any:
        """``action()``; an error names the call of the series that raised it.

        ``again(layer)`` repeats the failing call on a new layer: when that works, the error
        comes from something kept between calls.
        """
        retry = (lambda: again(self.new_layer())) if self.history else None
        return attempt(action, self.where(now), retry, "layer")

    def on_a_new_layer(self, x: np.ndarray, upstream: np.ndarray) -> tuple[Any, Any, Arrays]:
        """(out, dx, grads) of forward(x) and backward(upstream) on a new layer.

        (None, None, {}) when that raises: then no value can be said to be the right one.
        """
        layer = self.new_layer()
        try:
            out = np.array(layer.forward(x), copy=True)
            dx = np.array(layer.backward(upstream), copy=True)
        except Exception:
            return (None, None, {})
        return out, dx, {name: np.array(value, copy=True) for name, value in layer.grads.items()}

    def call(
        self, shape: tuple[int, ...], *, decoy: bool = False, replace_params: bool = False
    ) -> None:
        """forward(x) of ``shape`` and backward(dout), both judged.

        ``decoy``: one more forward on other values x' of the same shape just before, so that
        a stale cache gives numbers that can be recognized. ``replace_params``: every
        ``params[name]`` is first replaced by a new array of other values (what
        ``layer.params["W"] = new`` does); the old values tell a layer that still reads them.
        """
        step = len(self.history)
        rng = np.random.default_rng(100 + step)
        x = distinct(shape, seed=step)
        old = copies(self.layer.params)
        now = ""
        if replace_params and old:
            for name, value in old.items():
                self.layer.params[name] = rng.standard_normal(value.shape)
            now = f"params {', '.join(old)} replaced by new arrays, "
        params = copies(self.layer.params)
        oracle = self.subject.oracle
        decoy_x = distinct(shape, seed=50 + step) if decoy else None
        if decoy_x is not None:
            self.attempt(
                lambda: self.layer.forward(decoy_x),
                f"{now}forward(x') of shape {shape}",
                lambda layer: layer.forward(decoy_x),
            )
            now += f"forward(x') of shape {shape}, then "

        now += f"forward(x) of shape {shape}"
        out = self.attempt(lambda: self.layer.forward(x), now, lambda layer: layer.forward(x))
        expected_out = oracle(params, x)
        upstream = rng.standard_normal(expected_out.shape)

        def with_old(name: str) -> Arrays:
            return {**params, name: old[name]}

        def out_mistakes() -> Iterator[tuple[np.ndarray, str]]:
            if replace_params:
                for name in old:
                    yield oracle(with_old(name), x), REPLACED.format(what="forward", name=name)
            if decoy_x is not None:
                yield oracle(params, decoy_x), "forward returned what the call before returned"

        hint = None
        if not close(out, expected_out):
            hint = first_match(out, out_mistakes())
            if hint is None and close(self.on_a_new_layer(x, upstream)[0], expected_out):
                hint = KEPT.format(new="layer", works="gives the expected output")
        assert_close(out, expected_out, call=self.where(now), hint=hint)

        now += " and backward(dout)"
        dx = self.attempt(
            lambda: self.layer.backward(upstream),
            now,
            lambda layer: (layer.forward(x), layer.backward(upstream)),
        )
        expected = expected_call(oracle, params, x, upstream)
        stale = (lambda: expected_call(oracle, params, decoy_x, upstream)) if decoy else None
        fresh_results: list[tuple[Any, Any, Arrays]] = []

        def fresh() -> tuple[Any, Any, Arrays]:
            if not fresh_results:
                fresh_results.append(self.on_a_new_layer(x, upstream))
            return fresh_results[0]

        kept = KEPT.format(new="layer", works="gives the expected values")

        def dx_mistakes() -> Iterator[tuple[np.ndarray, str]]:
            if stale is not None:
                yield stale().dx, STALE
            if replace_params:
                for name in old:
                    replaced = REPLACED.format(what="backward", name=name)
                    yield expected_call(oracle, with_old(name), x, upstream).dx, replaced

        tolerance = {"rtol": 1e-5, "atol": 1e-6}
        hint = None
        if not close(dx, expected.dx):
            hint = first_match(dx, dx_mistakes())
            if hint is None and close(fresh()[1], expected.dx):
                hint = kept
        assert_close(dx, expected.dx, call=self.where(now), what="dx", hint=hint, **tolerance)
        for name, want in expected.grads.items():
            got = self.layer.grads.get(name)
            if got is None:
                raise AssertionError(
                    f"{self.where(now)}: grads has no {name!r}, expected the gradient of "
                    f"params[{name!r}] (grads has {sorted(self.layer.grads)})"
                )

            def grad_mistakes(name: str = name, want: np.ndarray = want) -> Iterator:
                if self.grad_history:
                    yield want + sum(earlier[name] for earlier in self.grad_history), ADDED
                    yield self.grad_history[-1][name], NOT_SET.format(name=name)
                if stale is not None:
                    yield stale().grads[name], STALE

            hint = None
            if not close(got, want):
                hint = first_match(got, grad_mistakes())
                if hint is None and close(fresh()[2].get(name), want):
                    hint = kept
            assert_close(
                got, want, call=self.where(now), what=f"grads[{name!r}]", hint=hint, **tolerance
            )
        self.grad_history.append(expected.grads)
        self.history.append(f"{shape}" + (" after forward(x')" if decoy else ""))


@pytest.mark.parametrize(
    "subject",
    [
        pytest.param(subject, marks=pytest.mark.exercise(subject.exercise), id=subject.description)
        for subject in SUBJECTS
    ],
)
def test_a_layer_called_again_and_again(impl, subject: Subject) -> None:
    """Four calls: small, large, large after a decoy forward, small with new parameters."""
    judge = LayerJudge(impl, subject)
    judge.call(subject.small)
    judge.call(subject.large)
    judge.call(subject.large, decoy=True)
    judge.call(subject.small, replace_params=True)


# ------------------------------------------------------------------------------ losses


def softmax_rows(logits: np.ndarray) -> np.ndarray:
    """The softmax of every row, with math.exp (the logits here are small)."""
    rows = []
    for row in logits.astype(np.float64):
        exps = [math.exp(float(v)) for v in row]
        rows.append([e / sum(exps) for e in exps])
    return np.array(rows)


@dataclass(frozen=True)
class LossCase:
    """A loss, the inputs of one call and what the call must give.

    ``size(prediction)`` is the number the loss divides by (N or M), named by ``size_name``.
    """

    exercise: str
    description: str
    build: Callable[[Any], Any]
    inputs: Callable[[tuple[int, ...], np.random.Generator], tuple[np.ndarray, np.ndarray]]
    value: Callable[[np.ndarray, np.ndarray], float]
    gradient: Callable[[np.ndarray, np.ndarray], np.ndarray]
    size: Callable[[np.ndarray], int]
    size_name: str
    shapes: tuple[tuple[int, ...], ...]


def logits_and_labels(shape: tuple[int, ...], rng: np.random.Generator) -> tuple:
    return rng.normal(0, 2, size=shape), rng.integers(0, shape[1], size=shape[0])


def cross_entropy_value(logits: np.ndarray, labels: np.ndarray) -> float:
    p = softmax_rows(logits)
    return float(np.mean([-math.log(p[n, label]) for n, label in enumerate(labels)]))


def cross_entropy_gradient(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``(softmax - onehot) / N``."""
    grad = softmax_rows(logits)
    for n, label in enumerate(labels):
        grad[n, label] -= 1.0
    return grad / len(labels)


def prediction_and_target(shape: tuple[int, ...], rng: np.random.Generator) -> tuple:
    return rng.normal(size=shape), rng.normal(size=shape)


LOSS_CASES = [
    LossCase(
        "softmax_cross_entropy",
        "SoftmaxCrossEntropy()",
        lambda impl: impl.losses.SoftmaxCrossEntropy(),
        logits_and_labels,
        cross_entropy_value,
        cross_entropy_gradient,
        lambda logits: logits.shape[0],
        "N, the batch size",
        ((1, 3), (4, 3), (4, 3), (2, 5)),
    ),
    LossCase(
        "softmax_cross_entropy",
        "MeanSquaredError()",
        lambda impl: impl.losses.MeanSquaredError(),
        prediction_and_target,
        lambda p, t: float(np.mean((p.astype(np.float64) - t) ** 2)),
        lambda p, t: 2 * (p.astype(np.float64) - t) / p.size,
        lambda prediction: prediction.size,
        "M, the number of elements",
        ((1, 2), (4, 2), (4, 2), (3, 3)),
    ),
]


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(case, marks=pytest.mark.exercise(case.exercise), id=case.description)
        for case in LOSS_CASES
    ],
)
def test_a_loss_called_again_and_again(impl, case: LossCase) -> None:
    """Four calls: small, large, large after a decoy forward, then float32 of another shape."""
    loss = case.build(impl)
    history: list[str] = []
    sizes: list[int] = []
    for step, shape in enumerate(case.shapes):
        rng = np.random.default_rng(200 + step)
        prediction, target = case.inputs(shape, rng)
        last = step == len(case.shapes) - 1
        if last:
            prediction = prediction.astype(np.float32)
        decoy = case.inputs(shape, rng) if step == 2 else None
        now = f"after forward and backward on {', then '.join(history)}; " if history else ""
        if decoy is not None:
            now += f"forward(prediction' of shape {shape}, target'), then "
        now += f"forward(prediction of shape {shape}, target)"

        def again(prediction: np.ndarray = prediction, target: np.ndarray = target) -> Any:
            fresh = case.build(impl)
            fresh.forward(prediction, target)
            return fresh.backward()

        def on_a_new_loss(again: Callable[[], Any] = again) -> Any:
            """The gradient a new loss gives for this call, None when it raises."""
            try:
                return again()
            except Exception:
                return None

        retry = again if history else None
        if decoy is not None:
            attempt(
                lambda decoy=decoy: loss.forward(*decoy),
                f"{case.description}: {now}",
                retry,
                "loss",
            )
        value = attempt(
            lambda prediction=prediction, target=target: loss.forward(prediction, target),
            f"{case.description}: {now}",
            retry,
            "loss",
        )
        assert_close(
            value,
            case.value(prediction, target),
            call=f"{case.description}: {now}",
            what="the loss",
            rtol=1e-5 if last else 1e-9,
        )
        now += " and backward()"
        call = f"{case.description}: {now}"
        grad = attempt(loss.backward, call, retry, "loss")
        expected = case.gradient(prediction, target)
        size = case.size(prediction)

        mistakes = [
            (
                expected * size / earlier,
                f"divided by {case.size_name} of an earlier call ({earlier}), not this "
                f"call's ({size}): take it from this call's prediction",
            )
            for earlier in dict.fromkeys(sizes)
            if earlier != size
        ]
        if decoy is not None:
            mistakes.append((case.gradient(*decoy), STALE.replace("backward", "backward()", 1)))

        hint = None if close(grad, expected) else first_match(grad, iter(mistakes))
        if (
            hint is None
            and history
            and not close(grad, expected)
            and close(on_a_new_loss(), expected)
        ):
            hint = KEPT.format(new="loss", works="gives the expected values")
        assert_close(grad, expected, call=call, what="the gradient", hint=hint, rtol=1e-5)
        dtype = getattr(grad, "dtype", None)
        if dtype != prediction.dtype:
            kept_dtype = history and getattr(on_a_new_loss(), "dtype", None) == prediction.dtype
            raise AssertionError(
                f"{call}: the gradient has dtype {dtype}, expected {prediction.dtype}, the dtype "
                "of this call's prediction"
                + (
                    f"\nlikely mistake: a dtype kept from an earlier call (a new loss gives "
                    f"{prediction.dtype})"
                    if kept_dtype
                    else ""
                )
            )
        sizes.append(size)
        history.append(f"a prediction of shape {shape}")


# ------------------------------------------------------------------------------ optimizers


@dataclass(frozen=True)
class Settings:
    """An optimizer's kind and hyper-parameters, and the oracle's step for them."""

    kind: str
    options: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.kind}({', '.join(f'{k}={v!r}' for k, v in self.options.items())})"

    def build(self, impl: Any) -> Any:
        return getattr(impl.optim, self.kind)(**self.options)

    def step(self, state: dict, params: Arrays, grads: Arrays) -> None:
        """The update of PyTorch's SGD or Adam, in place on ``params``, state kept per name.

        A name's state is created at the first step that lists it; a name missing from a step
        keeps its state for when it comes back. Adam counts its steps in ``state["t"]``.
        """
        if self.kind == "SGD":
            sgd_step(state, params, grads, **self.options)
        else:
            adam_step(state, params, grads, **self.options)


def sgd_step(
    state: dict,
    params: Arrays,
    grads: Arrays,
    *,
    lr: float,
    momentum: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
) -> None:
    for name, p in params.items():
        g = grads[name] + weight_decay * p
        if momentum:
            velocity = g if name not in state else momentum * state[name] + g
            state[name] = velocity
            g = g + momentum * velocity if nesterov else velocity
        p -= lr * g


def adam_step(
    state: dict,
    params: Arrays,
    grads: Arrays,
    *,
    lr: float,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
) -> None:
    beta1, beta2 = betas
    for name, p in params.items():
        state["t", name] = t = state.get(("t", name), 0) + 1  # PyTorch's state["step"]
        g = grads[name] + weight_decay * p
        m, v = state.get(("m", name), 0.0), state.get(("v", name), 0.0)
        state["m", name] = m = beta1 * m + (1 - beta1) * g
        state["v", name] = v = beta2 * v + (1 - beta2) * g * g
        p -= lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)


MOMENTUM = Settings("SGD", {"lr": 0.1, "momentum": 0.9})
NESTEROV = Settings("SGD", {"lr": 0.05, "momentum": 0.5, "nesterov": True, "weight_decay": 0.01})
ADAM = Settings("Adam", {"lr": 0.01, "weight_decay": 0.01})
PLAIN = Settings("SGD", {"lr": 0.1})


def random_arrays(shapes: dict[str, tuple[int, ...]], rng: np.random.Generator) -> Arrays:
    return {name: rng.standard_normal(shape) for name, shape in shapes.items()}


def stepped(impl_step: Callable[[], None], where: str) -> None:
    """Run one step of the optimizer under test; an error names the step."""
    attempt(impl_step, where, None, "optimizer")


def check_params(got: Arrays, want: Arrays, *, call: str, hint: str | None) -> None:
    for name in want:
        assert_close(got[name], want[name], call=call, what=f"params[{name!r}]", hint=hint)


@pytest.mark.exercise("optim")
@pytest.mark.parametrize("settings", [MOMENTUM, NESTEROV], ids=str)
def test_momentum_of_a_parameter_that_joins_later(impl, settings: Settings) -> None:
    """Steps over W, b; then c joins (a layer added to the model); b sits out a step, returns."""
    rng = np.random.default_rng(7)
    shapes = {"W": (2, 3), "b": (3,), "c": (4,)}
    arrays = random_arrays(shapes, rng)
    expected = copies(arrays)
    schedule = [("W", "b"), ("W", "b"), ("W", "b", "c"), ("W", "c"), ("W", "b", "c")]
    optimizer = settings.build(impl)
    state: dict = {}
    forgetful: dict = {}  # the oracle of a state that drops the names a step does not list
    forgetful_values = copies(arrays)
    seen: list[str] = []
    for step, names in enumerate(schedule, start=1):
        grads = {name: rng.standard_normal(shapes[name]) for name in names}
        plan = " | ".join(" ".join(names) for names in schedule)
        where = f"{settings}, steps over the parameters {plan}: step {step}, over {' '.join(names)}"
        new = [name for name in names if name not in seen]
        try:
            optimizer.step({name: arrays[name] for name in names}, grads)
        except NotImplementedError:
            raise
        except Exception as error:
            hint = ""
            if new and step > 1 and any(name in str(error) for name in new):
                hint = (
                    f"\nlikely mistake: the state was made at the first step for the parameters "
                    f"of that step only; {new[0]!r} joins at step {step}: create a name's "
                    "state at its own first step"
                )
            raise AssertionError(f"{where} raised {type(error).__name__}: {error}{hint}") from None
        settings.step(state, {name: expected[name] for name in names}, grads)
        forgetful = {name: value for name, value in forgetful.items() if name in names}
        settings.step(forgetful, {name: forgetful_values[name] for name in names}, grads)
        seen += new
        hint = None
        if any(not close(arrays[name], expected[name]) for name in names) and all(
            close(arrays[name], forgetful_values[name]) for name in names
        ):
            hint = (
                "the state of a parameter that sat out a step was dropped: keep it, by "
                "name, for when the parameter comes back"
            )
        check_params(arrays, expected, call=where, hint=hint)


@pytest.mark.exercise("optim")
@pytest.mark.parametrize("settings", [MOMENTUM, ADAM], ids=str)
def test_each_optimizer_keeps_its_own_state(impl, settings: Settings) -> None:
    """Two models with the same names, one optimizer each, stepped in turn; then a third."""
    rng = np.random.default_rng(8)
    shapes = {"0.W": (2, 3), "0.b": (3,)}
    first, second = random_arrays(shapes, rng), random_arrays(shapes, rng)
    expected = {"first": copies(first), "second": copies(second)}
    states: dict[str, dict] = {"first": {}, "second": {}}
    shared_state: dict = {}  # the oracle of one state shared by every optimizer
    shared = {"first": copies(first), "second": copies(second)}
    optimizers = {"first": settings.build(impl)}
    arrays = {"first": first, "second": second}
    log: list[str] = []
    schedule = ["first", "first", "second", "first", "second", "second"]
    for turn, which in enumerate(schedule):
        if which not in optimizers:
            optimizers[which] = settings.build(impl)
            log.append(f"a second {settings.kind} for the second model")
        grads = random_arrays(shapes, rng)
        log.append(f"step on the {which} model")
        where = f"{settings}, two models with the same parameter names: {', '.join(log)}"
        stepped(
            lambda which=which, grads=grads: optimizers[which].step(arrays[which], grads), where
        )
        settings.step(states[which], expected[which], grads)
        settings.step(shared_state, shared[which], grads)
        hint = None
        wrong = any(not close(arrays[which][name], expected[which][name]) for name in shapes)
        if turn and wrong and all(close(arrays[which][n], shared[which][n]) for n in shapes):
            hint = (
                "the optimizers share one state (a class attribute or a module-level "
                "dictionary): keep the state of each optimizer on self"
            )
        check_params(arrays[which], expected[which], call=where, hint=hint)

    wider = random_arrays({"0.W": (5, 3), "0.b": (3,)}, rng)
    want, grads = copies(wider), random_arrays({"0.W": (5, 3), "0.b": (3,)}, rng)
    where = f"{settings}: after {', '.join(log)}, a new {settings.kind} steps a wider model"
    stepped(lambda: settings.build(impl).step(wider, grads), where)
    settings.step({}, want, grads)
    check_params(wider, want, call=where, hint=None)


@pytest.mark.exercise("optim")
@pytest.mark.parametrize("settings", [PLAIN, MOMENTUM, ADAM], ids=str)
def test_step_updates_the_arrays_of_the_dict_it_is_given(impl, settings: Settings) -> None:
    """A step, then one whose dict holds a new array for W (``layer.params["W"] = new``)."""
    rng = np.random.default_rng(9)
    shapes = {"W": (3, 2), "b": (2,)}
    params = random_arrays(shapes, rng)
    optimizer = settings.build(impl)
    stepped(lambda: optimizer.step(params, random_arrays(shapes, rng)), str(settings))
    old_W = params["W"]
    old_before = old_W.copy()
    new_W = rng.standard_normal(shapes["W"])
    new_before = new_W.copy()
    given = {"W": new_W, "b": params["b"]}
    grads = random_arrays(shapes, rng)
    where = (
        f"{settings}: step(params, grads), then step on a new dict whose 'W' is a new array "
        "(what layer.params['W'] = new makes the model's params)"
    )
    stepped(lambda: optimizer.step(given, grads), where)
    kept = (
        "\nlikely mistake: step updated the arrays of the dict of an earlier step (kept from "
        "the first call?): update the arrays of the dict given to this call"
    )
    old_moved = not np.array_equal(old_W, old_before)
    new_moved = not np.array_equal(new_W, new_before)
    require(
        new_moved,
        f"{where}: the new params['W'] was not updated, expected it to move against its "
        f"gradient" + (kept if old_moved else ""),
    )
    require(
        not old_moved,
        f"{where}: the old array of 'W', no longer in the dict given, was updated again: step "
        "updates only the arrays of the dict it is given" + kept,
    )
    if settings is PLAIN:
        assert_close(new_W, new_before - 0.1 * grads["W"], call=where, what="the new params['W']")


# ------------------------------------------------------------------------------ Sequential


def chain_forward(layers: list[Layer], x: np.ndarray) -> np.ndarray:
    """The toys' composition computed from their parameters (no call to any layer)."""
    for layer in layers:
        x = x @ layer.params["W"] + layer.params["b"] if isinstance(layer, Affine) else np.tanh(x)
    return x


def chain_backward(layers: list[Layer], x: np.ndarray, dout: np.ndarray) -> tuple:
    """dx and each Affine's (dW, db) of the toys' composition, by the chain rule by hand."""
    inputs = []
    for layer in layers:
        inputs.append(x)
        x = chain_forward([layer], x)
    grads: dict[int, Arrays] = {}
    for index in reversed(range(len(layers))):
        layer, x_in = layers[index], inputs[index]
        if isinstance(layer, Affine):
            grads[index] = {"W": x_in.T @ dout, "b": dout.sum(axis=0)}
            dout = dout @ layer.params["W"].T
        else:
            dout = dout * (1 - np.tanh(x_in) ** 2)
    return dout, grads


@pytest.mark.exercise("network")
def test_a_sequential_after_its_layers_are_replaced(impl) -> None:
    """Forward, backward, params and grads of a network, then two of its layers replaced."""
    rng = np.random.default_rng(10)
    first = [Affine(3, 4, seed=1), Tanh(), Affine(4, 2, seed=2)]
    net = impl.network.Sequential(*first)
    x = rng.standard_normal((5, 3))
    net.forward(x)
    net.backward(rng.standard_normal((5, 2)))
    dict(net.params), dict(net.grads)  # whatever a container builds on its first use
    layers = [first[0], Affine(4, 4, seed=3), Affine(4, 6, seed=4)]
    net.layers[1], net.layers[2] = layers[1], layers[2]
    where = (
        "Sequential(Affine(3, 4), Tanh(), Affine(4, 2)): forward, backward, params and grads "
        "once; then net.layers[1] = Affine(4, 4) and net.layers[2] = Affine(4, 6)"
    )
    x = rng.standard_normal((2, 3))
    out = attempt(lambda: net.forward(x), f"{where}; forward(x)", None, "network")
    old = "forward ran the layers it had before: run the layers of self.layers at every call"
    assert_close(
        out,
        chain_forward(layers, x),
        call=f"{where}; forward(x) of shape (2, 3)",
        hint=old if close(out, chain_forward(first, x)) else None,
    )
    expected_names = ["0.W", "0.b", "1.W", "1.b", "2.W", "2.b"]
    names = list(net.params)
    require(
        names == expected_names,
        f"{where}: list(net.params) is {names}, expected {expected_names}"
        + (
            "\nlikely mistake: the dictionary was built once, from the layers of that time: "
            "build it from self.layers at every access"
            if names == ["0.W", "0.b", "2.W", "2.b"]
            else ""
        ),
    )
    for key, array in net.params.items():
        index, name = key.split(".")
        require(
            array is layers[int(index)].params[name],
            f"{where}: net.params[{key!r}] is not the array the new layer {index} holds in "
            f"params[{name!r}]: an optimizer would not reach it",
        )
    dout = rng.standard_normal((2, 6))
    dx = attempt(lambda: net.backward(dout), f"{where}; forward(x), backward(dout)", None, "net")
    want_dx, want_grads = chain_backward(layers, x, dout)
    assert_close(dx, want_dx, call=f"{where}; forward(x), backward(dout)", what="dx")
    grads = net.grads
    for index, named in want_grads.items():
        for name, want in named.items():
            key = f"{index}.{name}"
            require(
                key in grads and grads[key] is layers[index].grads[name],
                f"{where}; forward(x), backward(dout): net.grads[{key!r}] is not the array the "
                f"new layer {index} holds in grads[{name!r}] (net.grads has {list(grads)})",
            )
            assert_close(grads[key], want, call=f"{where}; backward(dout)", what=f"grads[{key!r}]")


@pytest.mark.exercise("network")
def test_params_follow_arrays_replaced_after_they_were_read(impl) -> None:
    net = impl.network.Sequential(Affine(3, 4, seed=1), Tanh(), Affine(4, 2, seed=2))
    dict(net.params)  # read once, as an optimizer's first step does
    replacement = np.zeros((4, 2))
    net.layers[2].params["W"] = replacement
    got = net.params.get("2.W")
    require(
        got is replacement,
        "Sequential(Affine(3, 4), Tanh(), Affine(4, 2)): net.params read, then "
        "net.layers[2].params['W'] = new: net.params['2.W'] is not the new array\n"
        + (
            "likely mistake: the dictionary was built at the first access and kept: build it "
            "at every access"
            if got is not None and np.shape(got) == (4, 2) and np.any(got)
            else "net.params must hold the arrays the layers hold now"
        ),
    )


@pytest.mark.exercise("network")
def test_modes_after_toggling_twice_and_replacing_a_layer(impl) -> None:
    """eval() twice, train() twice, then a fresh layer put into a network in evaluation mode."""
    Sequential = impl.network.Sequential
    inner = Sequential(Tanh(), Affine(2, 2, seed=5))
    net = Sequential(Affine(2, 2, seed=1), inner, Tanh())
    description = "Sequential(Affine, Sequential(Tanh, Affine), Tanh)"
    steps = [
        ("net.eval()", lambda: net.eval(), False),
        ("net.eval()", lambda: net.eval(), False),
        ("net.train()", lambda: net.train(), True),
        ("net.train()", lambda: net.train(), True),
        ("net.eval()", lambda: net.eval(), False),
        ("inner.layers[0] = Tanh() (a new layer, in training mode)", None, None),
        ("net.eval()", lambda: net.eval(), False),
        ("net.train()", lambda: net.train(), True),
    ]
    done: list[str] = []
    for what, action, training in steps:
        done.append(what)
        if action is None:
            inner.layers[0] = Tanh()
            continue
        action()
        everything = [net, net.layers[0], inner, *inner.layers, net.layers[2]]
        modes = [layer.training for layer in everything]
        if modes == [training] * len(modes):
            continue
        hint = ""
        if net.training != training and done[-2] == what:
            hint = (
                "\nlikely mistake: a call that flips the mode (training = not training): "
                "eval() sets evaluation mode however often it is called, train() training mode"
            )
        elif "inner.layers[0]" in done[-2] and modes.count(not training) == 1:
            hint = (
                "\nlikely mistake: eval() or train() did nothing because the network was "
                "already in that mode: call it on every layer, every time"
            )
        raise AssertionError(
            f"{description}: after {', then '.join(done)}: training is {modes} for [net, "
            f"Affine, inner Sequential, its Tanh, its Affine, Tanh], expected all {training}" + hint
        )


# ------------------------------------------------------------------------------ training


class FreshDictModel(Layer):
    """Example i (input [i]) scores ``table[i] + bias``; records its batches and modes.

    Like a ``Sequential``, its ``grads`` is a new dictionary at every access, holding the
    array its last backward made: code that reads ``model.grads`` once, before its loop, keeps
    a dictionary that never sees a gradient.
    """

    def __init__(self, table: np.ndarray) -> None:
        super().__init__()
        self.table = table
        self.params["bias"] = np.zeros(table.shape[1])
        self.batches: list[np.ndarray] = []
        self.modes: list[bool] = []
        self.backward_grads: list[np.ndarray] = []
        self._latest_grads: Arrays = {}

    @property  # type: ignore[override]
    def grads(self) -> Arrays:
        return dict(self._latest_grads)

    @grads.setter
    def grads(self, value: Arrays) -> None:
        self._latest_grads = dict(value)

    def forward(self, x: np.ndarray) -> np.ndarray:
        indices = x[:, 0].astype(int)
        self.batches.append(indices)
        self.modes.append(self.training)
        self.x_shape = x.shape
        return self.table[indices] + self.params["bias"]

    def backward(self, dout: np.ndarray) -> np.ndarray:
        self._latest_grads = {"bias": dout.sum(axis=0)}
        self.backward_grads.append(self._latest_grads["bias"])
        return np.zeros(self.x_shape)


class MeanPickLoss:
    """The mean over the batch of ``prediction[i, target_i]``; gradient 1/B at those places."""

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float:
        self.shape, self.target = prediction.shape, target
        return float(np.mean(prediction[np.arange(len(target)), target]))

    def backward(self) -> np.ndarray:
        grad = np.zeros(self.shape)
        grad[np.arange(len(self.target)), self.target] = 1.0 / len(self.target)
        return grad


class RecordingOptimizer:
    """Records the gradients each step is given; changes nothing."""

    def __init__(self) -> None:
        self.received: list[Arrays] = []

    def step(self, params: Arrays, grads: Arrays) -> None:
        self.received.append(dict(grads))


@pytest.mark.exercise("training")
def test_several_epochs_with_other_batch_sizes_and_data(impl) -> None:
    """Epochs of batch 5, an evaluation, batch 3, then an epoch on another, smaller dataset."""
    rng = np.random.default_rng(11)
    datasets = {}
    for n in (23, 11):
        table = rng.uniform(size=(n, 3))
        datasets[n] = (np.arange(n, dtype=np.float64).reshape(n, 1), rng.integers(0, 3, n), table)
    model = FreshDictModel(datasets[23][2])
    optimizer = RecordingOptimizer()
    loss = MeanPickLoss()
    history: list[str] = []
    plan = [
        ("train_epoch", 23, 5),
        ("evaluate", 23, 4),
        ("train_epoch", 23, 3),
        ("train_epoch", 11, 4),
    ]
    for what, n, batch_size in plan:
        x, y, table = datasets[n]
        model.table = table
        first_batch, first_step = len(model.batches), len(optimizer.received)
        before = model.grads  # what a read of model.grads before the loop sees
        call = f"{what}(..., x of {n} examples, batch_size={batch_size})"
        where = f"after {', then '.join(history)}: {call}" if history else call
        if what == "train_epoch":
            result = attempt(
                lambda x=x, y=y, batch_size=batch_size: impl.training.train_epoch(
                    model, loss, optimizer, x, y, batch_size=batch_size, rng=rng
                ),
                where,
                None,
                "model",
            )
        else:
            result = impl.training.evaluate(model, loss, x, y, batch_size=batch_size)
        history.append(call)
        batches = model.batches[first_batch:]
        seen = np.sort(np.concatenate(batches)) if batches else np.array([], dtype=int)
        require(
            np.array_equal(seen, np.arange(n)),
            f"{where}: the model saw the examples {seen.tolist()}, expected each of the {n} "
            "examples of this call's x once",
        )
        sizes = [len(batch) for batch in batches]
        if what == "train_epoch":
            expected_sizes = [min(batch_size, n - start) for start in range(0, n, batch_size)]
            require(
                sorted(sizes, reverse=True) == expected_sizes,
                (f"{where}: batches of sizes {sizes}, expected {expected_sizes}"),
            )
        modes = model.modes[first_batch:]
        require(
            all(mode == (what == "train_epoch") for mode in modes),
            f"{where}: forward ran with training = {modes}, expected "
            f"{what == 'train_epoch'} (train_epoch calls model.train(), evaluate model.eval())",
        )
        expected_loss = float(table[np.arange(n), y].mean())
        require(
            math.isclose(result.loss, expected_loss, rel_tol=1e-9),
            f"{where}: loss {result.loss!r}, expected {expected_loss!r}, the mean loss per "
            "example of this call",
        )
        accuracy = float(np.mean(table.argmax(axis=1) == y))
        require(
            math.isclose(result.accuracy, accuracy, rel_tol=1e-12),
            (f"{where}: accuracy {result.accuracy!r}, expected {accuracy!r} for this call's data"),
        )
        if what != "train_epoch":
            continue
        received = optimizer.received[first_step:]
        made = model.backward_grads[first_step:]
        for step, (grads, own) in enumerate(zip(received, made, strict=False), start=1):
            if "bias" in grads and np.array_equal(grads["bias"], own):
                continue
            hint = ""

            def stale(given: dict, before: dict = before) -> bool:
                return given.keys() == before.keys() and all(
                    np.array_equal(given[name], before[name]) for name in given
                )

            if len(received) > 1 and all(
                "bias" in given and np.array_equal(given["bias"], previous)
                for given, previous in zip(received[1:], made, strict=False)
            ):
                hint = (
                    "\nlikely mistake: each step was given the gradients of the batch before: "
                    "optimizer.step ran before that batch's backward"
                )
            elif all(stale(given) for given in received):
                hint = (
                    "\nlikely mistake: model.grads read once, before the loop: read "
                    "model.params and model.grads at every step (a Sequential builds them anew "
                    "at each access, from the arrays the last backward made)"
                )
            raise AssertionError(
                f"{where}: step {step} was given grads {grads}, expected the gradients of that "
                f"step's backward, {{'bias': {own}}}{hint}"
            )


def test_the_window_oracles_match_the_loop_oracles() -> None:
    """The oracles above, against the loops of ``tests.oracles`` and :func:`pooling_loops`."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 6))
    for stride, padding, kernel in [(1, 0, (3, 3)), (2, 1, (3, 2)), (3, 2, (1, 4))]:
        params = {"W": rng.standard_normal((2, 3, *kernel)), "b": rng.standard_normal(2)}
        assert_close(
            convolution(stride, padding)(params, x),
            conv2d_oracle(x, params["W"], params["b"], stride, padding),
            call=f"the window convolution oracle, stride {stride}, padding {padding}",
        )
    for kernel, stride in [(2, 2), (3, 1), (3, 2)]:
        for reduce in (np.max, np.mean):
            assert_close(
                pooling(kernel, stride, reduce)({}, x),
                pooling_loops(x, kernel, stride, reduce),
                call=f"the window pooling oracle {reduce.__name__}, k {kernel}, s {stride}",
            )


# ------------------------------------------------------------------------------ late parameters
#
# What an optimizer does when the parameters of a model change under it after it has stepped.


@pytest.mark.exercise("optim")
def test_adam_counts_the_steps_of_a_late_parameter_from_one(impl) -> None:
    """PyTorch counts Adam's steps per parameter: a parameter's first update moves it by lr."""
    optimizer = ADAM.build(impl)
    rng = np.random.default_rng(12)
    params = {"W": rng.standard_normal((2, 2))}
    for _ in range(3):
        optimizer.step(params, {"W": rng.standard_normal((2, 2))})
    params["c"] = np.zeros(3)  # a layer added to the model
    grads = {"W": rng.standard_normal((2, 2)), "c": np.full(3, 0.5)}
    optimizer.step(params, grads)
    want, shared = {"c": np.zeros(3)}, {"c": np.zeros(3)}
    adam_step({}, want, {"c": grads["c"]}, **ADAM.options)  # c's first step: t = 1 for c
    adam_step({("t", "c"): 3}, shared, {"c": grads["c"]}, **ADAM.options)  # t = 4, the call's
    hint = None
    if np.allclose(params["c"], shared["c"], rtol=1e-6):
        hint = (
            "one step count for the whole optimizer: c's first step was corrected as a fourth "
            "step (each parameter counts its own steps, as PyTorch's state['step'])"
        )
    assert_close(
        params["c"],
        want["c"],
        call="Adam(lr=0.01, weight_decay=0.01): 3 steps of W, then step({W, c}) with c new",
        what="params['c'] (PyTorch: about -lr at its first step)",
        hint=hint,
    )


def test_reference_plain_sgd_steps_a_parameter_whose_shape_changed(impl) -> None:
    """SGD without momentum has no state; a wider layer under the same name is just updated.

    Unmarked: it judges the reference (a learner's plain SGD may keep a velocity it never
    needs; the statement does not forbid it)."""
    optimizer = PLAIN.build(impl)
    rng = np.random.default_rng(13)
    params = {"0.W": rng.standard_normal((2, 3))}
    optimizer.step(params, {"0.W": rng.standard_normal((2, 3))})
    params = {"0.W": rng.standard_normal((4, 3))}  # layer 0 replaced by a wider one
    before, grad = params["0.W"].copy(), rng.standard_normal((4, 3))
    optimizer.step(params, {"0.W": grad})
    assert_close(
        params["0.W"],
        before - 0.1 * grad,
        call="SGD(lr=0.1): a step, then a step with '0.W' of another shape",
        what="params['0.W']",
    )
