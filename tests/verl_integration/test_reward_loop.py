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

from verl_batches import compose_config, judgement, make_batch, pair_rows, reference_parse, reference_rewards  # noqa: E402

import patarm  # noqa: E402
from patarm.verl import PairRewardManager  # noqa: E402
from patarm.verl.pairing import PairBoard  # noqa: E402

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
    for row, result in zip(pair_rows(PAIRS), results, strict=True):
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
    want = reference_rewards(
        [r["text"] for r in rows], [r["source"] for r in rows], [r["pair_id"] for r in rows], [r["side"] for r in rows]
    )

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
    assert np.allclose([r["reward"] for r in results], patarm.float32_safe(want))  # float32-safe, as verl gets them
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
    assert [w["reward"] for w in withdrawn] == [1.400390625, 1.400390625]
    assert timed_out["reward"] == 0.0 and timed_out["partner_timeout"] == 1.0
    assert board.stats["partner_missing"] == 1 and board.stats["partner_timeout"] == 1 and board.stats["withdrawn"] == 1
    with pytest.raises(ValueError, match="pair_timeout_s"):
        _board(tokenizer, timeout_s=0)


def test_plan_keeps_pairs_whole_and_balances_rollouts():
    from patarm.verl.pairing import plan_worker_chunks

    rng = random.Random(0)
    for _ in range(200):
        pairs = rng.randint(1, 9)
        keys = [("s", k) for k in range(pairs) for _ in range(2)] + [None] * rng.randint(0, 3)
        rng.shuffle(keys)
        workers = rng.randint(1, 4)
        plan = plan_worker_chunks(keys, [1] * len(keys), workers)
        assert sorted(np.concatenate(plan).tolist()) == list(range(len(keys)))
        owner = {}
        for worker, rows in enumerate(plan):
            assert list(rows) == sorted(rows)
            for row in rows:
                if keys[row] is not None:
                    assert owner.setdefault(keys[row], worker) == worker  # a pair never spans workers
        sizes = [len(rows) for rows in plan]
        assert max(sizes) - min(sizes) <= 2  # units are at most 2 rows
