"""Exercise ``dropout``: inverted dropout with drop probability p (PyTorch's convention).

The mask is random, so the forward pass is judged by statistics with bounded randomness (the
kept fraction within five binomial standard deviations of 1 - p, the mean within five standard
deviations of the input's): every draw is seeded, so a grade is reproducible, and a correct layer
fails a bound with a probability below 1e-6. The mask of a call is read back from its output
(the inputs are never zero: an element is kept exactly when its output is not zero). Gradients
are checked by the judge's central differences with the mask held fixed: the generator's state
is restored before every forward, so every forward draws the same mask.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kata.judge import assert_close, assert_unchanged, check_layer, noncontiguous
from tests.oracles import matching_mistake

pytestmark = pytest.mark.exercise("dropout")

SIGMAS = 5.0
DROP_HINT = "p is the probability to drop (PyTorch's convention), not to keep"
SCALE_HINT = (
    "the kept elements must be divided by 1 - p (inverted dropout), so that the mean is preserved"
)
EVAL_HINT = (
    "evaluation mode is the identity: the scale 1 / (1 - p) is applied in training only "
    "(inverted dropout)"
)
GLOBAL_HINT = (
    "draw the mask from self.rng, the generator given at construction, not from numpy's global one"
)


def away_from_zero(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Float64 values with |x| in [0.5, 1.5]: an output is zero exactly where x was dropped."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def kept_mask(out: object, call: str) -> np.ndarray:
    """The elements the call kept: those whose output is not zero (no input is zero)."""
    assert isinstance(out, np.ndarray), (
        f"{call} returned {type(out).__name__}, expected an array of the shape of x"
        + ("\nlikely mistake: a missing return statement" if out is None else "")
    )
    return out != 0


def kept_scale_mistake(dx: object, dout: np.ndarray, kept: np.ndarray, p: float) -> str | None:
    """The likely mistake when a training backward kept the mask's elements but scaled them by
    1 (the scale of evaluation) or by 1 - p instead of the forward's 1 / (1 - p)."""
    scales = [(1.0, "1, the scale of evaluation"), (1 - p, f"1 - p = {1 - p:g}")]
    for factor, words in scales:
        predicted = dout * kept * factor
        if np.shape(dx) == predicted.shape and np.allclose(dx, predicted, rtol=1e-6, atol=1e-9):
            return (
                f"backward scaled the gradient of the kept elements by {words}, not by the "
                "factor their forward output received: in training, backward scales as the "
                "forward of the same call did"
            )
    return None


def evaluation_backward_mistakes(dout: np.ndarray, p: float) -> list[tuple[np.ndarray, str]]:
    """What an evaluation-mode backward scaled by the training factor, or by the 1 - p of
    non-inverted dropout, would return, each with the words that name it."""
    same = "evaluation mode is the identity, in backward as in forward"
    return [
        (
            dout / (1 - p),
            f"backward in evaluation mode scaled dx by 1 / (1 - p), the training scale: {same}",
        ),
        (
            dout * (1 - p),
            "backward in evaluation mode scaled dx by 1 - p, the evaluation scale of "
            f"non-inverted dropout: {same}",
        ),
    ]


def state_of(rng: np.random.Generator) -> object:
    return rng.bit_generator.state


