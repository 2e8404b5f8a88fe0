"""Exercise ``optim``: stochastic gradient descent (with momentum, Nesterov) and Adam.

An optimizer updates every parameter of a model from its gradient::

    optimizer.step(model.params, model.grads)

``params`` and ``grads`` are dictionaries ``name -> array`` with the same keys, shapes and
dtypes. ``step`` changes the arrays of ``params`` *in place* (``param -= ...``), because those
very arrays live inside the layers: ``params[name] = param - ...`` would put a new array in
the dictionary and leave the layer's weights untouched. The gradients are read, never written.

An optimizer with memory (momentum's velocity, Adam's moments) keeps one state array per
parameter *name*, created at the first step as zeros of the parameter's shape and dtype, so
that the same optimizer can follow every parameter of a model from step to step.

The formulas are PyTorch's (``torch.optim.SGD`` and ``torch.optim.Adam``), L2 weight decay
included: ``weight_decay * param`` is added to the gradient before anything else.
"""

from __future__ import annotations

import numpy as np


class Optimizer:
    """Base class: the learning rate, and the check that every parameter has a gradient.

    Subclasses implement ``step(params, grads)``.

    Args:
        lr: the learning rate, a number > 0.
    """

    def __init__(self, lr: float) -> None:
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr!r}")
        self.lr = float(lr)

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Update every array of ``params`` in place from the array of ``grads`` of that name."""
        raise NotImplementedError(f"{type(self).__name__}.step is not written")

    @staticmethod
    def check_gradients(params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Raise before anything is updated if a parameter has no gradient of its shape.

        Raises:
            KeyError: naming the parameters that ``grads`` lacks.
            ValueError: naming a parameter whose gradient has another shape.
        """
        missing = [name for name in params if name not in grads]
        if missing:
            raise KeyError(
                f"grads has no entry for the parameters {missing} (grads has {list(grads)}): "
                "call backward before step"
            )
        for name, param in params.items():
            if grads[name].shape != param.shape:
                raise ValueError(
                    f"grads[{name!r}] has shape {grads[name].shape}, "
                    f"params[{name!r}] has shape {param.shape}"
                )


