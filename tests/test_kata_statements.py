"""The statement check (issue 12.2): what a learner reads never hands over a solution expression.

Three places are read: each generated exercise file (docstrings, comments, given code), the
hints ``nox -s hint`` prints, and the messages the tests and the judge print when a check fails.
None may contain a non-trivial expression of a solution region (``x.T @ dout``, normalized for
spaces, ``self.`` and ``params[...]``) unless the region allows it with ``# STATED:`` because it
is the definition. Every exercise also has its four hint levels and every region a derivation.
The last tests plant a leak and check that the check fails, naming the exercise and expression.
"""

from __future__ import annotations

import ast
import functools

import pytest

from kata.curriculum import CURRICULUM, Exercise, exercise_modules
from kata.generate import (
    HINT_LEVELS,
    REPOSITORY,
    ExerciseModule,
    exercise_hints,
    find_leaks,
    read_exercise_module,
    read_reference,
    statement_leaks,
)

# Arguments that describe the call or the data, not what to type: they may name expressions.
DESCRIPTIVE_KEYWORDS = frozenset({"call", "what", "match", "ids", "reason"})
# Test files that hold solution code on purpose (planted mistakes, fake modules of the tooling).
TOOLING_TESTS = "test_kata_*.py"


@functools.cache
def _modules() -> dict[str, ExerciseModule]:
    return {module.module: module for module in read_reference(REPOSITORY, CURRICULUM)}


MODULES = exercise_modules(CURRICULUM)
MESSAGE_FILES = sorted(
    str(path.relative_to(REPOSITORY))
    for path in [*(REPOSITORY / "tests").glob("*.py"), REPOSITORY / "kata" / "judge.py"]
    if not path.match(TOOLING_TESTS)
)


def _fail(problems: list[str], what: str) -> None:
    if problems:
        pytest.fail(f"{what}:\n" + "\n".join(f"  {problem}" for problem in problems), pytrace=False)


@pytest.mark.parametrize("module", MODULES)
def test_no_solution_expression_in_the_exercise_file_or_the_hints(module):
    leaks = statement_leaks(_modules()[module])
    _fail([str(leak) for leak in leaks], f"reference/{module}.py leaks its solutions")


@pytest.mark.parametrize("exercise", CURRICULUM, ids=lambda exercise: exercise.id)
def test_every_exercise_has_its_four_hint_levels(exercise: Exercise):
    hints = exercise_hints(_modules()[exercise.module], exercise.id)
    _fail(
        [
            f"no '# HINT {level}:' in any of its regions"
            for level in HINT_LEVELS
            if not hints[level]
        ],
        f"reference/{exercise.module}.py: exercise {exercise.id} lacks hints",
    )


@pytest.mark.parametrize("module", MODULES)
def test_every_region_derives_before_it_shows_code(module):
    regions = _modules()[module].regions
    _fail(
        [
            f"line {region.begin}: {region.qualname}"
            for region in regions
            if not region.help.derivation
        ],
        f"reference/{module}.py: regions without a '# DERIVATION:' block",
    )


def message_strings(source: str, filename: str) -> list[tuple[str, str, int]]:
    """The strings a test file or the judge may print: ``(where, text, line)`` triples.

    Every string literal counts (an f-string with ``{}`` for what it formats) except
    docstrings and the values of descriptive keywords (``call=``, ``what=``, ``match=``).
    """
    tree = ast.parse(source, filename=filename)
    skipped: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            skipped.add(id(first.value))
        if isinstance(node, ast.keyword) and node.arg in DESCRIPTIVE_KEYWORDS:
            skipped.update(id(child) for child in ast.walk(node.value))
        if isinstance(node, ast.JoinedStr):
            skipped.update(id(child) for child in ast.walk(node) if child is not node)
    strings = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.JoinedStr):
            text = "".join(
                part.value if isinstance(part, ast.Constant) else "{}" for part in node.values
            )
        else:
            continue
        strings.append((filename, text, node.lineno))
    return strings


@pytest.mark.parametrize("filename", MESSAGE_FILES)
def test_no_solution_expression_in_the_messages_of_the_judge(filename):
    texts = message_strings((REPOSITORY / filename).read_text(encoding="utf-8"), filename)
    leaks = find_leaks(list(_modules().values()), texts)
    _fail([str(leak) for leak in leaks], f"{filename}: a failure message gives the answer away")


# ---------------------------------------------------------------------------------------------
# The check itself, on planted leaks

FAKE_CURRICULUM = (Exercise("affine", "An affine map", "fake", ("Affine",)),)

FAKE = '''\
class Affine:
    """out[n, j] = sum_i x[n, i] W[i, j] + b[j]. {statement}"""

    def backward(self, dout):
        """Set grads["W"], return dx."""
        # BEGIN SOLUTION
        # HINT 1: {hint}
        # STATED: {stated}
        self.grads["W"] = self.x.T @ dout
        return dout @ self.params["W"].T
        # END SOLUTION
'''


def fake(statement: str = "", hint: str = "write dL/dW[i, j] first", stated: str = "1 + 2"):
    source = FAKE.format(statement=statement, hint=hint, stated=stated)
    return read_exercise_module(source, "fake", FAKE_CURRICULUM, "reference/fake.py")


def test_a_clean_statement_passes():
    assert statement_leaks(fake()) == []


def test_a_leak_in_the_statement_fails_naming_the_exercise_and_the_expression():
    [leak] = statement_leaks(fake("Hint: grads['W'] = x.T @ dout."))
    assert (leak.exercise, leak.qualname, leak.expression) == (
        "affine",
        "Affine.backward",
        "x.T@dout",
    )
    assert str(leak).startswith("exercises/fake.py:4: the solution expression `x.T@dout`")
    assert "(exercise affine)" in str(leak)


def test_spaces_self_and_params_do_not_hide_a_leak():
    [leak] = statement_leaks(fake('dx = dout  @  self.params["W"].T'))
    assert leak.expression == "dout@W.T"


def test_a_longer_name_is_not_a_leak():
    assert statement_leaks(fake("see xx.T @ douts and dout @ W.Tx")) == []


def test_a_leak_in_a_hint_fails():
    [leak] = statement_leaks(fake(hint="it is dout @ W.T"))
    assert leak.where == "hint 1 of affine (Affine.backward)" and leak.expression == "dout@W.T"


def test_a_stated_expression_is_allowed():
    assert statement_leaks(fake("The contract: x.T @ dout.", stated="x.T @ dout")) == []


def test_a_leak_in_a_test_message_fails():
    source = (
        'def test_x():\n    """x.T @ dout in a docstring is fine."""\n    hint = "use x.T @ dout"\n'
    )
    [leak] = find_leaks([fake()], message_strings(source, "tests/test_fake.py"))
    assert leak.where == "tests/test_fake.py:3"


def test_descriptive_arguments_are_not_messages():
    source = 'check(call="Linear.backward(dout) with dout @ W.T known", hint="transpose")\n'
    assert find_leaks([fake()], message_strings(source, "tests/test_fake.py")) == []