class FixedMask:
    """A dropout layer whose every forward draws the same mask: the generator is rewound first.

    The judge's numerical gradient calls forward many times; rewinding the generator the layer
    was given makes each call draw the mask of the first, so the function being differentiated
    is ``x -> mask * x / (1 - p)`` with one fixed mask.
    """

    def __init__(self, layer, rng: np.random.Generator) -> None:
        self.layer, self.rng, self.start = layer, rng, rng.bit_generator.state

    @property
    def params(self):
        return self.layer.params

    @property
    def grads(self):
        return self.layer.grads

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.rng.bit_generator.state = self.start
        return self.layer.forward(x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return self.layer.backward(dout)

    def __repr__(self) -> str:
        return f"{self.layer!r} (its generator rewound before every forward)"


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_kept_fraction_and_scale(impl, p):
    x = np.ones((400, 500))
    layer = impl.dropout.Dropout(p, rng=np.random.default_rng(1))
    call = f"Dropout({p}) in training on {x.size:,} elements"
    out = layer.forward(x)
    kept = kept_mask(out, call)
    fraction = float(kept.mean())
    tolerance = SIGMAS * np.sqrt(p * (1 - p) / x.size)
    hint = f"\nlikely mistake: {DROP_HINT}" if abs(fraction - p) <= tolerance < abs(p - 0.5) else ""
    assert abs(fraction - (1 - p)) <= tolerance, (
        f"{call}: {int(kept.sum()):,} kept ({100 * fraction:.1f} %), expected "
        f"{100 * (1 - p):.1f} % within {100 * tolerance:.2f} points" + hint
    )
    assert_close(
        out[kept],
        np.full(int(kept.sum()), 1 / (1 - p)),
        call=f"{call} of x = 1",
        what="each kept element",
        hint=matching_mistake(
            out[kept],
            [(np.ones(int(kept.sum())), SCALE_HINT), (np.full(int(kept.sum()), 1 - p), SCALE_HINT)],
        ),
    )


def mean_mistake(x: np.ndarray, out: np.ndarray, p: float) -> str | None:
    """The mistake the output confirms, read from its kept elements and their fraction."""
    kept = out != 0
    if not np.any(kept):
        return None
    fraction = float(kept.mean())
    if np.allclose(out[kept], x[kept]) or np.allclose(out[kept], x[kept] * (1 - p)):
        return SCALE_HINT
    if abs(fraction - p) < SIGMAS * np.sqrt(p * (1 - p) / x.size) < abs(p - 0.5):
        return DROP_HINT
    return None


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_mean_is_preserved(impl, p):
    x = np.abs(away_from_zero((300, 400), seed=2))
    layer = impl.dropout.Dropout(p, rng=np.random.default_rng(3))
    call = f"Dropout({p}) in training on x of shape {x.shape} with mean {x.mean():.4f}"
    out = layer.forward(x)
    kept_mask(out, call)
    # out[i] = x[i] / (1 - p) with probability 1 - p, else 0: variance x[i]^2 p / (1 - p)
    spread = np.sqrt(np.sum(x**2) * p / (1 - p)) / x.size
    gap = abs(float(out.mean()) - float(x.mean()))
    mistake = mean_mistake(x, out, p)
    assert gap <= SIGMAS * spread, (
        f"{call}: the output has mean {out.mean():.4f}, expected the same within "
        f"{SIGMAS * spread:.4f}" + (f"\nlikely mistake: {mistake}" if mistake else "")
    )


def test_mask_is_drawn_per_element(impl):
    x = np.ones((64, 100))
    out = impl.dropout.Dropout(0.5, rng=np.random.default_rng(4)).forward(x)
    kept = kept_mask(out, "Dropout(0.5) on x of shape (64, 100)")
    for axis, what in [(0, "sample"), (1, "feature")]:
        assert len(np.unique(kept, axis=axis)) > 1, (
            f"Dropout(0.5) on x of shape (64, 100): every {what} got the same mask\n"
            "likely mistake: draw one number per element of x, not one mask for all the "
            f"{what}s"
        )


def test_the_given_generator_draws_the_mask(impl):
    x = away_from_zero((20, 30), seed=5)
    first = impl.dropout.Dropout(0.5, rng=np.random.default_rng(7))
    second = impl.dropout.Dropout(0.5, rng=np.random.default_rng(7))
    out1, out2 = first.forward(x), second.forward(x)
    call = "Dropout(0.5) twice with default_rng(7), forward of the same x"
    assert np.array_equal(kept_mask(out1, call), kept_mask(out2, call)), (
        f"{call}: the outputs differ\nlikely mistake: {GLOBAL_HINT}"
    )
    again = first.forward(x)
    assert not np.array_equal(kept_mask(again, call), kept_mask(out1, call)), (
        "Dropout(0.5): two training forward calls of the same x of shape (20, 30) dropped the "
        "same elements\nlikely mistake: every training forward draws a new mask (a mask "
        "drawn once, in the constructor or at the first call, is reused)"
    )


@given(
    shape=st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple),
    p=st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.9]),
    seed=st.integers(0, 2**32 - 1),
)
def test_gradient_check_with_the_mask_fixed(impl, shape, p, seed):
    rng = np.random.default_rng(seed)
    layer = FixedMask(impl.dropout.Dropout(p, rng=rng), rng)
    check_layer(layer, away_from_zero(shape, seed), seed=seed)


def test_gradient_check_on_a_non_contiguous_input(impl):
    rng = np.random.default_rng(8)
    layer = FixedMask(impl.dropout.Dropout(0.3, rng=rng), rng)
    x = noncontiguous(away_from_zero((4, 6), seed=9))
    check_layer(layer, x, call="Dropout(0.3) on a non-contiguous view x of shape (4, 6)")


@pytest.mark.parametrize("batches", [(5, 3, 8), (2, 2, 2)])
def test_backward_uses_the_mask_of_the_latest_forward(impl, batches):
    rng = np.random.default_rng(10)
    layer = impl.dropout.Dropout(0.5, rng=rng)
    masks: list[np.ndarray] = []
    for step, batch in enumerate(batches):
        x = away_from_zero((batch, 7), seed=20 + step)
        call = f"Dropout(0.5): training forward(x) number {step + 1}, batch {batch}"
        out = layer.forward(x)
        masks.append(kept_mask(out, call) / 0.5)
        dout = away_from_zero((batch, 7), seed=40 + step)
        before, dout_before = state_of(rng), dout.copy()
        dx = layer.backward(dout)
        assert_unchanged(dout_before, dout, call=f"{call}, backward(dout)", what="dout")
        assert state_of(rng) == before, (
            f"{call}, backward(dout): backward drew numbers from the generator\n"
            "likely mistake: backward must use the mask of the latest forward, not draw a new one"
        )
        stale = [
            (dout * mask, "backward used the mask of an earlier forward call")
            for mask in masks[:-1]
            if mask.shape == dout.shape
        ]
        assert_close(
            dx,
            dout * masks[-1],
            call=f"{call}, backward(dout)",
            what="dx",
            hint=matching_mistake(dx, stale) or kept_scale_mistake(dx, dout, masks[-1] != 0, 0.5),
        )


