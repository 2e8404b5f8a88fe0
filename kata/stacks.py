"""Reading a stack dump: where the code under test was, and what ended its process.

The dumps are faulthandler's format (most recent call first), written when a test runs past its
time limit or its process ends: ``os._exit(N)`` on the first line when the code called it
(both the pytest child and the sandbox's worker record that), ``Fatal Python error: ...`` for a
crash in native code.
"""

from __future__ import annotations

import ast
import contextlib
import re
import signal
from pathlib import Path

FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+) in (?P<name>\S+)')


def where_in(stuck: str, impl_root: Path) -> str:
    """The innermost frame in the implementation's files of a faulthandler-style dump."""
    for match in FRAME.finditer(stuck):  # most recent call first
        path = Path(match["file"])
        with contextlib.suppress(ValueError, OSError):
            if path.resolve().is_relative_to(impl_root.resolve()):
                shown = relative_to(path, Path.cwd())
                line = int(match["line"])
                name = qualified_name(path, line) or match["name"]
                return f"{name} ({shown}, line {line})"
    return ""


def qualified_name(path: Path, line: int) -> str:
    """The qualified name (``Linear.forward``) of the innermost function of ``path`` around
    ``line``; faulthandler gives only the function's own name. Empty when unknown."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return ""
    best = ""

    def visit(node: ast.AST, prefix: str) -> None:
        nonlocal best
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                end = child.end_lineno or child.lineno
                if child.lineno <= line <= end:
                    if not isinstance(child, ast.ClassDef):
                        best = name
                    visit(child, name + ".")

    visit(tree, "")
    return best


def relative_to(path: Path, root: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(root))
    return str(path)


def how_it_ended(stuck: str, returncode: int) -> str:
    first = stuck.splitlines()[0] if stuck.strip() else ""
    if first.startswith("os._exit"):
        return f"{first} was called"
    if first.startswith("Fatal Python error"):
        return first.removeprefix("Fatal Python error: ").strip()
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return f"killed by signal {signal.Signals(-returncode).name}"
    return f"exit code {returncode}"


def crash_message(how: str, where: str) -> str:
    """What a learner reads about a test whose process the code under test ended."""
    return (
        f"crashed: the Python process running this test ended: {how}, in {where}.\n"
        "Code under test must return or raise, never end the process (os._exit, sys.exit "
        "at import, a crash in native code). The other tests of this exercise are not run."
    )
