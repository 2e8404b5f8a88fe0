"""Planted mistakes of the autograd exercises: the grader must catch each and name it.

The harness is that of ``tests/test_kata_mutants.py`` (a copy of the reference with one
mistake planted, graded as a learner's ``exercises/``); the cases are the classic mistakes of
an autograd engine: recursion in the walk, gradients overwritten instead of accumulated,
gradients not reset between calls, the order walked forwards, broadcasting not summed back
(also where only the given compositions broadcast: a - b through the 0-d -1.0 of __neg__), the
batch mean left out of a loss's gradient.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_kata_mutants import Mutant, assert_graded_and_named

RECURSIVE_ORDER = """\
    def visit(value: NodeT) -> None:
        if id(value) in seen:
            return
        seen.add(id(value))
        for child in cast(Sequence[NodeT], value.children):
            visit(child)
        order.append(value)

    order: list[NodeT] = []
    seen: set[int] = set()
    visit(output)
    return order
"""

MUTANTS = (
    Mutant(
        "recursion in topological_order",
        "autograd",
        "    order: list[NodeT] = []\n    seen: set[int] = set()\n",
        RECURSIVE_ORDER + "    order = []\n    seen = set()\n",
        "RecursionError in topological_order",
    ),
    Mutant(
        "gradients overwritten instead of accumulated",
        "autograd",
        "child.grad += local * value.grad",
        "child.grad = local * value.grad",
        "gradients overwritten",
    ),
    Mutant(
        "gradients not reset at each backward",
        "autograd",
        "            value.grad = 0.0\n",
        "            pass\n",
        "each call must give the gradients of that call",
    ),
    Mutant(
        "backward walks the order forwards",
        "autograd",
        "for value in reversed(order):",
        "for value in order:",
        "every gradient is 0",
    ),
    Mutant(
        "topological order without the set of values seen",
        "autograd",
        "        if id(value) in seen:\n            continue\n",
        "",
        "every value must appear once",
    ),
    Mutant(
        "sigmoid that overflows for large negative inputs",
        "autograd",
        "        if self.data >= 0:\n            s = 1.0",
        "        if True:\n            s = 1.0",
        "the sigmoid overflows",
    ),
    Mutant(
        "ReLU with slope 1 at 0",
        "autograd",
        "positive = self.data > 0",
        "positive = self.data >= 0",
        "ReLU at 0",
    ),
    Mutant(
        "tensor addition without broadcasting summed back",
        "tensor_autograd",
        "(lambda g: unbroadcast(g, a_shape), lambda g: unbroadcast(g, b_shape))",
        "(lambda g: g, lambda g: g)",
        "broadcasting not summed back",
    ),
    Mutant(
        "unbroadcast sums only the leading axes",
        "tensor_autograd",
        "    if ones:\n        summed = summed.sum(axis=ones, keepdims=True)\n"
        "    return summed.reshape(shape)\n",
        "    return summed\n",
        "broadcasting not summed back",
    ),
    Mutant(
        "tensor gradients overwritten instead of accumulated",
        "tensor_autograd",
        "child.grad += vjp(tensor.grad)",
        "child.grad = vjp(tensor.grad)",
        "gradients overwritten",
    ),
    Mutant(
        "fused cross-entropy without the row maximum subtracted",
        "tensor_autograd",
        "        z = self.data - self.data.max(axis=1, keepdims=True)\n",
        "        z = self.data\n",
        "nan or inf where finite values were expected",
    ),
    Mutant(
        "sum along an axis without the axis put back",
        "tensor_autograd",
        "(lambda g: np.broadcast_to(np.expand_dims(g, kept), shape),)",
        "(lambda g: np.broadcast_to(g, shape),)",
        "a.sum(axis=",
    ),
    Mutant(
        "fused cross-entropy gradient not divided by the batch size",
        "tensor_autograd",
        "        slope /= n\n",
        "",
        "is the batch size N",
    ),
    Mutant(
        "tensor multiplication without broadcasting summed back, seen through a - b",
        "tensor_autograd",
        "(lambda g: unbroadcast(g * b, a.shape), lambda g: unbroadcast(g * a, b.shape))",
        "(lambda g: g * b, lambda g: g * a)",
        "a - b is given as a + (-b)",
    ),
)


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda mutant: mutant.name)
def test_grader_reports_planted_autograd_mistake(mutant: Mutant, tmp_path: Path) -> None:
    assert_graded_and_named(mutant, tmp_path)
