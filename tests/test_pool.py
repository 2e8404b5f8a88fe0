"""Judge of the pool exercise: MaxPool2d, AvgPool2d and Flatten.

Forward values come from loop oracles written here; gradients from ``kata.judge.check_layer``
on inputs whose values are all distinct (at least 1e-3 apart), so max pooling has no ties. The
last tests check the rule of speed without timing anything: the Python lines the pools run must
not grow with the batch or the image.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from kata.judge import assert_close, assert_unchanged, check_layer, noncontiguous
from tests.oracles import assert_lines_do_not_grow, output_size

pytestmark = pytest.mark.exercise("pool")


def windows(out_shape: tuple[int, ...], kernel: int, stride: int):
    """Every pooling window: ``(n, c, i, j)`` of the output and the rows and columns of x it reads.

    Output position ``(i, j)`` reads ``x[n, c, i*s : i*s + k, j*s : j*s + k]``.
    """
    for n, c, i, j in np.ndindex(*out_shape):
        rows = slice(i * stride, i * stride + kernel)
        columns = slice(j * stride, j * stride + kernel)
        yield (n, c, i, j), rows, columns


def oracle_pool(x: np.ndarray, kernel: int, stride: int, reduce) -> np.ndarray:
    """out[n, c, i, j] = reduce(x[n, c, i*s : i*s + k, j*s : j*s + k]), window by window."""
    n_samples, channels, height, width = x.shape
    oh, ow = output_size(height, kernel, stride, 0), output_size(width, kernel, stride, 0)
    out = np.zeros((n_samples, channels, oh, ow))
    for (n, c, i, j), rows, columns in windows(out.shape, kernel, stride):
        out[n, c, i, j] = reduce(x[n, c, rows, columns])
    return out


def oracle_pool_backward(x: np.ndarray, kernel: int, stride: int, dout: np.ndarray, name: str):
    """dx window by window: MaxPool2d sends dout to the first maximum, AvgPool2d spreads it."""
    dx = np.zeros(x.shape)
    for (n, c, i, j), rows, columns in windows(dout.shape, kernel, stride):
        if name == "MaxPool2d":
            window = x[n, c, rows, columns]
            p, q = np.unravel_index(np.argmax(window), window.shape)  # the first max
            dx[n, c, i * stride + p, j * stride + q] += dout[n, c, i, j]
        else:
            dx[n, c, rows, columns] += dout[n, c, i, j] / kernel**2
    return dx


def distinct_values(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Float64 values, all distinct and exactly 1e-3 apart (no ties: max pooling has no kink)."""
    size = int(np.prod(shape))
    ranks = np.random.default_rng(seed).permutation(size).reshape(shape)
    return (ranks - size / 2) * 1e-3


@st.composite
def pool_cases(draw):
    """(N, C, H, W, kernel, stride or None): at least one window, often not tiling."""
    kernel = draw(st.integers(1, 4))
    stride = draw(st.one_of(st.none(), st.integers(1, 3)))
    height = draw(st.integers(kernel, kernel + 5))
    width = draw(st.integers(kernel, kernel + 5))
    return draw(st.integers(1, 3)), draw(st.integers(1, 3)), height, width, kernel, stride


POOLS = {"MaxPool2d": np.max, "AvgPool2d": np.mean}


def pool_call(name: str, kernel: int, stride: int | None, shape) -> str:
    return f"{name}(kernel_size={kernel}, stride={stride}) on x of shape {shape}"


@pytest.mark.parametrize("name", POOLS)
@given(case=pool_cases())
@example(case=(2, 3, 7, 5, 2, None))
@example(case=(1, 2, 6, 6, 3, 1))
def test_forward_matches_oracle(impl, name, case):
    n, channels, height, width, kernel, stride = case
    x = distinct_values((n, channels, height, width))
    before = x.copy()
    layer = getattr(impl.pool, name)(kernel, stride)
    call = pool_call(name, kernel, stride, x.shape)
    out = layer.forward(x)
    assert_unchanged(before, x, call=f"forward of {call}", what="input x")
    assert_close(
        out,
        oracle_pool(x, kernel, kernel if stride is None else stride, POOLS[name]),
        call=call,
        hint="OH = floor((H - k) / s) + 1 with s = k when stride is None; window (i, j) "
        "covers rows i*s .. i*s + k - 1 (nox -s hint -- pool)",
    )


