"""The import rule of ARCHITECTURE.md, checked by parsing every module's imports (ast, no import).

Imports go only downhill: a module may import its own layer or a lower one, never a higher one,
and the module graph has no cycles. Every import counts: module-level, function-level and
type-only (``if TYPE_CHECKING:``) ones, which never run but still tie a module to another. No
module imports a private (``_name``) name from another module, and only ``targetrank.config``
reads the environment.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import NamedTuple

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "targetrank"

#: Layers from the top (may import everything below) to the bottom (imports nothing of ours).
#: Every module is placed by its longest matching prefix; a module matching none fails the test.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("entry", ("targetrank", "targetrank.__main__")),
    ("cli", ("targetrank.cli",)),
    (
        "steps",
        (
            "targetrank.steps",
            # the public run API re-exported from the steps (the CLI's rank calls it here)
            "targetrank.pipeline",
        ),
    ),
    (
        "results",
        (
            "targetrank.results",
            "targetrank.inputs",
            "targetrank.assemble",
            "targetrank.display",
            "targetrank.export",
            "targetrank.legend",
            "targetrank.report",
            "targetrank.runfolder",
        ),
    ),
    ("model", ("targetrank.model",)),
    (
        "reference",
        (
            "targetrank.feature_folder",
            "targetrank.resolver",
            "targetrank.evidence",
            "targetrank.strategy_file",
            "targetrank.labels",
        ),
    ),
    ("features", ("targetrank.features",)),
    ("sources", ("targetrank.sources",)),
    ("tables", ("targetrank.tables",)),
    (
        "base",
        (
            "targetrank.__about__",
            "targetrank._types",
            "targetrank._atomic",
            "targetrank.config",
            "targetrank.errors",
            "targetrank.paths",
            "targetrank.resolution",
            # the strategy data model (types only): the feature code names it
            "targetrank.strategies",
            "targetrank.targets",
            "targetrank.weights",
        ),
    ),
)
RANK = {prefix: len(LAYERS) - i for i, (_, prefixes) in enumerate(LAYERS) for prefix in prefixes}
LAYER_NAME = {prefix: name for name, prefixes in LAYERS for prefix in prefixes}


def _modules() -> dict[str, Path]:
    mods = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        mods[".".join(parts)] = path
    return mods


MODULES = _modules()


def _prefix(module: str) -> str | None:
    name = module
    while "." in name:  # the package itself ("targetrank") is placed by its exact name only
        if name in RANK:
            return name
        name = name.rpartition(".")[0]
    return module if module in RANK else None


def _owner(name: str) -> str | None:
    """The package module an imported dotted name belongs to."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class Import(NamedTuple):
    module: str  # the imported dotted name (a module, or the module a name is taken from)
    line: int
    names: tuple[str, ...]  # names taken from ``module`` that are not modules themselves
    type_only: bool  # under ``if TYPE_CHECKING:``: never runs, still a dependency


