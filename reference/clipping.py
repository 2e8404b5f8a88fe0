"""Exercise ``clipping``: gradient clipping by global norm and by value (PyTorch's semantics).

A rare batch can produce a gradient far larger than the others (a steep wall of the loss, an
exploding recurrence) and one step then throws the weights far away. Clipping bounds the step:
it runs *between* ``backward`` and the optimizer's ``step``, on the gradients the layers filled,
in place::

    model.backward(loss_fn.backward())
    clip_grad_norm(model.grads, max_norm=5.0)      # or clip_grad_value(model.grads, 1.0)
    optimizer.step(model.params, model.grads)

``model.grads`` of a ``Sequential`` is a dictionary built on every access, but its arrays are
the layers' own: scaling those arrays in place is what the optimizer then reads, while a new
array stored in the dictionary would be lost. The training loop of the kata need not change:
the given ``ClippedOptimizer`` wraps an optimizer so that its ``step`` clips first, and goes
where an optimizer goes (a ``Recipe``, ``train_epoch``). You write the two functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import numpy as np

from toolkit import checks


def clip_grad_norm(grads: Mapping[str, np.ndarray], max_norm: float) -> float:
    """Scale every gradient by one common factor so that their global L2 norm is at most max_norm.

    Definition (``torch.nn.utils.clip_grad_norm_`` with its defaults), over every element of
    every array of ``grads``::

        total_norm = sqrt( sum over names k, sum over elements i of grads[k][i]^2 )
        coef = max_norm / (total_norm + 1e-6)
        if coef < 1:  grads[k][i] <- coef * grads[k][i]   for every k and i
        return total_norm                                  (the norm *before* clipping)

    One norm for all the gradients together, not one per array: the direction of the whole
    update is kept, only its length shrinks. Below the threshold nothing changes (the
    coefficient is never allowed to grow a gradient). The 1e-6 keeps the division finite for
    all-zero gradients.

    Contract: the arrays of ``grads`` are modified *in place* (same objects, same dtypes,
    possibly non-contiguous views); the dictionary itself is not changed. Returns the total norm
    as a Python float. An empty ``grads`` has norm 0.

    What the grader checks: the norm and the clipped values against a brute-force computation
    (several arrays of several shapes, float32 and float64), that the arrays are the same
    objects and scaled in place, that nothing changes below the threshold, all-zero gradients,
    the returned norm, and that ``max_norm`` must be > 0.

    Args:
        grads: name -> gradient array, as ``model.grads`` gives them.
        max_norm: the largest global norm allowed (a number > 0).
    """
    max_norm = checks.positive("max_norm", max_norm)
    # BEGIN SOLUTION
    # HINT 1: Compute the one number everything depends on first: the total norm, over every
    #   array. Then decide whether to scale at all.
    # HINT 2: total_norm^2 is the sum, over the arrays, of each array's own sum of squares;
    #   coef = max_norm / (total_norm + 1e-6) multiplies every element when it is below 1.
    # HINT 3: Accumulate the squared sums as one float (in float64, so float32 arrays do not
    #   lose digits), take one square root; scale each array with an in-place multiplication
    #   so the layers' arrays see it.
    # HINT 4: Sum the squares of every element of every array, take the square root, form the
    #   coefficient; only when it is less than 1, multiply each array by it in place. Return
    #   the norm computed before the scaling, as a float.
    # DERIVATION:
    #   Stack every gradient into one long vector $g$ (all names, all elements). Its
    #   Euclidean norm is
    #
    #   $$\|g\|_2 = \sqrt{\sum_k \sum_i (g^{(k)}_i)^2},$$
    #
    #   one number whatever the shapes. With $c = \mathrm{max\_norm} / (\|g\|_2 + 10^{-6})$,
    #   clipping replaces $g$ by $c\, g$ when $c < 1$: the same direction, and
    #   $\|c\, g\|_2 = \mathrm{max\_norm} \cdot \|g\|_2 / (\|g\|_2 + 10^{-6}) \le
    #   \mathrm{max\_norm}$. When $c \ge 1$ the gradients are already short enough and stay
    #   as they are. The arrays are scaled in place because they are the layers' own.
    # MISTAKES:
    #   - One norm per array, each clipped on its own: `clip_grad_norm(grads, max_norm=0.1) on 3
    #     arrays of shapes [(3, 4), (4,), (2, 3, 2)] with a total norm of 13.36: grads['W'] differs
    #     from the expected values`, then `likely mistake: one norm over every array together (the
    #     global norm), not one per array`.
    #   - Scaling below the threshold too: `clip_grad_norm(grads, max_norm=100.0) with a total norm
    #     of 4.537 (below max_norm): grads['W'] differs from the expected values`, then `likely
    #     mistake: scale only when max_norm / (total_norm + 1e-6) < 1: clipping never makes a
    #     gradient longer`.
    #   - The norm after clipping returned: `clip_grad_norm(grads, max_norm=0.1) on 3 arrays ...
    #     with a total norm of 13.36 returned 0.1, expected the total norm 13.3586`, then `likely
    #     mistake: return the total norm computed before the clipping (PyTorch's convention)`.
    #   - New arrays stored in the dictionary: `... grads['W'] is no longer the array passed in`,
    #     then `likely mistake: change the arrays in place (the layers hold them); a new array
    #     stored in the dictionary, or bound to a local name, is never seen by the layer or the
    #     optimizer`.
    # STATED: max_norm / (total_norm + 1e-6)
    # STATED: coefficient < 1
    total_norm = float(
        np.sqrt(sum(np.sum(np.square(grad, dtype=np.float64)) for grad in grads.values()))
    )
    coefficient = max_norm / (total_norm + 1e-6)
    if coefficient < 1:
        for grad in grads.values():
            grad *= coefficient
    return total_norm
    # END SOLUTION


def clip_grad_value(grads: Mapping[str, np.ndarray], clip_value: float) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]``, in place.

    Definition (``torch.nn.utils.clip_grad_value_``)::

        grads[k][i] <- min(max(grads[k][i], -clip_value), clip_value)   for every k and i

    Each element on its own: unlike clipping by norm, this changes the direction of the update.

    Contract: in place, like ``clip_grad_norm`` (the same array objects, their dtypes kept);
    returns None.

    What the grader checks: the values against a brute-force clamp, in place, elements at and
    inside the bounds unchanged, float32, and that ``clip_value`` must be > 0.

    Args:
        grads: name -> gradient array.
        clip_value: the largest absolute value allowed (a number > 0).
    """
    clip_value = checks.positive("clip_value", clip_value)
    # BEGIN SOLUTION
    # HINT 1: Every element is treated alone: which elements change, and into what?
    # HINT 2: An element above clip_value becomes clip_value, one below -clip_value becomes
    #   -clip_value, and the others stay.
    # HINT 3: numpy clamps a whole array elementwise, and can write the result into the array
    #   it reads (an out= argument), which keeps the layers' arrays.
    # HINT 4: For each array, clamp it between minus clip_value and clip_value, writing into
    #   the array itself.
    # DERIVATION:
    #   $g^{(k)}_i \leftarrow \min(\max(g^{(k)}_i, -c), c)$, elementwise: the projection of
    #   each coordinate onto $[-c, c]$. In place, for the same reason as `clip_grad_norm`.
    # MISTAKES:
    #   - Clamping into a new array (bound to the loop's name or stored in the dictionary):
    #     `clip_grad_value(grads, clip_value=0.5) on 3 arrays of shapes [(3, 4), (4,), (2, 3, 2)]:
    #     grads['W'] differs from the expected values`, then `likely mistake: change the arrays in
    #     place (the layers hold them); ...`.
    for grad in grads.values():
        np.clip(grad, -clip_value, clip_value, out=grad)
    # END SOLUTION