def _check_weight_decay(weight_decay: float) -> None:
    if not weight_decay >= 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay.

    For each parameter ``p`` with gradient ``grad``, at every step::

        g = grad + weight_decay * p             # L2 weight decay, added to the gradient
        v = momentum * v + g                    # the velocity, zero before the first step
        update = g + momentum * v   if nesterov  (look ahead along the new velocity)
                 v                  otherwise    (plain SGD when momentum == 0: v == g)
        p -= lr * update                        # in place

    Momentum averages the gradients of the recent steps (a running sum decaying by
    ``momentum``): directions that agree add up, oscillations cancel. With a constant gradient
    the step grows towards ``lr * g / (1 - momentum)``.

    Validation, in the constructor: ``lr > 0`` (checked by :class:`Optimizer`),
    ``0 <= momentum < 1`` (at 1 the velocity never forgets), ``nesterov`` only with
    ``momentum > 0``, ``weight_decay >= 0``; otherwise ``ValueError`` naming the argument and
    the value received.

    ``step`` first calls :meth:`Optimizer.check_gradients` (a bad call changes nothing), then
    updates each parameter in place, keeping the velocity per parameter name in
    ``self.velocity``. The dtype of the parameters and of the velocity does not change
    (float32 stays float32).

    Usual mistakes: ``params[name] = p - lr * g`` (rebinds the dictionary entry: the layer
    keeps its old array); ``g += weight_decay * p`` with ``g = grads[name]`` (writes into the
    caller's gradient); one velocity shared by every parameter; Nesterov's update as
    ``momentum * v`` alone, without ``g``.

    Hint: create the velocity of a name on first use, ``np.zeros_like(param)``; update it in
    place (``v *= momentum; v += g``) or store the new array back under its name.

    Args:
        lr: the learning rate, > 0.
        momentum: the decay of the velocity, in [0, 1); 0 is plain SGD.
        nesterov: use Nesterov's momentum (needs ``momentum > 0``).
        weight_decay: the L2 penalty coefficient, >= 0.
    """

    def __init__(
        self,
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(lr)
        # BEGIN SOLUTION
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        if nesterov and momentum == 0:
            raise ValueError("nesterov=True needs a momentum > 0, got momentum=0")
        _check_weight_decay(weight_decay)
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.weight_decay = float(weight_decay)
        self.velocity: dict[str, np.ndarray] = {}
        # END SOLUTION

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        # BEGIN SOLUTION
        self.check_gradients(params, grads)
        for name, param in params.items():
            g = grads[name] + self.weight_decay * param
            if name not in self.velocity:
                self.velocity[name] = np.zeros_like(param)
            velocity = self.velocity[name]
            velocity *= self.momentum
            velocity += g
            update = g + self.momentum * velocity if self.nesterov else velocity
            param -= self.lr * update
        # END SOLUTION

    def __repr__(self) -> str:
        return (
            f"SGD(lr={self.lr}, momentum={self.momentum}, nesterov={self.nesterov}, "
            f"weight_decay={self.weight_decay})"
        )


class Adam(Optimizer):
    """Adam: momentum on the gradient, divided by a running estimate of its magnitude.

    With ``t`` the number of ``step`` calls so far (1 at the first step; one count per call,
    shared by every parameter), for each parameter ``p`` with gradient ``grad``::

        g = grad + weight_decay * p             # L2 weight decay, added to the gradient
        m = beta1 * m + (1 - beta1) * g         # first moment (mean), zero before step 1
        v = beta2 * v + (1 - beta2) * g**2      # second moment (uncentred variance)
        m_hat = m / (1 - beta1**t)              # bias corrections (see below)
        v_hat = v / (1 - beta2**t)
        p -= lr * m_hat / (sqrt(v_hat) + eps)   # in place

    Why the bias correction: ``m`` and ``v`` start at zero, so after ``t`` steps of a constant
    gradient ``m = (1 - beta1**t) g``: far too small at the start. Dividing by ``1 - beta1**t``
    removes that bias exactly. The first step therefore moves every parameter by about
    ``lr * sign(g)``, whatever the scale of its gradient: ``lr`` is the step size.

    Validation, in the constructor: ``lr > 0`` (checked by :class:`Optimizer`), ``betas`` a pair
    with each value in [0, 1), ``eps > 0``, ``weight_decay >= 0``; otherwise ``ValueError``
    naming the argument and the value received.

    ``step`` first calls :meth:`Optimizer.check_gradients` (a bad call changes nothing), counts
    the step in ``self.t``, then updates each parameter in place, keeping the moments per
    parameter name in ``self.m`` and ``self.v``. Dtypes do not change (float32 stays float32).

    Usual mistakes: no bias correction (the first step comes out ``(1 - beta1) /
    sqrt(1 - beta2)``, about 3.2 times too large); ``t`` counted per parameter instead of per
    call; ``eps`` inside the square root; ``p -= ...`` replaced by ``params[name] = ...``
    (rebinding: the layer keeps its old array); weight decay applied to ``p`` after the update
    (that is AdamW, another optimizer).

    Args:
        lr: the step size, > 0.
        betas: the decays ``(beta1, beta2)`` of the two moments, each in [0, 1).
        eps: added to the denominator against division by zero, > 0.
        weight_decay: the L2 penalty coefficient, >= 0.
    """

    def __init__(
        self,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(lr)
        # BEGIN SOLUTION
        if len(betas) != 2 or not all(0 <= beta < 1 for beta in betas):
            raise ValueError(f"betas must be a pair of numbers in [0, 1), got {betas!r}")
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps!r}")
        _check_weight_decay(weight_decay)
        self.beta1, self.beta2 = (float(beta) for beta in betas)
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self.t = 0
        self.m: dict[str, np.ndarray] = {}
        self.v: dict[str, np.ndarray] = {}
        # END SOLUTION

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        # BEGIN SOLUTION
        self.check_gradients(params, grads)
        self.t += 1
        m_correction = 1 - self.beta1**self.t
        v_correction = 1 - self.beta2**self.t
        for name, param in params.items():
            g = grads[name] + self.weight_decay * param
            if name not in self.m:
                self.m[name] = np.zeros_like(param)
                self.v[name] = np.zeros_like(param)
            m, v = self.m[name], self.v[name]
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            m_hat = m / m_correction
            v_hat = v / v_correction
            param -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        # END SOLUTION

    def __repr__(self) -> str:
        return (
            f"Adam(lr={self.lr}, betas=({self.beta1}, {self.beta2}), eps={self.eps}, "
            f"weight_decay={self.weight_decay})"
        )
