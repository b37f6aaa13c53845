"""The code's floors: ingest ← index ← app ← evals, read from the imports themselves."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLOORS = {"ingest": 0, "index": 1, "app": 2, "evals": 3}
# The measuring commands run evaluations and benchmarks: the one place app may reach evals.
MEASURING_COMMANDS = ROOT / "app" / "cli" / "measuring.py"
MAX_MODULE_LINES = 450


def module_id(value) -> str:
    return value.relative_to(ROOT).as_posix() if isinstance(value, Path) else str(value)


def modules() -> list[tuple[str, Path]]:
    return [(floor, path) for floor in FLOORS for path in sorted((ROOT / floor).rglob("*.py"))]


def wbqa_imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, imported names) of every `from wbqa.… import …` in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("wbqa."):
            found.append((node.module, [alias.name for alias in node.names]))
    return found


@pytest.mark.parametrize("floor,path", modules(), ids=module_id)
def test_imports_only_reach_down_and_only_public_names(floor, path):
    for module, names in wbqa_imports(path):
        target = module.split(".")[1]
        if FLOORS[target] > FLOORS[floor]:
            assert path == MEASURING_COMMANDS, f"{path} imports {module} from a floor above"
        if target != floor:
            private = [name for name in names if name.startswith("_")]
            assert not private, f"{path} imports private {private} from {module}"


@pytest.mark.parametrize("floor,path", modules(), ids=module_id)
def test_no_module_is_a_room_of_many_jobs(floor, path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path} has {lines} lines"


def test_every_package_is_installed():
    """A non-editable install carries only the packages pyproject.toml lists."""
    import tomllib

    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
            "packages"
        ]
    )
    found = {
        "wbqa." + ".".join(init.parent.relative_to(ROOT).parts)
        for floor in FLOORS
        for init in (ROOT / floor).rglob("__init__.py")
    }
    assert found == listed
