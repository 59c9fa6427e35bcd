"""The floors drawn in docs/architecture.md hold in the code: every import goes down, none loops."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "stackfold"
DRAWING = ROOT / "docs" / "architecture.md"
MAX_LINES = 300
DATA_TABLES = {"stackfold.synthetic.vocabulary"}
"""Modules that are word lists, not code: exempt from the size limit."""


def floors() -> dict[str, int]:
    """Part -> floor, read from the ```floors block of the drawing."""
    block = re.search(r"```floors\n(.*?)```", DRAWING.read_text(), re.S)
    assert block, f"{DRAWING} has no ```floors block"
    parts = {}
    for line in block.group(1).strip().splitlines():
        floor, *names = line.split()
        parts.update({name: int(floor) for name in names})
    return parts


def modules() -> dict[str, Path]:
    """Dotted name -> file of every module of the package."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The package's modules ``name`` imports anywhere in its file (functions and type-checking blocks too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            candidates = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for candidate in candidates:
            while candidate and candidate not in known:
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name:
                targets.add(candidate)
    return targets


def part_of(module: str, parts: dict[str, int]) -> str | None:
    """The longest part naming ``module`` (``stackfold`` names only the package's ``__init__``)."""
    if module == "stackfold":
        return "stackfold" if "stackfold" in parts else None
    dotted = module.removeprefix("stackfold.")
    names = [p for p in parts if p != "stackfold" and (dotted == p or dotted.startswith(p + "."))]
    return max(names, key=len) if names else None


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def test_every_module_sits_on_a_floor(graph):
    parts = floors()
    assert [m for m in graph if part_of(m, parts) is None] == []


def test_every_import_goes_to_a_lower_floor(graph):
    parts = floors()
    upward = []
    for module, targets in graph.items():
        source = part_of(module, parts)
        for target in sorted(targets):
            destination = part_of(target, parts)
            if destination != source and parts[destination] >= parts[source]:
                upward.append(f"{module} (floor {parts[source]}) imports {target} (floor {parts[destination]})")
    assert upward == []


def test_no_import_cycle(graph):
    cycles = []
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert cycles == []


def test_no_module_over_the_size_limit():
    too_long = {name: n for name, path in modules().items()
                if name not in DATA_TABLES and (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert too_long == {}


@pytest.mark.parametrize(("source", "target", "allowed"), [
    ("stackfold.ensembles.blend", "stackfold.models", False),
    ("stackfold.models.text_nn", "stackfold.features.views", False),
    ("stackfold.features.tfidf", "stackfold.models", False),
    ("stackfold.models.text_nn", "stackfold.features.tfidf", True),
    ("stackfold.ensembles.lgbm", "stackfold.core.estimator", True),
])
def test_the_drawing_says_what_may_import_what(source, target, allowed):
    parts = floors()
    source_part, target_part = part_of(source, parts), part_of(target, parts)
    assert (source_part == target_part or parts[target_part] < parts[source_part]) is allowed
