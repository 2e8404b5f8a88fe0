"""Exercise ``init``: LeCun, Xavier (Glorot) and He (Kaiming) weight initialization.

Why the variance matters. A unit of a dense layer computes ``y = sum_i x_i W_i`` over
``fan_in`` inputs. With independent, zero-mean weights and inputs::

    Var(y) = fan_in * Var(W) * E[x**2]

so a layer multiplies the signal's second moment by ``fan_in * Var(W)``. Through ``L`` layers
that factor is raised to the power ``L``: above 1 the activations explode, below 1 they vanish,
and the gradients (which flow back through the same weights, summed over ``fan_out`` units) do
the same. Each initializer picks ``Var(W)`` so that a factor is about 1:

- ``lecun_normal``: ``N(0, 1 / fan_in)`` keeps the forward variance of linear units and of
  activations with slope 1 at 0 such as tanh (LeCun et al., 1998).
- ``xavier_normal`` and ``xavier_uniform``: the variance ``2 / (fan_in + fan_out)``, a
  compromise between the forward (``1 / fan_in``) and backward (``1 / fan_out``) conditions
  (Glorot & Bengio, 2010); the uniform one is centred on 0 and bounded.
- ``he_normal``: the variance that keeps the second moment through a layer followed by ReLU
  (He et al., 2015): you derive it.

The fans of a weight are defined in :func:`fans`.

Every initializer has the signature ``init(shape, rng, dtype=np.float32) -> ndarray``: it draws
from the ``numpy.random.Generator`` it is given (never from ``np.random``'s global state, so a
seed reproduces a network) and returns an array of ``shape`` and ``dtype``. The normal
distributions are not truncated (as in PyTorch's ``kaiming_normal_``; Keras truncates at two
standard deviations and rescales).

The grader draws large samples and checks their mean, variance (against the variance of each
usual mistake, to name the one you made), shape, dtype, the bound and shape of the
distribution (normal or uniform), and that the same generator state gives the same numbers.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """The ``(fan_in, fan_out)`` of a weight array of this shape, as Python ints.

    ``fan_in`` is the number of inputs each output sums; ``fan_out`` the number of outputs each
    input reaches.

    - Dense weights, shape ``(in_features, out_features)``, used as ``y = x @ W``.
    - Convolution weights, shape ``(out_channels, in_channels, kh, kw)``: each output sums a
      receptive field of every input channel, and each input reaches a ``kh x kw`` field of
      every output channel.

    Any other number of dimensions gets a ``ValueError`` (given) naming the shape received and
    the two shapes expected. The grader checks dense and convolution shapes that are not
    square, so that a swapped axis shows.
    """
    if len(shape) not in (2, 4):
        raise ValueError(
            f"fans expects a dense weight shape (in_features, out_features) or a convolution "
            f"weight shape (out_channels, in_channels, kh, kw), got {tuple(shape)}"
        )
    # BEGIN SOLUTION
    # HINT 1: For each layout, take one output and count the weights it multiplies with an
    #   input: that is fan_in. Then take one input and count the outputs it reaches.
    # HINT 2: Dense: out[n, j] = sum_i x[n, i] W[i, j] sums over i, one term per entry of the
    #   first axis. Convolution: out[n, o, i, j] sums over c, p, q: how many triples?
    # HINT 3: The dense layout is (in, out), not PyTorch's (out, in). The convolution layout
    #   is (out_channels, in_channels, kh, kw): the channel axes are the first two, and the
    #   kernel's two axes count on both sides.
    # HINT 4: Dense: fan_in is the first axis, fan_out the second. Convolution: fan_in is the
    #   number of input channels times the kernel area, fan_out the number of output channels
    #   times the kernel area. Return plain ints.
    # DERIVATION:
    #   A dense layer computes $y_j = \sum_{i=1}^{D} x_i W_{ij}$ with $W$ of shape $(D, M)$:
    #   each output sums $D$ products, so $\text{fan\_in} = D$ = `shape[0]`, and each input
    #   $x_i$ reaches the $M$ outputs, so $\text{fan\_out} = M$ = `shape[1]`.
    #
    #   A convolution with $W$ of shape $(O, C, k_h, k_w)$ computes
    #   $y_{o,i,j} = \sum_{c,p,q} W_{o,c,p,q}\, x_{c,\, i+p,\, j+q}$: a sum of
    #   $C k_h k_w$ products (the receptive field), so $\text{fan\_in} = C k_h k_w$; away from
    #   the border each input pixel is seen by $k_h k_w$ positions of each of the $O$ filters,
    #   so $\text{fan\_out} = O k_h k_w$ (PyTorch's convention).
    # MISTAKES:
    #   - The kernel area forgotten for a convolution: `fans((6, 4, 5, 3)) returned (4, 6), expected
    #     (60, 90)`, then `likely mistake: the receptive field kh * kw is missing`.
    #   - PyTorch's dense layout, (out, in), where ours is (in, out): `fans((3, 5)) returned (5, 3),
    #     expected (3, 5) for a dense weight of shape (in_features, out_features)`, then `likely
    #     mistake: PyTorch's Linear.weight is (out, in); ours is (in, out), used as y = x @ W`.
    if len(shape) == 2:
        fan_in, fan_out = shape
        return int(fan_in), int(fan_out)
    out_channels, in_channels, kh, kw = shape
    receptive_field = kh * kw
    return int(in_channels * receptive_field), int(out_channels * receptive_field)
    # END SOLUTION


def lecun_normal(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: npt.DTypeLike = np.float32
) -> np.ndarray:
    """LeCun normal: ``W ~ N(0, 1 / fan_in)``, i.e. a variance of ``1 / fan_in``.

    This keeps ``Var(y)`` equal to ``E[x**2]`` in the module's formula.

    Returns an array of ``shape`` and ``dtype``, drawn from ``rng`` (and from nothing else).
    Check in numpy's documentation what the parameters of ``Generator.normal`` mean.
    """
    # BEGIN SOLUTION
    # HINT 1: Which number does a normal distribution need besides its mean, and how is it
    #   related to the variance you are given?
    # HINT 2: A variance sigma^2 = 1 / fan_in means a standard deviation sigma =
    #   1 / sqrt(fan_in); numpy's Generator.normal takes the standard deviation (its scale).
    # HINT 3: fan_in comes from fans(shape); the draw must have exactly shape, and numpy draws
    #   in float64 whatever you want: convert once, at the end, to dtype.
    # HINT 4: Draw from rng a normal sample of the given shape with mean 0 and standard
    #   deviation the square root of 1 / fan_in, then convert it to dtype.
    # DERIVATION:
    #   With $W_i$ independent of $x_i$, both of mean 0,
    #   $\mathrm{Var}(y) = \sum_{i=1}^{n} \mathrm{Var}(W_i x_i) = n\, \mathrm{Var}(W)\, E[x^2]$,
    #   $n$ = fan_in. The factor $n\, \mathrm{Var}(W)$ is 1 for $\mathrm{Var}(W) = 1/n$:
    #   the standard deviation passed to the generator is $\sigma = \sqrt{1/n}$, and the sample
    #   has the weight's shape.
    # MISTAKES:
    #   - The variance passed where numpy wants the standard deviation: `lecun_normal((300, 700),
    #     rng) [fan_in=300, fan_out=700]: the variance of the 210000 weights is 1.114e-05, expected
    #     0.003333 +- 1.5%`, then `likely mistake: the variance passed as numpy's scale (scale is
    #     the standard deviation)`.
    #   - The float64 draw returned as it is: `lecun_normal((20, 30), rng) returned dtype float64,
    #     expected float32 (the default)`, then `likely mistake: the draws are float64 (as numpy's
    #     generators make them), returned without conversion to the dtype argument`.
    # STATED: np.sqrt(1.0 / fan_in)
    fan_in, _ = fans(shape)
    std = np.sqrt(1.0 / fan_in)
    return rng.normal(0.0, std, size=shape).astype(dtype)
    # END SOLUTION


def xavier_uniform(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: npt.DTypeLike = np.float32
) -> np.ndarray:
    """Xavier (Glorot) uniform: ``W ~ U(-a, a)`` with the variance ``2 / (fan_in + fan_out)``.

    Derive the bound ``a`` from the variance of a uniform distribution on ``[-a, a]``. Every
    value lies in ``[-a, a]``; the distribution is centred on 0.

    Returns an array of ``shape`` and ``dtype``, drawn from ``rng``.
    """
    # BEGIN SOLUTION
    # HINT 1: Write the variance of U(-a, a) as a function of a, then set it equal to the
    #   variance you want.
    # HINT 2: For U(-a, a), E[W] = 0 and E[W^2] = (1 / 2a) times the integral of w^2 over
    #   [-a, a], which is a^2 / 3.
    # HINT 3: a is one number, from fans(shape); the sample has the weight's shape, drawn
    #   uniformly between -a and a, then converted to dtype.
    # HINT 4: a^2 / 3 = 2 / (fan_in + fan_out) gives a as the square root of 6 over the sum of
    #   the fans; draw from rng uniformly on [-a, a].
    # DERIVATION:
    #   For $W \sim U(-a, a)$:
    #
    #   $$\mathrm{Var}(W) = \frac{1}{2a} \int_{-a}^{a} w^2\, dw = \frac{a^2}{3}$$
    #
    #   Setting $a^2 / 3 = 2 / (n_\text{in} + n_\text{out})$ gives
    #   $a = \sqrt{6 / (n_\text{in} + n_\text{out})}$. The variance $2/(n_\text{in} +
    #   n_\text{out})$ is the harmonic compromise between the forward condition
    #   $n_\text{in} \mathrm{Var}(W) = 1$ and the backward one $n_\text{out} \mathrm{Var}(W) = 1$.
    # STATED: fan_in + fan_out
    # MISTAKES:
    #   - The standard deviation taken for the bound: `xavier_uniform((300, 700), rng) [fan_in=300,
    #     fan_out=700]: the variance of the 210000 weights is 0.0006649, expected 0.002 +- 1.0%`,
    #     then `likely mistake: bound a = sqrt(2 / (fan_in + fan_out)): that is the standard
    #     deviation, not the bound of a uniform distribution of that variance`.
    #   - A distribution on [0, a]: `the mean of the 210000 weights is 0.0387, expected 0 +-
    #     0.00049`, then `likely mistake: a distribution that is not centred on 0 (U(0, a) instead
    #     of U(-a, a)?)`.
    #   - Drawing from `np.random` instead of `rng`: `xavier_uniform((6, 4, 3, 3),
    #     np.random.default_rng(7)) called twice gave different weights`, then `likely mistake:
    #     drawing from np.random's global state instead of the rng argument`.
    fan_in, fan_out = fans(shape)
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=shape).astype(dtype)
    # END SOLUTION


def xavier_normal(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: npt.DTypeLike = np.float32
) -> np.ndarray:
    """Xavier (Glorot) normal: ``W ~ N(0, 2 / (fan_in + fan_out))`` (mean 0, that variance).

    The same variance as :func:`xavier_uniform`, from a normal distribution.

    Returns an array of ``shape`` and ``dtype``, drawn from ``rng``.
    """
    # BEGIN SOLUTION
    # HINT 1: The same two steps as lecun_normal: the fans, then the standard deviation.
    # HINT 2: sigma^2 = 2 / (fan_in + fan_out): the 2 is there because the average of the two
    #   fans is (fan_in + fan_out) / 2.
    # HINT 3: fans(shape) gives both fans; one standard deviation for the whole array.
    # HINT 4: Draw from rng a normal sample of the shape with mean 0 and standard deviation the
    #   square root of 2 over the sum of the fans, converted to dtype.
    # DERIVATION:
    #   The variance is that of Xavier's compromise,
    #   $\mathrm{Var}(W) = 1 / \big((n_\text{in} + n_\text{out}) / 2\big)$, so the standard
    #   deviation is $\sigma = \sqrt{2 / (n_\text{in} + n_\text{out})}$.
    # MISTAKES:
    #   - The 2 of the average of the fans forgotten: `xavier_normal((300, 700), rng) [fan_in=300,
    #     fan_out=700]: the variance of the 210000 weights is 0.001002, expected 0.002 +- 1.5%`,
    #     then `likely mistake: variance 1 / (fan_in + fan_out): the factor 2 is missing`.
    # STATED: np.sqrt(2.0 / (fan_in + fan_out))
    fan_in, fan_out = fans(shape)
    std = np.sqrt(2.0 / (fan_in + fan_out))
    return rng.normal(0.0, std, size=shape).astype(dtype)
    # END SOLUTION


def he_normal(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: npt.DTypeLike = np.float32
) -> np.ndarray:
    """He (Kaiming) normal: ``W ~ N(0, sigma**2)`` for a layer whose inputs come out of a ReLU.

    Derive ``sigma**2`` so that the second moment of the pre-activations is kept from one
    layer to the next: ``z = sum_i x_i W_i`` over ``fan_in`` inputs with ``x_i = relu(z'_i)``,
    where ``z'`` is a pre-activation of the layer before, symmetric around 0. (It is PyTorch's
    ``kaiming_normal_`` with its defaults, ``mode="fan_in"`` and the ReLU gain.)

    Returns an array of ``shape`` and ``dtype``, drawn from ``rng``.
    """
    # BEGIN SOLUTION
    # HINT 1: Start from the module's formula Var(z) = fan_in Var(W) E[x^2]. What is E[x^2]
    #   when x = relu(z') and z' is symmetric around 0?
    # HINT 2: relu(z')^2 is z'^2 where z' > 0 and 0 elsewhere; by symmetry
    #   E[relu(z')^2] = E[z'^2] / 2 = Var(z') / 2.
    # HINT 3: Var(z) = Var(z') asks fan_in Var(W) / 2 = 1. fan_in from fans(shape); one
    #   standard deviation for the whole array, drawn with the weight's shape.
    # HINT 4: Var(W) = 2 / fan_in: draw from rng a normal sample of mean 0 and standard
    #   deviation the square root of 2 / fan_in, converted to dtype.
    # DERIVATION:
    #   For $z = \sum_{i=1}^{n} W_i x_i$ with $x_i = \max(0, z'_i)$ and $z'_i$ symmetric
    #   around 0:
    #
    #   $$E[x_i^2] = \int_0^\infty t^2\, p(t)\, dt = \tfrac{1}{2} E[z_i'^2]
    #   = \tfrac{1}{2} \mathrm{Var}(z'_i)$$
    #
    #   so $\mathrm{Var}(z) = n\, \mathrm{Var}(W)\, \tfrac{1}{2} \mathrm{Var}(z')$. Keeping
    #   $\mathrm{Var}(z) = \mathrm{Var}(z')$ asks $\mathrm{Var}(W) = 2 / n$: the ReLU drops half
    #   of the second moment and the factor 2 gives it back. $\sigma = \sqrt{2 / n}$ with $n$
    #   = fan_in, which for a convolution includes the kernel area.
    # MISTAKES:
    #   - LeCun's variance in front of a ReLU: `he_normal((300, 700), rng) [fan_in=300,
    #     fan_out=700]: the variance of the 210000 weights is 0.003341, expected 0.006667 +- 1.5%`,
    #     then `likely mistake: std sqrt(1 / fan_in): that is LeCun's variance, which each ReLU
    #     layer halves`.
    fan_in, _ = fans(shape)
    std = np.sqrt(2.0 / fan_in)
    return rng.normal(0.0, std, size=shape).astype(dtype)
    # END SOLUTION
