"""Optional dependencies: one rule for every feature that needs a package ``pip install patarm``
does not bring. A missing one is a :class:`MissingDependency` whose message is one line, naming
what is missing and the exact ``pip install`` command; the CLI prints that line and exits 2."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Sequence
from types import ModuleType


class MissingDependency(ImportError):
    """An optional dependency is not installed. The message is one line with the fix."""


def _top_level(name: str) -> str:
    return name.partition(".")[0]


def require(module: str, feature: str, install: str) -> ModuleType:
    """Import ``module`` for ``feature``, or raise a one-line :class:`MissingDependency` that
    says ``pip install {install}``. Only the absence of ``module`` (or its top-level package)
    becomes that error: an installed package that fails on one of its own imports is a broken
    installation and keeps its original error."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if exc.name is not None and _top_level(exc.name) != _top_level(module):
            raise
        raise MissingDependency(missing_message(feature, _top_level(module), install)) from None


def missing_message(feature: str, package: str, install: str) -> str:
    return f"{feature} needs {package}, which is not installed: pip install {install}"


def is_installed(module: str) -> bool:
    """Whether ``module`` can be found, without importing it. A module set to None in
    ``sys.modules`` (a blocked import) counts as missing, and so does a bare namespace package:
    a folder on ``sys.path`` that happens to share the name is not the framework."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return False
    return spec is not None and spec.origin not in (None, "namespace")


def require_framework(feature: str, framework: str, modules: Sequence[str], extra: str) -> None:
    """Check (without importing) that a framework integration can load: ``modules`` are the
    packages its import needs. A missing one names the framework and its patarm extra, so
    ``import patarm.verl`` without torch says that verl is missing, not "No module named 'torch'"."""
    missing = [name for name in modules if not is_installed(name)]
    if missing:
        what = ", which is not installed" if missing == [framework] else f" (not installed: {', '.join(missing)})"
        raise MissingDependency(f"{feature} needs {framework}{what}: pip install 'patarm[{extra}]'")


# The optional dependencies of patarm's features, each with the command that installs it.


def require_httpx() -> ModuleType:
    return require("httpx", "the judge client (patarm.Judge, patarm evaluate --judge-url)", "'patarm[judge]'")


def require_matplotlib() -> ModuleType:
    return require("matplotlib", "plotting (patarm evaluate --plot)", "'patarm[plot]'")


def require_datasets() -> ModuleType:
    return require("datasets", "loading a benchmark by name (patarm evaluate allenai/reward-bench)", "'patarm[eval]'")


def require_parquet() -> ModuleType:
    # pyarrow is a dependency of patarm itself; only an installation without it gets here.
    return require("pyarrow.parquet", "reading and writing parquet files", "pyarrow")