class Optimizer(Protocol):
    """What ``ClippedOptimizer`` wraps: an optimizer of ``optim.py`` (``lr`` and ``step``)."""

    lr: float

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None: ...


class ClippedOptimizer:
    """An optimizer that clips the gradients by global norm, then steps the one it wraps (given).

    ``ClippedOptimizer(SGD(lr=0.1, momentum=0.9), max_norm=5.0)`` goes wherever an optimizer
    goes (``train_epoch``, a ``Recipe``): its ``step(params, grads)`` calls
    ``clip_grad_norm(grads, max_norm)``, keeps the norm before clipping in ``last_norm``, then
    calls the wrapped optimizer's ``step``. ``lr`` reads and sets the wrapped optimizer's, so a
    learning-rate decay still works.
    """

    def __init__(self, optimizer: Optimizer, max_norm: float) -> None:
        self.optimizer = optimizer
        self.max_norm = checks.positive("max_norm", max_norm)
        self.last_norm = 0.0

    @property
    def lr(self) -> float:
        return self.optimizer.lr

    @lr.setter
    def lr(self, value: float) -> None:
        self.optimizer.lr = value

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.last_norm = clip_grad_norm(grads, self.max_norm)
        self.optimizer.step(params, grads)

    def __repr__(self) -> str:
        return f"ClippedOptimizer({self.optimizer!r}, max_norm={self.max_norm})"
