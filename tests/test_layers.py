"""The three layers of python/patarm (docs/architecture.md), checked on the source with ``ast``:
nothing is imported, so a rule holds whatever is installed.

1. the core API at the top level imports only ``_core``, the other core modules, the standard
   library and numpy;
2. the workflow (``patarm.workflow``) never imports an integration;
3. the integrations (``patarm.verl``, ``patarm.trl``, ``patarm.openrlhf``) may import both.

No module imports through the package front door (``from patarm import name``, ``from .. import
name`` resolving to ``patarm/__init__``), function-local imports included, and the module-level
import graph has no cycles. The last tests feed small violating sources to the same checkers, so
that each rule can be seen to fail.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "python" / "patarm"

# Layer 1: the top-level modules of the core API (the extension, typed by _core.pyi, included).
CORE = frozenset(
    {
        "patarm._core",
        "patarm._optional",
        "patarm._shape_option",
        "patarm.parsing",
        "patarm.prompts",
        "patarm.rewards",
        "patarm.sampling",
        "patarm.voting",
    }
)
# What the core API may import besides itself and the standard library: numpy (arrays in and
# out of the extension). Nothing else.
CORE_THIRD_PARTY = frozenset({"numpy"})
# ... and inside a function, only where named: the pair samplers take a torch.Generator like
# torch's RandomSampler, and draw a seed from it with torch (imported only when one is passed).
CORE_LOCAL_THIRD_PARTY = frozenset({("patarm.sampling", "torch")})
WORKFLOW = "patarm.workflow"
INTEGRATIONS = ("patarm.verl", "patarm.trl", "patarm.openrlhf")
# Modules allowed `import patarm` (the front door): none; every module imports a name from the
# module that defines it.
PLAIN_IMPORT_PATARM_ALLOWED: frozenset[str] = frozenset()
STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}


@dataclass(frozen=True)
class Import:
    importer: str  # the module whose source holds the import
    target: str  # the absolute name of the imported module (or of the module a name comes from)
    line: int
    local: bool  # inside a function: runs on call, not when the module is imported
    type_only: bool  # under `if TYPE_CHECKING:`: never runs
    front_door: bool  # a name (not a submodule) taken from patarm/__init__, or `import patarm`

    def __str__(self) -> str:
        where = " (function-local)" if self.local else " (TYPE_CHECKING)" if self.type_only else ""
        return f"{self.importer}:{self.line} imports {self.target}{where}"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(module: str, source: str, is_package: bool, known: frozenset[str]) -> list[Import]:
    """Every import statement of ``module`` (``known``: the modules of the package, to tell a
    submodule from a name)."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, local: bool, type_only: bool) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(module, alias.name, node.lineno, local, type_only, alias.name == "patarm"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - (node.level - 1)])
                source_module = f"{base}.{node.module}" if node.module else base
            else:
                source_module = node.module or ""
            for alias in node.names:
                submodule = f"{source_module}.{alias.name}"
                if submodule in known:
                    found.append(Import(module, submodule, node.lineno, local, type_only, False))
                else:
                    door = source_module == "patarm"
                    found.append(Import(module, source_module, node.lineno, local, type_only, door))
        for child in ast.iter_child_nodes(node):
            if isinstance(node, ast.If) and _is_type_checking(node.test) and child in node.body:
                visit(child, local, True)
            else:
                visit(child, local or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)), type_only)

    visit(ast.parse(source), False, False)
    return found


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def core_violations(imports: list[Import]) -> list[str]:
    """Layer 1: a core module imports only the core API, the standard library and numpy, even
    inside a function; ``patarm/__init__`` likewise at module level (its ``__getattr__`` and its
    TYPE_CHECKING block are the lazy doors to layers 2 and 3)."""
    bad = []
    for imp in imports:
        if imp.importer == "patarm":
            if imp.local or imp.type_only:
                continue
        elif imp.importer not in CORE:
            continue
        if _within(imp.target, "patarm"):
            allowed = imp.target in CORE
        else:
            top = imp.target.partition(".")[0]
            allowed = top in STDLIB | CORE_THIRD_PARTY or (imp.local and (imp.importer, top) in CORE_LOCAL_THIRD_PARTY)
        if not allowed:
            bad.append(str(imp))
    return list(dict.fromkeys(bad))  # one line per statement, not per imported name


