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
        # BEGIN SOLUTION
        # HINT 1: Start from the state: which array must survive from one call of step to the
        #   next, how many of them are there, and how does a call find the one of a parameter?
        # HINT 2: For one scalar with momentum mu and no decay, from v_0 = 0: v_1 = g_1 and
        #   p_1 = p_0 - lr g_1; v_2 = mu g_1 + g_2 and p_2 = p_1 - lr (mu g_1 + g_2). Nesterov
        #   adds mu v_t to g_t: p_1 = p_0 - lr (1 + mu) g_1. Check your step against these.
        # HINT 3: Every quantity of the equations has the shape and dtype of p, element by
        #   element: no product between arrays, no reduction. The velocity of a name is created
        #   once, zeros of p's shape and dtype; p must be changed through an in-place operation
        #   on the array itself (rebinding a name, local or in the dictionary, reaches no layer).
        # HINT 4: For each name: g is the gradient plus lambda times p (a new array: never add
        #   into grads[name]); the velocity of that name is multiplied by mu and g added to it;
        #   the update is the velocity, or g plus mu times the new velocity for Nesterov; p is
        #   decreased in place by lr times the update.
        # DERIVATION:
        #   SGD is not derived, it is defined: the exercise is to reproduce PyTorch's update
        #   exactly. For a parameter $p$ of any shape, all operations are elementwise, so every
        #   quantity below has the shape of $p$:
        #
        #   $$g_t = \nabla_t + \lambda\, p_{t-1}, \qquad v_t = \mu\, v_{t-1} + g_t, \qquad v_0 = 0$$
        #
        #   $$u_t = \begin{cases} g_t + \mu\, v_t & \text{Nesterov} \\ v_t & \text{otherwise}
        #   \end{cases}, \qquad p_t = p_{t-1} - \eta\, u_t$$
        #
        #   Unrolled, $v_t = \sum_{k \le t} \mu^{t-k} g_k$: with a constant gradient $g$ the
        #   step tends to $\eta\, g / (1 - \mu)$, which is why a learning rate must shrink when
        #   momentum is added. The state is one velocity per parameter name, of the shape and
        #   dtype of that parameter, created at its first step; $p$ is changed in place
        #   because the layer holds the same array.
        # MISTAKES:
        #   - A new array stored in the dictionary instead of an update in place: `SGD(lr=0.1).step
        #     replaced params['0.W'] by a new array: the layer that owns the original never sees the
        #     update`, then `likely mistake: a new array stored under params[name]: the step must
        #     change the existing array in place`.
        #   - The weight decay added into the caller's gradient (an in-place `+=` on `grads[name]`):
        #     `SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01).step mutated its gradient
        #     grads['W']`.
        #   - A velocity created anew at every step (so never kept): `SGD(lr=0.1, momentum=0.9):
        #     step 2 from w=1 with a constant gradient 1: params['w'] differs from the expected
        #     values ... worst element [0]: got 0.8, expected 0.71`, then `likely mistake: the
        #     velocity is not kept between steps (plain SGD)`.
        #   - Nesterov's update without the gradient term: `SGD(lr=0.1, momentum=0.9,
        #     nesterov=True): step 1 from w=1 with a constant gradient 1: ... got 0.91, expected
        #     0.81`, then `likely mistake: the Nesterov step differs from the statement's (which
        #     velocity, the new or the old, does it look ahead along? nox -s hint -- optim)`.
        # STATED: grads[name] + self.weight_decay * param
        # STATED: g + self.momentum * velocity if self.nesterov else velocity
        # STATED: self.lr * update
        # Each product goes into a scratch array kept by the optimizer (``out=``), so that a
        # step allocates nothing: the same arithmetic as the equations, in the same order.
        for name, param in params.items():
            g = grads[name]  # read, never written
            if self.weight_decay:  # g = grad + lambda p, in a scratch array
                g = np.multiply(param, self.weight_decay, out=self.work("g", name, param))
                g += grads[name]
            update = g  # plain SGD keeps no state
            if self.momentum:
                if name not in self.velocity:
                    self.velocity[name] = np.zeros_like(param)
                velocity = self.velocity[name]
                velocity *= self.momentum
                velocity += g
                update = velocity
                if self.nesterov:  # u = g + mu v
                    update = np.multiply(velocity, self.momentum, out=self.work("u", name, param))
                    update += g
            param -= np.multiply(update, self.lr, out=self.work("u", name, param))
        # END SOLUTION

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
        # BEGIN SOLUTION
        # HINT 1: Write down the first step of one scalar by hand: m_1, v_1, the two corrected
        #   moments, and how far p moves. Which of these depends on the size of the gradient?
        # HINT 2: At t = 1: m_1 = (1 - beta1) g, v_1 = (1 - beta2) g^2, so mhat_1 = g and
        #   vhat_1 = g^2: p moves by lr g / (|g| + eps), about lr sign(g). Without the
        #   corrections it moves (1 - beta1) / sqrt(1 - beta2) = 3.16 times that.
        # HINT 3: m, v, mhat and vhat all have the shape of p (elementwise); t is one integer per
        #   name, kept in self.steps and raised by one each time that name is stepped; m and v
        #   of a name are created once, zeros of p's shape and dtype, and updated in place so
        #   that they carry over to the next call; the corrected moments are new arrays.
        # HINT 4: For each name: count its step (t is 1 the first time the name is seen, one more
        #   at each later call); g is the gradient plus lambda times p; m becomes beta1 m plus
        #   (1 - beta1) g, v becomes beta2 v plus (1 - beta2) g squared; divide copies of them by
        #   1 - beta1^t and 1 - beta2^t; decrease p in place by lr times the corrected m over
        #   (the square root of the corrected v, plus eps).
        # DERIVATION:
        #   Like SGD, Adam is defined, not derived; the one thing to work out is why the bias
        #   corrections are there. Every quantity has the shape of $p$ (all operations are
        #   elementwise):
        #
        #   $$m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t = (1 - \beta_1) \sum_{k=1}^{t}
        #   \beta_1^{t-k} g_k$$
        #
        #   For a constant gradient $g$ the sum is geometric:
        #   $m_t = (1 - \beta_1^t)\, g$, too small by the factor $1 - \beta_1^t$ at the
        #   start. Hence $\hat m_t = m_t / (1 - \beta_1^t)$ and, the same way,
        #   $\hat v_t = v_t / (1 - \beta_2^t)$ with $v_t$ the running mean of $g_t^2$. Then
        #
        #   $$p_t = p_{t-1} - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}$$
        #
        #   and at $t = 1$, $\hat m_1 = g_1$, $\hat v_1 = g_1^2$: the first step is
        #   $\eta\, g_1 / (|g_1| + \epsilon) \approx \eta\, \mathrm{sign}(g_1)$ whatever the
        #   scale of the gradient, so $\eta$ is a step size. $t$ counts the steps *of the
        #   parameter*: the sums above run over its own gradients, so a parameter that joins the
        #   model after others have stepped starts at $t = 1$ (and its first step is again
        #   about $\eta$); within one call every parameter is stepped once.
        # MISTAKES:
        #   - No bias correction: `Adam(lr=0.01).step from w=1 with gradient [3.0, -0.02, 0.001,
        #     -50.0]: 1 - params['w'] (the step) differs from the expected values ... worst element
        #     [3]: got -0.0316228, expected -0.01`, then `likely mistake: no bias correction: the
        #     first step comes out (1 - beta1) / sqrt(1 - beta2) = 3.16 times too large` (one
        #     correction only: `m is bias-corrected but v is not`, or the reverse).
        #   - eps inside the square root: `... worst element [2]: got 0.00995037, expected
        #     0.0099999`, then `likely mistake: eps inside the square root: the statement adds it to
        #     the square root of v_hat`.
        #   - One count for all the parameters, raised once per parameter: `Adam(lr=0.1): one step
        #     from a = b = c = 0 with gradient 1 for each gave a=-0.1, b=-0.0744137, ...`, then
        #     `likely mistake: one step count shared by the parameters and raised for each of them:
        #     each parameter counts its own steps, one per call`.
        #   - One count per call, shared by every parameter (the Adam paper's t, not PyTorch's):
        #     `Adam(lr=0.01, weight_decay=0.01): 3 steps of W, then step({W, c}) with c new:
        #     params['c'] (PyTorch: about -lr at its first step) differs ... worst element [0]: got
        #     -0.00581128, expected -0.01`, then `likely mistake: one step count for the whole
        #     optimizer: c's first step was corrected as a fourth step`.
        #   - Moments created anew at every step: `Adam(lr=0.1): from w=0, a step with gradient 1
        #     then one with gradient -1: params['w'] differs from the expected values ... got
        #     -0.0255863, expected -0.0947368`, then `likely mistake: the second step does not
        #     follow the statement's equations: the moments of the first step are not carried into
        #     the second as they should be (nox -s hint -- optim)`.
        # STATED: grads[name] + self.weight_decay * param
        # STATED: self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        # STATED: 1 - self.beta1**t
        # STATED: 1 - self.beta2**t
        # STATED: (1 - self.beta1) * g
        # STATED: (1 - self.beta2) * g * g
        # As in SGD, every product goes into a scratch array kept by the optimizer (``out=``):
        # the arithmetic of the equations in their order, and nothing allocated per step.
        for name, param in params.items():
            t = self.steps[name] = self.steps.get(name, 0) + 1  # this parameter's steps
            m_correction = 1 - self.beta1**t
            v_correction = 1 - self.beta2**t
            g = grads[name]  # read, never written
            if self.weight_decay:  # g = grad + lambda p, in a scratch array
                g = np.multiply(param, self.weight_decay, out=self.work("g", name, param))
                g += grads[name]
            if name not in self.m:
                self.m[name] = np.zeros_like(param)
                self.v[name] = np.zeros_like(param)
            m, v = self.m[name], self.v[name]
            term = self.work("term", name, param)
            m *= self.beta1
            m += np.multiply(g, 1 - self.beta1, out=term)  # (1 - beta1) g
            v *= self.beta2
            term = np.multiply(g, 1 - self.beta2, out=term)
            v += np.multiply(term, g, out=term)  # (1 - beta2) g g
            denominator = np.divide(v, v_correction, out=self.work("den", name, param))  # v_hat
            np.sqrt(denominator, out=denominator)
            denominator += self.eps
            step = np.divide(m, m_correction, out=term)  # m_hat
            step *= self.lr
            step /= denominator
            param -= step  # lr m_hat / (sqrt(v_hat) + eps)
        # END SOLUTION

    def __repr__(self) -> str:
        return (
            f"Adam(lr={self.lr}, betas=({self.beta1}, {self.beta2}), eps={self.eps}, "
            f"weight_decay={self.weight_decay})"
        )
