# Generated from reference/init.py by `nox -s exercises`: this is your file, edit it.
# Replace each `raise NotImplementedError(...)` with your code; `nox` grades it.
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
    raise NotImplementedError("init: implement fans in exercises/init.py")


def lecun_normal(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: npt.DTypeLike = np.float32
) -> np.ndarray:
    """LeCun normal: ``W ~ N(0, 1 / fan_in)``, i.e. a variance of ``1 / fan_in``.

    This keeps ``Var(y)`` equal to ``E[x**2]`` in the module's formula.

    Returns an array of ``shape`` and ``dtype``, drawn from ``rng`` (and from nothing else).
    Check in numpy's documentation what the parameters of ``Generator.normal`` mean.
    """
    raise NotImplementedError("init: implement lecun_normal in exercises/init.py")


def xavier_uniform(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: npt.DTypeLike = np.float32
) -> np.ndarray:
    """Xavier (Glorot) uniform: ``W ~ U(-a, a)`` with the variance ``2 / (fan_in + fan_out)``.

    Derive the bound ``a`` from the variance of a uniform distribution on ``[-a, a]``. Every
    value lies in ``[-a, a]``; the distribution is centred on 0.

    Returns an array of ``shape`` and ``dtype``, drawn from ``rng``.
    """
    raise NotImplementedError("init: implement xavier_uniform in exercises/init.py")


def xavier_normal(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: npt.DTypeLike = np.float32
) -> np.ndarray:
    """Xavier (Glorot) normal: ``W ~ N(0, 2 / (fan_in + fan_out))`` (mean 0, that variance).

    The same variance as :func:`xavier_uniform`, from a normal distribution.

    Returns an array of ``shape`` and ``dtype``, drawn from ``rng``.
    """
    raise NotImplementedError("init: implement xavier_normal in exercises/init.py")


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
    raise NotImplementedError("init: implement he_normal in exercises/init.py")
