"""The GitHub Classroom workflow (kata.classroom): current, and one step per exercise.

The committed ``classroom/autograding.yml`` must be what ``nox -s classroom`` writes from the
curriculum and pyproject.toml, so that a new exercise, its points or a new dependency cannot be
forgotten in it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from kata import classroom
from kata.curriculum import CURRICULUM, Exercise
from kata.gradescope import points, requirements

REPOSITORY = classroom.REPOSITORY


def the_workflow() -> dict:
    return classroom.workflow(CURRICULUM, requirements(REPOSITORY / "pyproject.toml"))


def test_the_committed_workflow_is_the_one_the_curriculum_gives():
    committed = (REPOSITORY / "classroom" / "autograding.yml").read_text(encoding="utf-8")
    assert committed == classroom.render(), "classroom/autograding.yml is stale: nox -s classroom"


def test_every_exercise_has_its_step_with_its_points_and_the_reporter_adds_them_all():
    steps = the_workflow()["jobs"]["run-autograding-tests"]["steps"]
    graded = {step["id"]: step for step in steps if step.get("uses") == classroom.COMMAND_GRADER}
    assert list(graded) == [classroom.step_id(item) for item in CURRICULUM]
    for item in CURRICULUM:
        step = graded[classroom.step_id(item)]["with"]
        assert step["max-score"] == points(item)
        assert f"python -m kata.grade {item.id} --strict" in step["command"]
        assert "--impl-dir ../submission" in step["command"]  # the student's exercises only
    reporter = steps[-1]
    assert reporter["uses"] == classroom.REPORTER
    assert reporter["with"]["runners"].split(",") == list(graded)
    for step_id in graded:
        assert reporter["env"][f"{step_id.upper()}_RESULTS"] == (
            f"${{{{ steps.{step_id}.outputs.result }}}}"
        )


def test_a_new_exercise_gets_a_step_of_its_own():
    extra = Exercise("dropout", "Inverted dropout", "dropout", ("Dropout",))
    steps = classroom.workflow([*CURRICULUM, extra], [])["jobs"]["run-autograding-tests"]["steps"]
    assert steps[-2]["id"] == "dropout"
    assert steps[-1]["with"]["runners"].endswith(",dropout")


def test_the_judge_is_installed_from_pyproject_toml():
    steps = the_workflow()["jobs"]["run-autograding-tests"]["steps"]
    install = next(step["run"] for step in steps if step["name"].startswith("Install"))
    for requirement in requirements(REPOSITORY / "pyproject.toml"):
        assert json.dumps(requirement) in install


@pytest.mark.parametrize(
    "value",
    [
        {"on": ["push"], "a": {"b": 1, "c": [{"d": "x: y", "e": []}, "yes"]}},
        {"run": 'echo "quoted" and ${{ env.X }}', "empty": {}, "n": 2.5, "t": True},
    ],
)
def test_the_yaml_writer_reads_back_as_the_same_data(value):
    yaml = pytest.importorskip("yaml")
    assert yaml.safe_load(classroom.to_yaml(value)) == value


def test_the_committed_file_parses_to_the_workflow():
    yaml = pytest.importorskip("yaml")
    text = (REPOSITORY / "classroom" / "autograding.yml").read_text(encoding="utf-8")
    assert yaml.safe_load(text) == the_workflow()


def test_the_student_copy_has_no_answers_and_its_judge_still_collects(tmp_path):
    copy = tmp_path / "class"
    written = classroom.student_copy(copy)
    assert "tests/conftest.py" in written and "noxfile.py" in written
    assert not (copy / "solutions").exists()
    answers = {path.name for path in (REPOSITORY / "reference").glob("*.py")}
    assert {path.name for path in (copy / "reference").glob("*.py")} == answers
    for path in (copy / "reference").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "SOLUTION" not in text, path
        assert text != (REPOSITORY / "reference" / path.name).read_text(encoding="utf-8")
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "tests", "--impl", "exercises", "--collect-only", "-q"],
        cwd=copy,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert collected.returncode == 0, collected.stdout + collected.stderr
    alias = "import reference.linear, exercises.linear; print(reference.linear is exercises.linear)"
    same = subprocess.run(
        [sys.executable, "-c", alias], cwd=copy, env=environment, capture_output=True, text=True
    )
    assert same.stdout.strip() == "True", same.stderr


def test_the_student_copy_never_writes_into_a_folder_that_holds_files(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="not an empty folder"):
        classroom.student_copy(tmp_path)
    assert [path.name for path in tmp_path.iterdir()] == ["keep.txt"]
