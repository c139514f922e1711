"""What the end-to-end agent-loop tests need besides verl itself: a fake LLM server client (the
only replaced part of verl's machinery), a reward-loop worker that counts its calls, real
training data through `patarm prepare` and verl's own dataset, and an exact PAR reference.

The fake client implements verl's ``LLMServerClient.generate``: it answers each prompt with the
token ids of a judgement whose verdict is drawn at random (some malformed), after a random
delay, so rollouts finish out of order. A prompt containing ``FAIL_MARKER`` raises on its first
request, as a crashed server request would.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from verl_batches import judgement

import par_reference

FAIL_MARKER = "PATARM-FAIL-THIS-ROLLOUT"
#: Verdicts the fake judge writes: valid scores and every kind of malformed judgement.
VERDICTS = ["0", "1", "2", "2.5", "3", "4", "5", "6", "6.5", "7", "8", "9", "9.5", "10", "11", "1e1", "abc", None]
SOURCE = "patarm/chat"


def fake_judgement(rng: random.Random) -> str:
    verdict = rng.choice(VERDICTS)
    return "no tags at all" if verdict is None else judgement(verdict)


try:  # the fake implements verl's client interface (importable only where verl is)
    from verl.workers.rollout.llm_server import LLMServerClient
    from verl.workers.rollout.replica import TokenOutput

    class FakeLLMClient(LLMServerClient):
        """verl's LLM server client with the server replaced by random judgements."""

        def __init__(self, config: Any, seed: int = 0, max_delay_s: float = 0.05) -> None:
            super().__init__(config, load_balancer_handle=None)
            self.seed = seed
            self.max_delay_s = max_delay_s
            self._tokenizer = None
            self._failed: set = set()

        def _tokenize(self) -> Any:
            if self._tokenizer is None:
                from transformers import AutoTokenizer

                self._tokenizer = AutoTokenizer.from_pretrained(self.config.actor_rollout_ref.model.path)
            return self._tokenizer

        async def generate(
            self, request_id: Any, *, prompt_ids: list[int], sampling_params: dict, **kwargs: Any
        ) -> TokenOutput:
            tokenizer = self._tokenize()
            rng = random.Random(f"{self.seed}-{request_id}")
            await asyncio.sleep(rng.uniform(0, self.max_delay_s))
            prompt = tokenizer.decode(prompt_ids)
            if FAIL_MARKER in prompt and prompt not in self._failed:
                self._failed.add(prompt)
                raise RuntimeError("fake LLM server: request failed")
            ids = tokenizer.encode(fake_judgement(rng), add_special_tokens=False)
            # A real server reports the weight version it generated with (verl's client copies it
            # to min/max_global_steps, which the v1 trainer's metrics read); this one has no weights.
            return TokenOutput(
                token_ids=ids,
                log_probs=[0.0] * len(ids),
                stop_reason="completed",
                num_preempted=0,
                extra_fields={"global_steps": 0, "min_global_steps": 0, "max_global_steps": 0},
            )

    from verl.experimental.reward_loop import RewardLoopWorker

    class CountingRewardLoopWorker(RewardLoopWorker):
        """verl's reward-loop worker, counting the rollouts verl asks it to score."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.calls = 0

        async def compute_score(self, data: Any) -> dict:
            self.calls += 1
            return await super().compute_score(data)

        def num_calls(self) -> int:
            return self.calls

except ImportError:  # pragma: no cover - the tests importing this skip without verl
    pass


def model_dir(tokenizer_dir: str, root: Path) -> str:
    """A model directory verl's HFModelConfig can read: the Qwen tokenizer plus a tiny Qwen2
    config (no weights: the fake server generates)."""
    from transformers import AutoTokenizer, Qwen2Config

    target = root / "tiny-qwen2"
    if not (target / "config.json").exists():
        shutil.copytree(tokenizer_dir, target, dirs_exist_ok=True)
        vocab = len(AutoTokenizer.from_pretrained(tokenizer_dir))
        Qwen2Config(
            vocab_size=vocab,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=4096,
            architectures=["Qwen2ForCausalLM"],
        ).save_pretrained(target)
    return str(target)


def write_pairs(path: Path, num_pairs: int, fail_pair: int | None = None) -> Path:
    with path.open("w") as out:
        for k in range(num_pairs):
            prompt = f"Question {k}: what is {k} + {k}?" + (f" {FAIL_MARKER}" if k == fail_pair else "")
            out.write(
                json.dumps(
                    {"id": f"q{k}", "prompt": prompt, "chosen": f"It is {2 * k}.", "rejected": f"It is {2 * k + 1}."}
                )
                + "\n"
            )
    return path


def prepared_dataset(tmp: Path, pairs_file: Path, model_path: str, config: Any) -> Any:
    """`patarm prepare` rows, read by verl's own RLHFDataset (rows in pair order)."""
    from verl.trainer.ppo.utils import create_rl_dataset
    from verl.utils import hf_tokenizer

    from patarm.workflow.data import prepare

    out = tmp / f"{pairs_file.stem}.parquet"
    prepare(pairs_file, out, seed=0, show_progress=False)
    return create_rl_dataset([str(out)], config.data, hf_tokenizer(model_path), None, is_train=True)


def collate(dataset: Any, rows: Sequence[int]) -> dict:
    from verl.utils.dataset.rl_dataset import collate_fn

    return collate_fn([dataset[int(row)] for row in rows])


def reference_rewards(
    texts: Sequence[str], sources: Sequence[str], pair_ids: Sequence[Any], sides: Sequence[str]
) -> list[float]:
    """Exact R = R_PAR + R_format (docs/method.md §4, graded f) over all judgements of each pair."""
    return par_reference.score_batch(texts, pair_ids, sides, sources=sources)["reward"]


def float32_safe(value: float) -> np.float32:
    """The reference reward as patarm must hand it to verl: the nearest multiple of 2^-10."""
    return np.float32(round(value * 1024) / 1024)
