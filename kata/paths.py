"""Where the kata lives: the one definition of the repository root the tooling works in."""

from __future__ import annotations

from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
"""The repository root: the folder holding ``reference/``, ``exercises/``, ``kata/``, ``tests/``."""
