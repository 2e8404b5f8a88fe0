"""The judge's checks: gradients, values and inputs, with messages a learner can act on.

The tests of every exercise use these five functions::

    check_layer(layer, x)                     # dx and every grads[name] vs central differences
    check_loss(loss, prediction, target)      # d(loss)/d(prediction) vs central differences
    assert_close(actual, expected, call=...)  # values vs an oracle, with the usual mistake
    assert_unchanged(before, after, call=...) # the input was not written into
    noncontiguous(x)                          # the same values, as a strided view

The oracle of a gradient is always ``toolkit.gradcheck`` (float64 central differences),
never the learner's code. A failure raises ``AssertionError`` with a few lines: what was
called, which tensor is wrong, the worst element (analytic against numerical), and, when the
numbers show it, the likely mistake::

    gradient check failed: grads['W'] of Linear(3, 4) on x of shape (2, 3)
    relative error 1.0e+00 (allowed 1e-06)
    worst element [1, 2]: your backward gave -0.8123, numerical 0.8123
    likely mistake: wrong sign: your gradient is minus the true one
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from kata.sandbox import outputs_in_one_request
from toolkit.gradcheck import (
    directional_derivative,
    numerical_gradient,
    numerical_vjp,
    relative_error,
)

DIRECTIONS = 4
"""How many random directions check a tensor with more than ``max_elements`` entries."""

LOSS_MAX_ELEMENTS = 300
"""Predictions larger than this are checked along random directions by ``check_loss``."""

RATIO_TOLERANCE = 1e-3
"""How constant analytic/numeric must be, relatively, to name a constant factor."""


class LayerLike(Protocol):
    """What ``check_layer`` uses of a layer: the contract of ``toolkit.layer.Layer``.

    Any object with these members is judged, a ``Layer`` subclass or not. The return types are
    the contract; the checks verify them at run time, since learner code may break it.
    """

    @property
    def params(self) -> Mapping[str, np.ndarray]: ...

    @property
    def grads(self) -> Mapping[str, np.ndarray]: ...

    def forward(self, x: np.ndarray) -> np.ndarray: ...

    def backward(self, dout: np.ndarray) -> np.ndarray: ...


class LossLike(Protocol):
    """What ``check_loss`` uses of a loss: ``forward(prediction, target)`` and ``backward()``."""

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float: ...

    def backward(self) -> np.ndarray: ...


@dataclass(frozen=True)
class _Comparison:
    """One gradient compared: its name, the analytic and numerical values, and how they differ.

    ``analytic`` and ``numeric`` are the gradient tensors, or, for a tensor checked along
    random directions, the vectors of directional derivatives (``directions`` is then True).
    """

    name: str
    analytic: np.ndarray
    numeric: np.ndarray
    error: float
    directions: bool


# ---------------------------------------------------------------------------- gradient checks


def check_layer(
    layer: LayerLike,
    x: np.ndarray,
    *,
    seed: int = 0,
    rtol: float = 1e-6,
    call: str | None = None,
    max_elements: int = 300,
) -> None:
    """Check ``layer.backward`` (dx and every ``grads[name]``) against central differences.

    With an upstream gradient g ~ N(0, 1) of the output's shape, the true gradients are those
    of the scalar ``sum(forward(x) * g)``; ``toolkit.gradcheck.numerical_vjp`` computes them by
    perturbing x and each parameter in place (and restoring them). A tensor with more than
    ``max_elements`` entries is checked along ``DIRECTIONS`` random directions instead.

    Also checked: forward does not mutate x; backward does not mutate g nor the parameters;
    the output has x's dtype; dx has x's shape and dtype; ``grads`` has exactly the keys of
    ``params``, each with its parameter's shape and dtype.

    Args:
        layer: a layer built with ``dtype=np.float64``, deterministic (dropout in eval mode,
            or seeded), with inputs away from its kinks.
        x: the float64 input; it is copied (keeping its layout), the caller's array is not used.
        seed: seeds the upstream gradient and the directions.
        rtol: the largest ``relative_error`` accepted per tensor (1e-6: a correct float64
            gradient scores 1e-10 to 1e-8).
        call: what was called, for the messages, e.g. ``"Linear(3, 4) on x of shape (2, 3)"``.
        max_elements: above this size, a tensor is checked along random directions.

    Raises:
        AssertionError: naming the first wrong tensor, its worst element and the likely mistake.
        TypeError: if x or a parameter is not float64 (a mistake of the test, not the layer's).
    """
    x = _float64_copy(x, "check_layer")
    for name, value in layer.params.items():
        if value.dtype != np.float64:
            raise TypeError(
                f"check_layer needs a layer built with dtype=np.float64: params[{name!r}] is "
                f"{value.dtype}"
            )
    call = call or f"{_describe(layer)} on x of shape {x.shape}"
    batch = x.shape[0] if x.ndim else 1
    rng = np.random.default_rng(seed)

    upstream = rng.standard_normal(_output_shape(layer, x, call))
    analytic = _analytic_gradients(layer, x, upstream, call)

    def weighted_output() -> float:
        return float(np.sum(layer.forward(x) * upstream))

    tensors = {"dx": x} | {f"grads[{name!r}]": value for name, value in layer.params.items()}
    comparisons = []
    for name, tensor in tensors.items():
        _check_shape(name, analytic[name], tensor.shape, call, batch)
        if tensor.size > max_elements:
            comparison = _compare_along_directions(
                name, analytic[name], weighted_output, tensor, rng
            )
        else:
            in_one_request = outputs_in_one_request(layer.forward, (x,), tensor)
            numeric = numerical_vjp(
                lambda: layer.forward(x), tensor, upstream, outputs_at=in_one_request
            )
            comparison = _compare(name, analytic[name], numeric, directions=False)
        comparisons.append(comparison)
    _report(comparisons, rtol=rtol, call=call, batch=batch)


def check_loss(
    loss: LossLike,
    prediction: np.ndarray,
    target: np.ndarray,
    *,
    rtol: float = 1e-6,
    call: str | None = None,
) -> None:
    """Check ``loss.backward()`` against the central-difference gradient of ``loss.forward``.

    ``loss.forward(prediction, target)`` must return a finite scalar and leave both arguments
    unchanged; ``loss.backward()`` must return an array of the shape and dtype of
    ``prediction`` equal to d(loss)/d(prediction), computed numerically by
    ``toolkit.gradcheck.numerical_gradient`` on a float64 copy of the prediction.

    Raises:
        AssertionError: naming what is wrong, the worst element and the likely mistake.
        TypeError: if the prediction is not float64 (a mistake of the test, not of the loss).
    """
    prediction = _float64_copy(prediction, "check_loss")
    target = np.array(target, copy=True)
    call = call or f"{_describe(loss)} on a prediction of shape {prediction.shape}"
    batch = prediction.shape[0] if prediction.ndim else 1

    prediction_before, target_before = prediction.copy(), target.copy()
    value = loss.forward(prediction, target)
    assert_unchanged(prediction_before, prediction, call=f"forward of {call}", what="prediction")
    assert_unchanged(target_before, target, call=f"forward of {call}", what="target")
    _check_scalar_loss(value, call)

    grad = loss.backward()
    _check_array(grad, what="the gradient returned by backward", call=call, dtype=prediction.dtype)
    analytic = np.array(grad, copy=True)
    _check_shape("d(loss)/d(prediction)", analytic, prediction.shape, call, batch)

    def loss_value() -> float:
        return float(loss.forward(prediction, target))

    if prediction.size > LOSS_MAX_ELEMENTS:
        rng = np.random.default_rng(0)
        comparison = _compare_along_directions(
            "d(loss)/d(prediction)", analytic, loss_value, prediction, rng
        )
    else:
        numeric = numerical_gradient(loss_value, prediction)
        comparison = _compare("d(loss)/d(prediction)", analytic, numeric, directions=False)
    _report([comparison], rtol=rtol, call=call, batch=batch)


# ------------------------------------------------------------------------------ value checks


def assert_close(
    actual: object,
    expected: npt.ArrayLike,
    *,
    call: str,
    what: str = "output",
    rtol: float = 1e-7,
    atol: float = 1e-9,
    hint: str | None = None,
    pointer: str | None = None,
) -> None:
    """Assert ``actual`` matches ``expected``: first the shape, then the values.

    Values agree elementwise when ``|actual - expected| <= atol + rtol * |expected|`` (the
    rule of ``np.allclose``; NaN matches NaN). The dtype is not compared: tests check it
    explicitly where it matters.

    Args:
        actual: what the code under test returned.
        expected: what the oracle says.
        call: what was called, e.g. ``"Sigmoid().forward(x) with x of shape (2, 3)"``.
        what: the name of the compared value in the message.
        rtol, atol: the tolerances.
        hint: the usual mistake behind a difference, shown as "likely mistake: ...": pass
            one only when the numbers confirm it (the result is what that mistake gives).
        pointer: where to look when no mistake is confirmed (what to compare, the hint
            command), shown as its own last line, never as a likely mistake.

    Raises:
        AssertionError: giving the call, what came back (shape, dtype, worst element), what
            was expected, and the hint.
    """
    if actual is None:
        raise AssertionError(
            f"{call} returned None as {what}, expected an array of shape "
            f"{np.shape(expected)} (a missing return statement?)"
        )
    got, want = np.asarray(actual), np.asarray(expected)
    if got.shape != want.shape:
        lines = [
            f"{call}: {what} has the wrong shape",
            f"returned shape {got.shape}, expected {want.shape}",
        ]
        shape_mistake = _shape_diagnosis(want.shape, got.shape, batch=None)
        lines += _likely(hint or shape_mistake)
        raise AssertionError("\n".join(lines + ([pointer] if pointer else [])))

    matches = np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
    if np.all(matches):
        return
    worst = _worst(np.where(matches, 0.0, np.abs(got.astype(np.float64) - want.astype(np.float64))))
    lines = [
        f"{call}: {what} differs from the expected values",
        f"{np.count_nonzero(~matches)} of {got.size} elements differ "
        f"(rtol {rtol:.0e}, atol {atol:.0e}); got dtype {got.dtype}, shape {got.shape}",
        f"worst element {_index(worst)}: got {_number(got[worst])}, "
        f"expected {_number(want[worst])}",
    ]
    unexpected = ~np.isfinite(got) & np.isfinite(want)
    if np.any(unexpected):
        lines.append(
            f"{np.count_nonzero(unexpected)} of {got.size} values are nan or inf where finite "
            "values were expected (overflow? use the stable formula)"
        )
    if hint is None and np.all(np.isfinite(got)) and np.all(np.isfinite(want)):
        factor = _constant_factor(got.astype(np.float64), want.astype(np.float64))
        if factor is not None and np.count_nonzero(want) > 1:
            hint = f"every value is {_number(factor)} times the expected one"
    lines += _likely(hint)
    raise AssertionError("\n".join(lines + ([pointer] if pointer else [])))


IN_PLACE_MISTAKE = (
    "an in-place operation on an argument (x -= m, x *= s, x[x < 0] = 0, np.exp(x, out=x)); "
    "compute a new array instead"
)
"""What ``assert_unchanged`` names by default: the usual way an argument gets written into."""


def assert_unchanged(
    before: np.ndarray,
    after: np.ndarray,
    *,
    call: str,
    what: str = "input",
    mistake: str | None = IN_PLACE_MISTAKE,
) -> None:
    """Assert that ``after`` (the array passed in) still equals ``before`` (a copy taken earlier).

    Take the copy *before* the call: ``before = x.copy(); layer.forward(x);
    assert_unchanged(before, x, call="ReLU().forward")``.

    ``mistake`` is the likely mistake named (by default an in-place operation); None names
    none, for a function whose contract is to write into the argument and restore it.

    Raises:
        AssertionError: "<call> mutated its <what>", with the first changed element, printed
            with as many digits as it takes to show the change.
    """
    before, after = np.asarray(before), np.asarray(after)
    if before.shape != after.shape:
        raise AssertionError(
            f"{call} mutated its {what}: its shape went from {before.shape} to {after.shape}"
        )
    changed = ~((before == after) | (_isnan(before) & _isnan(after)))
    if not np.any(changed):
        return
    first = tuple(int(i) for i in np.argwhere(changed)[0])
    was, now = _number(before[first]), _number(after[first])
    if was == now:  # a change past the sixth digit: show every digit
        was, now = _exact(before[first]), _exact(after[first])
    lines = [
        f"{call} mutated its {what}",
        f"{np.count_nonzero(changed)} of {before.size} elements changed; first at "
        f"{_index(first)}: was {was}, now {now}",
    ]
    raise AssertionError("\n".join(lines + _likely(mistake)))


def noncontiguous(x: np.ndarray) -> np.ndarray:
    """A writable, non-contiguous view holding the same values (and dtype) as ``x``.

    The view takes every other element of a fresh array twice as long along the last axis of
    size >= 2; the elements in between are NaN (for floats), so code that reads the memory
    as if it were contiguous gets NaN back. Arrays with fewer than two elements cannot be
    non-contiguous: they come back as a copy. ``x`` itself is never modified.
    """
    x = np.asarray(x)
    if x.size < 2:
        return x.copy()
    axis = max(i for i, size in enumerate(x.shape) if size >= 2)
    wide_shape = (*x.shape[:axis], 2 * x.shape[axis], *x.shape[axis + 1 :])
    fill = np.nan if np.issubdtype(x.dtype, np.inexact) else 0
    wide = np.full(wide_shape, fill, dtype=x.dtype)
    every_other = (slice(None),) * axis + (slice(None, None, 2),)
    view: np.ndarray = wide[every_other]
    view[...] = x
    return view


# ------------------------------------------------------------------------ structural checks


def _float64_copy(array: np.ndarray, function: str) -> np.ndarray:
    """A float64 copy with the layout of ``array``: a strided input stays strided."""
    if not isinstance(array, np.ndarray) or array.dtype != np.float64:
        dtype = getattr(array, "dtype", type(array).__name__)
        raise TypeError(
            f"{function} needs a float64 array, got {dtype}: gradient checks run in float64 "
            "(build the input and the layer with dtype=np.float64)"
        )
    if array.flags.c_contiguous:
        return array.copy()
    return noncontiguous(array)


def _output_shape(layer: LayerLike, x: np.ndarray, call: str) -> tuple[int, ...]:
    """Run forward once: x must stay unchanged, the output must have x's dtype."""
    x_before = x.copy()
    out = layer.forward(x)
    assert_unchanged(x_before, x, call=f"forward of {call}", what="input x")
    _check_array(out, what="the output of forward", call=call, dtype=x.dtype)
    return np.shape(out)


def _analytic_gradients(
    layer: LayerLike, x: np.ndarray, upstream: np.ndarray, call: str
) -> dict[str, np.ndarray]:
    """Run backward once (after forward) and return copies of dx and every grads[name].

    The copies are taken before the numerical pass, which re-runs forward many times and
    overwrites whatever the layer cached. Checked on the way: backward mutates neither its
    upstream gradient nor the parameters; dx and the grads have the expected dtypes and keys.
    """
    upstream_before = upstream.copy()
    params_before = {name: value.copy() for name, value in layer.params.items()}
    dx = layer.backward(upstream)
    assert_unchanged(upstream_before, upstream, call=f"backward of {call}", what="upstream dout")
    for name, before in params_before.items():
        assert_unchanged(
            before,
            layer.params[name],
            call=f"backward of {call}",
            what=f"params[{name!r}] (the optimizer updates parameters, never the layer)",
        )
    _check_array(dx, what="dx (returned by backward)", call=call, dtype=x.dtype)
    _check_grads_keys(layer, call)
    analytic = {"dx": np.array(dx, copy=True)}
    for name, param in layer.params.items():
        grad = layer.grads[name]
        _check_array(grad, what=f"grads[{name!r}]", call=call, dtype=param.dtype)
        analytic[f"grads[{name!r}]"] = np.array(grad, copy=True)
    return analytic


def _check_array(value: object, *, what: str, call: str, dtype: np.dtype) -> None:
    """``value`` must be a numpy array or scalar (its shape is checked later) of ``dtype``."""
    if not isinstance(value, (np.ndarray, np.generic)):
        raise AssertionError(
            f"{call}: {what} is {type(value).__name__}, expected a numpy array of dtype {dtype}"
            + ("\nlikely mistake: a missing return statement" if value is None else "")
        )
    if value.dtype != dtype:
        raise AssertionError(
            f"{call}: {what} has dtype {value.dtype}, expected {dtype}\n"
            f"likely mistake: {_dtype_diagnosis(value.dtype, np.dtype(dtype))}"
        )


def _dtype_diagnosis(got: np.dtype, expected: np.dtype) -> str:
    """Why an array came out in ``got`` when the input's dtype was ``expected``."""
    if got == np.float64:
        return (
            f"the dtype must follow the input ({expected}); np.zeros(shape), np.ones(shape) "
            "and arrays of Python floats are float64 unless you pass dtype=x.dtype"
        )
    return (
        f"the dtype must follow the input ({expected}); an astype({got}) cast, or a {got} "
        "constant or buffer mixed in, changed it"
    )


def _check_grads_keys(layer: LayerLike, call: str) -> None:
    """``layer.grads`` must have exactly the keys of ``layer.params``."""
    keys = f"params has {sorted(layer.params)}, grads has {sorted(layer.grads)}"
    missing = [name for name in layer.params if name not in layer.grads]
    if missing:
        raise AssertionError(
            f"{call}: backward did not fill grads[{missing[0]!r}]\n"
            f"{keys}; backward must set self.grads[name] for every self.params[name]"
        )
    extra = [name for name in layer.grads if name not in layer.params]
    if extra:
        raise AssertionError(
            f"{call}: grads has {extra[0]!r}, which is not a parameter\n"
            f"{keys}; the keys must be the same"
        )


def _check_shape(
    name: str, analytic: np.ndarray, expected: tuple[int, ...], call: str, batch: int
) -> None:
    if analytic.shape == expected:
        return
    lines = [
        f"gradient check failed: {name} of {call}",
        f"wrong shape: expected {expected}, got {analytic.shape}",
    ]
    lines += _likely(_shape_diagnosis(expected, analytic.shape, batch))
    raise AssertionError("\n".join(lines))


def _check_scalar_loss(value: object, call: str) -> None:
    if value is None or np.asarray(value).ndim != 0:
        shape = "None" if value is None else f"shape {np.asarray(value).shape}"
        raise AssertionError(
            f"{call}: forward returned {shape}, expected a single number\n"
            "likely mistake: the loss is the mean over the batch (np.mean), not one value "
            "per sample; or a missing return statement"
        )
    if not np.isfinite(np.asarray(value, dtype=np.float64)):
        raise AssertionError(
            f"{call}: forward returned {value}, expected a finite number\n"
            "likely mistake: overflow in exp, or log(0): the loss must be finite for any "
            "finite prediction"
        )


# ---------------------------------------------------------------------------- comparisons


def _compare(
    name: str, analytic: np.ndarray, numeric: np.ndarray, *, directions: bool
) -> _Comparison:
    analytic = analytic.astype(np.float64)
    return _Comparison(name, analytic, numeric, relative_error(analytic, numeric), directions)


def _compare_along_directions(
    name: str,
    analytic: np.ndarray,
    scalar_function: Callable[[], float],
    tensor: np.ndarray,
    rng: np.random.Generator,
) -> _Comparison:
    """Compare ``sum(analytic * d)`` with the numerical directional derivative, for random d."""
    analytic = analytic.astype(np.float64)
    along, numeric = [], []
    for _ in range(DIRECTIONS):
        direction = rng.standard_normal(tensor.shape)
        along.append(float(np.sum(analytic * direction)))
        numeric.append(directional_derivative(scalar_function, tensor, direction))
    return _compare(name, np.array(along), np.array(numeric), directions=True)


def _report(comparisons: list[_Comparison], *, rtol: float, call: str, batch: int) -> None:
    """Raise for the first comparison above ``rtol``; mention the others that failed."""
    failed = [c for c in comparisons if not c.error <= rtol]  # NaN fails too
    if not failed:
        return
    first = failed[0]
    a, n = first.analytic, first.numeric
    worst = _worst(np.abs(a - n))
    where = (
        f"direction {worst[0] + 1} of {a.size} (grad . d)"
        if first.directions
        else f"worst element {_index(worst)}"
    )
    lines = [
        f"gradient check failed: {first.name} of {call}",
        f"relative error {first.error:.1e} (allowed {rtol:.0e})",
        f"{where}: your backward gave {_number(a[worst])}, numerical {_number(n[worst])}",
    ]
    lines += _likely(_value_diagnosis(a, n, batch, transposes=not first.directions))
    if len(failed) > 1:
        lines.append("also wrong: " + ", ".join(c.name for c in failed[1:]))
    raise AssertionError("\n".join(lines))


# ---------------------------------------------------------------------------- diagnoses


def _shape_diagnosis(
    expected: tuple[int, ...], got: tuple[int, ...], batch: int | None
) -> str | None:
    """The usual mistake that turns a gradient of shape ``expected`` into one of shape ``got``."""
    if len(got) == 2 and got[::-1] == expected and got != expected:
        return "transposed: the result has the shape of its transpose (a product turned around)"
    if got == () and expected != ():
        return "summed over every axis (np.sum without axis=): sum over the batch axis only"
    if got == (1, *expected):
        return "an extra leading axis of size 1 (keepdims=True?): drop it"
    if len(got) == len(expected) + 1 and got[1:] == expected:
        return (
            "not summed over the batch: a parameter's gradient adds up the contributions of "
            "all samples (np.sum(..., axis=0))"
        )
    if len(expected) == len(got) + 1 and expected[1:] == got:
        return "summed over the batch where every sample needs its own value"
    if batch is not None and expected[:1] == (batch,) and got[:1] != (batch,) and got:
        return "the batch axis (axis 0) was lost or moved"
    return None


def _value_diagnosis(a: np.ndarray, n: np.ndarray, batch: int, *, transposes: bool) -> str | None:
    """The usual mistake explaining analytic ``a`` against numeric ``n`` (same shapes)."""
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(n))):
        return "nan or inf in the gradient: overflow? use the stable formula"
    if not np.any(n) and np.any(a):
        return (
            "the output does not change when the judge perturbs this tensor: forward must read "
            "it on every call (self.params[name], not a copy kept from the constructor)"
        )
    if not np.any(a) and np.any(n):
        return "gradient missing: never written, or left at zero"
    square = a.ndim == 2 and a.shape[0] == a.shape[1] > 1
    if transposes and square and relative_error(a, n.T) < 1e-6:
        return "transposed: your gradient is the transpose of the true one"
    factor = _constant_factor(a, n)
    if factor is None:
        return None
    for candidate, mistake in _factor_mistakes(batch):
        if abs(factor - candidate) <= RATIO_TOLERANCE * abs(candidate):
            return mistake
    if np.count_nonzero(n) < 2:
        return None  # any two numbers have a ratio: one element shows no pattern
    return f"your gradient is {_number(factor)} times the true one: a constant factor is wrong"


