"""Importing a framework inside a test: `from frameworks import require`.

Framework tests (tests/verl_integration, tests/trl_integration) skip when their framework is
not installed, except under PATARM_REQUIRE_FRAMEWORKS=1 (set by scripts/test.sh in each
framework's venv), where a missing framework is a failure rather than a silent skip.
"""

import importlib
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
