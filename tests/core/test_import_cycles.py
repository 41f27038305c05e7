"""No import cycles among adactx modules (an ``ast`` scan of every import, deferred ones included).

A cycle means a job sits in the wrong file (STYLE.md 12): the modules of a cycle cannot be understood,
tested or imported one without the other. Imports under ``if TYPE_CHECKING:`` are not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from helpers import ROOT

FOLDERS = {"adactx": "adactx", "graphs": "adactx.graphs", "retrieval": "adactx.retrieval", "rl": "adactx.rl",
           "kernels": "adactx.kernels"}


def module_files() -> dict[str, Path]:
    out = {}
    for folder, package in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([package, *parts])] = path
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(node: ast.AST, module: str, is_package: bool, known: dict) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        anchor = module.split(".") if is_package else module.split(".")[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, base] if base else anchor)
    names = [f"{base}.{alias.name}" for alias in node.names]
    # `from package import submodule` imports the submodule (the package's __init__ is no edge of its own)
    return names if all(n in known for n in names) else [base, *names]


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    graph: dict[str, set[str]] = {m: set() for m in files}
    for module, path in files.items():
        is_package = path.name == "__init__.py"
        stack = [ast.parse(path.read_text(encoding="utf-8"))]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.If) and _is_type_checking(node):
                stack.extend(node.orelse)
                continue
            for name in _imported(node, module, is_package, files):
                if name in files and name != module:
                    graph[module].add(name)
            stack.extend(ast.iter_child_nodes(node))
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_scan_sees_the_package():
    graph = import_graph()
    assert "adactx.rl.evaluate" in graph and "adactx.graphs.graph" in graph
    assert "adactx.rl.eval_tables" in graph["adactx.rl.evaluate"]  # module-level import
    assert "adactx.rl.plots" in graph["adactx.rl.summary_files"]  # a deferred import counts too


def test_the_scan_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles_among_adactx_modules():
    assert cycles(import_graph()) == []


@pytest.mark.parametrize("folder", ["graphs", "retrieval", "rl", "kernels"])
def test_each_top_level_folder_says_which_package_it_is(folder):
    doc = ast.get_docstring(ast.parse((ROOT / folder / "__init__.py").read_text(encoding="utf-8"))) or ""
    assert doc.startswith(f"adactx.{folder}:"), doc[:80]
    assert f"``{folder}/`` is installed as the package ``adactx.{folder}``" in doc