def _factor_mistakes(batch: int) -> list[tuple[float, str]]:
    """Constant factors analytic/numeric and the mistake each one usually means."""
    per_sample = "(layers sum over the batch; only the loss divides by N)"
    mistakes = [(-1.0, "wrong sign: your gradient is minus the true one")]
    if batch > 2:
        mistakes += [
            (float(batch), f"not divided by the batch size: N = {batch} times the true one"),
            (
                1.0 / batch,
                f"divided by the batch size N = {batch} once too often {per_sample}",
            ),
        ]
    twice, half = "", ""
    if batch == 2:
        twice = "; as N = 2, maybe a missing division by the batch size"
        half = "; as N = 2, maybe a division by the batch size once too often"
    mistakes += [
        (2.0, "off by a factor of two: twice the true one, a stray 2 or a double count" + twice),
        (0.5, "off by a factor of two: half the true one, a missing 2 (d(x**2) = 2x)" + half),
    ]
    return mistakes


def _constant_factor(a: np.ndarray, b: np.ndarray) -> float | None:
    """c if ``a == c * b`` (to ``RATIO_TOLERANCE``) with c != 1, else None."""
    scale = np.max(np.abs(b)) if b.size else 0.0
    if scale == 0:
        return None
    significant = np.abs(b) > 1e-3 * scale
    ratios = a[significant] / b[significant]
    factor = float(np.median(ratios))
    if factor == 0 or abs(factor - 1) <= RATIO_TOLERANCE:
        return None
    if np.max(np.abs(a - factor * b)) > RATIO_TOLERANCE * abs(factor) * scale:
        return None
    return factor