def _imports(module: str, path: Path) -> list[Import]:
    """Every import of ``targetrank`` in one file, type-only ones flagged."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, type_only: bool = False) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, type_only)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "targetrank":
                    found.append(Import(alias.name, node.lineno, (), type_only))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            if base.split(".")[0] == "targetrank":
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    if sub in MODULES:
                        found.append(Import(sub, node.lineno, (), type_only))
                    else:
                        found.append(Import(base, node.lineno, (alias.name,), type_only))
        for child in ast.iter_child_nodes(node):
            visit(child, type_only)

    visit(tree)
    return found


def _graph(modules: dict[str, Path] = MODULES, *, type_only: bool = True) -> dict[str, set[str]]:
    """Module -> the modules it imports; without ``type_only``, runtime imports only."""
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = {_owner(i.module) for i in _imports(module, path) if type_only or not i.type_only}
        graph[module] = {t for t in targets if t and t != module}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
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
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


def test_every_module_has_a_layer():
    unplaced = sorted(m for m in MODULES if _prefix(m) is None)
    assert not unplaced, f"place these modules in a layer of tests/test_architecture.py: {unplaced}"


def test_imports_only_go_downhill():
    upward: list[str] = []
    for module, path in sorted(MODULES.items()):
        here = _prefix(module)
        for imp in _imports(module, path):
            target = _owner(imp.module)
            there = _prefix(target) if target else None
            if here and there and RANK[there] > RANK[here]:
                message = (
                    f"{path.relative_to(PACKAGE.parent)}:{imp.line} ({LAYER_NAME[here]}) imports "
                    f"{target} ({LAYER_NAME[there]})" + (" (type-only)" if imp.type_only else "")
                )
                if message not in upward:
                    upward.append(message)
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_no_import_cycles():
    cycles = _cycles(_graph(type_only=False))
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_no_import_cycles_counting_type_only_imports():
    cycles = _cycles(_graph(type_only=True))
    assert not cycles, "import cycles through type-only imports:\n" + "\n".join(
        " <-> ".join(c) for c in cycles
    )


def test_no_private_names_across_modules():
    crossing = []
    for module, path in sorted(MODULES.items()):
        for imp in _imports(module, path):
            # private modules (targetrank._atomic) are shared plumbing; private names are not
            private = [n for n in imp.names if n.startswith("_") and not n.startswith("__")]
            if private:
                crossing.append(f"{path.relative_to(PACKAGE.parent)}:{imp.line} imports {private}")
    assert not crossing, "private names imported across modules:\n" + "\n".join(crossing)


def _environment_reads(path: Path) -> list[str]:
    """``os.environ`` / ``os.getenv`` uses and click ``envvar="LITERAL"`` options in one file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ("environ", "getenv", "environb")
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            found.append(f"line {node.lineno}: os.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            names = [a.name for a in node.names if a.name in ("environ", "getenv", "environb")]
            found += [f"line {node.lineno}: from os import {n}" for n in names]
        elif (
            isinstance(node, ast.keyword)
            and node.arg == "envvar"
            and isinstance(node.value, ast.Constant)  # spell it with a targetrank.config name
        ):
            found.append(f"line {node.lineno}: envvar={node.value.value!r}")
    return found


def test_environment_is_read_only_in_config():
    """Every environment variable is read through targetrank.config, where each is documented."""
    reads = [
        f"{path.relative_to(PACKAGE.parent)}: {hit}"
        for module, path in sorted(MODULES.items())
        if module != "targetrank.config"
        for hit in _environment_reads(path)
    ]
    assert not reads, "environment read outside targetrank/config.py:\n" + "\n".join(reads)


@pytest.mark.parametrize(
    "source",
    [
        "import os\nHOME = os.environ.get('HOME')\n",
        "import os\ndef f():\n    return os.getenv('TARGETRANK_X')\n",
        "from os import environ\n",
        "import click\nopt = click.option('--x', envvar='TARGETRANK_X')\n",
    ],
)
def test_the_checker_sees_environment_reads(tmp_path, source):
    path = tmp_path / "probe.py"
    path.write_text(source)
    assert _environment_reads(path)


def test_every_documented_variable_is_read_somewhere():
    """No stale entry in targetrank.config.VARIABLES: each ENV_ name is used outside config."""
    import targetrank.config as config

    constants = {name: value for name, value in vars(config).items() if name.startswith("ENV_")}
    assert set(constants.values()) == set(config.VARIABLES)
    users = [p for m, p in MODULES.items() if m != "targetrank.config"]
    users += list((PACKAGE.parent / "bench").rglob("*.py"))
    code = "\n".join(p.read_text(encoding="utf-8") for p in users)
    unused = [value for name, value in constants.items() if name not in code]
    assert not unused, f"documented but never read: {unused}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from targetrank.cli.rank import rank\n", "upward"),
        ("def f():\n    from targetrank import pipeline\n", "upward"),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import targetrank.cli\n",
            "upward",
        ),
        ("from targetrank.errors import UsageError\n", "ok"),
    ],
)
def test_the_checker_sees_upward_imports(tmp_path, source, expected):
    """The checker itself can fail: a module-level and a function-level upward import are seen."""
    path = tmp_path / "probe.py"
    path.write_text(source)
    names = [_owner(i.module) for i in _imports("targetrank.tables.probe", path)]
    upward = [n for n in names if n and RANK[_prefix(n)] > RANK["targetrank.tables"]]
    assert bool(upward) == (expected == "upward")


def test_the_checker_sees_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_checker_sees_a_cycle_through_a_type_only_import(tmp_path):
    """results imports export at run time; a type-only import back closes a cycle."""
    probe = tmp_path / "export.py"
    probe.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from targetrank.results import Ranking\n"
    )
    modules = {**MODULES, "targetrank.export": probe}
    assert _cycles(_graph(modules, type_only=False)) == []
    assert ["targetrank.export", "targetrank.results"] in _cycles(_graph(modules, type_only=True))


def test_the_ranking_is_what_export_and_legend_read():
    """export and legend type their input as protocols (no import of results back): a Ranking
    must still be one, or writing a run folder would break at run time, not here."""
    import polars as pl

    from targetrank.export import RankingForExport
    from targetrank.legend import RankingForLegend
    from targetrank.results import Ranking

    ranking = Ranking(pl.DataFrame(), {}, {}, rows=pl.DataFrame())
    assert isinstance(ranking, RankingForExport)
    assert isinstance(ranking, RankingForLegend)
    assert not isinstance(object(), RankingForExport)
