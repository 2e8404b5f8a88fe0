"""The judge's wiring lives in the kata's plugin, :mod:`kata.pytest_plugin`; this only loads it."""

pytest_plugins = ["kata.pytest_plugin"]