# ------------------------------------------------------------------------------- formatting


def _worst(gap: np.ndarray) -> tuple[int, ...]:
    """The index of the largest entry of ``gap``, a NaN counting as the largest."""
    flat = int(np.argmax(np.where(np.isnan(gap), np.inf, gap)))
    return tuple(int(i) for i in np.unravel_index(flat, gap.shape))


def _likely(mistake: str | None) -> list[str]:
    return [f"likely mistake: {mistake}"] if mistake else []


def _index(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def _number(value: object) -> str:
    value = np.asarray(value)
    if np.issubdtype(value.dtype, np.floating):
        return f"{float(value):.6g}"
    return str(value)


def _exact(value: object) -> str:
    """Every digit of a float (17 significant digits tell any two float64 apart)."""
    value = np.asarray(value)
    if np.issubdtype(value.dtype, np.floating):
        return f"{float(value):.17g}"
    return str(value)


def _describe(obj: object) -> str:
    """The object's repr if its class defines one, else its class name."""
    if type(obj).__repr__ is object.__repr__:
        return f"{type(obj).__name__}()"
    return repr(obj)


def _isnan(array: np.ndarray) -> np.ndarray:
    if np.issubdtype(array.dtype, np.inexact):
        return np.isnan(array)
    return np.zeros(array.shape, dtype=bool)