def workflow_violations(imports: list[Import]) -> list[str]:
    """Layer 2: the workflow never imports an integration, even inside a function."""
    bad = [
        str(imp)
        for imp in imports
        if _within(imp.importer, WORKFLOW) and any(_within(imp.target, pkg) for pkg in INTEGRATIONS)
    ]
    return list(dict.fromkeys(bad))


def front_door_violations(imports: list[Import]) -> list[str]:
    """No module takes a name through patarm/__init__ (function-local imports included)."""
    bad = []
    for imp in imports:
        if not imp.front_door:
            continue
        plain = imp.target == "patarm" and imp.importer in PLAIN_IMPORT_PATARM_ALLOWED
        if not plain:
            bad.append(str(imp))
    return list(dict.fromkeys(bad))


def import_graph(imports: list[Import], known: frozenset[str]) -> dict[str, set[str]]:
    """The modules each module imports when it is itself imported (module level, not
    TYPE_CHECKING). Importing ``a.b.c`` also runs the ``__init__`` of ``a.b`` and ``a``: edges
    go to those packages too, except the importer's own (already being imported)."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if imp.local or imp.type_only or not _within(imp.target, "patarm"):
            continue
        parts = imp.target.split(".")
        for end in range(1, len(parts) + 1):
            name = ".".join(parts[:end])
            if name in known and name != imp.importer and not _within(imp.importer, name):
                graph.setdefault(imp.importer, set()).add(name)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def analyze(sources: dict[str, tuple[str, bool]]) -> tuple[list[Import], frozenset[str]]:
    """The imports of ``sources`` ({module: (source, is_package)}) and the known modules."""
    known = frozenset(sources) | {"patarm", "patarm._core"}
    imports = [imp for name, (src, is_pkg) in sources.items() for imp in imports_of(name, src, is_pkg, known)]
    return imports, known


def package_sources() -> dict[str, tuple[str, bool]]:
    sources = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        sources[name] = (path.read_text(encoding="utf-8"), is_package)
    return sources


SOURCES = package_sources()
IMPORTS, KNOWN = analyze(SOURCES)


# ---- the package ------------------------------------------------------------------------------


def test_the_tree_shows_the_three_layers():
    top_level = {name for name in SOURCES if name.count(".") == 1}
    assert top_level - CORE == {"patarm.__main__", "patarm.workflow", "patarm.verl", "patarm.trl", "patarm.openrlhf"}
    assert CORE - {"patarm._core"} <= top_level
    assert {"patarm.workflow.data", "patarm.workflow.evaluation", "patarm.workflow.judge"} <= set(SOURCES)


def test_the_core_api_imports_only_itself_the_standard_library_and_numpy():
    assert core_violations(IMPORTS) == []


def test_the_workflow_never_imports_an_integration():
    assert workflow_violations(IMPORTS) == []


def test_no_module_imports_through_the_package_front_door():
    assert front_door_violations(IMPORTS) == []


def test_the_module_level_import_graph_has_no_cycles():
    cycle = find_cycle(import_graph(IMPORTS, KNOWN))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_checks_see_the_imports_they_are_about():
    # A checker that sees nothing passes everything: the package's known imports must be found.
    targets = {(imp.importer, imp.target) for imp in IMPORTS}
    assert ("patarm.rewards", "patarm._core") in targets
    assert ("patarm.workflow.judge.results", "patarm.voting") in targets
    assert ("patarm.verl.reward_model", "patarm.workflow.judge.settings") in targets
    local = {(imp.importer, imp.target) for imp in IMPORTS if imp.local}
    assert ("patarm", "patarm.workflow.judge.client") in local  # the lazy patarm.Judge
    assert import_graph(IMPORTS, KNOWN)["patarm.workflow.evaluation.pairwise"] >= {
        "patarm.workflow.judge",
        "patarm.workflow.judge.pairwise",
    }


# ---- each check can fail ----------------------------------------------------------------------


def _check(sources: dict[str, tuple[str, bool]]):
    return analyze({"patarm.workflow": ("", True), "patarm.workflow.judge": ("", True), **sources})


def test_core_check_reports_workflow_integration_and_third_party_imports():
    imports, _ = _check(
        {
            "patarm.rewards": (
                "import numpy as np\nimport json\nfrom ._core import Graded\nfrom . import parsing\n"
                "from .workflow.judge.client import Judge\nimport torch\n"
                "def f():\n    from .verl import manager\n    import torch\n",
                False,
            ),
            "patarm.parsing": ("", False),
            "patarm": ("from .rewards import score_batch\nfrom .workflow.data import io\n", True),
        }
    )
    bad = core_violations(imports)
    assert bad == [
        "patarm.rewards:5 imports patarm.workflow.judge.client",
        "patarm.rewards:6 imports torch",
        "patarm.rewards:8 imports patarm.verl (function-local)",
        "patarm.rewards:9 imports torch (function-local)",  # allowed in patarm.sampling only
        "patarm:2 imports patarm.workflow.data",
    ]


def test_core_check_allows_the_lazy_doors_of_patarm_init():
    source = (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .workflow.judge.client import Judge\n"
        "def __getattr__(name):\n    from .workflow.judge import client\n    return client.Judge\n"
    )
    imports, _ = _check({"patarm": (source, True), "patarm.workflow.judge.client": ("", False)})
    assert core_violations(imports) == []
    # ... which count for a core module all the same
    imports, _ = _check({"patarm.voting": (source, False), "patarm.workflow.judge.client": ("", False)})
    assert core_violations(imports) == [
        "patarm.voting:3 imports patarm.workflow.judge.client (TYPE_CHECKING)",
        "patarm.voting:5 imports patarm.workflow.judge.client (function-local)",
    ]


def test_workflow_check_reports_an_integration_import():
    imports, _ = _check(
        {
            "patarm.workflow.judge.log": ("from ...rewards import float32_safe\n", False),
            "patarm.workflow.data.io": ("def f():\n    from ...trl import reward\n", False),
            "patarm.workflow.cli": ("import patarm.openrlhf.reward\n", False),
            "patarm.verl.reward_model": ("from ..workflow.judge import settings\n", False),
        }
    )
    assert workflow_violations(imports) == [
        "patarm.workflow.data.io:2 imports patarm.trl (function-local)",
        "patarm.workflow.cli:1 imports patarm.openrlhf.reward",
    ]


def test_front_door_check_reports_names_taken_from_patarm_init():
    imports, _ = _check(
        {
            "patarm.workflow.cli": ("from .. import score_batch\nfrom .. import _core\n", False),
            "patarm.workflow.judge.log": ("def f():\n    from patarm import Judge\n", False),
            "patarm.workflow.data": ("import patarm\nimport patarm.rewards\n", True),
            "patarm.verl.manager": ("import patarm\nfrom patarm import _core\n", False),
            "patarm.trl.reward": ("import patarm\n", False),
        }
    )
    assert front_door_violations(imports) == [
        "patarm.workflow.cli:1 imports patarm",
        "patarm.workflow.judge.log:2 imports patarm (function-local)",
        "patarm.workflow.data:1 imports patarm",
        "patarm.verl.manager:1 imports patarm",
        "patarm.trl.reward:1 imports patarm",
    ]


def test_cycle_check_reports_the_cycle():
    sources = {
        "patarm.workflow.evaluation": ("", True),
        "patarm.workflow.evaluation.evaluate": ("from ..judge.client import Judge\n", False),
        "patarm.workflow.judge.client": ("from .log import JudgementLog\n", False),
        "patarm.workflow.judge.log": ("def f():\n    from ..evaluation import evaluate\n", False),
    }
    imports, known = _check(sources)
    assert find_cycle(import_graph(imports, known)) is None  # function-local: no cycle at import
    sources["patarm.workflow.judge.log"] = ("from ..evaluation.evaluate import Item\n", False)
    imports, known = _check(sources)
    assert find_cycle(import_graph(imports, known)) == [
        "patarm.workflow.evaluation.evaluate",
        "patarm.workflow.judge.client",
        "patarm.workflow.judge.log",
        "patarm.workflow.evaluation.evaluate",
    ]
    # through a package __init__ that re-exports a name
    sources = {
        "patarm.workflow.judge": ("from .client import Judge\n", True),
        "patarm.workflow.judge.client": ("from ..data.io import DataError\n", False),
        "patarm.workflow.data": ("", True),
        "patarm.workflow.data.io": ("from ..judge.log import JudgementLog\n", False),
        "patarm.workflow.judge.log": ("", False),
    }
    imports, known = analyze({"patarm.workflow": ("", True), **sources})
    assert find_cycle(import_graph(imports, known)) == [
        "patarm.workflow.data.io",
        "patarm.workflow.judge",
        "patarm.workflow.judge.client",
        "patarm.workflow.data.io",
    ]
