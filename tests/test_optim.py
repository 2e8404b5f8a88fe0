"""Judge of the ``optim`` exercise: SGD (momentum, Nesterov, weight decay) and Adam.

The oracle is a transcription of PyTorch's ``torch.optim.SGD`` and ``torch.optim.Adam`` update
rules in plain Python loops over the elements (no numpy, no learner code), plus a few
trajectories derived by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kata.judge import assert_close, assert_unchanged
from tests.oracles import matching_mistake

pytestmark = pytest.mark.exercise("optim")

Arrays = dict[str, np.ndarray]


# --------------------------------------------------------------------------- oracles


def sgd_oracle(
    params: Arrays,
    grad_steps: list[Arrays],
    *,
    lr: float,
    momentum: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
) -> dict[str, list[float]]:
    """torch.optim.SGD (dampening 0), element by element."""
    values = {name: [float(x) for x in p.ravel()] for name, p in params.items()}
    buffers: dict[tuple[str, int], float] = {}
    for grads in grad_steps:
        for name, flat in values.items():
            grad = [float(x) for x in grads[name].ravel()]
            for i, p in enumerate(flat):
                d_p = grad[i] + weight_decay * p
                if momentum != 0:
                    key = (name, i)
                    buf = d_p if key not in buffers else momentum * buffers[key] + d_p
                    buffers[key] = buf
                    d_p = d_p + momentum * buf if nesterov else buf
                flat[i] = p - lr * d_p
    return values


def adam_oracle(
    params: Arrays,
    grad_steps: list[Arrays],
    *,
    lr: float,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
) -> dict[str, list[float]]:
    """torch.optim.Adam (amsgrad off), element by element."""
    beta1, beta2 = betas
    values = {name: [float(x) for x in p.ravel()] for name, p in params.items()}
    exp_avg = {name: [0.0] * len(flat) for name, flat in values.items()}
    exp_avg_sq = {name: [0.0] * len(flat) for name, flat in values.items()}
    for step, grads in enumerate(grad_steps, start=1):
        for name, flat in values.items():
            grad = [float(x) for x in grads[name].ravel()]
            for i, p in enumerate(flat):
                g = grad[i] + weight_decay * p
                exp_avg[name][i] = beta1 * exp_avg[name][i] + (1 - beta1) * g
                exp_avg_sq[name][i] = beta2 * exp_avg_sq[name][i] + (1 - beta2) * g * g
                m_hat = exp_avg[name][i] / (1 - beta1**step)
                v_hat = exp_avg_sq[name][i] / (1 - beta2**step)
                flat[i] = p - lr * m_hat / (math.sqrt(v_hat) + eps)
    return values


# --------------------------------------------------------------------------- helpers


def arrays(**values: object) -> Arrays:
    return {name: np.array(value, dtype=np.float64) for name, value in values.items()}


def copies(named: Arrays) -> Arrays:
    return {name: value.copy() for name, value in named.items()}


def run(optimizer, params: Arrays, grad_steps: list[Arrays]) -> None:
    for grads in grad_steps:
        optimizer.step(params, grads)


def check_against(
    expected: dict[str, list[float]],
    params: Arrays,
    *,
    call: str,
    rtol: float = 1e-9,
    hint: str | None = None,
) -> None:
    for name, flat in expected.items():
        want = np.array(flat).reshape(params[name].shape)
        assert_close(
            params[name],
            want,
            call=call,
            what=f"params[{name!r}]",
            rtol=rtol,
            atol=1e-12,
            hint=hint,
        )


def random_trajectory(
    seed: int, shapes: dict[str, tuple[int, ...]], steps: int
) -> tuple[Arrays, list[Arrays]]:
    rng = np.random.default_rng(seed)
    params = {name: rng.standard_normal(shape) for name, shape in shapes.items()}
    grads = [
        {name: rng.standard_normal(shape) for name, shape in shapes.items()} for _ in range(steps)
    ]
    return params, grads


SEEDS = st.integers(0, 2**16)
SHAPES = st.dictionaries(
    st.sampled_from(["0.W", "0.b", "2.W", "2.b", "scale"]),
    st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple),
    min_size=1,
    max_size=3,
)


CONFIGURATIONS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.01}),
]
ORACLES = {"SGD": sgd_oracle, "Adam": adam_oracle}


def describe(kind: str, settings: dict) -> str:
    return f"{kind}({', '.join(f'{key}={value!r}' for key, value in settings.items())})"


every_optimizer = pytest.mark.parametrize(
    ("kind", "settings"), CONFIGURATIONS, ids=[describe(*c) for c in CONFIGURATIONS]
)


# --------------------------------------------------------------------------- in place, dtype


@every_optimizer
def test_updates_in_place_and_keeps_float32(impl, kind: str, settings: dict) -> None:
    rng = np.random.default_rng(5)
    params = {
        "0.W": rng.standard_normal((3, 2)).astype(np.float32),
        "0.b": np.zeros(2, dtype=np.float32),
    }
    originals = dict(params)
    before = copies(params)
    optimizer = getattr(impl.optim, kind)(**settings)
    description = describe(kind, settings)
    for _ in range(2):
        grads = {
            name: rng.standard_normal(p.shape).astype(np.float32) for name, p in params.items()
        }
        optimizer.step(params, grads)
    for name, array in originals.items():
        assert params[name] is array, (
            f"{description}.step replaced params[{name!r}] by a new array: the layer that "
            "owns the original never sees the update\n"
            "likely mistake: a new array stored under params[name]: the step must change the "
            "existing array in place"
        )
        assert not np.array_equal(array, before[name]), (
            f"two steps of {description} left params[{name!r}] unchanged\n"
            "likely mistake: the new values bound to a local name (or written into a copy): the "
            "array of params[name] itself must change"
        )
        assert array.dtype == np.float32, (
            f"{description}.step turned the float32 params[{name!r}] into {array.dtype}"
        )


@every_optimizer
def test_gradients_are_not_mutated(impl, kind: str, settings: dict) -> None:
    params, grad_steps = random_trajectory(2, {"W": (3, 2), "b": (2,)}, 2)
    optimizer = getattr(impl.optim, kind)(**settings)
    description = describe(kind, settings)
    for grads in grad_steps:
        before = copies(grads)
        optimizer.step(params, grads)
        for name in grads:
            assert_unchanged(
                before[name],
                grads[name],
                call=f"{description}.step",
                what=f"gradient grads[{name!r}]",
            )


# --------------------------------------------------------------------------- SGD by hand


@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), seed=SEEDS)
def test_sgd_one_step_from_zero_with_lr_one_is_minus_the_gradient(impl, shape, seed) -> None:
    grad = np.random.default_rng(seed).standard_normal(shape)
    params = {"w": np.zeros(shape)}
    impl.optim.SGD(lr=1.0).step(params, {"w": grad})
    assert_close(
        params["w"],
        -grad,
        call=f"SGD(lr=1.0).step from w = 0 of shape {shape}",
        what="params['w']",
        hint="from w = 0 with lr = 1 and no momentum, one step must land on minus the gradient "
        "(the update equations of SGD's statement; nox -s hint -- optim)",
    )


def test_sgd_plain_step_by_hand(impl) -> None:
    params = arrays(w=[1.0, -2.0], b=[0.5])
    impl.optim.SGD(lr=0.1).step(params, arrays(w=[0.5, 0.25], b=[-1.0]))
    call = "SGD(lr=0.1).step with w=[1, -2], grad w=[0.5, 0.25]; b=[0.5], grad b=[-1]"
    assert_close(params["w"], [0.95, -2.025], call=call, what="params['w']")
    assert_close(params["b"], [0.6], call=call, what="params['b']")


def assert_steps_from_one(
    optimizer, trajectory: list[tuple[float, float]], *, call: str, lookalike: str, rule: str
) -> None:
    """Step ``optimizer`` from w = 1 with the constant gradient 1, checking w after each step.

    ``trajectory[k]`` is (w expected after step k + 1, w that a lookalike mistake gives there):
    every step is taken first, and the hint is ``lookalike`` (the mistake) only when w is the
    mistake's after every step (two steps tell mistakes apart that one step does not), else
    ``rule`` (where the update is stated).
    """
    params = arrays(w=[1.0])
    seen = []
    for _ in trajectory:
        optimizer.step(params, arrays(w=[1.0]))
        seen.append(np.array(params["w"], copy=True))
    confirmed = all(
        np.shape(w) == (1,) and np.isclose(w[0], mistaken)
        for w, (_, mistaken) in zip(seen, trajectory, strict=True)
    )
    for step, (w, (want, _)) in enumerate(zip(seen, trajectory, strict=True), start=1):
        assert_close(
            w,
            [want],
            what="params['w']",
            hint=lookalike if confirmed else None,
            pointer=None if confirmed else rule,
            call=f"{call}: step {step} from w=1 with a constant gradient 1",
        )


def test_momentum_accumulates_by_hand(impl) -> None:
    # v1 = 1, p = 1 - 0.1 = 0.9; v2 = 0.9 + 1 = 1.9, p = 0.71; v3 = 2.71, p = 0.439
    # (plain SGD: 0.9, 0.8, 0.7)
    assert_steps_from_one(
        impl.optim.SGD(lr=0.1, momentum=0.9),
        [(0.9, 0.9), (0.71, 0.8), (0.439, 0.7)],
        call="SGD(lr=0.1, momentum=0.9)",
        lookalike="the velocity is not kept between steps (plain SGD)",
        rule="the velocity does not follow the statement's equations over the steps (it starts "
        "at 0, decays by momentum, and takes the gradient of every step; nox -s hint -- optim)",
    )


def test_nesterov_looks_ahead_by_hand(impl) -> None:
    # v1 = 1, update = 1 + 0.9 * 1 = 1.9, p = 0.81; v2 = 1.9, update = 1 + 0.9 * 1.9 = 2.71,
    # p = 0.539 (plain momentum: 0.9, then 0.71)
    assert_steps_from_one(
        impl.optim.SGD(lr=0.1, momentum=0.9, nesterov=True),
        [(0.81, 0.9), (0.539, 0.71)],
        call="SGD(lr=0.1, momentum=0.9, nesterov=True)",
        lookalike="w follows plain momentum at every step (0.9, then 0.71): the look-ahead "
        "adds nothing (ignored, or taken along the velocity of the step before)",
        rule="the Nesterov step differs from the statement's (which velocity, the new or the "
        "old, does it look ahead along? nox -s hint -- optim)",
    )


def test_sgd_weight_decay_is_added_to_the_gradient(impl) -> None:
    # g = 0 + 0.1 * 2 = 0.2, v = 0.2, p = 2 - 0.5 * 0.2 = 1.9;
    # g = 0.19, v = 0.9 * 0.2 + 0.19 = 0.37, p = 1.9 - 0.185 = 1.715
    optimizer = impl.optim.SGD(lr=0.5, momentum=0.9, weight_decay=0.1)
    params = arrays(w=[2.0])
    call = "SGD(lr=0.5, momentum=0.9, weight_decay=0.1): two steps from w=2 with gradient 0"
    for _ in range(2):
        optimizer.step(params, arrays(w=[0.0]))
    hint = (
        "weight decay does not enter as in the statement (added to the gradient, before "
        "the velocity); nox -s hint -- optim"
    )
    if np.isclose(params["w"][0], 2.0):
        hint = "weight decay is ignored"
    elif np.isclose(params["w"][0], 1.805):
        hint = (
            "decoupled weight decay (applied to p outside the velocity, as AdamW does): here "
            "the decay is part of the gradient, before the momentum"
        )
    assert_close(params["w"], [1.715], call=call, what="params['w']", hint=hint)


# --------------------------------------------------------------------------- Adam by hand


def test_adam_first_step_moves_each_parameter_by_lr(impl) -> None:
    grad = np.array([3.0, -0.02, 1e-3, -50.0])
    params = {"w": np.ones(4)}
    impl.optim.Adam(lr=0.01).step(params, {"w": grad})
    moved = 1.0 - params["w"]
    lr, eps, size = 0.01, 1e-8, np.abs(grad)
    expected = lr * grad / (size + eps)  # = lr * sign(g), up to eps
    # after one step m = (1 - beta1) g = 0.1 g and v = (1 - beta2) g**2 = 0.001 g**2
    mistakes = [
        (
            lr * 0.1 * grad / (math.sqrt(0.001) * size + eps),
            "no bias correction: the first step comes out (1 - beta1) / sqrt(1 - beta2) = 3.16 "
            "times too large",
        ),
        (lr * grad / (math.sqrt(0.001) * size + eps), "m is bias-corrected but v is not"),
        (lr * 0.1 * grad / (size + eps), "v is bias-corrected but m is not"),
        (
            lr * grad / np.sqrt(grad**2 + eps),
            "eps inside the square root: the statement adds it to the square root of v_hat",
        ),
        (
            lr * grad / (size + eps / math.sqrt(0.001)),
            "eps added to sqrt(v) before the bias correction (the paper's 'efficient' form): "
            "here it is added to sqrt(v_hat), as in PyTorch",
        ),
    ]
    assert_close(
        moved,
        expected,
        what="1 - params['w'] (the step)",
        rtol=1e-7,
        hint=matching_mistake(moved, mistakes)
        or "the first Adam step must move every parameter by about lr, whatever the size of "
        "its gradient (nox -s hint -- optim)",
        call=f"Adam(lr=0.01).step from w=1 with gradient {grad.tolist()}",
    )


def test_adam_constant_gradient_moves_lr_per_step(impl) -> None:
    # with a constant gradient, m_hat = g and v_hat = g**2 at every step
    optimizer = impl.optim.Adam(lr=0.05)
    grad = np.array([[2.0, -0.5], [1e-2, -7.0]])
    params = {"w": np.zeros((2, 2))}
    for step in range(1, 4):
        optimizer.step(params, {"w": grad})
        expected = -step * 0.05 * grad / (np.abs(grad) + 1e-8)
        assert_close(
            params["w"],
            expected,
            rtol=1e-7,
            what="params['w']",
            call=f"Adam(lr=0.05): step {step} from w=0 with a constant gradient",
            hint="with a constant gradient every Adam step moves each parameter by about lr: check "
            "the step count t (1 at the first call), the moments kept from step to step, and "
            "that the bias correction leaves the stored moments unchanged (nox -s hint -- optim)",
        )


def test_adam_sign_flip_by_hand(impl) -> None:
    # step 1, g=1: p = -lr; step 2, g=-1: m = 0.09 - 0.1 = -0.01, m_hat = -0.01 / 0.19,
    # v = 0.000999 + 0.001 = 0.001999, v_hat = 1: p = -lr + lr * (0.01 / 0.19)
    lr, eps = 0.1, 1e-8
    optimizer = impl.optim.Adam(lr=lr)
    params = arrays(w=[0.0])
    optimizer.step(params, arrays(w=[1.0]))
    optimizer.step(params, arrays(w=[-1.0]))
    expected = -lr / (1 + eps) + lr * (0.01 / 0.19) / (1 + eps)
    assert_close(
        params["w"],
        [expected],
        rtol=1e-9,
        what="params['w']",
        call="Adam(lr=0.1): from w=0, a step with gradient 1 then one with gradient -1",
        hint="the second step does not follow the statement's equations: the moments of the "
        "first step are not carried into the second as they should be (nox -s hint -- optim)",
    )


def test_adam_weight_decay_is_added_to_the_gradient(impl) -> None:
    # g = 0 + 0.1 * 2 = 0.2: the first step moves w by lr * 0.2 / (0.2 + eps)
    params = arrays(w=[2.0])
    impl.optim.Adam(lr=0.01, weight_decay=0.1).step(params, arrays(w=[0.0]))
    hint = (
        "weight decay does not enter as in the statement (added to the gradient, which then "
        "feeds both moments); nox -s hint -- optim"
    )
    if np.isclose(params["w"][0], 1.998):
        hint = "decoupled weight decay (that is AdamW): here the decay is part of the gradient"
    elif np.isclose(params["w"][0], 2.0):
        hint = "weight decay is ignored"
    assert_close(
        params["w"],
        [2.0 - 0.01 * 0.2 / (0.2 + 1e-8)],
        rtol=1e-9,
        what="params['w']",
        call="Adam(lr=0.01, weight_decay=0.1).step from w=2 with gradient 0",
        hint=hint,
    )


def test_adam_counts_one_step_per_call_for_every_parameter(impl) -> None:
    # parameters with the same gradient must move the same: each counts one step per call
    optimizer = impl.optim.Adam(lr=0.1)
    params = arrays(a=[0.0], b=[0.0], c=[0.0])
    optimizer.step(params, arrays(a=[1.0], b=[1.0], c=[1.0]))
    moved = [float(params[name][0]) for name in "abc"]
    assert np.allclose(moved, -0.1 / (1 + 1e-8), rtol=1e-9), (
        "Adam(lr=0.1): one step from a = b = c = 0 with gradient 1 for each gave "
        f"a={moved[0]:.6g}, b={moved[1]:.6g}, c={moved[2]:.6g}, expected -0.1 for each\n"
        "likely mistake: one step count shared by the parameters and raised for each of them: "
        "each parameter counts its own steps, one per call"
    )


# --------------------------------------------------------------------------- against PyTorch


@given(
    shapes=SHAPES,
    steps=st.integers(1, 4),
    seed=SEEDS,
    lr=st.floats(1e-3, 1.0),
    momentum=st.sampled_from([0.0, 0.5, 0.9, 0.99]),
    nesterov=st.booleans(),
    weight_decay=st.sampled_from([0.0, 1e-4, 0.1]),
)
def test_sgd_matches_pytorch(impl, shapes, steps, seed, lr, momentum, nesterov, weight_decay):
    nesterov = nesterov and momentum > 0
    params, grads = random_trajectory(seed, shapes, steps)
    expected = sgd_oracle(
        params, grads, lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay
    )
    optimizer = impl.optim.SGD(
        lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay
    )
    run(optimizer, params, grads)
    check_against(
        expected,
        params,
        rtol=1e-9,
        call=f"{steps} steps of SGD(lr={lr:.4g}, momentum={momentum}, "
        f"nesterov={nesterov}, weight_decay={weight_decay}) on shapes {shapes}",
    )


@given(
    shapes=SHAPES,
    steps=st.integers(1, 4),
    seed=SEEDS,
    lr=st.floats(1e-4, 0.5),
    betas=st.sampled_from([(0.9, 0.999), (0.5, 0.9), (0.0, 0.99), (0.95, 0.0)]),
    eps=st.sampled_from([1e-8, 1e-3, 0.5]),
    weight_decay=st.sampled_from([0.0, 1e-4, 0.1]),
)
def test_adam_matches_pytorch(impl, shapes, steps, seed, lr, betas, eps, weight_decay):
    params, grads = random_trajectory(seed, shapes, steps)
    expected = adam_oracle(params, grads, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    optimizer = impl.optim.Adam(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    run(optimizer, params, grads)
    check_against(
        expected,
        params,
        rtol=1e-8,
        call=f"{steps} steps of Adam(lr={lr:.4g}, betas={betas}, eps={eps}, "
        f"weight_decay={weight_decay}) on shapes {shapes}",
        hint="with this large eps, where eps enters shows: outside the square root of v_hat, "
        "as in the statement (nox -s hint -- optim)"
        if eps > 1e-8
        else None,
    )


@every_optimizer
def test_state_is_kept_per_parameter_name(impl, kind: str, settings: dict) -> None:
    # the second call lists the parameters in the other order: state follows names, not places
    shapes = {"W": (2, 3), "b": (3,)}
    params, grads = random_trajectory(11, shapes, 3)
    initial = copies(params)
    expected = ORACLES[kind](params, grads, **settings)
    optimizer = getattr(impl.optim, kind)(**settings)
    description = describe(kind, settings)
    call = (
        f"3 steps of {description} on W (2, 3) and b (3,), the dictionaries listing them in "
        "a different order at each step"
    )
    per_name = "the state (velocity, moments) is not kept per parameter name"
    for step, step_grads in enumerate(grads):
        order = ["W", "b"] if step % 2 == 0 else ["b", "W"]
        try:
            optimizer.step(
                {name: params[name] for name in order},
                {name: step_grads[name] for name in reversed(order)},
            )
        except ValueError as error:
            raise AssertionError(
                f"{call} raised ValueError: {error}\nlikely mistake: {per_name}, "
                "(one state per name, neither shared between parameters nor kept by position)"
            ) from None
    hint = None
    if any(np.array_equal(params[name], initial[name]) for name in params):
        hint = "the parameters were not updated in place"
    elif follows_the_oracle_in_a_fixed_order(impl, kind, settings, initial, grads, expected):
        hint = per_name  # right when the order never changes: the state follows places
    check_against(expected, params, rtol=1e-9, call=call, hint=hint)


def follows_the_oracle_in_a_fixed_order(impl, kind, settings, initial, grads, expected) -> bool:
    """Whether a fresh optimizer matches the oracle when the order of the names never changes."""
    params = copies(initial)
    run(getattr(impl.optim, kind)(**settings), params, grads)
    return all(
        np.allclose(params[name], np.reshape(flat, params[name].shape), rtol=1e-9, atol=1e-12)
        for name, flat in expected.items()
    )


# --------------------------------------------------------------------------- errors


def raised(errors: tuple[type[Exception], ...], call: str, action) -> Exception:
    """The exception ``action()`` raises; a clear failure when it raises none of ``errors``."""
    try:
        action()
    except errors as error:
        return error
    names = " or ".join(error.__name__ for error in errors)
    raise AssertionError(f"{call} raised nothing: expected {names}")


@every_optimizer
def test_a_missing_gradient_raises_and_changes_nothing(impl, kind: str, settings: dict) -> None:
    params = arrays(weight=[[1.0, 2.0]], bias=[3.0])
    before = copies(params)
    optimizer = getattr(impl.optim, kind)(**settings)
    optimizer.step(arrays(other=[1.0]), arrays(other=[1.0]))  # a valid step works first
    call = f"{describe(kind, settings)}.step(params, grads) with no grads['bias']"
    error = raised(
        (KeyError, ValueError), call, lambda: optimizer.step(params, arrays(weight=[[0.5, 0.5]]))
    )
    assert "bias" in str(error), (
        f"{call} raised {type(error).__name__}({error}): name the missing parameter"
    )
    for name in params:
        assert_unchanged(
            before[name],
            params[name],
            call=f"{call} (a failed step: call check_gradients before updating anything)",
            what=f"params[{name!r}]",
        )


@every_optimizer
def test_a_gradient_of_the_wrong_shape_is_refused(impl, kind: str, settings: dict) -> None:
    params = arrays(weight=[[1.0, 2.0], [3.0, 4.0]])
    optimizer = getattr(impl.optim, kind)(**settings)
    optimizer.step(arrays(other=[1.0]), arrays(other=[1.0]))  # a valid step works first
    call = (
        f"{describe(kind, settings)}.step with params['weight'] of shape (2, 2) and "
        "grads['weight'] of shape (2,) (which would broadcast silently)"
    )
    error = raised((ValueError,), call, lambda: optimizer.step(params, arrays(weight=[0.5, 0.5])))
    assert "weight" in str(error), f"{call} raised ValueError({error}): name the parameter"


SGD_ERRORS = [
    (dict(lr=0.0), "lr"),
    (dict(lr=-0.1), "lr"),
    (dict(lr=0.1, momentum=-0.1), "momentum"),
    (dict(lr=0.1, momentum=1.0), "momentum"),
    (dict(lr=0.1, nesterov=True), "nesterov"),
    (dict(lr=0.1, momentum=0.0, nesterov=True), "nesterov"),
    (dict(lr=0.1, weight_decay=-1e-4), "weight_decay"),
]

ADAM_ERRORS = [
    (dict(lr=0.0), "lr"),
    (dict(lr=-1e-3), "lr"),
    (dict(betas=(1.0, 0.999)), "betas"),
    (dict(betas=(0.9, 1.0)), "betas"),
    (dict(betas=(-0.1, 0.999)), "betas"),
    (dict(eps=0.0), "eps"),
    (dict(eps=-1e-8), "eps"),
    (dict(weight_decay=-0.1), "weight_decay"),
]


def check_rejections(factory, name: str, cases: list[tuple[dict, str]]) -> None:
    for kwargs, argument in cases:
        call = describe(name, kwargs)
        try:
            factory(**kwargs)
        except ValueError as error:
            assert argument in str(error), (
                f"{call} raised ValueError({str(error)!r}): the message should name {argument}"
            )
        else:
            raise AssertionError(f"{call} was accepted: expected a ValueError naming {argument}")


def test_sgd_validates_its_hyperparameters(impl) -> None:
    for kwargs in [
        dict(lr=1e-6),
        dict(lr=0.1, momentum=0.0),
        dict(lr=0.1, momentum=0.999, nesterov=True),
        dict(lr=0.1, weight_decay=0.0),
    ]:
        impl.optim.SGD(**kwargs).step(arrays(w=[1.0]), arrays(w=[1.0]))  # the edges are accepted
    check_rejections(impl.optim.SGD, "SGD", SGD_ERRORS)


def test_adam_validates_its_hyperparameters(impl) -> None:
    for kwargs in [dict(), dict(betas=(0.0, 0.0)), dict(eps=1e-12, weight_decay=0.0)]:
        impl.optim.Adam(**kwargs).step(arrays(w=[1.0]), arrays(w=[1.0]))  # the edges are accepted
    check_rejections(impl.optim.Adam, "Adam", ADAM_ERRORS)
