# Generated from reference/optim.py by `nox -s exercises`: this is your file, edit it.
# Replace each `raise NotImplementedError(...)` with your code; `nox` grades it.
"""Exercise ``optim``: stochastic gradient descent (with momentum, Nesterov) and Adam.

An optimizer updates every parameter of a model from its gradient::

    optimizer.step(model.params, model.grads)

``params`` and ``grads`` are dictionaries ``name -> array`` with the same keys, shapes and
dtypes. ``step`` must change the arrays of ``params`` *in place*, because those very arrays
live inside the layers: a new array stored in the dictionary would leave the layer's weights
untouched. The gradients are read, never written.

An optimizer with memory (momentum's velocity, Adam's moments) keeps one state array per
parameter *name*, created at the first step as zeros of the parameter's shape and dtype, so
that the same optimizer can follow every parameter of a model from step to step.

The exercise is to reproduce PyTorch's ``torch.optim.SGD`` and ``torch.optim.Adam`` exactly:
their update equations, L2 weight decay included, are stated in each class below as the
definition. The constructors are given; you write each ``step``.
"""

from __future__ import annotations

import numpy as np

from toolkit import checks


class Optimizer:
    """Base class: the learning rate, and the check that every parameter has a gradient.

    Subclasses implement ``step(params, grads)``.

    Args:
        lr: the learning rate, a number > 0.
    """

    def __init__(self, lr: float) -> None:
        self.lr = checks.positive("lr", lr)
        self._work: dict[tuple[str, str], np.ndarray] = {}

    def work(self, purpose: str, name: str, like: np.ndarray) -> np.ndarray:
        """A scratch array of ``like``'s shape and dtype, the same one at every step.

        For updates written with ``out=`` (``np.multiply(a, b, out=optimizer.work(...))``), so
        that a step allocates nothing once the first step is done. ``purpose`` tells apart the
        arrays one parameter needs at the same time; the contents are left from the last use.
        """
        key = (purpose, name)
        buffer = self._work.get(key)
        if buffer is None or buffer.shape != like.shape or buffer.dtype != like.dtype:
            buffer = self._work[key] = np.empty_like(like)
        return buffer

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


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay.

    The update is PyTorch's ``torch.optim.SGD``. For each parameter ``p`` with gradient
    ``grad_t`` at step ``t = 1, 2, ...`` (``mu`` the momentum, ``lambda`` the weight decay)::

        g_t = grad_t + lambda * p_{t-1}             L2 weight decay, part of the gradient
        v_t = mu * v_{t-1} + g_t                    the velocity, v_0 = 0
        u_t = g_t + mu * v_t      if nesterov       (a look ahead along the new velocity)
        u_t = v_t                 otherwise         (mu = 0 gives u_t = g_t: plain SGD)
        p_t = p_{t-1} - lr * u_t

    Momentum is a running sum of the recent gradients that decays by ``mu`` at every step:
    directions that agree add up, oscillations cancel.

    The contract of ``step(params, grads)``:

    - it changes the arrays of ``params`` *in place*: those very arrays live inside the
      layers, so a new array stored in the dictionary never reaches the layer;
    - it reads ``grads`` and never writes into them;
    - the velocity is kept per parameter *name* in ``self.velocity`` (``name -> array``),
      created at the first step of that name with the shape and dtype of the parameter, so
      that one optimizer follows every parameter of a model from call to call;
    - dtypes do not change: float32 parameters (and their velocities) stay float32.

    The constructor and the first line of ``step`` are given: the constructor checks its
    arguments (``lr > 0``, ``0 <= momentum < 1``, ``nesterov`` only with ``momentum > 0``,
    ``weight_decay >= 0``; ``ValueError`` naming the argument otherwise) and ``step`` starts
    with :meth:`Optimizer.check_gradients`, so a bad call changes nothing.

    What the grader checks: steps worked out by hand (plain, momentum over three steps,
    Nesterov over two, weight decay), random trajectories of several steps against PyTorch's
    equations above (to 1e-9), that the parameter arrays are the same objects after a step
    and the gradients unchanged, float32 kept, and state that follows the names when the
    dictionaries list them in another order.

    Args:
        lr: the learning rate, > 0.
        momentum: the decay ``mu`` of the velocity, in [0, 1); 0 is plain SGD.
        nesterov: use Nesterov's momentum (needs ``momentum > 0``).
        weight_decay: the L2 penalty coefficient ``lambda``, >= 0.
    """

    def __init__(
        self,
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(lr)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        if nesterov and momentum == 0:
            raise ValueError("nesterov=True needs a momentum > 0, got momentum=0")
        checks.non_negative("weight_decay", weight_decay)
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.weight_decay = float(weight_decay)
        self.velocity: dict[str, np.ndarray] = {}  # name -> v, created at the first step

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """One SGD step: update every ``params[name]`` in place from ``grads[name]``."""
        self.check_gradients(params, grads)
        raise NotImplementedError("optim: implement SGD.step in exercises/optim.py")

    def __repr__(self) -> str:
        return (
            f"SGD(lr={self.lr}, momentum={self.momentum}, nesterov={self.nesterov}, "
            f"weight_decay={self.weight_decay})"
        )


class Adam(Optimizer):
    """Adam: momentum on the gradient, divided by a running estimate of its magnitude.

    The update is PyTorch's ``torch.optim.Adam``. With ``t`` the number of steps of the
    parameter so far, this one included (1 at its first step; PyTorch's ``state["step"]``: a
    parameter that joins the model later starts its own count at 1), for each parameter ``p``
    with gradient ``grad_t`` (``lambda`` the weight decay)::

        g_t     = grad_t + lambda * p_{t-1}                  L2 weight decay
        m_t     = beta1 * m_{t-1} + (1 - beta1) * g_t        first moment, m_0 = 0
        v_t     = beta2 * v_{t-1} + (1 - beta2) * g_t**2     second moment, v_0 = 0
        mhat_t  = m_t / (1 - beta1**t)                       bias corrections
        vhat_t  = v_t / (1 - beta2**t)
        p_t     = p_{t-1} - lr * mhat_t / (sqrt(vhat_t) + eps)

    (``g_t**2`` and ``sqrt`` are elementwise.) The moments start at zero, so early on they are
    biased towards zero; the corrections remove that bias exactly for a constant gradient.
    Work out what the first step does to a parameter whatever the scale of its gradient: that
    property is checked.

    The contract of ``step(params, grads)`` is :class:`SGD`'s: parameters changed in place,
    gradients only read, dtypes kept; the moments are kept per parameter name in ``self.m``
    and ``self.v`` (created at a name's first step with the parameter's shape and dtype), and
    its step count in ``self.steps`` (``name -> t``). The constructor (argument checks:
    ``betas`` a pair in [0, 1), ``eps > 0``, ``weight_decay >= 0``) and the first line of
    ``step`` are given.

    What the grader checks: the first step against the step sizes that the usual mistakes
    give, three steps of a constant gradient, a gradient that changes sign, weight decay, one
    step per call for every parameter, a parameter that joins after three steps (its first
    step moves it by about lr), random trajectories against
    PyTorch's equations (to 1e-8, with large ``eps`` too), in-place updates, unchanged
    gradients, float32 kept, state that follows the names.

    Args:
        lr: the step size, > 0.
        betas: the decays ``(beta1, beta2)`` of the two moments, each in [0, 1).
        eps: added to the denominator against division by zero, > 0.
        weight_decay: the L2 penalty coefficient ``lambda``, >= 0.
    """

    def __init__(
        self,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(lr)
        if len(betas) != 2 or not all(0 <= beta < 1 for beta in betas):
            raise ValueError(f"betas must be a pair of numbers in [0, 1), got {betas!r}")
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps!r}")
        checks.non_negative("weight_decay", weight_decay)
        self.beta1, self.beta2 = (float(beta) for beta in betas)
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self.steps: dict[str, int] = {}  # name -> t, the steps of that parameter so far
        self.m: dict[str, np.ndarray] = {}  # name -> first moment, created at the first step
        self.v: dict[str, np.ndarray] = {}  # name -> second moment

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """One Adam step: update every ``params[name]`` in place from ``grads[name]``."""
        self.check_gradients(params, grads)
        raise NotImplementedError("optim: implement Adam.step in exercises/optim.py")

    def __repr__(self) -> str:
        return (
            f"Adam(lr={self.lr}, betas=({self.beta1}, {self.beta2}), eps={self.eps}, "
            f"weight_decay={self.weight_decay})"
        )
