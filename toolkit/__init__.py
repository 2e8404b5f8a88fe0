"""The kata's given toolkit: what a learner's code uses and never writes.

The layer base class (``toolkit.layer``), the argument checks of every layer
(``toolkit.checks``), MNIST (``toolkit.data``), the trusted numerical
gradient (``toolkit.gradcheck``), and the training command with its progress bar, plots,
weights and file helpers (``toolkit.train``). Nothing here is an exercise, and nothing here is
a solution: ``reference/`` (the answers) and ``exercises/`` (your files) mirror each other module
for module, and both import this package.
"""
