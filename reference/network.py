"""Exercise ``network``: ``Sequential``, a chain of layers that is itself a layer.

A network ``f = f_L o ... o f_2 o f_1`` runs its layers in order and, by the chain rule, its
backward pass runs their backward passes in the *reverse* order::

    forward:   x -> f_1 -> h_1 -> f_2 -> h_2 -> ... -> f_L -> out
    backward:  dx <- f_1.backward <- dh_1 <- f_2.backward <- ... <- f_L.backward <- dout

Each ``backward`` receives dL/d(its output) and returns dL/d(its input), which is dL/d(the
output of the layer before): no layer needs to know the others.

Because ``Sequential`` is a ``Layer``, everything that works on a layer works on a network
(an optimizer, a gradient check, a ``Sequential`` inside a ``Sequential``).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from toolkit.layer import Layer


class Sequential(Layer):
    """Layers applied one after the other: ``Sequential(l0, l1, l2)(x) == l2(l1(l0(x)))``.

    - ``forward(x)``: each layer's forward, in order; returns the last output. An empty
      ``Sequential()`` is the identity (it returns ``x``, and ``backward`` returns ``dout``).
    - ``backward(dout)``: each layer's backward, in reverse order; returns dL/dx, which is
      None when the first layer computed none (its ``needs_input_grad`` is False: the given
      ``set_needs_input_grad`` below sets it, and the first backward is the last called).
    - ``params`` and ``grads``: one dictionary of every layer's arrays, each named
      ``"<index>.<name>"`` (``"0.W"``, ``"0.b"``, ``"2.W"``...). The values are *the same array
      objects* as the layers' (``net.params["0.W"] is net[0].params["W"]``), so an optimizer
      that updates ``net.params`` in place updates the layers. Build the dictionaries on every
      access: a layer's ``backward`` may put new arrays in its ``grads``.
    - ``train()`` / ``eval()``: set ``training`` on the network and call ``train()`` /
      ``eval()`` on every layer (every ``Layer`` has both methods and the ``training`` flag;
      calling the method, not setting the flag, also reaches the layers of a nested
      ``Sequential``); return the network (``net.eval()`` can be chained).
    - ``len(net)``, ``net[i]`` (the i-th layer), ``for layer in net``: like a list of layers.
    - Construction stores the layers, in order, in the list ``self.layers``, after checking
      that every argument is a ``Layer``; otherwise ``TypeError`` naming the position and the
      name of the type received, ``type(layer).__name__`` (``Sequential(Linear(3, 4), np.tanh)``:
      ``"layer 1 is a ufunc, not a Layer"``; passing the class ``ReLU`` instead of ``ReLU()``:
      ``"layer 1 is a type, not a Layer"``).

    ``params``, ``grads`` and ``training`` are read-only properties of every ``Layer``; this
    class overrides the first two, and its ``train()`` / ``eval()`` set the network's own flag
    with the base class's ``super().train()`` / ``super().eval()``.

    What the grader checks: the order of the forward and backward calls, dx through the whole
    chain and through a nested ``Sequential`` against central differences, the names and the
    identity of the arrays in ``params`` and ``grads`` (after an array is replaced, after every
    backward), ``train()`` and ``eval()`` reaching the layers of nested containers, the errors
    of the constructor.
    """

    def __init__(self, *layers: Layer) -> None:
        super().__init__()
        # BEGIN SOLUTION
        # DERIVATION:
        #   Nothing to derive: the constructor keeps the layers, in order, in a list, after
        #   checking that each argument is a `Layer` instance (a class, a numpy function or any
        #   other object is refused with its position and its type's name).
        for index, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(
                    f"Sequential: layer {index} is a {type(layer).__name__}, not a Layer "
                    f"(got {layer!r}; pass layer instances such as Linear(3, 4))"
                )
        self.layers: list[Layer] = list(layers)
        # END SOLUTION

    def forward(self, x: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION
        # HINT 1: Write the network as a composition h_k = f_k(h_{k-1}), h_0 = x, and ask
        #   what the backward of each layer needs to receive: dL/dh_k for which k?
        # HINT 2: Chain rule, one layer at a time: dL/dh_{k-1} = (dh_k/dh_{k-1})^T dL/dh_k, and
        #   f_k.backward(dL/dh_k) returns exactly dL/dh_{k-1}. Start from dL/dh_L = dout.
        # HINT 3: Each layer's output is the next one's input, and each backward's return value
        #   has the shape of that layer's input, which is the previous layer's output: one
        #   running array passes through the list, in one direction, then in the other.
        # HINT 4: forward passes x through the layers first to last and returns the last
        #   output; backward passes dout through the layers' backward last to first and
        #   returns what the first layer's backward returns. The empty network returns its
        #   argument in both directions.
        # DERIVATION:
        #   With $h_0 = x$ and $h_k = f_k(h_{k-1})$ for $k = 1 \dots L$, the output is $h_L$.
        #   By the chain rule, for any shapes,
        #
        #   $$\frac{\partial L}{\partial h_{k-1}} = \Big(\frac{\partial h_k}{\partial
        #   h_{k-1}}\Big)^{\!\top} \frac{\partial L}{\partial h_k}$$
        #
        #   which is what `f_k.backward` computes from $\partial L / \partial h_k$ (the
        #   shape of $h_k$) and returns (the shape of $h_{k-1}$). Starting from
        #   $\partial L / \partial h_L$ = `dout`, the gradients are known in the order
        #   $L, L-1, \dots, 1$: the backward calls run in the reverse order of the forward
        #   calls, and each layer's parameter gradients are set on the way, from the input it
        #   kept in its own forward.
        # MISTAKES:
        #   - Backward in the forward order: `Sequential(a, b, c).backward called the layers as
        #     [('backward', 'a'), ('backward', 'b'), ('backward', 'c')], expected c, b, a: the chain
        #     rule starts from the output, so the last layer's backward comes first`.
        #   - Forward in the reverse order: `Sequential(Shift(1), Double()).forward(x) with x = [[1,
        #     -2, 0.5]]: output differs from the expected values ... worst element [0, 0]: got 3,
        #     expected 4`, then `likely mistake: the layers ran in reverse order`.
        #   - Copies in `params` (`array.copy()`): the gradient check sees an output that ignores
        #     the network's arrays, `gradient check failed: grads['0.W'] of Sequential(Affine(3, 4),
        #     Tanh(), Affine(4, 2), Scale()) on x of shape (1, 3) ... likely mistake: the output
        #     does not change when the judge perturbs this tensor: forward must read it on every
        #     call (self.params[name], not a copy kept from the constructor)`.
        for layer in self.layers:
            x = layer.forward(x)
        return x
        # END SOLUTION

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        # BEGIN SOLUTION
        # DERIVATION:
        #   See forward: with $g_L$ = `dout` of the shape of $h_L$, each step
        #   $g_{k-1} = $ `f_k.backward`$(g_k)$ has the shape of $h_{k-1}$, for
        #   $k = L, L-1, \dots, 1$; the result $g_0 = \partial L / \partial x$ has the shape
        #   of $x$. When the network's input needs no gradient (it is the data), the first
        #   layer's backward, the last one called, returns None instead: nothing follows it,
        #   so the loop needs no special case (the `assert` only tells the type checker).
        grad: np.ndarray | None = dout
        for layer in reversed(self.layers):
            assert grad is not None, "only the first layer, whose backward runs last, skips dx"
            grad = layer.backward(grad)
        return grad
        # END SOLUTION

    def set_needs_input_grad(self, needed: bool) -> Sequential:
        """Set the network's flag and its first layer's (given): only the first layer receives
        the network's input, so only it can skip dL/dx; every later layer's input gradient
        is what the layers before it need. ``fit_epoch`` turns it off (the input is the data)."""
        super().set_needs_input_grad(needed)
        if self.layers:
            self.layers[0].set_needs_input_grad(needed)
        return self

    @property
    def params(self) -> dict[str, np.ndarray]:
        """Every layer's parameters, named ``"<index>.<name>"``: the layers' own arrays."""
        # BEGIN SOLUTION
        # DERIVATION:
        #   Nothing to derive: a new dictionary on every access, one entry per array of every
        #   layer, keyed `"<index>.<name>"` with the index counting every layer (those without
        #   parameters too), whose values are the layers' own arrays (the same objects).
        return {
            f"{index}.{name}": array
            for index, layer in enumerate(self.layers)
            for name, array in layer.params.items()
        }
        # END SOLUTION

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """Every layer's gradients, named ``"<index>.<name>"``: the layers' own arrays."""
        # BEGIN SOLUTION
        # DERIVATION:
        #   The same construction as `params`, over each layer's `grads`, rebuilt on every
        #   access because a layer's backward may store new arrays in its `grads`.
        return {
            f"{index}.{name}": array
            for index, layer in enumerate(self.layers)
            for name, array in layer.grads.items()
        }
        # END SOLUTION

    def train(self) -> Sequential:
        # BEGIN SOLUTION
        # HINT 1: A layer of the network may itself be a container: which call reaches the
        #   layers inside it, setting its flag or calling its method?
        # HINT 2: The network's flag and every layer's flag must be True after train(), False
        #   after eval(), at every depth.
        # HINT 3: Both methods return the network itself, so that net.eval() can be chained.
        # HINT 4: Set the network's own flag, call the same method on every layer of the list
        #   (a nested Sequential then does the same for its own layers), return the network.
        # DERIVATION:
        #   Nothing to derive: the mode is a property of every layer (dropout drops only in
        #   training), so the container sets its own flag and calls the method of each layer,
        #   which reaches nested containers by the same rule, and returns itself.
        # MISTAKES:
        #   - Only the network's own flag set: `after net.train(), training is [True, False, False,
        #     False, False, False] for [net, Affine, inner Sequential, Tanh, Scale, Double],
        #     expected all True`.
        #   - `self` not returned: `net.eval() returned None, expected the network itself`.
        super().train()
        for layer in self.layers:
            layer.train()
        return self
        # END SOLUTION

    def eval(self) -> Sequential:
        # BEGIN SOLUTION
        # DERIVATION:
        #   The mirror of `train`, with the flag False.
        super().eval()
        for layer in self.layers:
            layer.eval()
        return self
        # END SOLUTION

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, index: int) -> Layer:
        return self.layers[index]

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __repr__(self) -> str:
        inner = "".join(f"\n  ({index}) {layer!r}" for index, layer in enumerate(self.layers))
        return f"Sequential({inner}\n)" if self.layers else "Sequential()"
