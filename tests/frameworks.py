"""Importing a framework inside a test: `from frameworks import require`.

Framework tests (tests/verl_integration, tests/trl_integration) skip when their framework is
not installed, except under PATARM_REQUIRE_FRAMEWORKS=1 (set by scripts/test.sh in each
framework's venv), where a missing framework is a failure rather than a silent skip.
"""

import importlib
import importlib.util
import os

import pytest


def require(module_name: str):
    """Import a framework module for a test, or skip (fail under PATARM_REQUIRE_FRAMEWORKS=1)."""
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        if os.environ.get("PATARM_REQUIRE_FRAMEWORKS") == "1":
            pytest.fail(f"{module_name} is required in this environment but failed to import: {exc}")
        pytest.skip(f"{module_name} is not installed", allow_module_level=True)


_FRAMEWORK_FREE: dict = {}


def import_framework_free(module_name: str):
    """Import a module of an integration package that does not itself import its framework
    (``patarm.verl.reward_model``), also where the framework is missing. The package's
    ``__init__`` requires the framework, so without it the module is loaded from its file alone
    (its relative imports resolve as usual) and is not entered in ``sys.modules``."""
    try:
        return importlib.import_module(module_name)
    except ImportError:
        pass
    if module_name not in _FRAMEWORK_FREE:
        package, _, leaf = module_name.rpartition(".")
        location = importlib.util.find_spec(package).submodule_search_locations[0]  # imports patarm only
        spec = importlib.util.spec_from_file_location(module_name, os.path.join(location, f"{leaf}.py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _FRAMEWORK_FREE[module_name] = module
    return _FRAMEWORK_FREE[module_name]
