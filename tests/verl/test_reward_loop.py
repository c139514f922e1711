"""PAR on verl 0.9's reward loop: run_single through verl's RewardLoopWorker, the per-worker
pair rendezvous, and verl's own agent-loop worker code around it."""
from __future__ import annotations

import asyncio
import random

import numpy as np
import pytest

from frameworks import require

torch = require("torch")
verl = require("verl")
require("verl.experimental.agent_loop")

from patarm.verl import PairRewardManager  # noqa: E402
from patarm.verl.agent_loop import PairAgentLoopManager, PairAgentLoopWorker, check_pair_chunks, pair_metrics  # noqa: E402
from patarm.verl.pairing import PairBoard  # noqa: E402
from verl_batches import compose_config, judgement, make_batch, pair_rows, reference_parse, reference_rewards  # noqa: E402

PAIRS = [
    (0, [judgement(8), judgement(9.5)], [judgement(3), judgement(7)]),
    (1, [judgement(5), "no tags"], [judgement(4), judgement(11)]),
    (2, [judgement(1), judgement(2)], [judgement(9), judgement(10)]),
]
AGENT_LOOP = "patarm.verl.agent_loop.PairAgentLoopManager"


def loop_config(qwen_dir, *extra):
    return compose_config(
        [
            f"actor_rollout_ref.model.path={qwen_dir}",
            "reward.reward_manager.source=importlib",
            "reward.reward_manager.module.path=pkg://patarm.verl",
            "reward.reward_manager.name=PairRewardManager",
            f"+actor_rollout_ref.rollout.agent.agent_loop_manager_class={AGENT_LOOP}",
            "reward.num_workers=1",
            *extra,
        ]
    )


def test_run_single_through_verls_reward_loop_worker(tokenizer, qwen_dir, ray_session):
    """verl's RewardLoopWorker loads the manager from the config and scores single rows (the
    per-rollout path when the pair rendezvous is not used): judge score + format reward."""
    from verl.experimental.reward_loop import RewardLoopWorker

    config = loop_config(qwen_dir)
    data = make_batch(tokenizer, pair_rows(PAIRS))
    worker = ray_session.remote(RewardLoopWorker).remote(config)
    results = ray_session.get(worker.compute_score_batch.remote(data))
    ray_session.kill(worker)
    assert len(results) == len(data)
    for row, result in zip(pair_rows(PAIRS), results):
        score, fmt = reference_parse(row["text"])
        assert result["reward_score"] == fmt
        assert result["reward_extra_info"]["judge_score"] == score
        assert result["reward_extra_info"]["format_reward"] == fmt
        assert result["reward_extra_info"]["par_applied"] is False
    assert len({tuple(sorted(r["reward_extra_info"])) for r in results}) == 1  # same keys everywhere


def _board(tokenizer, **kwargs):
    return PairBoard(PairRewardManager(tokenizer, 0), **kwargs)


def _key(pair_id):
    return (False, 1, "patarm/chat", pair_id)


def test_board_releases_each_pair_with_its_true_par_in_any_arrival_order(tokenizer):
    rows = pair_rows(PAIRS)
    want = reference_rewards([r["text"] for r in rows], [r["source"] for r in rows], [r["pair_id"] for r in rows], [r["side"] for r in rows])

    async def run():
        board = _board(tokenizer)
        for r in rows:
            board.expect(_key(r["pair_id"]), r["source"], r["pair_id"], r["side"])
        order = list(range(len(rows)))
        random.Random(3).shuffle(order)

        async def one(i):
            await asyncio.sleep(0.001 * order.index(i))
            r = rows[i]
            return await board.submit(_key(r["pair_id"]), r["source"], r["pair_id"], r["side"], r["text"])

        results = await asyncio.gather(*(one(i) for i in range(len(rows))))
        return board, results

    board, results = asyncio.run(run())
    assert np.allclose([r["reward"] for r in results], want)
    assert all(r["partner_found"] == 1.0 and r["partner_timeout"] == 0.0 for r in results)
    assert board.groups == {} and board.stats["rollouts"] == len(rows)


