"""The generator (kata/generate.py) on small fake trees: stubs, refusals, the learner's files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kata.curriculum import Exercise
from kata.generate import (
    README_END,
    README_START,
    GenerationError,
    differences,
    plan,
    read_exercise_module,
    stub_source,
    write,
    write_stubs,
)

CURRICULUM = (
    Exercise("affine", "An affine map", "shapes", ("Affine", "double")),
    Exercise("halve", "Halving", "shapes", ("halve",)),
    Exercise("square", "Squares", "squares", ("square",)),
)

SHAPES = '''\
"""A fake exercise module: two exercises, nested classes, a region inside an ``if``."""


class Affine:
    """Compute ``a * x + b``."""

    def __init__(self, a: float, b: float) -> None:
        self.a, self.b = a, b

    def forward(self, x: float) -> float:
        """The output ``a * x + b``."""
        # BEGIN SOLUTION
        return self.a * x + self.b
        # END SOLUTION

    class Inner:
        def method(self) -> int:
            """A method of a nested class."""
            # BEGIN SOLUTION
            return 1
            # END SOLUTION


def double(x: float) -> float:
    """Return ``2 * x``. The text ``# BEGIN SOLUTION`` in a docstring is not a marker."""
    # BEGIN SOLUTION
    return 2 * x
    # END SOLUTION


def halve(x: float) -> float:
    """Return half of ``x``."""
    if x:
        # BEGIN SOLUTION
        return x / 2
        # END SOLUTION
    return 0.0
'''

SQUARES = '''\
def square(x: float) -> float:
    """Return ``x * x``."""
    # BEGIN SOLUTION
    return x * x
    # END SOLUTION
