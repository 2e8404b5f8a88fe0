"""The Gradescope autograder (kata.gradescope): the zip, the conversion, and a run end to end.

The end-to-end tests unpack the zip into a temporary directory laid out like ``/autograder``
(``source/``, ``submission/``, ``results/``), run its ``run_autograder`` with this Python, and
check ``results/results.json`` against Gradescope's documented fields and the totals: a
submission that passes (the reference modules' text, copied), one that fails (the stubs), and a
hostile one. They grade two quick exercises only.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from kata import gradescope
from kata.curriculum import CURRICULUM

REPOSITORY = Path(__file__).resolve().parent.parent
QUICK = ("numerical_gradient", "linear")  # two exercises whose tests take seconds
QUICK_MODULES = ("numgrad", "linear")

RESULTS = {  # the grader's results file, as kata.grade --results writes it
    "schema": 1,
    "impl": "exercises",
    "done": 1,
    "total": 3,
    "score": 10.0,
    "max_score": 40.0,
    "exercises": [
        {
            "id": "linear",
            "title": "The affine layer",
            "module": "linear",
            "status": "done",
            "passed": 2,
            "failed": 0,
            "total": 2,
            "points": 10.0,
            "max_points": 10.0,
            "message": "",
            "tests": [
                {"name": "tests/test_linear.py::test_a", "outcome": "passed", "message": ""},
                {"name": "tests/test_linear.py::test_b", "outcome": "passed", "message": ""},
            ],
        },
        {
            "id": "pool",
            "title": "Max pooling",
            "module": "pool",
            "status": "failing",
            "passed": 1,
            "failed": 1,
            "total": 2,
            "points": 0.0,
            "max_points": 10.0,
            "message": "First failing check: tests/test_pool.py::test_b\n    dx is wrong",
            "tests": [
                {"name": "tests/test_pool.py::test_a", "outcome": "passed", "message": ""},
                {"name": "tests/test_pool.py::test_b", "outcome": "timeout", "message": "x"},
            ],
        },
        {
            "id": "lenet5",
            "title": "Capstone: LeNet-5",
            "module": "models",
            "status": "not started",
            "passed": 0,
            "failed": 1,
            "total": 1,
            "points": 0.0,
            "max_points": 20.0,
            "message": "NotImplementedError: lenet5",
            "tests": [{"name": "tests/test_models.py::test_lenet5", "outcome": "failed"}],
        },
    ],
}


def test_convert_gives_one_test_per_exercise_with_its_points_and_messages():
    document = gradescope.convert(RESULTS, execution_time=12.34)
    assert gradescope.validate(document) == []
    assert document["score"] == 10.0
    assert document["execution_time"] == 12.3
    assert document["output"] == "1 of 3 exercises done."
    tests = document["tests"]
    assert [test["name"] for test in tests] == [
        "linear: The affine layer",
        "pool: Max pooling",
        "lenet5: Capstone: LeNet-5",
    ]
    assert [(t["score"], t["max_score"], t["status"]) for t in tests] == [
        (10.0, 10.0, "passed"),
        (0.0, 10.0, "failed"),
        (0.0, 20.0, "failed"),
    ]
    assert [test["number"] for test in tests] == ["1", "2", "3"]
    assert "dx is wrong" in tests[1]["output"]
    assert "timeout  tests/test_pool.py::test_b" in tests[1]["output"]
    assert tests[1]["output"].startswith("First failing check: tests/test_pool.py::test_b")
    assert tests[0]["output"].startswith("done: 2 of 2 tests pass")  # no message: the count


def test_a_cached_capstone_passes_with_its_points():
    cached = {**RESULTS["exercises"][2], "status": "cached", "points": 20.0, "message": ""}
    document = gradescope.convert({**RESULTS, "exercises": [cached]})
    assert document["tests"][0]["status"] == "passed"
    assert document["score"] == document["tests"][0]["score"] == 20.0


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"grade": 3}, "unknown field 'grade'"),
        ({"score": "10"}, "score is str"),
        ({"visibility": "public"}, "visibility 'public'"),
        ({"tests": [{"name": "a", "score": 1, "status": "ok"}]}, "tests[0].status 'ok'"),
        ({"tests": [{"name": "a", "score": 1, "points": 1}]}, "tests[0]: unknown field 'points'"),
        ({"tests": [{"name": "a", "score": 1, "output_format": "pdf"}]}, "output_format 'pdf'"),
    ],
)
def test_validate_names_what_gradescope_would_not_accept(change, problem):
    document = {**gradescope.convert(RESULTS), **change}
    assert any(problem in line for line in gradescope.validate(document))


def test_validate_wants_a_score_somewhere():
    document = gradescope.convert(RESULTS)
    del document["score"]
    assert gradescope.validate(document) == []  # every test has its own score
    for test in document["tests"]:
        del test["score"]
    assert gradescope.validate(document) == [
        "no score: neither a top-level score nor one on every test"
    ]


def test_the_zip_holds_the_judge_and_the_stubs_but_no_solutions(tmp_path):
    output = tmp_path / "autograder.zip"
    names = gradescope.build(output)
    with zipfile.ZipFile(output) as archive:
        assert archive.namelist() == names
        for script in ("setup.sh", "run_autograder"):
            mode = archive.getinfo(script).external_attr >> 16
            assert mode & stat.S_IXUSR, f"{script} is not executable"
        requirements = archive.read("requirements.txt").decode().split()
        stub = archive.read("exercises/linear.py").decode()
    assert {"pyproject.toml", "kata/grade.py", "tests/conftest.py", "toolkit/layer.py"} <= set(
        names
    )
    assert "reference/linear.py" in names  # the capstones time the reference network
    assert not [name for name in names if name.startswith("solutions/")]
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    assert {f"exercises/{module}.py" for module in QUICK_MODULES} <= set(names)
    assert "raise NotImplementedError" in stub  # pristine stubs, whatever exercises/ holds
    assert any(line.startswith("pytest") for line in requirements)
    assert any(line.startswith("hypothesis") for line in requirements)
    assert gradescope.EXERCISES_FILE not in names  # every exercise is graded


def test_a_zip_for_some_exercises_lists_them_and_refuses_unknown_ones(tmp_path):
    names = gradescope.build(tmp_path / "part.zip", exercises=QUICK)
    assert gradescope.EXERCISES_FILE in names
    with zipfile.ZipFile(tmp_path / "part.zip") as archive:
        listed = archive.read(gradescope.EXERCISES_FILE).decode().split()
    assert listed == list(QUICK)
    with pytest.raises(ValueError, match="unknown exercise id 'nonesuch'"):
        gradescope.build(tmp_path / "bad.zip", exercises=["nonesuch"])


def autograder_layout(root: Path, submission: dict[str, str]) -> None:
    """``root`` laid out as /autograder with a small ``source`` and the ``submission`` files."""
    shutil.copytree(REPOSITORY / "exercises", root / "source" / "exercises")
    (root / "submission").mkdir()
    for name, text in submission.items():
        (root / "submission" / name).write_text(text)


def fake_command(script: str) -> gradescope.GradeCommand:
    """A grader that runs ``script`` with the arguments the real one gets."""

    def command(ids: Sequence[str], impl_dir: Path, results: Path) -> list[str]:
        return [sys.executable, "-c", script, str(impl_dir), str(results), *ids]

    return command


def test_run_grades_the_submission_over_fresh_stubs_and_writes_results_json(tmp_path):
    autograder_layout(tmp_path, {"linear.py": "# mine\n", "notes.py": "", "README.md": "hi"})
    script = textwrap.dedent(
        f"""
        import json, pathlib, sys
        impl, results = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
        document = json.loads({json.dumps(json.dumps(RESULTS))})
        document["exercises"][0]["message"] = (impl / "exercises" / "linear.py").read_text()
        document["exercises"][1]["message"] = (impl / "exercises" / "pool.py").read_text()[:40]
        results.write_text(json.dumps(document))
        """
    )
    document = gradescope.run(tmp_path, command=fake_command(script))
    written = json.loads((tmp_path / "results" / "results.json").read_text())
    assert written == document
    assert gradescope.validate(written) == []
    assert written["score"] == 10.0
    assert "# mine" in written["tests"][0]["output"]  # the submitted module was graded
    stub_start = (REPOSITORY / "exercises" / "pool.py").read_text()[:40]
    assert stub_start in written["tests"][1]["output"]  # the module not submitted: the stub
    assert "graded files: linear.py" in written["output"]
    assert "ignored (not an exercise module): notes.py" in written["output"]
    assert not list((tmp_path / "results").glob("*.tmp"))


def test_a_submission_in_an_exercises_folder_is_found(tmp_path):
    autograder_layout(tmp_path, {})
    (tmp_path / "submission" / "exercises").mkdir()
    (tmp_path / "submission" / "exercises" / "pool.py").write_text("# pool\n")
    modules, ignored = gradescope.submitted_modules(tmp_path / "submission")
    assert modules == {"pool": tmp_path / "submission" / "exercises" / "pool.py"}
    assert ignored == []


def test_a_grader_that_writes_no_results_still_gives_a_valid_results_json(tmp_path):
    autograder_layout(tmp_path, {"linear.py": ""})
    script = "import sys; print('the judge fell over'); sys.exit(3)"
    document = gradescope.run(tmp_path, command=fake_command(script))
    assert gradescope.validate(document) == []
    assert document["score"] == 0.0
    assert len(document["tests"]) == len(CURRICULUM)
    assert {test["status"] for test in document["tests"]} == {"failed"}
    assert [test["max_score"] for test in document["tests"]] == [
        gradescope.points(item) for item in CURRICULUM
    ]
    assert "exit status 3" in document["output"]
    assert "the judge fell over" in document["output"]


def test_a_grade_past_its_time_limit_is_stopped_and_reported(tmp_path):
    autograder_layout(tmp_path, {})
    script = "import threading; threading.Event().wait()"  # never returns; SIGINT ends it
    document = gradescope.run(tmp_path, command=fake_command(script), timeout=0.5)
    assert gradescope.validate(document) == []
    assert document["score"] == 0.0
    assert "stopped after the time limit of 0.5 s" in document["output"]
    assert document["output"].count("The grade was stopped after the time limit") == 1


def test_a_grade_that_ignores_the_interrupt_is_killed(tmp_path, monkeypatch):
    monkeypatch.setattr(gradescope, "STOP_GRACE_SECONDS", 0.5)
    autograder_layout(tmp_path, {})
    script = "import signal, threading; signal.signal(signal.SIGINT, signal.SIG_IGN); " + (
        "threading.Event().wait()"
    )
    document = gradescope.run(tmp_path, command=fake_command(script), timeout=0.5)
    assert gradescope.validate(document) == []
    assert "stopped after the time limit of 0.5 s" in document["output"]


# --- end to end: the zip's run_autograder, with the real grader -------------------------------


def grader_writes_results() -> bool:
    """Whether ``kata.grade`` has ``--results`` (the results file the conversion reads)."""
    completed = subprocess.run(
        [sys.executable, "-m", "kata.grade", "--help"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=False,
    )
    return "--results" in completed.stdout


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not grader_writes_results():
        pytest.skip("kata.grade has no --results yet (it comes with the grader's results file)")
    output = tmp_path_factory.mktemp("zip") / "autograder.zip"
    gradescope.build(output, exercises=QUICK)
    return output


def run_autograder(zip_path: Path, root: Path, submission: dict[str, str]) -> dict[str, Any]:
    """Unpack the zip as ``root/source``, run its run_autograder, return results.json."""
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    for name, text in submission.items():
        (root / "submission" / name).write_text(text)
    environment = {**os.environ, "KATA_PYTHON": sys.executable, "KATA_AUTOGRADER_ROOT": str(root)}
    environment.pop("PYTHONPATH", None)  # the zip's own kata, not this repository's
    completed = subprocess.run(
        ["bash", str(root / "source" / "run_autograder")],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    document: dict[str, Any] = json.loads((root / "results" / "results.json").read_text())
    assert gradescope.validate(document) == []
    assert [test["name"].split(":")[0] for test in document["tests"]] == list(QUICK)
    assert document["score"] == sum(test["score"] for test in document["tests"])
    return document


def reference_text(module: str) -> str:
    return (REPOSITORY / "reference" / f"{module}.py").read_text()


def test_end_to_end_a_passing_submission_gets_every_point(autograder_zip, tmp_path):
    submission = {f"{module}.py": reference_text(module) for module in QUICK_MODULES}
    document = run_autograder(autograder_zip, tmp_path, submission)
    assert [test["status"] for test in document["tests"]] == ["passed", "passed"]
    maximum = sum(test["max_score"] for test in document["tests"])
    assert maximum > 0
    assert document["score"] == maximum
    assert document["output"].startswith("2 of 2 exercises done.")


def test_end_to_end_the_stubs_get_no_point_and_say_what_to_implement(autograder_zip, tmp_path):
    stubs = {f"{m}.py": (REPOSITORY / "exercises" / f"{m}.py").read_text() for m in QUICK_MODULES}
    document = run_autograder(autograder_zip, tmp_path, stubs)
    assert document["score"] == 0.0
    assert [test["status"] for test in document["tests"]] == ["failed", "failed"]
    assert "implement Linear" in document["tests"][1]["output"]


HOSTILE = """\
import os
import pathlib

