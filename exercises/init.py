# Generated from reference/init.py by `nox -s exercises`: this is your file, edit it.
# Replace each `raise NotImplementedError(...)` with your code; `nox` grades it.
"""Exercise ``init``: LeCun, Xavier (Glorot) and He (Kaiming) weight initialization.

Why the variance matters. A unit of a dense layer computes ``y = sum_i x_i W_i`` over
``fan_in`` inputs. With independent, zero-mean weights and inputs::

    Var(y) = fan_in * Var(W) * E[x**2]

so a layer multiplies the signal's second moment by ``fan_in * Var(W)``. Through ``L`` layers
that factor is raised to the power ``L``: above 1 the activations explode, below 1 they vanish,
and the gradients (which flow back through the same weights, summed over ``fan_out`` units) do
the same. Each initializer picks ``Var(W)`` so that the factor is about 1:

- ``lecun_normal``: ``N(0, 1 / fan_in)`` keeps the forward variance of linear units and of
  activations with slope 1 at 0 such as tanh (LeCun et al., 1998).
- ``xavier_uniform``: ``U(-a, a)`` with ``a = sqrt(6 / (fan_in + fan_out))``, and
  ``xavier_normal``: ``N(0, 2 / (fan_in + fan_out))``: a compromise between the forward
  (``1 / fan_in``) and backward (``1 / fan_out``) variances (Glorot & Bengio, 2010).
- ``he_normal``: ``N(0, 2 / fan_in)`` keeps the forward variance through ReLU (He et al., 2015).

He's factor 2: ReLU zeroes half of a symmetric input, so ``E[relu(z)**2] = Var(z) / 2``;
doubling ``Var(W)`` gives the half back. The uniform distribution on ``[-a, a]`` has variance
``a**2 / 3``, hence ``a = sqrt(3 * 2 / (fan_in + fan_out))``.

The fans of a weight (see :func:`fans`): each output of a dense layer with ``W`` of shape
``(in, out)`` sums ``in`` inputs. Each output of a convolution with ``W`` of shape
``(out_channels, in_channels, kh, kw)`` sums ``in_channels * kh * kw`` inputs (a receptive
field), and each input reaches ``out_channels * kh * kw`` outputs.

Every initializer has the signature ``init(shape, rng, dtype=np.float32) -> ndarray``: it draws
from the ``numpy.random.Generator`` it is given (never from ``np.random``'s global state, so a
seed reproduces a network) and returns an array of ``shape`` and ``dtype``. The normal
distributions are not truncated (as in PyTorch's ``kaiming_normal_``; Keras truncates at two
standard deviations and rescales).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """The ``(fan_in, fan_out)`` of a weight array of this shape.

    - Dense weights, shape ``(in_features, out_features)`` (``y = x @ W``):
      ``fan_in = shape[0]``, ``fan_out = shape[1]``.
    - Convolution weights, shape ``(out_channels, in_channels, kh, kw)``:
      ``fan_in = in_channels * kh * kw``, ``fan_out = out_channels * kh * kw``.
    - Any other number of dimensions: ``ValueError`` naming the shape received and the two
      shapes expected.

    Usual mistakes: copying PyTorch's dense convention (its ``Linear.weight`` is
    ``(out, in)``, ours is ``(in, out)``: ``fan_in`` is ``shape[0]`` here); forgetting the
    receptive field ``kh * kw`` of a convolution (each output sums ``in_channels * kh * kw``
    products, not ``in_channels``); swapping the two channel axes of a convolution weight.

    Hint: unpack the shape, ``out_channels, in_channels, kh, kw = shape``, and return plain
    Python ints.
    """
    raise NotImplementedError("init: implement fans in exercises/init.py")


def lecun_normal(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: npt.DTypeLike = np.float32
) -> np.ndarray:
    """LeCun normal: ``W ~ N(0, std**2)`` with ``std = sqrt(1 / fan_in)``.

    Keeps ``Var(x @ W)`` equal to ``E[x**2]``: ``fan_in * (1 / fan_in) = 1``.

    Returns an array of ``shape`` and ``dtype``, drawn from ``rng``.

    Usual mistakes: ``1 / fan_out`` (same thing on a square matrix, wrong otherwise);
    ``rng.normal(0, variance)`` (numpy's ``scale`` is the standard deviation, not the
    variance); drawing from ``np.random`` instead of ``rng``; returning float64 for float32.

    Hint: ``rng.normal(0.0, std, size=shape).astype(dtype)``.
    """
    raise NotImplementedError("init: implement lecun_normal in exercises/init.py")


def xavier_uniform(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: npt.DTypeLike = np.float32
) -> np.ndarray:
    """Xavier (Glorot) uniform: ``W ~ U(-a, a)`` with ``a = sqrt(6 / (fan_in + fan_out))``.

    Its variance is ``a**2 / 3 = 2 / (fan_in + fan_out)``: the harmonic compromise between
    ``1 / fan_in`` (forward) and ``1 / fan_out`` (backward). Every value lies in ``[-a, a]``.

    Returns an array of ``shape`` and ``dtype``, drawn from ``rng``.

    Usual mistakes: ``a = sqrt(2 / (fan_in + fan_out))`` (that is the standard deviation, not
    the bound: the variance comes out three times too small); ``U(0, a)`` (not zero-mean);
    ``sqrt(6 / fan_in)``.

    Hint: ``rng.uniform(-a, a, size=shape)``.
    """
    raise NotImplementedError("init: implement xavier_uniform in exercises/init.py")


def xavier_normal(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: npt.DTypeLike = np.float32
) -> np.ndarray:
    """Xavier (Glorot) normal: ``W ~ N(0, std**2)`` with ``std = sqrt(2 / (fan_in + fan_out))``.

    The same variance as :func:`xavier_uniform`, from a normal distribution.

    Returns an array of ``shape`` and ``dtype``, drawn from ``rng``.

    Usual mistakes: ``sqrt(1 / (fan_in + fan_out))`` (the 2 is the average of the two fans:
    ``1 / ((fan_in + fan_out) / 2)``); passing the variance as numpy's ``scale``.
    """
    raise NotImplementedError("init: implement xavier_normal in exercises/init.py")


def he_normal(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: npt.DTypeLike = np.float32
) -> np.ndarray:
    """He (Kaiming) normal: ``W ~ N(0, std**2)`` with ``std = sqrt(2 / fan_in)``.

    For layers followed by ReLU: ReLU keeps half of the second moment, the factor 2 restores it.

    Returns an array of ``shape`` and ``dtype``, drawn from ``rng``.

    Usual mistakes: ``sqrt(1 / fan_in)`` (that is LeCun: activations shrink by half a
    variance per ReLU layer); ``sqrt(2 / fan_out)``; forgetting the receptive field of a
    convolution in ``fans`` (the weights come out ``sqrt(kh * kw)`` times too large).
    """
    raise NotImplementedError("init: implement he_normal in exercises/init.py")