def test_board_missing_partner_withdrawn_rollout_and_timeout(tokenizer):
    async def run():
        board = _board(tokenizer, timeout_s=0.3)
        # (a) the rejected prompt went to another worker: nothing expected, scored at once
        board.expect(_key(10), "patarm/chat", 10, "chosen", count=1)
        lonely = await board.submit(_key(10), "patarm/chat", 10, "chosen", judgement(9))
        # (b) one rejected rollout fails before judging: the pair completes without it
        board.expect(_key(11), "patarm/chat", 11, "chosen", count=1)
        board.expect(_key(11), "patarm/chat", 11, "rejected", count=2)
        waiting = asyncio.create_task(board.submit(_key(11), "patarm/chat", 11, "chosen", judgement(9)))
        await asyncio.sleep(0)
        rejected = asyncio.create_task(board.submit(_key(11), "patarm/chat", 11, "rejected", judgement(2)))
        await asyncio.sleep(0)
        board.withdraw(_key(11), "rejected")
        withdrawn = await asyncio.gather(waiting, rejected)
        # (c) the partner never arrives: time out, score against nothing -> PAR 0, counted
        board.expect(_key(12), "patarm/chat", 12, "chosen", count=1)
        board.expect(_key(12), "patarm/chat", 12, "rejected", count=1)
        timed_out = await board.submit(_key(12), "patarm/chat", 12, "chosen", judgement(7))
        return board, lonely, withdrawn, timed_out

    board, lonely, withdrawn, timed_out = asyncio.run(run())
    assert lonely["reward"] == 0.0 and lonely["partner_found"] == 0.0
    assert [w["reward"] for w in withdrawn] == [pytest.approx(1.4), pytest.approx(1.4)]
    assert timed_out["reward"] == 0.0 and timed_out["partner_timeout"] == 1.0
    assert board.stats["partner_missing"] == 1 and board.stats["partner_timeout"] == 1 and board.stats["withdrawn"] == 1
    with pytest.raises(ValueError, match="pair_timeout_s"):
        _board(tokenizer, timeout_s=0)


def _worker(config, tokenizer):
    """verl's agent-loop worker class with patarm's mixin, without an LLM server: the parts
    exercised are verl's own per-rollout post-processing and batch assembly."""
    worker = object.__new__(PairAgentLoopWorker)
    worker.config = config
    worker.tokenizer = tokenizer
    worker.processor = None
    worker.rollout_config = config.actor_rollout_ref.rollout
    worker.reward_loop_worker_handles = None
    worker.distillation_enabled = False
    worker.mm_processor_kwargs = {}
    worker.hf_model_type = None
    return worker


def _scored_batch(tokenizer, qwen_dir):
    """Rollouts post-processed by verl's agent-loop worker code with patarm's mixin, then
    assembled into a batch by verl's ``_postprocess`` (what a worker returns to the manager)."""
    from verl.experimental.agent_loop.agent_loop import AgentLoopMetrics, AgentLoopOutput

    config = loop_config(qwen_dir, "actor_rollout_ref.rollout.prompt_length=32", "actor_rollout_ref.rollout.response_length=96")
    worker = _worker(config, tokenizer)
    rows = pair_rows(PAIRS)
    data = make_batch(tokenizer, rows)
    data.meta_info = {"global_steps": 5, "validate": False}
    worker._patarm_current_step = 5
    worker._patarm_register(data)
    prompt_ids = tokenizer.encode("Judge this response.")

    async def one(i):
        fields = {k: v[i] for k, v in data.non_tensor_batch.items()}
        response_ids = tokenizer.encode(rows[i]["text"]) + [tokenizer.eos_token_id]
        output = AgentLoopOutput(
            prompt_ids=prompt_ids, response_ids=response_ids, response_mask=[1] * len(response_ids), metrics=AgentLoopMetrics()
        )
        await asyncio.sleep(0.002 * ((i * 7) % len(rows)))
        return await worker._agent_loop_postprocess(output, False, raw_prompt=[{"role": "user", "content": "x"}], **fields)

    async def run():
        return await asyncio.gather(*(one(i) for i in range(len(rows))))

    outputs = asyncio.run(run())
    batch = worker._postprocess(outputs, input_non_tensor_batch=None, validate=False)
    want = reference_rewards([r["text"] for r in rows], [r["source"] for r in rows], [r["pair_id"] for r in rows], [r["side"] for r in rows])
    assert worker._patarm_board().groups == {}
    return config, data, batch, want


