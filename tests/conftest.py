"""The judge's wiring: which implementation is under test, exercise marks, hypothesis profiles.

``pytest --impl reference`` (the default) judges the trusted library; ``pytest --impl exercises``
judges the learner's. ``--impl-dir DIR`` imports that package from DIR instead of the repository
(the project's own suite uses it to judge freshly generated stubs). ``--exercise ID`` keeps only
the tests of one exercise.

Tests reach the implementation through the ``impl`` fixture, never by importing it::

    pytestmark = pytest.mark.exercise("linear")

    def test_shape(impl):
        layer = impl.linear.Linear(3, 4)

A module that fails to import fails only the tests that ask for it, with a message naming the
file and the line.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, Phase, settings

from kata.curriculum import EXERCISE_IDS

REPOSITORY = Path(__file__).resolve().parent.parent
IMPLEMENTATIONS = ("reference", "exercises")

settings.register_profile(
    "dev", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=25
)
settings.register_profile(
    "ci",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    max_examples=25,
    derandomize=True,
    print_blob=True,
    # No "explain" phase: on a stub every example fails, and explaining each failure costs
    # seconds per test; the shrunk failing example is what a learner needs.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kata")
    group.addoption(
        "--impl",
        choices=IMPLEMENTATIONS,
        default="reference",
        help="the implementation under test (default: reference)",
    )
    group.addoption(
        "--impl-dir",
        default=None,
        help="import the --impl package from this directory instead of the repository",
    )
    group.addoption(
        "--exercise",
        action="append",
        default=[],
        choices=EXERCISE_IDS,
        help="keep only the tests of this exercise (repeatable)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "exercise(id): the test judges the exercise with this id")
    grading = os.environ.get("CI") or config.getoption("--impl") == "exercises"
    settings.load_profile("ci" if grading else "dev")
    _install_implementation(config.getoption("--impl"), config.getoption("--impl-dir"))


def _install_implementation(name: str, directory: str | None) -> None:
    """Make ``import <name>`` find the package in ``directory`` (or the repository)."""
    root = Path(directory).resolve() if directory else REPOSITORY
    init = root / name / "__init__.py"
    if not init.is_file():
        raise pytest.UsageError(f"--impl {name}: no package at {init}")
    if directory:
        for module_name in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[module_name]
        spec = importlib.util.spec_from_file_location(
            name, init, submodule_search_locations=[str(init.parent)]
        )
        assert spec is not None and spec.loader is not None
        package = importlib.util.module_from_spec(spec)
        sys.modules[name] = package
        spec.loader.exec_module(package)


def exercise_of(item: pytest.Item) -> str | None:
    """The exercise id a test is marked with, or None for the kata's own tests.

    Raises:
        pytest.UsageError: if the mark names no exercise of the curriculum.
    """
    mark = item.get_closest_marker("exercise")
    if mark is None:
        return None
    if len(mark.args) != 1 or mark.args[0] not in EXERCISE_IDS:
        raise pytest.UsageError(
            f"{item.nodeid}: exercise mark {mark.args!r} names no exercise of the "
            f"curriculum ({', '.join(EXERCISE_IDS)})"
        )
    return mark.args[0]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = set(config.getoption("--exercise"))
    judging_learner = config.getoption("--impl") != "reference"
    kept, dropped = [], []
    for item in items:
        exercise_id = exercise_of(item)
        if wanted and exercise_id not in wanted:
            dropped.append(item)
        elif judging_learner and exercise_id is None:
            dropped.append(item)  # the kata's own tests judge no implementation
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


class Implementation:
    """Attribute access imports a module of the implementation under test.

    ``impl.linear`` is ``exercises.linear`` or ``reference.linear``. An import that fails
    fails the calling test with the file and line of the error, not a traceback wall.
    """

    def __init__(self, package: str) -> None:
        self.package = package

    def __getattr__(self, module: str) -> ModuleType:
        qualified = f"{self.package}.{module}"
        if module.startswith("_") or importlib.util.find_spec(qualified) is None:
            # not a module of the package: dunders, and probes such as hypothesis' mock check
            raise AttributeError(f"{self.package} has no module {module!r}")
        try:
            return importlib.import_module(qualified)
        except Exception as error:  # any import failure is the learner's to see
            pytest.fail(_describe_import_error(qualified, error), pytrace=False)

    def __repr__(self) -> str:
        return f"Implementation({self.package!r})"


def _describe_import_error(qualified: str, error: Exception) -> str:
    if isinstance(error, SyntaxError):
        where = f"{error.filename}, line {error.lineno}"
    else:
        frames = traceback.extract_tb(error.__traceback__)
        own = [f for f in frames if "importlib" not in f.filename] or frames
        where = f"{own[-1].filename}, line {own[-1].lineno}" if own else "?"
    return (
        f"cannot import {qualified}: {type(error).__name__}: {error}\n"
        f"  at {where}\n"
        f"  Fix this error first: every test of this module fails until it imports."
    )


@pytest.fixture(scope="session")
def impl(request: pytest.FixtureRequest) -> Implementation:
    """The implementation under test (``--impl``): ``impl.<module>`` imports its modules."""
    return Implementation(request.config.getoption("--impl"))
