"""A fake vLLM for OpenRLHF's rollout engines on the CPU: the parts of vLLM's API that
``openrlhf/trainer/ray/vllm_engine.py`` and ``samples_generator.py`` use, with a scripted
"model" instead of a real one (tests only; put this folder first on PYTHONPATH).

The engine loads the tokenizer from ``model`` (a local folder), decodes each prompt, and
answers with a judgement chosen by the script in ``$PATARM_FAKE_VLLM_SCRIPT`` (JSON, re-read
on every request, so a test can change it between steps): each rule matches prompts
containing its ``match`` text and serves its ``judgements`` in turn, after a random delay of
up to ``max_delay`` seconds; a rule with ``"fail": k`` raises on its k-th request instead. Every request's
start and end are appended to ``$PATARM_FAKE_VLLM_EVENTS`` (JSON lines) so tests can check that
none is left hanging.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
from dataclasses import dataclass, field
from typing import Any

__version__ = "0.10.2"  # OpenRLHF 0.11.2 asserts > 0.8.5


@dataclass
class SamplingParams:
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = -1
    max_tokens: int | None = 16
    min_tokens: int = 0
    skip_special_tokens: bool = True
    logprobs: int | None = None
    n: int = 1


@dataclass
class CompletionOutput:
    index: int
    text: str
    token_ids: list[int]
    finish_reason: str
    logprobs: list | None = None


@dataclass
class RequestOutput:
    request_id: str
    prompt_token_ids: list[int]
    outputs: list[CompletionOutput] = field(default_factory=list)
    finished: bool = True


class AsyncEngineArgs:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.model = kwargs.get("model", args[0] if args else None)
        self.seed = kwargs.get("seed", 0)
        self.kwargs = kwargs


class _OutputProcessor:
    def __init__(self) -> None:
        self.unfinished = 0

    def get_num_unfinished_requests(self) -> int:
        return self.unfinished


class AsyncLLMEngine:
    """Scripted generation: token ids out after a random delay, like an LLM under load."""

    def __init__(self, engine_args: AsyncEngineArgs) -> None:
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(engine_args.model)
        self.served: dict = {}  # (script version, rule match) -> requests served
        self.random = random.Random(engine_args.seed)
        self.events = os.environ.get("PATARM_FAKE_VLLM_EVENTS")
        self.output_processor = _OutputProcessor()

    @classmethod
    def from_engine_args(cls, engine_args: AsyncEngineArgs) -> AsyncLLMEngine:
        return cls(engine_args)

    async def is_sleeping(self) -> bool:
        return False

    def _log(self, request_id: str, event: str) -> None:
        if self.events:
            with open(self.events, "a", encoding="utf-8") as handle:
                handle.write(json.dumps({"request": request_id, "event": event, "pid": os.getpid()}) + "\n")

    @staticmethod
    def _script() -> dict:
        with open(os.environ["PATARM_FAKE_VLLM_SCRIPT"], encoding="utf-8") as handle:
            return json.load(handle)

    async def generate(self, prompt: dict, sampling_params: SamplingParams, request_id: str):
        self.output_processor.unfinished += 1
        self._log(request_id, "start")
        outcome = "cancelled"
        try:
            ids = list(prompt["prompt_token_ids"])
            script, text = self._script(), self.tokenizer.decode(ids)
            rule = next((r for r in script["rules"] if r["match"] in text), None)
            if rule is None:
                raise ValueError(f"fake vLLM: no rule matches the prompt {text[-200:]!r}")
            key = (script.get("version"), rule["match"])
            seen = self.served.get(key, 0)
            self.served[key] = seen + 1
            await asyncio.sleep(self.random.uniform(0, script.get("max_delay", 0.05)))
            if rule.get("fail") == seen + 1:
                outcome = "failed"
                raise RuntimeError(f"fake vLLM: scripted failure of request {seen + 1} for {rule['match']!r}")
            text = rule["judgements"][seen % len(rule["judgements"])]
            token_ids = self.tokenizer.encode(text, add_special_tokens=False)
            token_ids.append(self.tokenizer.eos_token_id)
            reason = "stop"
            if sampling_params.max_tokens is not None and len(token_ids) > sampling_params.max_tokens:
                token_ids, reason = token_ids[: sampling_params.max_tokens], "length"
            out = CompletionOutput(0, self.tokenizer.decode(token_ids), token_ids, reason)
            outcome = "finished"
            yield RequestOutput(request_id, ids, [out])
        finally:
            self.output_processor.unfinished -= 1
            self._log(request_id, outcome)
