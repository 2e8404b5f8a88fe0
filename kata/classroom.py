"""GitHub Classroom: the autograding workflow, written from the curriculum so it cannot drift,
and the student copy of the kata (no answers) that a class starts from.

Run by ``nox -s classroom`` and ``nox -s student-copy``::

    python -m kata.classroom                      # (re)write classroom/autograding.yml
    python -m kata.classroom --check              # exit 1 when the committed file differs
    python -m kata.classroom --student-copy DIR   # the kata without its answers, into DIR

The workflow grades a student's repository with this kata as the judge: it checks out the
student's code, checks out the judge (the repository and ref named in its ``env``; the
instructor's own copy of the kata, private or public), installs the judge's dependencies (from
pyproject.toml, written in at generation), fetches MNIST once (cached between runs), then runs
one step per exercise, ``python -m kata.grade <id> --strict --impl-dir <student checkout>``,
worth the exercise's points. GitHub Classroom's reporter adds the steps up. The student's own
``tests/`` and ``kata/`` are never run: only their ``exercises/``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kata.curriculum import CURRICULUM, Exercise, exercise_modules
from kata.gradescope import points, requirements

REPOSITORY = Path(__file__).resolve().parent.parent
WORKFLOW = REPOSITORY / "classroom" / "autograding.yml"
COMMAND_GRADER = "classroom-resources/autograding-command-grader@v1"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"
COMPONENT_MINUTES = 10  # a step's time limit (the command grader's timeout is in minutes)
CAPSTONE_MINUTES = 40  # a capstone trains on MNIST
ANSWERS = ("solutions",)  # folders a student copy leaves out (reference/ becomes aliases)
# YAML 1.1 reads these words as booleans or null (GitHub's parser does: ``on``).
YAML_1_1_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}
HEADER = """\
# GitHub Classroom autograding for the numpy neural-network kata: one test per exercise.
# Written by `nox -s classroom` from kata/curriculum.py and pyproject.toml: do not edit it by
# hand, regenerate it. Copy it to .github/workflows/classroom.yml in the assignment's template
# repository, and set JUDGE_REPOSITORY and JUDGE_REF below (INSTRUCTORS.md).
"""


def step_id(item: Exercise) -> str:
    """The workflow step id of an exercise (the reporter reads ``<STEP-ID>_RESULTS``)."""
    return item.id.replace("_", "-")


def is_capstone(item: Exercise) -> bool:
    """A capstone trains a network (the curriculum marks it)."""
    return item.capstone


def grade_step(item: Exercise) -> dict[str, Any]:
    """The step that grades ``item``: passes (its points) when every one of its tests passes."""
    minutes = CAPSTONE_MINUTES if is_capstone(item) else COMPONENT_MINUTES
    command = f"cd judge && python -m kata.grade {item.id} --strict --impl-dir ../submission"
    return {
        "name": f"{item.id}: {item.title}",
        "id": step_id(item),
        "uses": COMMAND_GRADER,
        "with": {
            "test-name": f"{item.id}: {item.title}",
            "setup-command": "",
            "command": command,
            "timeout": minutes,
            "max-score": _number(points(item)),
        },
    }


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def workflow(curriculum: Sequence[Exercise], dependencies: Sequence[str]) -> dict[str, Any]:
    """The workflow as data: the setup steps, one grading step per exercise, the reporter."""
    install = "python -m pip install " + " ".join(json.dumps(item) for item in dependencies)
    setup = [
        {
            "name": "Check out the submission",
            "uses": "actions/checkout@v4",
            "with": {"path": "submission"},
        },
        {
            "name": "Check out the judge",
            "uses": "actions/checkout@v4",
            "with": {
                "repository": "${{ env.JUDGE_REPOSITORY }}",
                "ref": "${{ env.JUDGE_REF }}",
                "path": "judge",
                "token": "${{ secrets.JUDGE_TOKEN || github.token }}",
            },
        },
        {
            "name": "Set up Python",
            "uses": "actions/setup-python@v5",
            "with": {"python-version": "3.11"},
        },
        {"name": "Install the judge's dependencies", "run": install},
        {
            "name": "Cache MNIST",
            "uses": "actions/cache@v4",
            "with": {"path": "~/.cache/numpy-nn-kata", "key": "mnist-v1"},
        },
        {"name": "Fetch MNIST", "run": "cd judge && python -m toolkit.data"},
    ]
    steps = [grade_step(item) for item in curriculum]
    reporter = {
        "name": "Autograding Reporter",
        "uses": REPORTER,
        "env": {
            f"{step_id(item).upper()}_RESULTS": f"${{{{ steps.{step_id(item)}.outputs.result }}}}"
            for item in curriculum
        },
        "with": {"runners": ",".join(step_id(item) for item in curriculum)},
    }
    return {
        "name": "Autograding Tests",
        "on": ["push", "repository_dispatch"],
        "permissions": {"checks": "write", "actions": "read", "contents": "read"},
        "env": {
            "JUDGE_REPOSITORY": "your-organization/numpy-nn-kata",
            "JUDGE_REF": "main",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
        },
        "jobs": {
            "run-autograding-tests": {
                "runs-on": "ubuntu-latest",
                "if": "github.actor != 'github-classroom[bot]'",
                "steps": [*setup, *steps, reporter],
            }
        },
    }


def _key(key: str) -> str:
    """A mapping key, bare when YAML reads it back as that string, else double-quoted."""
    bare = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key) and key.lower() not in YAML_1_1_WORDS
    return key if bare else json.dumps(key)


def to_yaml(value: Any, indent: int = 0) -> str:
    """``value`` (dicts, lists, strings, numbers) as block YAML; every string value
    double-quoted (JSON's escapes are YAML's), so none is read as another type."""
    pad = " " * indent
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{_key(key)}:\n{to_yaml(item, indent + 2)}")
            else:
                lines.append(f"{pad}{_key(key)}: {_scalar(item)}")
        return "\n".join(lines)
    if isinstance(value, list):
        lines = []
        for item in value:
            if isinstance(item, (dict, list)) and item:
                block = to_yaml(item, indent + 2)
                lines.append(f"{pad}- {block.lstrip()}")
            else:
                lines.append(f"{pad}- {_scalar(item)}")
        return "\n".join(lines)
    return pad + _scalar(value)


def _scalar(value: Any) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, (int, float, str)):
        return json.dumps(value)
    if value == {} or value == []:
        return json.dumps(value)
    raise TypeError(f"no YAML for {type(value).__name__} {value!r}")


def render(root: Path = REPOSITORY, curriculum: Sequence[Exercise] = CURRICULUM) -> str:
    """The text of ``classroom/autograding.yml``."""
    dependencies = requirements(root / "pyproject.toml")
    return HEADER + to_yaml(workflow(curriculum, dependencies)) + "\n"


def tracked_files(root: Path) -> list[str]:
    """The files git tracks under ``root``, relative, in git's order.

    Raises:
        ValueError: if ``root`` is not a git checkout (the copy is made from what is committed,
            never from stray files).
    """
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        raise ValueError(f"the student copy is made from a git checkout; {root}: {error}") from None
    return [name for name in listed.decode().split("\0") if name]


REFERENCE_INIT = '''"""A student copy of the kata has no answers: each module here is your own.

