"""Exercise ``batchnorm``: BatchNorm1d, BatchNorm2d and their sibling LayerNorm.

Forward values and running statistics are compared with loop oracles written here, one feature
(or channel, or sample) at a time, in float64, with PyTorch's conventions: eps = 1e-5 under the
square root, the biased variance to normalize, the unbiased one in the running average, and
``running = (1 - momentum) running + momentum batch``. Gradients come from the judge's central
differences, in training mode (where the statistics depend on every sample) and in evaluation
mode. Inputs have a scale and an offset per feature, so that a statistic over the wrong axis
gives other numbers.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from kata.judge import assert_close, assert_unchanged, check_layer, noncontiguous
from tests.oracles import matching_mistake
from toolkit.gradcheck import numerical_vjp

pytestmark = pytest.mark.exercise("batchnorm")

EPS = 1e-5
MOMENTUM = 0.1
SEEDS = st.integers(0, 2**32 - 1)
WRONG_AXIS_1D = (
    "the statistics are taken over the wrong axis: batch normalization averages over the "
    "batch (axis 0), one mean and variance per feature"
)
WRONG_AXES_2D = (
    "the statistics are taken over the wrong axes: BatchNorm2d averages each channel over N, "
    "H and W"
)
WRONG_AXIS_LN = (
    "the statistics are taken over the wrong axis: layer normalization averages over the "
    "features of each sample (axis 1)"
)
BIASED_RUNNING = (
    "the running average takes the biased batch variance: PyTorch's convention is the unbiased "
    "one, corrected by M / (M - 1) with M the number of values averaged per feature (N for "
    "(N, D) inputs, N * H * W for images); the biased one only normalizes"
)
UNBIASED_NORMALIZED = (
    "normalize with the biased variance (divided by N); only the running average takes the "
    "unbiased one"
)
MOMENTUM_SWAPPED = (
    "momentum weights the new batch: running = (1 - momentum) running + momentum batch "
    "(PyTorch's convention)"
)
EVAL_HINT = "evaluation normalizes with running_mean and running_var, not the batch's statistics"
LN_BACKWARD_AXIS = (
    "the sums of LayerNorm's backward run over the batch (axis 0), as in BatchNorm1d: layer "
    "normalization's mean and variance belong to each sample, so the sums that come from them "
    "run over the features of each sample (axis 1)"
)


def features(shape: tuple[int, ...], seed: int, axis: int = 1) -> np.ndarray:
    """Float64 normal values with a scale and an offset that differ along ``axis``."""
    rng = np.random.default_rng(seed)
    size = shape[axis]
    along = [1] * len(shape)
    along[axis] = size
    scale = rng.uniform(0.5, 3.0, size=size).reshape(along)
    offset = rng.uniform(-2.0, 2.0, size=size).reshape(along)
    return rng.standard_normal(shape) * scale + offset


def with_random_affine(layer, seed: int):
    """The layer with gamma and beta set to random values (not 1 and 0, which hide mistakes)."""
    rng = np.random.default_rng(seed)
    size = layer.params["gamma"].shape
    layer.params["gamma"][...] = rng.uniform(0.5, 2.0, size=size)
    layer.params["beta"][...] = rng.normal(size=size)
    return layer


# ------------------------------------------------------------------------------------ oracles


def column_statistics(values: list[float]) -> tuple[float, float]:
    """(mean, biased variance) of a list of numbers, by sums."""
    mean = sum(values) / len(values)
    return mean, sum((v - mean) ** 2 for v in values) / len(values)


def oracle_batchnorm(x, gamma, beta, mean=None, var=None):
    """BatchNorm over (N, C, ...): per channel c, the values x[:, c, ...] are the batch.

    Returns ``out`` and the batch's (mean, biased variance, count) per channel; with ``mean``
    and ``var`` given (evaluation) they normalize instead of the batch's.
    """
    out = np.zeros(x.shape)
    stats = []
    for c in range(x.shape[1]):
        values = [float(v) for v in x[:, c].ravel()]
        batch_mean, batch_var = column_statistics(values)
        stats.append((batch_mean, batch_var, len(values)))
        mu = batch_mean if mean is None else float(mean[c])
        sigma2 = batch_var if var is None else float(var[c])
        out[:, c] = gamma[c] * (x[:, c] - mu) / np.sqrt(sigma2 + EPS) + beta[c]
    return out, stats


def oracle_layernorm(x, gamma, beta):
    out = np.zeros(x.shape)
    for n in range(x.shape[0]):
        mean, var = column_statistics([float(v) for v in x[n]])
        for j in range(x.shape[1]):
            out[n, j] = gamma[j] * (x[n, j] - mean) / np.sqrt(var + EPS) + beta[j]
    return out


def running_after(steps, channels: int, momentum: float = MOMENTUM, *, unbiased: bool = True):
    """The running (mean, var) after training forwards whose batch statistics are ``steps``."""
    running_mean, running_var = np.zeros(channels), np.ones(channels)
    for stats in steps:
        for c, (mean, var, count) in enumerate(stats):
            estimate = var * count / (count - 1) if unbiased else var
            running_mean[c] = (1 - momentum) * running_mean[c] + momentum * mean
            running_var[c] = (1 - momentum) * running_var[c] + momentum * estimate
    return running_mean, running_var


def wrong_axis_outputs(x, gamma, beta, correct_axes: tuple[int, ...]):
    """What a normalization over other axes (with or without keepdims) would return."""
    outputs = []
    axes_choices = [
        axes
        for r in range(1, x.ndim + 1)
        for axes in itertools.combinations(range(x.ndim), r)
        if axes != correct_axes
    ]
    for mean_axes, var_axes in itertools.product([*axes_choices, correct_axes], repeat=2):
        if mean_axes == var_axes == correct_axes:
            continue
        for keep in (True, False):
            try:
                mean = x.mean(axis=mean_axes, keepdims=keep)
                var = x.var(axis=var_axes, keepdims=keep)
                affine = (-1,) + (1,) * (x.ndim - 2) if x.ndim > 2 else (-1,)
                out = gamma.reshape(affine) * (x - mean) / np.sqrt(var + EPS)
                out = out + beta.reshape(affine)
            except ValueError:
                continue
            if out.shape == x.shape:
                outputs.append(out)
    return outputs


def forward_hint(layer_kind: str, x, gamma, beta, got, *, unbiased_out=None) -> str | None:
    correct = {"1d": (0,), "2d": (0, 2, 3), "ln": (1,)}[layer_kind]
    message = {"1d": WRONG_AXIS_1D, "2d": WRONG_AXES_2D, "ln": WRONG_AXIS_LN}[layer_kind]
    mistakes = [(out, message) for out in wrong_axis_outputs(x, gamma, beta, correct)]
    if unbiased_out is not None:
        mistakes.append((unbiased_out, UNBIASED_NORMALIZED))
    return matching_mistake(got, mistakes)


def unbiased_oracle(x, gamma, beta):
    """BatchNorm normalized with the unbiased variance: the output of that mistake."""
    _, stats = oracle_batchnorm(x, gamma, beta)
    var = np.array([v * m / (m - 1) for _, v, m in stats])
    mean = np.array([mu for mu, _, _ in stats])
    return oracle_batchnorm(x, gamma, beta, mean, var)[0]


def oracle_dx(x, gamma, beta, dout):
    """dL/dx of the training-mode oracle, by central differences on a copy of x."""
    probe = x.copy()
    return numerical_vjp(lambda: oracle_batchnorm(probe, gamma, beta)[0], probe, dout)


def assert_running(layer, steps, call: str) -> None:
    channels = len(steps[0])
    mean, var = running_after(steps, channels)
    biased = running_after(steps, channels, unbiased=False)[1]
    swapped_mean, swapped_var = running_after(steps, channels, momentum=1 - MOMENTUM)
    got_mean = getattr(layer, "running_mean", None)
    assert_close(
        got_mean,
        mean,
        call=call,
        what="running_mean",
        hint=matching_mistake(got_mean, [(swapped_mean, MOMENTUM_SWAPPED)]),
    )
    got_var = getattr(layer, "running_var", None)
    assert_close(
        got_var,
        var,
        call=call,
        what="running_var",
        hint=matching_mistake(got_var, [(biased, BIASED_RUNNING), (swapped_var, MOMENTUM_SWAPPED)]),
    )


# ------------------------------------------------------------------------------- BatchNorm1d


@given(n=st.integers(2, 6), d=st.integers(1, 5), seed=SEEDS)
@example(n=4, d=4, seed=0)
@example(n=5, d=3, seed=1)
def test_batchnorm1d_forward_and_running_statistics_match_the_oracle(impl, n, d, seed):
    layer = with_random_affine(impl.normalization.BatchNorm1d(d, dtype=np.float64), seed)
    gamma, beta = layer.params["gamma"].copy(), layer.params["beta"].copy()
    x = features((n, d), seed)
    before = x.copy()
    call = f"BatchNorm1d({d}) in training, forward(x) with x of shape {x.shape}"
    out = layer.forward(x)
    assert_unchanged(before, x, call=call, what="input x")
    expected, stats = oracle_batchnorm(x, gamma, beta)
    hint = forward_hint("1d", x, gamma, beta, out, unbiased_out=unbiased_oracle(x, gamma, beta))
    assert_close(out, expected, call=call, hint=hint)
    assert_running(layer, [stats], f"{call}: after one training forward")


@given(n=st.integers(3, 6), d=st.integers(1, 4), seed=SEEDS)
@example(n=4, d=3, seed=2)
def test_batchnorm1d_gradients_in_training(impl, n, d, seed):
    layer = with_random_affine(impl.normalization.BatchNorm1d(d, dtype=np.float64), seed)
    x = features((n, d), seed)
    check_layer(layer, x, seed=seed, call=f"BatchNorm1d({d}) in training on x of shape {x.shape}")


def test_batchnorm1d_gradients_in_evaluation(impl):
    layer = with_random_affine(impl.normalization.BatchNorm1d(3, dtype=np.float64), 3)
    for step in range(3):
        layer.forward(features((6, 3), seed=10 + step))
    layer.eval()
    check_layer(
        layer, features((4, 3), 4), call="BatchNorm1d(3) in evaluation on x of shape (4, 3)"
    )


def test_batchnorm1d_gradients_on_a_non_contiguous_input(impl):
    layer = with_random_affine(impl.normalization.BatchNorm1d(3, dtype=np.float64), 5)
    x = noncontiguous(features((5, 3), 6))
    check_layer(layer, x, call="BatchNorm1d(3) in training on a non-contiguous view x of (5, 3)")


BATCHES = (4, 7, 2, 5)


def test_batchnorm1d_running_statistics_over_several_steps(impl):
    layer = with_random_affine(impl.normalization.BatchNorm1d(3, dtype=np.float64), 7)
    gamma, beta = layer.params["gamma"].copy(), layer.params["beta"].copy()
    steps = []
    for step, n in enumerate(BATCHES):
        x = features((n, 3), seed=20 + step)
        out = layer.forward(x)
        expected, stats = oracle_batchnorm(x, gamma, beta)
        steps.append(stats)
        call = f"BatchNorm1d(3): training forward number {step + 1}, x of shape {x.shape}"
        assert_close(out, expected, call=call)
        dout = features((n, 3), seed=40 + step)
        dx = layer.backward(dout)
        expected_dx = oracle_dx(x, gamma, beta, dout)
        assert_close(
            dx, expected_dx, call=f"{call}, backward(dout)", what="dx", rtol=1e-5, atol=1e-7
        )
    assert_running(
        layer,
        steps,
        f"BatchNorm1d(3): running statistics after {len(BATCHES)} training "
        f"forward(s) of batch sizes {BATCHES}",
    )


def test_batchnorm1d_evaluation_uses_the_running_statistics(impl):
    layer = with_random_affine(impl.normalization.BatchNorm1d(3, dtype=np.float64), 8)
    gamma, beta = layer.params["gamma"].copy(), layer.params["beta"].copy()
    for step, n in enumerate(BATCHES):
        layer.forward(features((n, 3), seed=50 + step))
    mean, var = layer.running_mean.copy(), layer.running_var.copy()
    layer.eval()
    call = "BatchNorm1d(3) in evaluation mode (after 4 training forwards): forward(x)"
    for x in [features((5, 3), 60), features((1, 3), 61)]:
        out = layer.forward(x)
        batch_out, _ = oracle_batchnorm(x, gamma, beta)
        assert_close(
            out,
            oracle_batchnorm(x, gamma, beta, mean, var)[0],
            call=f"{call} with x of shape {x.shape}",
            hint=matching_mistake(out, [(batch_out, EVAL_HINT)]),
        )
    assert_close(
        layer.running_mean, mean, call=f"{call}: evaluation must not update it", what="running_mean"
    )
    assert_close(
        layer.running_var, var, call=f"{call}: evaluation must not update it", what="running_var"
    )


@pytest.mark.parametrize("kind", ["1d", "2d"])
def test_float32_stays_float32(impl, kind):
    shape = (6, 3) if kind == "1d" else (2, 3, 4, 3)
    layer_class = impl.normalization.BatchNorm1d if kind == "1d" else impl.normalization.BatchNorm2d
    layer = with_random_affine(layer_class(3), 9)
    x = features(shape, 10).astype(np.float32)
    dout = features(shape, 11).astype(np.float32)
    out = layer.forward(x)
    dx = layer.backward(dout)
    call = f"{layer!r} (float32) on a float32 x of shape {shape}"
    results = {
        "output": out,
        "dx": dx,
        "grads['gamma']": layer.grads.get("gamma"),
        "grads['beta']": layer.grads.get("beta"),
        "running_mean": getattr(layer, "running_mean", None),
        "running_var": getattr(layer, "running_var", None),
    }
    for what, value in results.items():
        assert isinstance(value, np.ndarray) and value.dtype == np.float32, (
            f"{call}: {what} is {getattr(value, 'dtype', type(value).__name__)}, expected a "
            "float32 array\nlikely mistake: np.zeros(shape), np.ones(...) or a float64 array "
            "assigned to a running statistic changed the dtype"
        )
    gamma = layer.params["gamma"].astype(np.float64)
    beta = layer.params["beta"].astype(np.float64)
    expected, _ = oracle_batchnorm(x.astype(np.float64), gamma, beta)
    assert_close(out, expected, call=call, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kind", ["1d", "2d"])
def test_bad_inputs_and_settings_are_refused(impl, kind):
    bn = impl.normalization.BatchNorm1d if kind == "1d" else impl.normalization.BatchNorm2d
    good, wrong, single = (
        ((4, 3), (4, 2), (1, 3)) if kind == "1d" else ((2, 3, 2, 2), (2, 2, 2, 2), (1, 3, 1, 1))
    )
    layer = bn(3, dtype=np.float64)
    assert np.shape(layer.forward(features(good, 0))) == good
    with pytest.raises(ValueError, match="shape"):
        layer.forward(np.ones(wrong))
    with pytest.raises(ValueError, match="more than one value"):
        layer.forward(np.ones(single))
    for kwargs, named in [
        ({"num_features": 0}, "num_features"),
        ({"num_features": 3, "eps": 0.0}, "eps"),
        ({"num_features": 3, "momentum": 1.5}, "momentum"),
    ]:
        with pytest.raises(ValueError, match=named):
            bn(**kwargs)


# ------------------------------------------------------------------------------- BatchNorm2d

IMAGE_SHAPES = st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4))


@given(shape=IMAGE_SHAPES, seed=SEEDS)
@example(shape=(2, 3, 4, 5), seed=0)
@example(shape=(3, 3, 3, 3), seed=1)
def test_batchnorm2d_forward_and_running_statistics_match_the_oracle(impl, shape, seed):
    n, c, h, w = shape
    if n * h * w < 2:
        shape = (2, c, h, w)
    layer = with_random_affine(impl.normalization.BatchNorm2d(c, dtype=np.float64), seed)
    gamma, beta = layer.params["gamma"].copy(), layer.params["beta"].copy()
    x = features(shape, seed)
    before = x.copy()
    call = f"BatchNorm2d({c}) in training, forward(x) with x of shape {x.shape}"
    out = layer.forward(x)
    assert_unchanged(before, x, call=call, what="input x")
    expected, stats = oracle_batchnorm(x, gamma, beta)
    hint = forward_hint("2d", x, gamma, beta, out, unbiased_out=unbiased_oracle(x, gamma, beta))
    assert_close(out, expected, call=call, hint=hint)
    assert_running(layer, [stats], f"{call}: after one training forward")


@given(shape=IMAGE_SHAPES, seed=SEEDS)
@example(shape=(2, 2, 3, 3), seed=2)
def test_batchnorm2d_gradients_in_training(impl, shape, seed):
    n, c, h, w = shape
    if n * h * w < 3:
        shape = (3, c, h, w)
    layer = with_random_affine(impl.normalization.BatchNorm2d(c, dtype=np.float64), seed)
    x = features(shape, seed)
    check_layer(layer, x, seed=seed, call=f"BatchNorm2d({c}) in training on x of shape {shape}")


def test_batchnorm2d_gradients_in_evaluation_and_on_a_view(impl):
    layer = with_random_affine(impl.normalization.BatchNorm2d(2, dtype=np.float64), 12)
    layer.forward(features((3, 2, 3, 4), 13))
    check_layer(
        layer,
        noncontiguous(features((2, 2, 3, 3), 14)),
        call="BatchNorm2d(2) in training on a non-contiguous view x of (2, 2, 3, 3)",
    )
    layer.eval()
    check_layer(
        layer,
        features((2, 2, 2, 3), 15),
        call="BatchNorm2d(2) in evaluation on x of shape (2, 2, 2, 3)",
    )


def test_batchnorm2d_several_steps_then_evaluation(impl):
    layer = with_random_affine(impl.normalization.BatchNorm2d(2, dtype=np.float64), 16)
    gamma, beta = layer.params["gamma"].copy(), layer.params["beta"].copy()
    shapes = [(2, 2, 3, 3), (1, 2, 4, 2), (3, 2, 2, 2)]
    steps = []
    for step, shape in enumerate(shapes):
        x = features(shape, seed=70 + step)
        out = layer.forward(x)
        expected, stats = oracle_batchnorm(x, gamma, beta)
        steps.append(stats)
        assert_close(out, expected, call=f"BatchNorm2d(2): training forward of x of shape {shape}")
        dout = features(shape, seed=80 + step)
        dx = layer.backward(dout)
        expected_dx = oracle_dx(x, gamma, beta, dout)
        assert_close(
            dx,
            expected_dx,
            call=f"BatchNorm2d(2): backward after the forward of x of shape {shape}",
            what="dx",
            rtol=1e-5,
            atol=1e-7,
        )
    assert_running(
        layer,
        steps,
        f"BatchNorm2d(2): running statistics after training forwards of shapes {shapes}",
    )
    mean, var = layer.running_mean.copy(), layer.running_var.copy()
    layer.eval()
    x = features((1, 2, 2, 3), 90)
    out = layer.forward(x)
    assert_close(
        out,
        oracle_batchnorm(x, gamma, beta, mean, var)[0],
        call="BatchNorm2d(2) in evaluation mode: forward(x) with x of shape (1, 2, 2, 3)",
        hint=matching_mistake(out, [(oracle_batchnorm(x, gamma, beta)[0], EVAL_HINT)]),
    )


# --------------------------------------------------------------------------------- LayerNorm


@given(n=st.integers(1, 5), d=st.integers(2, 6), seed=SEEDS)
@example(n=3, d=4, seed=0)
@example(n=4, d=4, seed=1)
def test_layernorm_forward_matches_the_oracle(impl, n, d, seed):
    layer = with_random_affine(impl.normalization.LayerNorm(d, dtype=np.float64), seed)
    gamma, beta = layer.params["gamma"].copy(), layer.params["beta"].copy()
    x = features((n, d), seed, axis=0)
    before = x.copy()
    call = f"LayerNorm({d}), forward(x) with x of shape {x.shape}"
    out = layer.forward(x)
    assert_unchanged(before, x, call=call, what="input x")
    expected = oracle_layernorm(x, gamma, beta)
    assert_close(out, expected, call=call, hint=forward_hint("ln", x, gamma, beta, out))
    layer.eval()
    assert_close(layer.forward(x), expected, call=f"{call} in evaluation mode (the same)")


def layernorm_mistake(layer, x: np.ndarray, seed: int) -> str | None:
    """The mistake a failed LayerNorm gradient check comes from, when the numbers confirm one:
    a forward over the wrong axis, or a backward whose sums run over the batch (what it would
    return is computed here from the definition, with the statistics of each sample)."""
    gamma, beta = layer.params["gamma"].copy(), layer.params["beta"].copy()
    out = layer.forward(x)
    wrong_forward = forward_hint("ln", x, gamma, beta, out)
    if wrong_forward is not None:
        return f"in forward, {wrong_forward}"
    dout = np.random.default_rng(seed).standard_normal(x.shape)
    dx = layer.backward(dout)
    mean, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    inv_std = 1 / np.sqrt(var + EPS)
    xhat, g = (x - mean) * inv_std, dout * gamma
    over_batch = inv_std * (g - g.mean(axis=0) - xhat * (g * xhat).mean(axis=0))
    return matching_mistake(dx, [(over_batch, LN_BACKWARD_AXIS)])


def check_layernorm(layer, x: np.ndarray, *, call: str, seed: int = 0) -> None:
    """``check_layer`` of a LayerNorm, its failure completed with the mistake the numbers show
    (:func:`layernorm_mistake`) when the judge named none."""
    try:
        check_layer(layer, x, seed=seed, call=call)
    except AssertionError as error:
        mistake = None if "likely mistake:" in str(error) else layernorm_mistake(layer, x, seed)
        if mistake is None:
            raise
        raise AssertionError(f"{error}\nlikely mistake: {mistake}") from None


@given(n=st.integers(1, 4), d=st.integers(3, 6), seed=SEEDS)
@example(n=3, d=3, seed=2)
def test_layernorm_gradients(impl, n, d, seed):
    layer = with_random_affine(impl.normalization.LayerNorm(d, dtype=np.float64), seed)
    x = features((n, d), seed, axis=0)
    check_layernorm(layer, x, seed=seed, call=f"LayerNorm({d}) on x of shape {x.shape}")


def test_layernorm_several_calls_views_and_float32(impl):
    layer = with_random_affine(impl.normalization.LayerNorm(4, dtype=np.float64), 17)
    for step, n in enumerate((5, 2, 3)):
        x = noncontiguous(features((n, 4), seed=100 + step, axis=0))
        check_layernorm(layer, x, call=f"LayerNorm(4), call {step + 1}, a view x of shape {(n, 4)}")
    layer32 = with_random_affine(impl.normalization.LayerNorm(4), 18)
    x = features((3, 4), 19, axis=0).astype(np.float32)
    out = layer32.forward(x)
    dx = layer32.backward(np.ones_like(x))
    for what, value in [
        ("output", out),
        ("dx", dx),
        ("grads['gamma']", layer32.grads.get("gamma")),
    ]:
        assert isinstance(value, np.ndarray) and value.dtype == np.float32, (
            f"LayerNorm(4) (float32) on a float32 x: {what} is "
            f"{getattr(value, 'dtype', type(value).__name__)}, expected float32"
        )
    with pytest.raises(ValueError, match="shape"):
        layer.forward(np.ones((3, 5)))
