"""The trained judge as OpenRLHF's reward: examples/openrlhf/reward_func.py loaded and called by
OpenRLHF 0.11.2's real SingleTurnAgentExecutor (--reward.remote_url FILE.py), against a
chat-completions server on 127.0.0.1. The policy engine is a fake (scripted token ids)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest

from frameworks import require

agent = require("openrlhf.utils.agent")

from chat_server import ChatServer, judgement  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "openrlhf" / "reward_func.py"
SAMPLES = 32


class PolicyEngine:
    """Stands in for RolloutRayActor.generate: answers every prompt with a fixed response."""

    def __init__(self, tokenizer, response: str) -> None:
        self.ids = tokenizer.encode(response, add_special_tokens=False) + [tokenizer.eos_token_id]

    async def generate(self, prompt_token_ids, sampling_params, multi_modal_data=None):
        await asyncio.sleep(0.01)
        output = SimpleNamespace(token_ids=list(self.ids), finish_reason="stop", logprobs=None)
        return SimpleNamespace(outputs=[output])


def generate_responses(executor, engine, tokenizer, prompt):
    """OpenRLHF's RolloutRayActor.generate_responses: num_samples executes under one gather."""
    params = SimpleNamespace(max_tokens=64, logprobs=None)

    async def run():
        return await asyncio.gather(
            *[
                executor.execute(
                    prompt=prompt,
                    label="",
                    sampling_params=params,
                    max_length=4096,
                    hf_tokenizer=tokenizer,
                    llm_engine=engine,
                )
                for _ in range(SAMPLES)
            ]
        )

    return asyncio.run(run())


@pytest.fixture
def judge_env(monkeypatch):
    def point_at(server, **extra):
        settings = {"URL": server.url, "MODEL": "patarm-judge", "N": 2, **extra}
        for key, value in settings.items():
            monkeypatch.setenv(f"PATARM_JUDGE_{key}", str(value))

    return point_at


def chat_prompt(tokenizer, request):
    return tokenizer.apply_chat_template(
        [{"role": "user", "content": request}], tokenize=False, add_generation_prompt=True
    )


def test_single_turn_executor_gets_judge_rewards_under_a_process_wide_cap(judge_env, tokenizer):
    rules = [{"match": "Bonjour", "judgements": [judgement(8), judgement(6.5)], "slow_first": 10**6, "delay": 0.05}]
    with ChatServer(rules) as server:
        judge_env(server, MAX_CONCURRENCY=3)
        executor = agent.SingleTurnAgentExecutor(str(EXAMPLE))  # OpenRLHF's own loader
        outputs = generate_responses(
            executor, PolicyEngine(tokenizer, "Bonjour !"), tokenizer, chat_prompt(tokenizer, "Say hello in French.")
        )
    assert [o["reward"].tolist() for o in outputs] == [[7.25]] * SAMPLES  # mean of 8 and 6.5, per sample
    assert [o["scores"].tolist() for o in outputs] == [[round(0.725 * 1024) / 1024]] * SAMPLES
    assert len(server.requests) == SAMPLES
    # The judge sees the user's request and the bare response (chat template and EOS removed).
    import patarm

    expected = patarm.build_prompt("Say hello in French.", "Bonjour !", domain="instruction_following")
    assert {r["messages"][0]["content"] for r in server.requests} == {expected}
    # OpenRLHF runs each reward_func call in its own thread; the cap holds for all of them.
    assert server.max_in_flight <= 3 and server.connections <= 3


def test_a_failing_judge_is_reported_at_error_although_openrlhf_swallows_it(judge_env, tokenizer, caplog):
    with ChatServer([{"match": "Bonjour", "judgements": [judgement(8)], "status": 400}]) as server:
        judge_env(server)
        executor = agent.SingleTurnAgentExecutor(str(EXAMPLE))
        with caplog.at_level(logging.INFO):
            outputs = generate_responses(
                executor, PolicyEngine(tokenizer, "Bonjour"), tokenizer, chat_prompt(tokenizer, "Say hello.")
            )
    assert all(o["reward"] is None for o in outputs)  # what OpenRLHF does with the exception
    errors = [r for r in caplog.records if r.levelname == "ERROR" and r.name == "patarm.openrlhf.reward"]
    assert len(errors) == SAMPLES
    assert "HTTP 400" in errors[0].getMessage() and "Fix: check that the judge server" in errors[0].getMessage()
