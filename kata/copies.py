"""Copies are not solutions: find learner code that borrows the answers from ``reference/``.

An exercise file that imports ``reference`` (``from reference.linear import Linear``), loads it by
name (``importlib.import_module("reference.linear")``), or hands out a class or function whose
code lives in ``reference/`` (a subclass of the answer, a re-export) would pass every test with
none of the learner's work. The grader fails every test of that exercise with the message
:func:`borrowed_answers` returns. Two checks, because either alone can be dodged: the source is
read for imports and module names, and the module's objects are followed to the files their
code was compiled from.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

ANSWERS = "reference"


def _names_the_answers(text: str) -> bool:
    return text == ANSWERS or text.startswith(ANSWERS + ".")


def imports_of_the_answers(source: str) -> list[tuple[int, str]]:
    """``(line, what)`` for each import of ``reference`` and each string naming one of its
    modules in ``source``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []  # the import itself reports it
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
            found += [(node.lineno, f"import {name}") for name in names if _names_the_answers(name)]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and _names_the_answers(node.module or ""):
                found.append((node.lineno, f"from {node.module} import ..."))
        elif isinstance(node, ast.Constant) and _names_the_answers(str(node.value)):
            found.append((node.lineno, f"the module name {node.value!r}"))
    return found


def _code_files(value: object) -> Iterator[str]:
    """The files the code of a function, or of every method of a class and its bases, was
    compiled from."""
    if inspect.isclass(value):
        for cls in inspect.getmro(value):
            for member in vars(cls).values():
                function = getattr(member, "__func__", member)
                if inspect.isfunction(function):
                    yield function.__code__.co_filename
                elif isinstance(member, property) and member.fget is not None:
                    yield from _code_files(member.fget)
    elif inspect.isfunction(value):
        yield value.__code__.co_filename


def borrowed_in_source(path: Path) -> str | None:
    """Why the module file ``path`` is a copy of the answers, judged from its text alone (the
    judge's check, before the module is imported anywhere), or None."""
    source = path.read_text(encoding="utf-8") if path.is_file() else ""
    reasons = [f"line {line}: {what}" for line, what in imports_of_the_answers(source)]
    return _verdict(path, reasons) if reasons else None


def _verdict(path: Path, reasons: list[str]) -> str:
    return (
        f"{path.name} uses the answers in {ANSWERS}/: " + "; ".join(dict.fromkeys(reasons)) + ".\n"
        f"  A copy of the reference is not a solution: every test of this exercise fails until "
        f"the module is your own code (toolkit/ is yours to import; {ANSWERS}/ is not)."
    )


def borrowed_answers(module: ModuleType, answers: Path) -> str | None:
    """Why ``module`` is a copy of the answers in the folder ``answers``, or None if it is not."""
    path = Path(getattr(module, "__file__", None) or "")
    source = path.read_text(encoding="utf-8") if path.is_file() else ""
    reasons = [f"line {line}: {what}" for line, what in imports_of_the_answers(source)]
    answers = answers.resolve()
    for name, value in sorted(vars(module).items()):
        for filename in _code_files(value):
            if Path(filename).resolve().is_relative_to(answers):
                reasons.append(f"{name} runs code of {Path(filename).name} in {ANSWERS}/")
                break
    return _verdict(path, reasons) if reasons else None
