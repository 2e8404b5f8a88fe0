"""Copies are not solutions (``kata/copies.py``): an exercise file that borrows the answers of
``reference/`` is graded not done, with a message saying so."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from kata.copies import borrowed_answers, imports_of_the_answers
from kata.paths import REPOSITORY

ANSWERS = REPOSITORY / "reference"


def _module_from(path: Path, source: str) -> ModuleType:
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"learner_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "source",
    [
        "from reference.linear import Linear\n",
        "import reference.linear as answers\n",
        "import importlib\nLinear = importlib.import_module('reference.linear').Linear\n",
    ],
)
def test_imports_of_the_answers_are_found(source: str) -> None:
    assert imports_of_the_answers(source), source


def test_own_code_and_the_toolkit_are_not_copies(tmp_path: Path) -> None:
    source = (
        "from toolkit.layer import Layer\n\n"
        "class Linear(Layer):\n"
        "    '''The reference answer is not imported here.'''\n"
        "    def forward(self, x):\n        return x\n"
    )
    assert imports_of_the_answers(source) == []
    assert borrowed_answers(_module_from(tmp_path / "own.py", source), ANSWERS) is None


def test_a_subclass_of_the_answer_is_a_copy_even_without_an_import_line(tmp_path: Path) -> None:
    """The class is reached without naming the module in the source: only the files its code
    comes from tell."""
    import reference.linear

    module = _module_from(tmp_path / "sneaky.py", "class Linear:\n    pass\n")
    module.Linear = type("Linear", (reference.linear.Linear,), {})
    message = borrowed_answers(module, ANSWERS)
    assert message is not None and "Linear runs code of linear.py in reference/" in message


def test_a_re_exporting_exercise_file_is_graded_not_done(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "kata.generate", "--stubs-to", str(tmp_path)],
        cwd=REPOSITORY,
        check=True,
        capture_output=True,
    )
    (tmp_path / "exercises" / "linear.py").write_text("from reference.linear import Linear\n")
    shutil.copy(ANSWERS / "activations.py", tmp_path / "exercises" / "activations.py")
    result = subprocess.run(
        [sys.executable, "-m", "kata.grade", "linear", "activations", "--impl-dir", str(tmp_path)],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert "1 of 2 exercises done" in result.stdout, result.stdout
    assert "uses the answers in reference/" in result.stdout, result.stdout
    assert "A copy of the reference is not a solution" in result.stdout, result.stdout