@pytest.mark.parametrize("name", POOLS)
@given(case=pool_cases())
@example(case=(2, 2, 5, 7, 2, None))
@example(case=(1, 2, 6, 5, 3, 1))
@example(case=(1, 1, 7, 7, 3, 2))
def test_gradients(impl, name, case):
    n, channels, height, width, kernel, stride = case
    x = distinct_values((n, channels, height, width), seed=1)
    layer = getattr(impl.pool, name)(kernel, stride)
    check_layer(layer, x, call=pool_call(name, kernel, stride, x.shape))


def test_max_pool_tie_goes_to_the_first_maximum(impl):
    x = np.array([[[[1.0, 5.0], [5.0, 2.0]], [[3.0, 3.0], [3.0, 3.0]]]])  # (1, 2, 2, 2)
    layer = impl.pool.MaxPool2d(2)
    layer.forward(x)
    dx = layer.backward(np.array([[[[1.0]], [[2.0]]]]))
    assert_close(
        dx,
        [[[[0.0, 1.0], [0.0, 0.0]], [[2.0, 0.0], [0.0, 0.0]]]],
        call="MaxPool2d(2) on windows [[1, 5], [5, 2]] and [[3, 3], [3, 3]], dout = 1 and 2",
        what="dx",
        hint="on a tie, the first maximum in row-major window order gets all the gradient; "
        "the others (and the non-maxima) get 0",
    )


def test_max_pool_overlapping_windows_accumulate(impl):
    x = distinct_values((1, 1, 4, 4))
    x[0, 0, 1, 1] = 10.0  # the maximum of all four 3x3 windows
    layer = impl.pool.MaxPool2d(3, stride=1)
    layer.forward(x)
    dx = layer.backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    expected = np.zeros((1, 1, 4, 4))
    expected[0, 0, 1, 1] = 10.0
    assert_close(
        dx,
        expected,
        call="MaxPool2d(3, stride=1) on a 4x4 x whose element [1, 1] is the maximum of all "
        "four windows, dout = [[1, 2], [3, 4]]",
        what="dx",
        hint="an element that is the maximum of several windows gets the sum of their "
        "gradients (+=, not =)",
    )


@pytest.mark.parametrize("name", POOLS)
def test_float32_and_views(impl, name):
    x = distinct_values((2, 3, 6, 5)).astype(np.float32)
    view = noncontiguous(x)
    before = view.copy()
    layer = getattr(impl.pool, name)(2)
    call = pool_call(name, 2, None, x.shape) + " with x a float32 non-contiguous view"
    out = layer.forward(view)
    dx = layer.backward(np.ones_like(out))
    assert_unchanged(before, view, call=call, what="input x")
    assert_close(out, oracle_pool(x, 2, 2, POOLS[name]), call=call, rtol=1e-6)
    for what, array in [("output", out), ("dx", dx)]:
        assert np.asarray(array).dtype == np.float32, (
            f"{call}: {what} has dtype {np.asarray(array).dtype}, expected float32 "
            "(likely mistake: an intermediate array created as float64, the default dtype)"
        )


LATEST_FORWARD_HINT = (
    "backward must use what the last forward call kept (store it at every forward, not once)"
)


def backward_after_two_forwards(layer, dout, call: str):
    """``layer.backward(dout)``; a shape error there means backward used an older forward."""
    try:
        return layer.backward(dout)
    except ValueError as error:
        raise AssertionError(
            f"{call} raised ValueError: {error}\nlikely mistake: {LATEST_FORWARD_HINT}"
        ) from None