'''

README = f"# Kata\n\nIntro.\n\n{README_START}\nold table\n{README_END}\n\n## After\n"


def make_tree(root: Path, **modules: str) -> Path:
    """A fake repository: reference/<module>.py for each keyword, and a README."""
    (root / "reference").mkdir(parents=True)
    for module, source in {"shapes": SHAPES, "squares": SQUARES, **modules}.items():
        (root / "reference" / f"{module}.py").write_text(source)
    (root / "README.md").write_text(README)
    return root


def stubbed(source: str, module: str = "shapes") -> str:
    filename = f"reference/{module}.py"
    return stub_source(read_exercise_module(source, module, CURRICULUM, filename))


def refusal(source: str, module: str = "shapes") -> str:
    with pytest.raises(GenerationError) as caught:
        stubbed(source, module)
    return str(caught.value)


def test_stub_replaces_each_region_at_its_indentation_naming_exercise_and_qualname():
    stub = stubbed(SHAPES)
    lines = stub.splitlines()
    assert (
        '        raise NotImplementedError("affine: implement Affine.forward in '
        'exercises/shapes.py")' in lines
    )
    assert (  # too long for one line: wrapped at the same indentation
        "            raise NotImplementedError(\n"
        '                "affine: implement Affine.Inner.method in exercises/shapes.py"\n'
        "            )\n"
    ) in stub
    assert (
        '        raise NotImplementedError("halve: implement halve in exercises/shapes.py")'
        in lines
    )
    assert "SOLUTION\n" not in stub.replace("``# BEGIN SOLUTION``", "")
    assert "return self.a * x + self.b" not in stub
    assert "    return 0.0" in lines, "code after a region is given to the learner"


def test_stub_starts_with_the_header_and_keeps_the_docstrings():
    stub = stubbed(SHAPES)
    assert stub.startswith(
        "# Generated from reference/shapes.py by `nox -s exercises`: this is your file, edit it.\n"
    )
    assert '"""The output ``a * x + b``."""' in stub


def test_stubbed_module_compiles_and_raises_not_implemented():
    namespace: dict[str, object] = {}
    exec(compile(stubbed(SHAPES), "exercises/shapes.py", "exec"), namespace)
    with pytest.raises(NotImplementedError, match=r"affine: implement double in exercises"):
        namespace["double"](1.0)
    with pytest.raises(NotImplementedError, match=r"implement Affine\.forward"):
        namespace["Affine"](1.0, 2.0).forward(3.0)
    assert namespace["halve"](0.0) == 0.0


def test_a_stub_too_long_for_one_line_is_wrapped_as_ruff_format_would():
    long_name = "a_name_long_enough_to_need_a_wrapped_stub"
    source = SQUARES.replace("def square", f"def {long_name}")
    curriculum = (Exercise("square", "Squares", "squares", (long_name,)),)
    module = read_exercise_module(source, "squares", curriculum, "reference/squares.py")
    stub = stub_source(module)
    assert all(len(line) <= 100 for line in stub.splitlines())
    assert "    raise NotImplementedError(\n" in stub
    compile(stub, "exercises/squares.py", "exec")


def test_refuses_a_nested_begin():
    source = SQUARES.replace("    return x * x\n", "    # BEGIN SOLUTION\n    return x * x\n")
    assert "reference/squares.py:4: # BEGIN SOLUTION inside the region opened at line 3" in (
        refusal(source, "squares")
    )


def test_refuses_an_end_without_begin():
    source = SQUARES.replace("    # BEGIN SOLUTION\n", "")
    assert "reference/squares.py:4: # END SOLUTION without a # BEGIN SOLUTION" in refusal(
        source, "squares"
    )


def test_refuses_an_unclosed_begin():
    source = SQUARES.replace("    # END SOLUTION\n", "")
    assert "reference/squares.py:3: # BEGIN SOLUTION is never closed" in refusal(source, "squares")


def test_refuses_a_region_at_the_top_level():
    source = SQUARES + "\n\n# BEGIN SOLUTION\nSQUARE = 2\n# END SOLUTION\n"
    message = refusal(source, "squares")
    assert "reference/squares.py:8:" in message
    assert "inside a function or method body" in message


def test_refuses_a_region_in_a_class_body_outside_any_method():
    source = "class Square:\n    # BEGIN SOLUTION\n    power = 2\n    # END SOLUTION\n"
    curriculum = (Exercise("square", "Squares", "squares", ("Square",)),)
    with pytest.raises(GenerationError, match=r"squares\.py:2: .* class Square, outside any"):
        read_exercise_module(source, "squares", curriculum, "reference/squares.py")


def test_refuses_an_end_indented_unlike_its_begin():
    source = SQUARES.replace("    # END SOLUTION", "        # END SOLUTION")
    assert "reference/squares.py:5: # END SOLUTION is indented" in refusal(source, "squares")


def test_refuses_a_malformed_marker():
    source = SQUARES.replace("# BEGIN SOLUTION", "# BEGIN SOLUTION: the easy part")
    assert "reference/squares.py:3: malformed solution marker" in refusal(source, "squares")


def test_refuses_a_module_of_the_curriculum_without_markers():
    source = "def square(x):\n    return x * x\n"
    message = refusal(source, "squares")
    assert "reference/squares.py: the curriculum lists this module (exercise square)" in message


def test_refuses_a_curriculum_name_without_a_region():
    source = SHAPES.replace(
        "    # BEGIN SOLUTION\n    return 2 * x\n    # END SOLUTION\n", "    return 2 * x\n"
    )
    message = refusal(source)
    assert "exercise 'affine' implements 'double'" in message
    assert "no # BEGIN SOLUTION region is inside a class or function named 'double'" in message


def test_refuses_a_region_that_belongs_to_no_exercise():
    source = (
        SQUARES + "\n\ndef cube(x):\n    # BEGIN SOLUTION\n    return x**3\n    # END SOLUTION\n"
    )
    message = refusal(source, "squares")
    assert "reference/squares.py:9: the region in cube belongs to no single exercise" in message


def test_refuses_a_missing_reference_file_and_reports_every_problem_at_once(tmp_path):
    root = make_tree(tmp_path, squares="def square(x):\n    return x * x\n")
    (root / "reference" / "shapes.py").unlink()
    with pytest.raises(GenerationError) as caught:
        plan(root, CURRICULUM)
    problems = caught.value.problems
    assert any(p.startswith("reference/shapes.py: listed in the curriculum") for p in problems)
    assert any(p.startswith("reference/squares.py: the curriculum lists") for p in problems)
    assert not (root / "exercises").exists(), "nothing is written when anything is refused"


def test_write_generates_exercises_solutions_and_the_readme_table(tmp_path):
    root = make_tree(tmp_path)
    outcome = write(root, plan(root, CURRICULUM))
    assert not outcome.kept
    assert (root / "exercises" / "__init__.py").is_file()
    assert (root / "exercises" / "shapes.py").read_text() == stubbed(SHAPES)
    assert (root / "exercises" / ".generated.json").is_file()
    assert {p.name for p in (root / "solutions").iterdir()} == {
        "README.md",
        "shapes.md",
        "squares.md",
    }
    readme = (root / "README.md").read_text()
    assert readme.startswith("# Kata\n\nIntro.\n\n") and readme.endswith("\n\n## After\n")
    assert "old table" not in readme
    assert "| 2 | `halve` | Halving | `exercises/shapes.py` | `halve` |" in readme
    assert differences(root, plan(root, CURRICULUM)) == []
    assert not list(root.rglob("*.tmp")), "atomic writes leave no temporary file"


def test_solutions_page_holds_statements_and_the_code_of_each_region(tmp_path):
    root = make_tree(tmp_path)
    write(root, plan(root, CURRICULUM))
    page = (root / "solutions" / "shapes.md").read_text()
    assert "## 1. An affine map (`affine`)" in page and "## 2. Halving (`halve`)" in page
    assert "Compute ``a * x + b``." in page
    assert "#### `Affine.forward`" in page
    assert "The output ``a * x + b``." in page
    assert "```python\nreturn self.a * x + self.b\n```" in page
    assert "#### `Affine.Inner.method`" in page
    assert "```python\nreturn x / 2\n```" in page
    index = (root / "solutions" / "README.md").read_text()
    assert index.index("`affine`") < index.index("`halve`") < index.index("`square`")


def test_regenerating_never_overwrites_a_file_the_learner_changed(tmp_path):
    root = make_tree(tmp_path)
    write(root, plan(root, CURRICULUM))
    mine = root / "exercises" / "squares.py"
    mine.write_text("def square(x):\n    return x**2  # my solution\n")
    (root / "reference" / "squares.py").write_text(SQUARES.replace("x * x", "x**2"))
    outcome = write(root, plan(root, CURRICULUM))
    assert outcome.kept == ["exercises/squares.py"]
    assert mine.read_text() == "def square(x):\n    return x**2  # my solution\n"
    again = write(root, plan(root, CURRICULUM))
    assert again.kept == ["exercises/squares.py"], "the record still says it is the learner's"
    assert "exercises/squares.py: the file differs" in "\n".join(
        differences(root, plan(root, CURRICULUM))
    )


def test_force_overwrites_a_changed_file(tmp_path):
    root = make_tree(tmp_path)
    write(root, plan(root, CURRICULUM))
    mine = root / "exercises" / "squares.py"
    mine.write_text("my work\n")
    outcome = write(root, plan(root, CURRICULUM), force=True)
    assert outcome.kept == [] and "exercises/squares.py" in outcome.written
    assert mine.read_text() == stubbed(SQUARES, "squares")
    assert differences(root, plan(root, CURRICULUM)) == []


def test_an_unchanged_stub_follows_the_reference(tmp_path):
    root = make_tree(tmp_path)
    write(root, plan(root, CURRICULUM))
    changed = SQUARES.replace('"""Return ``x * x``."""', '"""Return the square ``x * x``."""')
    (root / "reference" / "squares.py").write_text(changed)
    outcome = write(root, plan(root, CURRICULUM))
    assert "exercises/squares.py" in outcome.written and not outcome.kept
    assert "Return the square" in (root / "exercises" / "squares.py").read_text()


def test_check_lists_every_stale_generated_file(tmp_path):
    root = make_tree(tmp_path)
    write(root, plan(root, CURRICULUM))
    (root / "solutions" / "squares.md").write_text("edited by hand\n")
    (root / "solutions" / "networks.md").write_text("written by hand: not generated\n")
    (root / "exercises" / "__init__.py").unlink()
    readme = (root / "README.md").read_text()
    (root / "README.md").write_text(readme.replace("Halving", "Halves"))
    problems = differences(root, plan(root, CURRICULUM))
    assert problems == [
        "exercises/__init__.py: missing",
        "solutions/squares.md: the file differs from what the generator writes",
        "README.md: the curriculum table differs from what the generator writes",
    ]


def test_readme_without_markers_is_refused(tmp_path):
    root = make_tree(tmp_path)
    (root / "README.md").write_text("# Kata\n")
    with pytest.raises(GenerationError, match=r"README\.md: needs exactly one"):
        plan(root, CURRICULUM)


def test_stubs_to_writes_pristine_stubs_only(tmp_path):
    root = make_tree(tmp_path / "repo")
    write_stubs(tmp_path / "out", CURRICULUM, root)
    written = sorted(p.name for p in (tmp_path / "out" / "exercises").iterdir())
    assert written == ["__init__.py", "shapes.py", "squares.py"]
    assert not (root / "exercises").exists()
    body = (tmp_path / "out" / "exercises" / "squares.py").read_text()
    assert body.endswith(
        textwrap.dedent(
            '''\
            def square(x: float) -> float:
                """Return ``x * x``."""
                raise NotImplementedError("square: implement square in exercises/squares.py")
            '''
        )
    )


HELPED = '''\
def square(x: float) -> float:
    """Return the square of ``x``."""
    # BEGIN SOLUTION
    # HINT 1: what is x times itself?
    # HINT 2: the product of x with x,
    #   written once.
    # DERIVATION:
    #   The square is $x^2$,
    #
    #   a product.
    # MISTAKES:
    #   - `x + x`: the grader says "twice".
    # STATED: x * x
    # a comment that stays with the code
    return x * x
    # END SOLUTION
