# Generated from reference/network.py by `nox -s exercises`: this is your file, edit it.
# Replace each `raise NotImplementedError(...)` with your code; `nox` grades it.
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
        raise NotImplementedError("network: implement Sequential.__init__ in exercises/network.py")

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError("network: implement Sequential.forward in exercises/network.py")

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        raise NotImplementedError("network: implement Sequential.backward in exercises/network.py")

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
        raise NotImplementedError("network: implement Sequential.params in exercises/network.py")

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """Every layer's gradients, named ``"<index>.<name>"``: the layers' own arrays."""
        raise NotImplementedError("network: implement Sequential.grads in exercises/network.py")

    def train(self) -> Sequential:
        raise NotImplementedError("network: implement Sequential.train in exercises/network.py")

    def eval(self) -> Sequential:
        raise NotImplementedError("network: implement Sequential.eval in exercises/network.py")

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, index: int) -> Layer:
        return self.layers[index]

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __repr__(self) -> str:
        inner = "".join(f"\n  ({index}) {layer!r}" for index, layer in enumerate(self.layers))
        return f"Sequential({inner}\n)" if self.layers else "Sequential()"
