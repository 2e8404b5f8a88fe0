"""The second line of the judge's defence: files put back (:mod:`kata.guard`), and the first,
the worker's confinement (:mod:`kata.landlock`), when the kernel has none to give.

Where the worker is confined or unprivileged the code under test cannot write the judge's
files, so the grader's own end-to-end tests never reach the guard: these tests reach it directly.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import kata.landlock
from kata.guard import FileGuard


def test_the_guard_puts_back_what_a_test_changed_removed_or_added(tmp_path: Path) -> None:
    folder, single = tmp_path / "tests", tmp_path / "noxfile.py"
    folder.mkdir()
    (folder / "test_a.py").write_text("assert True\n")
    (folder / "helpers.py").write_text("ANSWER = 1\n")
    single.write_text("# sessions\n")
    guard = FileGuard([folder, single])
    assert guard.restore() == [], "nothing was touched"
    (folder / "test_a.py").write_text("# forged\n")
    (folder / "helpers.py").unlink()
    (folder / "conftest.py").write_text("import os\n")
    single.write_text("")
    done = guard.restore()
    assert len(done) == 4, done
    assert any("changed" in line and "test_a.py" in line for line in done), done
    assert any("removed" in line and "helpers.py" in line for line in done), done
    assert any("wrote" in line and "conftest.py" in line for line in done), done
    assert (folder / "test_a.py").read_text() == "assert True\n"
    assert (folder / "helpers.py").read_text() == "ANSWER = 1\n"
    assert not (folder / "conftest.py").exists()
    assert single.read_text() == "# sessions\n"
    assert guard.restore() == [], "what was put back is the new baseline"


def test_without_landlock_the_worker_says_it_is_not_confined(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(kata.landlock, "abi_version", lambda: 0)
    assert kata.landlock.confine(tmp_path).startswith("not confined")
