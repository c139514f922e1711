"""Building OpenRLHF 0.11.2's rollout and experience objects on the CPU, as its trainer does.

``strategy_for`` gives the ``strategy`` object OpenRLHF's classes read their ``args`` from
(the nested namespaces of ``openrlhf/cli/train_ppo_ray.py``). ``prompt_dataloader`` repeats
``prepare_datasets`` in ``openrlhf/trainer/ppo_trainer.py`` (``blending_datasets``,
``PromptDataset``, then the loader ``DeepspeedStrategy.setup_dataloader`` returns without
torch.distributed: a torchdata ``StatefulDataLoader`` with ``shuffle=True``).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import types
from pathlib import Path
from types import SimpleNamespace as NS
from typing import Any

import pytest


def strategy_for(*, batch_size: int, n_samples: int, estimator: str = "dr_grpo", micro_batch_size: int = 4):
    args = NS(
        data=NS(
            input_key="prompt",
            label_key="label",
            apply_chat_template=False,
            image_key="images",
            input_template=None,
            max_len=4096,
        ),
        rollout=NS(
            batch_size=batch_size,
            n_samples_per_prompt=n_samples,
            micro_batch_size=micro_batch_size,
            max_new_tokens=256,
            vllm_generate_batch_size=None,
        ),
        vllm=NS(enable_sleep=False),
        algo=NS(
            dynamic_filtering_enable=False,
            dynamic_filtering_range=(0, 1),
            advantage=NS(estimator=estimator, is_correction_level="off", gamma=1.0, lambd=1.0, no_std_norm=False),
            kl=NS(use_loss=True, estimator="k3"),
        ),
        train=NS(
            dynamic_batch_enable=False,
            colocate_all=False,
            colocate_actor_ref=False,
            colocate_critic_reward=False,
            seed=42,
        ),
        ds=NS(ring_attn_size=1, tensor_parallel_size=1),
        reward=NS(clip_range=(-10, 10), overlong_buffer_len=None, stop_properly_penalty_coef=None),
        actor=NS(num_nodes=1, num_gpus_per_node=1),
    )
    return NS(args=args, is_rank_0=lambda: True, print=lambda *a, **k: None)


def prompt_dataloader(path: str, tokenizer, strategy):
    from openrlhf.datasets import PromptDataset
    from openrlhf.datasets.utils import blending_datasets
    from torchdata.stateful_dataloader import StatefulDataLoader

    data = blending_datasets(path, None, strategy, strategy.args.train.seed, dataset_split="train")
    dataset = PromptDataset(data, tokenizer, strategy, input_template=None)
    # DeepspeedStrategy.setup_dataloader(dataset, 1, True, True, dataset.collate_fn) without torch.distributed
    return StatefulDataLoader(
        dataset,
        batch_size=1,
        sampler=None,
        drop_last=True,
        shuffle=True,
        collate_fn=dataset.collate_fn,
        pin_memory=True,
        num_workers=0,
        persistent_workers=False,
    )


def write_script(path: Path, rules: list[dict[str, Any]], version: str, max_delay: float = 0.05) -> None:
    """The fake vLLM's answers (see fake_vllm/vllm/__init__.py)."""
    path.write_text(json.dumps({"version": version, "max_delay": max_delay, "rules": rules}))


class FakeActorGroup:
    """The actor models' forward pass: zero log-probs for every action token (no model)."""

    def async_run_method_batch(self, method_name: str, **kwargs):
        import ray
        import torch

        assert method_name == "forward"
        return [ray.put([torch.zeros(mask.shape, dtype=torch.float32) for mask in kwargs["action_mask"]])]


def load_experience_maker(monkeypatch: pytest.MonkeyPatch):
    """``openrlhf/trainer/ppo_utils/experience_maker.py`` loaded by path, as OpenRLHF's own tests
    load modules: ``openrlhf.models`` as a bare package (its ``__init__`` imports peft and the
    deepspeed model wrappers), deepspeed as an empty module (``models/utils.py`` only calls it
    for ZeRO-3), and ``trainer/ray/launcher.py`` (model actors) replaced by a type name."""
    import openrlhf

    root = Path(openrlhf.__file__).parent
    models = types.ModuleType("openrlhf.models")
    models.__path__ = [str(root / "models")]
    monkeypatch.setitem(sys.modules, "openrlhf.models", models)
    monkeypatch.setitem(sys.modules, "deepspeed", types.ModuleType("deepspeed"))
    monkeypatch.setitem(sys.modules, "openrlhf.trainer.ray.launcher", NS(RayActorGroup=object))
    monkeypatch.delitem(sys.modules, "openrlhf.models.utils", raising=False)
    spec = importlib.util.spec_from_file_location(
        "_openrlhf_experience_maker", root / "trainer" / "ppo_utils" / "experience_maker.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