def _judge_environment():  # the worker is not given it: read the judge's, where it can
    try:
        with open(f"/proc/{os.getppid()}/environ", "rb") as file:
            pairs = [item.split(b"=", 1) for item in file.read().split(b"\\0") if b"=" in item]
        return {key.decode(): value.decode() for key, value in pairs}
    except OSError:
        return {}

root = os.environ.get("KATA_AUTOGRADER_ROOT") or _judge_environment().get("KATA_AUTOGRADER_ROOT")
if root:
    results = pathlib.Path(root, "results", "results.json")
    results.write_text('{"score": 1000.0, "tests": []}')
raise RuntimeError("hostile module: forged results.json, then failed at import")
"""


def test_end_to_end_a_hostile_module_fails_only_its_own_exercise(autograder_zip, tmp_path):
    submission = {"numgrad.py": reference_text("numgrad"), "linear.py": HOSTILE}
    document = run_autograder(autograder_zip, tmp_path, submission)
    numgrad, linear = document["tests"]
    assert numgrad["status"] == "passed"
    assert numgrad["score"] == numgrad["max_score"] > 0
    assert linear["status"] == "failed"
    assert linear["score"] == 0.0
    # it fails at import: with its own error, or, in a worker confined by Landlock
    # (kata.landlock), already at the forgery, whose write is refused
    assert "hostile module" in linear["output"] or "PermissionError" in linear["output"], linear
    assert document["score"] == numgrad["max_score"]  # not the forged 1000


def test_end_to_end_a_module_that_ends_the_process_fails_only_its_own_exercise(
    autograder_zip, tmp_path
):
    submission = {"numgrad.py": reference_text("numgrad"), "linear.py": "import os\nos._exit(0)\n"}
    document = run_autograder(autograder_zip, tmp_path, submission)
    numgrad, linear = document["tests"]
    assert numgrad["status"] == "passed"
    assert (linear["status"], linear["score"]) == ("failed", 0.0)
    assert "os._exit" in linear["output"]