@pytest.mark.parametrize("name", POOLS)
def test_backward_uses_the_latest_forward(impl, name):
    layer = getattr(impl.pool, name)(2)
    layer.forward(distinct_values((2, 1, 6, 8), seed=4))
    x = distinct_values((1, 3, 4, 6), seed=5)
    out = layer.forward(x)
    dout = distinct_values(np.shape(out), seed=6) + 1.0
    call = f"{name}(2): forward(x1 of shape (2, 1, 6, 8)), forward(x2 of shape {x.shape}), backward"
    assert_close(
        backward_after_two_forwards(layer, dout, call),
        oracle_pool_backward(x, 2, 2, dout, name),
        call=call,
        what="dx",
    )


@pytest.mark.parametrize("name", POOLS)
def test_rejects_bad_configurations(impl, name):
    pool = getattr(impl.pool, name)
    for kwargs, argument in [
        ({"kernel_size": 0}, "kernel_size"),
        ({"kernel_size": 2, "stride": 0}, "stride"),
        ({"kernel_size": 2, "stride": -1}, "stride"),
    ]:
        with pytest.raises(ValueError, match=argument):
            pool(**kwargs)
    layer = pool(3)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        layer.forward(np.zeros((3, 5, 5)))
    with pytest.raises(ValueError, match="kernel"):
        layer.forward(np.zeros((1, 1, 2, 5)))  # no 3x3 window fits in 2 rows
    assert np.shape(layer.forward(np.zeros((1, 1, 3, 5)))) == (1, 1, 1, 1), (
        f"{name}(3) on x of shape (1, 1, 3, 5): one 3x3 window fits; expected output shape "
        "(1, 1, 1, 1)"
    )


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 7), (1, 2, 3)])
def test_flatten_round_trip(impl, shape):
    x = distinct_values(shape)
    layer = impl.pool.Flatten()
    call = f"Flatten() on x of shape {shape}"
    out = layer.forward(noncontiguous(x))
    assert_close(
        out,
        x.reshape(shape[0], -1),
        call=call,
        hint="the batch axis must stay first: one row per sample, its values in their order",
    )
    dout = distinct_values(np.shape(out), seed=3)
    assert_close(
        layer.backward(dout),
        dout.reshape(shape),
        call=f"backward of {call}",
        what="dx",
        hint="dx must have the shape of the forward input, every value of dout back at the "
        "position its input came from",
    )
    check_layer(layer, x, call=call)


def test_flatten_backward_uses_the_latest_forward(impl):
    layer = impl.pool.Flatten()
    layer.forward(np.zeros((2, 3, 4)))
    x = distinct_values((3, 2, 5))
    dout = distinct_values(np.shape(layer.forward(x)), seed=1)
    call = "Flatten(): forward(x1 of shape (2, 3, 4)), forward(x2 of shape (3, 2, 5)), backward"
    assert_close(
        backward_after_two_forwards(layer, dout, call),
        dout.reshape(3, 2, 5),
        call=call,
        what="dx",
    )


# --------------------------------------------------------------------------------- speed

SMALL, MORE_SAMPLES, LARGER_IMAGE = (1, 2, 8, 8), (16, 2, 8, 8), (1, 2, 20, 20)
LOOP_HINT = {
    MORE_SAMPLES: "a Python loop over the samples (for n in range(N), or a comprehension "
    "over them)",
    LARGER_IMAGE: "a Python loop over the windows (for i in range(OH): for j in range(OW))",
}


def run_part(impl, name: str, method: str, shape):
    """A zero-argument call of ``name(2).method`` on an input of ``shape`` (forward run before)."""
    layer = getattr(impl.pool, name)(2)
    x = distinct_values(shape)
    if method == "forward":
        return lambda: layer.forward(x)
    dout = np.ones(np.shape(layer.forward(x)))
    return lambda: layer.backward(dout)


@pytest.mark.parametrize("method", ["forward", "backward"])
@pytest.mark.parametrize("name", POOLS)
def test_no_python_loop_over_samples_or_windows(impl, name, method):
    """The lines of Python run must not grow with the batch or the image: no per-window loop."""
    assert_lines_do_not_grow(
        impl.pool,
        lambda shape: run_part(impl, name, method, shape),
        SMALL,
        call=f"{name}(2).{method}",
        loop_hints=LOOP_HINT,
        allowed_loop="over the k*k positions in the window (window_slices)",
    )
