"""The layout of ``core/``: stages that import only earlier stages, no cycles, small modules, and imports
inside functions only for optional heavy libraries, each with its reason. Built from the source (``ast``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from core.paths import REPO_ROOT

CORE = REPO_ROOT / "core"
STAGES = (
    ("paths", "files", "budgets", "eviction"),
    ("midi",),
    ("music",),
    ("data",),
    ("models",),
    ("training",),
    ("families",),
    ("sampling",),
    ("ranking",),
    ("evaluation",),
    ("audio",),
    ("plots",),
    ("studio",),
    (
        "cli",
        "midi_io",
        "dataset",
        "train",
        "generate",
        "evaluate",
        "compare",
        "jobs",
        "rank",
        "listening",
        "storage",
        "critic",
    ),
)
"""The data flow, first to last: a module may import its own stage and earlier ones."""
RANK = {name: rank for rank, names in enumerate(STAGES) for name in names}
MAX_LINES = 450
HEAVY = {"sklearn", "pretty_midi", "mido", "music21", "playwright", "scipy"}
"""Libraries slow to import that a module may import inside the one function that needs them."""


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def stage_of(module: str) -> str:
    """The stage of a module: its subpackage or top-level module (``python -m`` entry points are tools)."""
    parts = module.split(".")
    if parts[-1] == "__main__":
        return "cli"
    return parts[1] if len(parts) > 1 else "paths"


MODULES = {module_name(path): path for path in sorted(CORE.rglob("*.py"))}


def imports_of(path: Path) -> list[tuple[str, int, bool]]:
    """``(imported module, line, inside a function)`` for every import statement of a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inner = {
        id(node)
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(function)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno, id(node) in inner) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            target = next((name for name in names if name in MODULES), node.module)
            found.append((target, node.lineno, id(node) in inner))
    return found


def core_target(name: str) -> str | None:
    """The ``core`` module an import name refers to (a module, or the module holding a name)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


GRAPH = {
    module: {target for name, _, _ in imports_of(path) if (target := core_target(name)) and target != module}
    for module, path in MODULES.items()
}


def test_every_stage_of_core_is_ranked() -> None:
    assert {stage_of(m) for m in MODULES} <= set(RANK), {stage_of(m) for m in MODULES} - set(RANK)


def test_no_module_imports_a_later_stage() -> None:
    backwards = []
    for module, path in MODULES.items():
        for name, line, inside in imports_of(path):
            target = core_target(name)
            if target and RANK[stage_of(target)] > RANK[stage_of(module)]:
                backwards.append(
                    f"{path.relative_to(REPO_ROOT)}:{line} imports {target}" + " (inside)" * inside
                )
    assert not backwards, "\n".join(backwards)


def test_there_is_no_import_cycle() -> None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(module: str, path: list[str]) -> list[str] | None:
        state[module] = 1
        for target in sorted(GRAPH[module]):
            if state.get(target) == 1:
                return [*path, module, target]
            if target not in state and (cycle := visit(target, [*path, module])):
                return cycle
        state[module] = 2
        return None

    for module in sorted(MODULES):
        if module not in state:
            cycle = visit(module, [])
            assert cycle is None, " → ".join(cycle)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_are_small(module: str) -> None:
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{module} has {lines} lines"


def has_reason(source: list[str], line: int) -> bool:
    """A comment on the import's line or on the block of imports and comments just above it."""
    index = line - 1
    while index >= 0:
        text = source[index].strip()
        if "#" in text:
            return True
        if index < line - 1 and not text.startswith(("import ", "from ")):
            return False
        index -= 1
    return False


def test_imports_inside_functions_are_heavy_libraries_with_a_reason() -> None:
    problems = []
    for path in MODULES.values():
        source = path.read_text(encoding="utf-8").splitlines()
        for name, line, inside in imports_of(path):
            if not inside:
                continue
            if name.split(".")[0] not in HEAVY:
                problems.append(f"{path.relative_to(REPO_ROOT)}:{line} imports {name} inside a function")
            elif not has_reason(source, line):
                problems.append(
                    f"{path.relative_to(REPO_ROOT)}:{line} imports {name} lazily without a reason"
                )
    assert not problems, "\n".join(problems)


def test_the_graph_sees_real_imports() -> None:
    """The checks above are only as good as the graph: it must see what modules import."""
    assert "core.models.base" in GRAPH["core.sampling.model"]
    assert "core.training.loop" in GRAPH["core.families"]
    assert imports_of(MODULES["core.ranking.svm"])  # sklearn, imported inside functions


PAGE_SCRIPTS = [REPO_ROOT / "streamlit_app.py", *sorted((REPO_ROOT / "pages").glob("*.py"))]


@pytest.mark.parametrize("script", PAGE_SCRIPTS, ids=lambda path: path.name)
def test_page_scripts_print_nothing_by_accident(script: Path) -> None:
    """Streamlit writes every bare expression of a page script on the page ("magic"): a string under a
    constant, meant as its docstring, would appear to every visitor. Only the module docstring may stand."""
    body = ast.parse(script.read_text()).body
    stray = [
        node.lineno
        for node in body[1:]
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ]
    assert not stray, f"{script.name}: bare strings on lines {stray} would be shown on the page"