``reference.<module>`` is ``exercises.<module>``: the given code and the judge import
``reference`` for the reference networks (the training command, the capstones' speed guard),
and here they get yours. The instructors' copy of the kata has the real one.
"""
'''

REFERENCE_ALIAS = '''"""A student copy has no answers: this is your own ``exercises.{module}``."""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("exercises.{module}")
'''


def student_copy(destination: Path, root: Path = REPOSITORY) -> list[str]:
    """Copy the committed kata to ``destination`` without its answers; return the files written.

    ``solutions/`` is left out, and each module of ``reference/`` stands for the learner's own
    module of ``exercises/`` (an alias: importing ``reference.linear`` gives
    ``exercises.linear``). So the copy holds no solution region, and still grades every
    exercise locally: the capstones' speed guard, which times the learner's network against
    the reference network, then times it against itself, and ``nox -s train`` trains the
    learner's networks. Everything else is copied as committed.

    Raises:
        ValueError: if ``destination`` exists and is not an empty folder, or ``root`` is not a
            git checkout.
    """
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise ValueError(f"student copy: {destination} exists and is not an empty folder")
    modules = set(exercise_modules(CURRICULUM))
    written = []
    for name in tracked_files(root):
        top, _, rest = name.partition("/")
        if top in ANSWERS or not (root / name).is_file():
            continue
        if top == "reference" and rest != "__init__.py" and rest.removesuffix(".py") not in modules:
            continue  # reference/ is its package file and its exercise modules, nothing else
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if rest == "__init__.py" and top == "reference":
            target.write_text(REFERENCE_INIT, encoding="utf-8")
        elif top == "reference":
            alias = REFERENCE_ALIAS.format(module=rest.removesuffix(".py"))
            target.write_text(alias, encoding="utf-8")
        else:
            shutil.copy2(root / name, target)
        written.append(name)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kata.classroom",
        description="Write the GitHub Classroom workflow from the curriculum.",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is not current")
    parser.add_argument(
        "--student-copy", type=Path, metavar="DIR", help="write the kata without its answers"
    )
    arguments = parser.parse_args(argv)
    if arguments.student_copy is not None:
        try:
            written = student_copy(arguments.student_copy)
        except ValueError as error:
            parser.error(str(error))
        print(
            f"wrote {len(written)} files to {arguments.student_copy}: no solutions/, and "
            "reference/ stands for the student's own exercises/ (INSTRUCTORS.md)"
        )
        return 0
    text = render()
    current = WORKFLOW.read_text(encoding="utf-8") if WORKFLOW.is_file() else None
    if arguments.check:
        if current != text:
            print(f"{WORKFLOW.relative_to(REPOSITORY)} is out of date: run nox -s classroom")
            return 1
        return 0
    WORKFLOW.parent.mkdir(exist_ok=True)
    WORKFLOW.write_text(text, encoding="utf-8")
    print(f"wrote {WORKFLOW.relative_to(REPOSITORY)}: {len(CURRICULUM)} graded steps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