def test_agent_loop_worker_sets_par_before_verl_scores_and_builds_rm_scores(tokenizer, qwen_dir):
    _, _, batch, want = _scored_batch(tokenizer, qwen_dir)
    assert np.allclose(batch.batch["rm_scores"].sum(-1).numpy(), want)
    prompt_len = batch.batch["prompts"].shape[1]
    last = batch.batch["attention_mask"][:, prompt_len:].sum(-1) - 1
    assert np.allclose(batch.batch["rm_scores"][torch.arange(len(want)), last].numpy(), want, atol=1e-6)
    assert {"judge_score", "par", "partner_found", "partner_timeout"} <= set(batch.meta_info["reward_extra_keys"])
    assert pair_metrics(batch) == {"patarm/partner_missing": 0.0, "patarm/partner_timeout": 0.0}


def test_legacy_manager_returns_the_batch_with_pair_metrics(tokenizer, qwen_dir, ray_session):
    """verl's AgentLoopManager.generate_sequences (chunking, gathering, timing) under patarm's
    subclass; the worker actor hands back a batch built by verl's worker code above."""
    config, prompts, batch, want = _scored_batch(tokenizer, qwen_dir)

    @ray_session.remote
    class PrebuiltWorker:
        def __init__(self, batch):
            self.batch = batch

        async def generate_sequences(self, chunk):
            return self.batch

    manager = object.__new__(PairAgentLoopManager)
    manager.config = config
    manager.agent_loop_workers = [PrebuiltWorker.remote(batch)]
    output = manager.generate_sequences(prompts)
    ray_session.kill(manager.agent_loop_workers[0])
    assert np.allclose(output.batch["rm_scores"].sum(-1).numpy(), want)
    assert output.meta_info["timing"]["patarm/partner_missing"] == 0.0
    assert "agent_loop/generate_sequences/mean" in output.meta_info["timing"]


def test_agent_loop_worker_withdraws_a_failed_rollout(tokenizer, qwen_dir):
    worker = _worker(loop_config(qwen_dir), tokenizer)
    board = worker._patarm_board()
    board.expect((False, 1, "patarm/chat", 9), "patarm/chat", 9, "rejected", count=1)
    fields = {"data_source": "patarm/chat", "extra_info": {"pair_id": 9, "side": "rejected"}}

    async def failing():
        await worker._run_agent_loop({}, {"validate": False, "step": 1, "sample_index": 0, "rollout_n": 0}, agent_name="no_such_agent_loop", **fields)

    with pytest.raises(AssertionError, match="not registered"):
        asyncio.run(failing())
    assert board.stats["withdrawn"] == 1


def test_transfer_queue_worker_registers_pairs_from_a_tensordict(tokenizer, qwen_dir):
    require("transfer_queue")
    from patarm.verl._agent_loop_tq import PairAgentLoopManagerTQ, PairAgentLoopWorkerTQ
    from verl.utils import tensordict_utils as tu

    config = loop_config(qwen_dir, "actor_rollout_ref.rollout.n=3")
    worker = object.__new__(PairAgentLoopWorkerTQ)
    worker.config, worker.tokenizer = config, tokenizer
    rows = [r for r in pair_rows(PAIRS)][::2]  # one row per prompt, as the V1 trainer submits
    data = make_batch(tokenizer, rows)
    batch = tu.get_tensordict({k: v for k, v in data.non_tensor_batch.items()})
    tu.assign_non_tensor_data(batch, "global_steps", 4)
    worker._patarm_register(batch)
    expected = {key[3]: dict(group.expected) for key, group in worker._patarm_board().groups.items()}
    assert expected == {0: {"chosen": 3, "rejected": 3}, 1: {"chosen": 3, "rejected": 3}, 2: {"chosen": 3, "rejected": 3}}
    assert issubclass(PairAgentLoopManagerTQ, __import__("verl.trainer.ppo.v1", fromlist=["x"]).AgentLoopManagerTQ)


def test_batch_size_must_keep_pairs_on_one_worker(qwen_dir):
    check_pair_chunks(loop_config(qwen_dir, "data.train_batch_size=16", "actor_rollout_ref.rollout.agent.num_workers=8"))
    with pytest.raises(ValueError, match="multiple of twice"):
        check_pair_chunks(loop_config(qwen_dir, "data.train_batch_size=24", "actor_rollout_ref.rollout.agent.num_workers=8"))
    with pytest.raises(ValueError, match="multiple of twice"):
        PairAgentLoopManager(loop_config(qwen_dir, "data.train_batch_size=6", "actor_rollout_ref.rollout.agent.num_workers=2"), llm_client=None)