@pytest.mark.parametrize("p", [0.25, 0.5])
def test_evaluation_mode_is_the_identity(impl, p):
    rng = np.random.default_rng(11)
    layer = impl.dropout.Dropout(p, rng=rng)
    x = away_from_zero((6, 5), seed=12)
    layer.forward(x)  # a training call first: evaluation must not reuse its mask
    layer.eval()
    before = state_of(rng)
    call = f"Dropout({p}) in evaluation mode"
    out = layer.forward(x)
    assert_close(
        out,
        x,
        call=f"{call}: forward(x)",
        hint=matching_mistake(out, [(x / (1 - p), EVAL_HINT), (x * (1 - p), EVAL_HINT)]),
    )
    assert state_of(rng) == before, (
        f"{call}: forward drew numbers from the generator; evaluation draws nothing"
    )
    dout = away_from_zero((6, 5), seed=13)
    dx = layer.backward(dout)
    assert_close(
        dx,
        dout,
        call=f"{call}: forward(x), backward(dout)",
        what="dx",
        hint=matching_mistake(dx, evaluation_backward_mistakes(dout, p)),
    )
    layer.train()
    kept = kept_mask(layer.forward(np.ones((50, 50))), f"Dropout({p}) back in training")
    assert 0 < kept.mean() < 1, (
        f"Dropout({p}): after eval() then train(), forward kept {100 * kept.mean():.0f} % of "
        "2,500 elements\nlikely mistake: read self.training at every call"
    )


def test_p_zero_keeps_everything(impl):
    layer = impl.dropout.Dropout(0.0, rng=np.random.default_rng(14))
    x = away_from_zero((8, 9), seed=15)
    assert_close(layer.forward(x), x, call="Dropout(0.0) in training: forward(x)")
    dout = away_from_zero((8, 9), seed=16)
    assert_close(layer.backward(dout), dout, call="Dropout(0.0): backward(dout)", what="dx")


@pytest.mark.parametrize("training", [True, False])
def test_float32_views_and_no_mutation(impl, training):
    layer = impl.dropout.Dropout(0.4, rng=np.random.default_rng(17))
    if not training:
        layer.eval()
    x = noncontiguous(away_from_zero((5, 6, 3), seed=18).astype(np.float32))
    dout = noncontiguous(away_from_zero((5, 6, 3), seed=19).astype(np.float32))
    x_before, dout_before = x.copy(), dout.copy()
    mode = "training" if training else "evaluation"
    call = f"Dropout(0.4) in {mode} on float32 non-contiguous views of shape (5, 6, 3)"
    out = layer.forward(x)
    dx = layer.backward(dout)
    assert_unchanged(x_before, x, call=f"forward of {call}", what="input x")
    assert_unchanged(dout_before, dout, call=f"backward of {call}", what="dout")
    for what, value in [("output", out), ("dx", dx)]:
        assert isinstance(value, np.ndarray) and value.dtype == np.float32, (
            f"{call}: {what} is {getattr(value, 'dtype', type(value).__name__)}, expected a "
            "float32 array\nlikely mistake: a mask or a scale in float64 (np.ones, a division "
            "in float64) changed the dtype: build the mask in x's dtype"
        )
        assert value.shape == x.shape, f"{call}: {what} has shape {value.shape}, expected {x.shape}"
    kept = kept_mask(out, call)
    expected = np.where(kept, x_before / 0.6, 0.0) if training else x_before
    scaled = [] if training else [(x_before / 0.6, EVAL_HINT), (x_before * 0.6, EVAL_HINT)]
    assert_close(out, expected, call=call, rtol=1e-6, hint=matching_mistake(out, scaled))
    expected_dx = np.where(kept, dout_before / 0.6, 0.0) if training else dout_before
    if training:
        dx_hint = kept_scale_mistake(dx, dout_before, kept, 0.4)
    else:
        dx_hint = matching_mistake(dx, evaluation_backward_mistakes(dout_before, 0.4))
    assert_close(dx, expected_dx, call=call, what="dx", rtol=1e-6, hint=dx_hint)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, True, "0.5"])
def test_bad_drop_probabilities_are_refused(impl, p):
    layer = impl.dropout.Dropout(0.5)
    assert np.shape(layer.forward(np.ones((2, 3)))) == (2, 3)
    with pytest.raises(ValueError, match="p must be"):
        impl.dropout.Dropout(p)