'''


def helped_module(source: str = HELPED):
    curriculum = (Exercise("square", "Squares", "squares", ("square",)),)
    return read_exercise_module(source, "squares", curriculum, "reference/squares.py")


def test_help_blocks_are_parsed_and_kept_out_of_the_code():
    [region] = helped_module().regions
    assert region.help.hints == (
        (1, "what is x times itself?"),
        (2, "the product of x with x, written once."),
    )
    assert region.help.derivation == "The square is $x^2$,\n\na product."
    assert region.help.mistakes == '- `x + x`: the grader says "twice".'
    assert region.help.stated == ("x * x",)
    assert region.shown_code == "# a comment that stays with the code\nreturn x * x\n"


def test_help_blocks_never_reach_the_exercise_file():
    stub = stub_source(helped_module())
    for text in ("HINT", "DERIVATION", "MISTAKES", "STATED", "x^2", "times itself"):
        assert text not in stub


def test_solutions_page_derives_then_shows_the_code_then_the_mistakes_then_the_hints(tmp_path):
    root = make_tree(tmp_path, squares=HELPED)
    write(root, plan(root, CURRICULUM))
    page = (root / "solutions" / "squares.md").read_text()
    order = [
        "<summary>The statement of <code>square</code></summary>",
        "**Derivation.**\n\nThe square is $x^2$,\n\na product.",
        "**Code.**\n\n```python\n# a comment that stays with the code\nreturn x * x\n```",
        '**Usual mistakes.**\n\n- `x + x`: the grader says "twice".',
        "### Hints (`nox -s hint -- square`)",
        "**Level 1.**\n\n- `square`: what is x times itself?",
        "**Level 2.**\n\n- `square`: the product of x with x, written once.",
    ]
    positions = [page.index(text) for text in order]
    assert positions == sorted(positions)
    assert "# HINT" not in page and "# STATED" not in page


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("# HINT 5: too far", "reference/squares.py:4: malformed hint '# HINT 5: too far'"),
        ("# HINT: no level", "reference/squares.py:4: malformed hint"),
        ("# HINT 1: again", "reference/squares.py:5: a second HINT 1 in this region"),
        ("# DERIVATION:\n    #   again", "reference/squares.py:9: a second DERIVATION block"),
        ("# STATED: x *", "reference/squares.py:4: '# STATED:' must be followed by a Python"),
        ("# MISTAKES without colon", "reference/squares.py:4: write '# MISTAKES:'"),
    ],
)
def test_refuses_malformed_help_blocks(line, message):
    source = HELPED.replace("    # HINT 1:", f"    {line}\n    # HINT 1:", 1)
    with pytest.raises(GenerationError) as caught:
        helped_module(source)
    assert [problem for problem in caught.value.problems if message in problem] == (
        caught.value.problems
    ), "one problem, the one named"


def test_refuses_given_code_after_a_region_in_the_same_body():
    source = SQUARES.replace("    # END SOLUTION\n", "    # END SOLUTION\n    print(x)\n")
    source = source.replace("    return x * x\n", "    y = x * x\n")
    message = refusal(source, "squares")
    assert "reference/squares.py:6: given code after the # END SOLUTION of line 5 in square" in (
        message
    )
    assert "move it before the # BEGIN SOLUTION of line 3, or into the region" in message


def test_code_after_the_block_that_holds_a_region_is_given():
    source = (
        "def square(x: float) -> float:\n"
        "    try:\n"
        "        # BEGIN SOLUTION\n"
        "        y = x * x\n"
        "        # END SOLUTION\n"
        "    except ValueError:\n"
        "        y = 0.0\n"
        "    return y\n"
    )
    assert "raise NotImplementedError" in stubbed(source, "squares")


def test_refuses_a_hint_outside_any_region():
    source = SQUARES.replace(
        "    # BEGIN SOLUTION\n", "    # HINT 1: a nudge\n    # BEGIN SOLUTION\n"
    )
    message = refusal(source, "squares")
    assert "reference/squares.py:3: '# HINT 1' outside a solution region" in message
