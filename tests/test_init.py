"""Judge of the ``init`` exercise: fans, LeCun, Xavier and He initialization.

The initializers are random, so their tests are statistical: a large sample from a fixed seed,
whose mean and variance must fall within five standard errors of the exact values. The
standard error comes from the sampling distribution of the estimate (for ``n`` draws with
variance ``s2`` and fourth moment ``m4``: ``Var(sample variance) ~ (m4 - s2**2) / n``), so a
correct implementation fails with probability below one in a million whatever stream of
numbers it draws, while every usual mistake (a wrong fan, a missing factor 2 or 3, a standard
deviation passed as a variance) moves the variance by far more than the tolerance.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

pytestmark = pytest.mark.exercise("init")

STANDARD_ERRORS = 5.0
"""How many standard errors a statistic may stray from its exact value."""

DENSE = (300, 700)
"""A non-square dense weight: using fan_out for fan_in changes the variance 2.3 times."""

CONV = (96, 40, 5, 3)
"""A conv weight (out_channels, in_channels, kh, kw): fan_in 600, fan_out 1440; kh != kw."""

NORMALS = ("lecun_normal", "xavier_normal", "he_normal")
TRUNCATED_AT_TWO_STD = 1.0 - 4.0 * math.exp(-2.0) / math.sqrt(2.0 * math.pi) / math.erf(
    math.sqrt(2.0)
)
"""The variance of a standard normal truncated to [-2, 2]: 1 - 2 * 2 * phi(2) / (2 Phi(2) - 1)."""
INITIALIZERS = (*NORMALS, "xavier_uniform")


# --------------------------------------------------------------------------- oracle


def true_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 2:
        return shape[0], shape[1]
    out_channels, in_channels, kh, kw = shape
    return in_channels * kh * kw, out_channels * kh * kw


def formula_variance(name: str, fan_in: int, fan_out: int) -> float:
    """The variance each initializer should give, from its formula."""
    return {
        "lecun_normal": 1.0 / fan_in,
        "he_normal": 2.0 / fan_in,
        "xavier_normal": 2.0 / (fan_in + fan_out),
        "xavier_uniform": 2.0 / (fan_in + fan_out),  # a**2 / 3 with a = sqrt(6 / (in + out))
    }[name]


def usual_mistakes(name: str, shape: tuple[int, ...]) -> list[tuple[float, str]]:
    """(variance the mistake gives, the mistake) for the mistakes learners make."""
    fan_in, fan_out = true_fans(shape)
    right = formula_variance(name, fan_in, fan_out)
    mistakes = [
        (formula_variance(name, fan_out, fan_in), "fan_in and fan_out swapped"),
        (right**2, "the variance passed as numpy's scale (scale is the standard deviation)"),
    ]
    if len(shape) == 4:
        in_channels, out_channels = shape[1], shape[0]
        mistakes.append(
            (
                formula_variance(name, in_channels, out_channels),
                "fans of a convolution without the receptive field kh * kw",
            )
        )
        mistakes.append(
            (
                formula_variance(name, out_channels * shape[2] * shape[3], fan_out),
                "fan_in taken from the out_channels axis (axis 0) of the conv weight",
            )
        )
    if name in NORMALS:
        mistakes.append(
            (
                right * TRUNCATED_AT_TWO_STD,
                "a normal truncated at two standard deviations (values beyond redrawn): its "
                "variance is 0.774 times the normal's; these normals are not truncated",
            )
        )
    if name == "lecun_normal":
        mistakes.append((2.0 / fan_in, "std sqrt(2 / fan_in): that is He, not LeCun"))
        mistakes.append((1.0 / fan_out, "std sqrt(1 / fan_out): the fan of the wrong side"))
    if name == "he_normal":
        mistakes.append(
            (
                1.0 / fan_in,
                "std sqrt(1 / fan_in): that is LeCun's variance, which each ReLU layer halves",
            )
        )
        mistakes.append((2.0 / fan_out, "std sqrt(2 / fan_out): the fan of the wrong side"))
    if name.startswith("xavier"):
        mistakes.append(
            (1.0 / (fan_in + fan_out), "variance 1 / (fan_in + fan_out): the factor 2 is missing")
        )
        mistakes.append((1.0 / fan_in, "variance 1 / fan_in: that is LeCun, not Xavier"))
    if name == "xavier_uniform":
        mistakes.append(
            (
                right / 3.0,
                "bound a = sqrt(2 / (fan_in + fan_out)): that is the standard deviation, not "
                "the bound of a uniform distribution of that variance",
            )
        )
        mistakes.append((right / 4.0, "U(0, a) instead of U(-a, a)"))
    return mistakes


def diagnose(name: str, shape: tuple[int, ...], variance: float) -> str:
    fan_in, fan_out = true_fans(shape)
    right = formula_variance(name, fan_in, fan_out)
    closest, mistake = min(
        usual_mistakes(name, shape), key=lambda pair: abs(math.log(variance / pair[0]))
    )
    if abs(math.log(variance / closest)) < 0.05:
        return f"likely mistake: {mistake}"
    return f"your variance is {variance / right:.3g} times the right one"


def sample(impl, name: str, shape: tuple[int, ...], seed: int = 0, **kwargs) -> np.ndarray:
    initializer = getattr(impl.init, name)
    weights = initializer(shape, np.random.default_rng(seed), **kwargs)
    call = f"{name}({shape}, rng)"
    assert isinstance(weights, np.ndarray), (
        f"{call} returned {type(weights).__name__}, not an array"
    )
    assert weights.shape == tuple(shape), (
        f"{call} returned an array of shape {weights.shape}, expected {tuple(shape)}"
    )
    return weights


# --------------------------------------------------------------------------- fans


@example(fan_in=3, fan_out=5)  # tried first: distinct sizes tell the mistakes apart
@given(
    fan_in=st.integers(1, 1000),
    fan_out=st.integers(1, 1000),
)
def test_fans_of_dense_weights_are_rows_and_columns(impl, fan_in: int, fan_out: int) -> None:
    got = impl.init.fans((fan_in, fan_out))
    hint = ""
    if tuple(got) == (fan_out, fan_in) and fan_in != fan_out:
        hint = (
            "\nlikely mistake: PyTorch's Linear.weight is (out, in); ours is (in, out), "
            "used as y = x @ W"
        )
    assert tuple(got) == (fan_in, fan_out), (
        f"fans(({fan_in}, {fan_out})) returned {got}, expected ({fan_in}, {fan_out}) "
        f"for a dense weight of shape (in_features, out_features){hint}"
    )


@example(out_channels=6, in_channels=4, kh=5, kw=3)  # tried first: every size distinct
@given(
    out_channels=st.integers(1, 64),
    in_channels=st.integers(1, 64),
    kh=st.integers(1, 7),
    kw=st.integers(1, 7),
)
def test_fans_of_conv_weights_include_the_receptive_field(
    impl, out_channels: int, in_channels: int, kh: int, kw: int
) -> None:
    shape = (out_channels, in_channels, kh, kw)
    expected = (in_channels * kh * kw, out_channels * kh * kw)
    got = impl.init.fans(shape)
    mistakes = [
        ((in_channels, out_channels), "the receptive field kh * kw is missing"),
        ((in_channels * kh, out_channels * kh), "the receptive field is kh * kw, not kh"),
        (
            (out_channels * kh * kw, in_channels * kh * kw),
            "the two channel axes are swapped: the weight is (out_channels, in_channels, kh, kw)",
        ),
        ((out_channels, in_channels), "the 2-D rule (shape[0], shape[1]) applied to a conv weight"),
    ]
    hints = [text for fans_of_mistake, text in mistakes if tuple(got) == fans_of_mistake]
    if tuple(got) != expected:
        raise AssertionError(
            f"fans({shape}) returned {got}, expected {expected} (nox -s hint -- init)"
            + (f"\nlikely mistake: {'; or '.join(hints)}" if hints else "")
        )


@pytest.mark.parametrize("shape", [(), (5,), (3, 4, 5), (2, 3, 4, 5, 6)])
def test_fans_rejects_other_ranks(impl, shape: tuple[int, ...]) -> None:
    impl.init.fans((3, 4))  # a dense shape works first (the other tests check its value)
    try:
        got = impl.init.fans(shape)
    except ValueError as error:
        assert str(shape) in str(error), (
            f"fans({shape}) raised ValueError({str(error)!r}): the message should name the "
            f"shape received, {shape}"
        )
    else:
        raise AssertionError(
            f"fans({shape}) returned {got!r}: expected a ValueError naming the shape, since "
            "only dense (in, out) and convolution (out, in, kh, kw) weights have fans here"
        )


# --------------------------------------------------------------------------- statistics


@pytest.mark.parametrize("shape", [DENSE, CONV], ids=["dense", "conv"])
@pytest.mark.parametrize("name", INITIALIZERS)
def test_mean_is_zero_and_variance_follows_the_formula(
    impl, name: str, shape: tuple[int, ...]
) -> None:
    weights = sample(impl, name, shape).astype(np.float64)
    n = weights.size
    fan_in, fan_out = true_fans(shape)
    variance = formula_variance(name, fan_in, fan_out)
    # Sampling error: the mean has variance s2 / n; the sample variance has variance
    # (m4 - s2**2) / n with m4 = 3 s2**2 for a normal and 9/5 s2**2 for a uniform.
    excess = 2.0 if name in NORMALS else 0.8
    mean_tolerance = STANDARD_ERRORS * math.sqrt(variance / n)
    variance_tolerance = STANDARD_ERRORS * math.sqrt(excess / n)  # relative
    call = f"{name}({shape}, rng) [fan_in={fan_in}, fan_out={fan_out}]"

    mean = float(weights.mean())
    assert abs(mean) <= mean_tolerance, (
        f"{call}: the mean of the {n} weights is {mean:.3g}, expected 0 +- {mean_tolerance:.2g}"
        "\nlikely mistake: a distribution that is not centred on 0 (U(0, a) instead of U(-a, a)?)"
    )
    got = float(np.mean(weights**2))
    assert abs(got / variance - 1.0) <= variance_tolerance, (
        f"{call}: the variance of the {n} weights is {got:.4g}, expected {variance:.4g} "
        f"+- {100 * variance_tolerance:.1f}%\n{diagnose(name, shape, got)}"
    )


@pytest.mark.parametrize("name", NORMALS)
def test_normal_initializers_have_normal_tails(impl, name: str) -> None:
    weights = sample(impl, name, DENSE).astype(np.float64)
    std = math.sqrt(formula_variance(name, *true_fans(DENSE)))
    expected = math.erfc(2.0 / math.sqrt(2.0))  # P(|z| > 2 std) = 4.55% for a normal
    tolerance = STANDARD_ERRORS * math.sqrt(expected * (1.0 - expected) / weights.size)
    beyond = float(np.mean(np.abs(weights) > 2.0 * std))
    assert abs(beyond - expected) <= tolerance, (
        f"{name}({DENSE}, rng): {100 * beyond:.2f}% of the weights lie beyond two standard "
        f"deviations, a normal distribution puts {100 * expected:.2f}% there\n"
        "likely mistake: not a normal distribution (rng.uniform? a truncated normal?), "
        "or a wrong standard deviation"
    )


@pytest.mark.parametrize("shape", [DENSE, CONV], ids=["dense", "conv"])
def test_xavier_uniform_fills_but_never_exceeds_its_bound(impl, shape: tuple[int, ...]) -> None:
    weights = sample(impl, "xavier_uniform", shape).astype(np.float64)
    fan_in, fan_out = true_fans(shape)
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    call = f"xavier_uniform({shape}, rng) [fan_in={fan_in}, fan_out={fan_out}]"
    largest = float(np.abs(weights).max())
    assert largest <= bound * (1.0 + 1e-6), (
        f"{call}: a weight of magnitude {largest:.5g} exceeds the bound "
        f"a = sqrt(6 / (fan_in + fan_out)) = {bound:.5g}\n"
        "likely mistake: a normal distribution, or a bound computed from the wrong fans"
    )
    assert largest >= bound * 0.999, (
        f"{call}: the largest weight magnitude is {largest:.5g}; {weights.size} uniform draws "
        f"on [-a, a] reach within 0.1% of a = {bound:.5g}\n"
        "likely mistake: a bound too small (sqrt(2 / (fan_in + fan_out)) is the std, not a)"
    )
    inner = float(np.mean(np.abs(weights) < bound / 2))
    tolerance = STANDARD_ERRORS * math.sqrt(0.25 / weights.size)
    assert abs(inner - 0.5) <= tolerance, (
        f"{call}: {100 * inner:.2f}% of the weights lie in [-a/2, a/2], a uniform "
        "distribution puts 50% there\nlikely mistake: not a uniform distribution"
    )


# --------------------------------------------------------------------------- dtype and rng


@pytest.mark.parametrize("name", INITIALIZERS)
def test_default_dtype_is_float32(impl, name: str) -> None:
    weights = sample(impl, name, (20, 30))
    assert weights.dtype == np.float32, (
        f"{name}((20, 30), rng) returned dtype {weights.dtype}, expected float32 (the default)"
        "\nlikely mistake: the draws are float64 (as numpy's generators make them), returned "
        "without conversion to the dtype argument"
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize("name", INITIALIZERS)
def test_dtype_is_honored(impl, name: str, dtype: type) -> None:
    weights = sample(impl, name, (20, 30), dtype=dtype)
    assert weights.dtype == dtype, (
        f"{name}((20, 30), rng, dtype={np.dtype(dtype).name}) returned dtype {weights.dtype}"
        "\nlikely mistake: the dtype argument is ignored"
    )
    if dtype is np.float64:
        as_float32 = weights.astype(np.float32).astype(np.float64)
        assert not np.array_equal(weights, as_float32), (
            f"{name}((20, 30), rng, dtype=float64) returned float32 values cast to float64: "
            "draw in float64 and convert once, at the end"
        )


@pytest.mark.parametrize("name", INITIALIZERS)
def test_the_generator_given_decides_the_weights(impl, name: str) -> None:
    shape = (6, 4, 3, 3)
    first = sample(impl, name, shape, seed=7)
    again = sample(impl, name, shape, seed=7)
    other = sample(impl, name, shape, seed=8)
    assert np.array_equal(first, again), (
        f"{name}({shape}, np.random.default_rng(7)) called twice gave different weights\n"
        "likely mistake: drawing from np.random's global state instead of the rng argument"
    )
    assert not np.array_equal(first, other), (
        f"{name}({shape}, rng) gave the same weights for seeds 7 and 8\n"
        "likely mistake: a generator created inside the function instead of the rng argument"
    )


@pytest.mark.parametrize("name", INITIALIZERS)
def test_consecutive_draws_from_one_generator_differ(impl, name: str) -> None:
    rng = np.random.default_rng(3)
    initializer = getattr(impl.init, name)
    first, second = initializer((5, 5), rng), initializer((5, 5), rng)
    assert not np.array_equal(first, second), (
        f"two calls {name}((5, 5), rng) with the same generator gave the same weights: every "
        "layer of a network would start identical\n"
        "likely mistake: re-seeding, or copying the generator, inside the initializer"
    )


@pytest.mark.parametrize("name", INITIALIZERS)
@given(
    shape=st.one_of(
        st.tuples(st.integers(1, 9), st.integers(1, 9)),
        st.tuples(st.integers(1, 5), st.integers(1, 5), st.integers(1, 4), st.integers(1, 4)),
    ),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_any_small_shape(impl, shape: tuple[int, ...], name: str, dtype: type) -> None:
    weights = sample(impl, name, shape, dtype=dtype)
    call = f"{name}({shape}, rng, dtype={np.dtype(dtype).name})"
    assert weights.dtype == dtype, f"{call} returned dtype {weights.dtype}"
    assert np.all(np.isfinite(weights)), f"{call} returned non-finite values"
    if name == "xavier_uniform":
        fan_in, fan_out = true_fans(shape)
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        largest = float(np.abs(weights.astype(np.float64)).max())
        assert largest <= bound * (1.0 + 1e-3), (
            f"{call}: a weight of magnitude {largest:.5g} exceeds a = {bound:.5g}"
        )
