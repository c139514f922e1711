"""PairRewardManager on verl's batch interface, against real DataProto batches and verl's loaders."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from frameworks import require

torch = require("torch")
verl = require("verl")

from verl_batches import compose_config, judgement, make_batch, pair_rows, reference_parse, reference_rewards  # noqa: E402

import patarm  # noqa: E402
from patarm.verl import PairRewardManager  # noqa: E402

PAIRS = [
    # pair id, chosen judgements, rejected judgements (n=3 rollouts each)
    (0, [judgement(8), judgement(9.5), judgement(7)], [judgement(3), judgement(6), judgement(" 2.0 ")]),
    ("p-1", [judgement(5), "no tags at all", judgement(11)], [judgement(4), judgement(4.5), judgement("abc")]),
    (2, [judgement(1), judgement(2), judgement("1e1")], [judgement(9), judgement(10), judgement(8)]),
    (3, [judgement(6), judgement(6), judgement(6)], ["<think>x</think><answer>5</answer>", "", judgement("-1")]),
    (4, [judgement(".5"), judgement("+3."), judgement(0)], [judgement(0), judgement(0.25), judgement(10)]),
]


def reward_vector(data, reward_tensor):
    """Each row's reward read back from the tensor (and checked to sit at the last valid token)."""
    prompt_len = data.batch["prompts"].shape[-1]
    lengths = data.batch["attention_mask"][:, prompt_len:].sum(-1)
    out = []
    for row in range(len(data)):
        nonzero = torch.nonzero(reward_tensor[row]).flatten().tolist()
        assert set(nonzero) <= {max(int(lengths[row]) - 1, 0)}, (row, nonzero)
        out.append(float(reward_tensor[row, max(int(lengths[row]) - 1, 0)]))
    return np.array(out)


def expected(data, tokenizer):
    texts = [
        tokenizer.decode(
            data.batch["responses"][i][: int(data.batch["attention_mask"][i, 16:].sum())], skip_special_tokens=True
        )
        for i in range(len(data))
    ]
    extra = data.non_tensor_batch["extra_info"]
    return np.array(
        reference_rewards(
            texts, list(data.non_tensor_batch["data_source"]), [e["pair_id"] for e in extra], [e["side"] for e in extra]
        )
    )


@pytest.fixture(scope="module")
def batch(tokenizer):
    return make_batch(tokenizer, pair_rows(PAIRS))


def test_rewards_match_method_in_any_row_order(tokenizer, batch):
    manager = PairRewardManager(tokenizer, num_examine=0)
    want = expected(batch, tokenizer)
    assert np.array_equal(
        reward_vector(batch, manager(batch)), patarm.float32_safe(want).astype(np.float32)
    )  # what reaches verl
    # balance_batch-style reordering: same rewards, permuted
    order = np.random.default_rng(0).permutation(len(batch))
    shuffled = batch.select_idxs(order)
    assert np.array_equal(
        reward_vector(shuffled, manager(shuffled)), patarm.float32_safe(want[order]).astype(np.float32)
    )
    # a sanity anchor computed by hand (pair 0: rejected mean 3.667; 8 - 3.667 > 2 -> 1.4)
    assert want[0] == pytest.approx(1.4) and want[3] == pytest.approx(1.4)


def test_repeat_interleave_and_two_sources(tokenizer):
    base = make_batch(
        tokenizer,
        pair_rows([(7, [judgement(9)], [judgement(7.5)])], source="patarm/chat")
        + pair_rows([(7, [judgement(2)], [judgement(6)])], source="patarm/math"),
    )
    repeated = base.repeat(repeat_times=4, interleave=True)
    manager = PairRewardManager(tokenizer, num_examine=0)
    got = reward_vector(repeated, manager(repeated))
    # same pair id in two sources: grouped apart. chat: 9 vs 7.5 -> gap 1.5 -> 1.2 both; math: chosen 2 < 6 -> 0
    assert np.allclose(got, patarm.float32_safe([1.2] * 8 + [0.0] * 8))
    assert np.allclose(got, patarm.float32_safe(expected(repeated, tokenizer)))


def test_return_dict_extra_info_is_aligned(tokenizer, batch):
    out = PairRewardManager(tokenizer, num_examine=0)(batch, return_dict=True)
    info = out["reward_extra_info"]
    assert set(info) == {
        "judge_score",
        "format_reward",
        "par",
        "opposite_mean",
        "error",
        "partner_found",
        "pair_correct",
    }
    assert all(len(values) == len(batch) for values in info.values())
    texts = [r["text"] for r in pair_rows(PAIRS)]
    for row, text in enumerate(texts):
        score, fmt = reference_parse(text)
        assert info["judge_score"][row] == score
        assert info["format_reward"][row] == fmt
        assert info["error"][row] == (
            None if fmt == 0 else "missing_or_misordered_tags" if fmt == -1.5 else "invalid_verdict"
        )
    assert info["opposite_mean"][0] == pytest.approx((3 + 6 + 2) / 3)
    assert all(found == 1.0 for found in info["partner_found"])
    assert np.allclose(np.array(info["par"]) + np.array(info["format_reward"]), expected(batch, tokenizer))


def test_constant_f_and_options_from_kwargs(tokenizer, batch):
    manager = PairRewardManager(tokenizer, num_examine=0, f="constant", constant=1.3)
    got = reward_vector(batch, manager(batch))
    extra = batch.non_tensor_batch["extra_info"]
    texts = [r["text"] for r in pair_rows(PAIRS)]
    want = reference_rewards(
        texts,
        list(batch.non_tensor_batch["data_source"]),
        [e["pair_id"] for e in extra],
        [e["side"] for e in extra],
        f=lambda d: 1.3,
    )
    assert np.allclose(got, patarm.float32_safe(want))
    with pytest.raises(ValueError, match="unknown f"):
        PairRewardManager(tokenizer, num_examine=0, f="cubic")


def test_lonely_side_empty_and_all_padding_rows(tokenizer):
    rows = pair_rows([(1, [judgement(7)], [judgement(2)])]) + [
        {"text": judgement(9), "source": "patarm/chat", "pair_id": 99, "side": "chosen"},  # partner never arrives
        {"text": "", "source": "patarm/chat", "pair_id": 5, "side": "chosen", "eos": False},  # all padding
        {"text": "", "source": "patarm/chat", "pair_id": 5, "side": "rejected"},  # EOS only
    ]
    data = make_batch(tokenizer, rows)
    out = PairRewardManager(tokenizer, num_examine=0)(data, return_dict=True)
    got = reward_vector(data, out["reward_tensor"])
    assert np.allclose(got, patarm.float32_safe([1.4, 1.4, 0.0, -1.5, -1.5]))
    assert out["reward_extra_info"]["partner_found"][2] == 0.0
    assert out["reward_tensor"][3].abs().sum() == 1.5  # empty response: reward at position 0, masked anyway


def test_missing_pair_id_and_bad_side_raise_clear_errors(tokenizer):
    manager = PairRewardManager(tokenizer, num_examine=0)
    data = make_batch(tokenizer, [{"text": judgement(3), "source": "patarm/chat", "pair_id": None, "side": "chosen"}])
    data.non_tensor_batch["reward_model"][0] = {"style": "rule", "ground_truth": "chosen"}
    with pytest.raises(ValueError, match="pair_id.*patarm's data step"):
        manager(data)
    data = make_batch(tokenizer, [{"text": judgement(3), "source": "s", "pair_id": 1, "side": "better"}])
    with pytest.raises(ValueError, match="'chosen' or 'rejected'"):
        manager(data)
    del data.non_tensor_batch["data_source"]
    with pytest.raises(ValueError, match="data_source"):
        manager(data)
    with pytest.raises(TypeError, match="tokenizer"):
        PairRewardManager(None, 0)


def test_pairwise_rows(tokenizer):
    rows = [
        {"text": judgement("A"), "source": "patarm/pairwise", "pair_id": 1, "side": "A"},
        {"text": judgement("B"), "source": "patarm/pairwise", "pair_id": 1, "side": "A"},
        {"text": judgement("7"), "source": "patarm/pairwise", "pair_id": 2, "side": "B"},
        {"text": "junk", "source": "patarm/pairwise", "pair_id": 2, "side": "B"},
    ]
    data = make_batch(tokenizer, rows)
    got = reward_vector(data, PairRewardManager(tokenizer, num_examine=0)(data))
    assert np.allclose(got, [1.0, 0.0, -1.0, -1.5])


def test_user_pair_form_compute_score_replaces_the_builtin(tokenizer, batch):
    calls = []

    def my_score(data_source, solution_str, ground_truth=None, extra_info=None, **kwargs):
        calls.append((data_source, len(solution_str["chosen"]), len(solution_str["rejected"])))
        n = len(solution_str["chosen"]) + len(solution_str["rejected"])
        return {"score": [float(len(solution_str["chosen"]))] * n, "tag": ["mine"] * n}

    out = PairRewardManager(tokenizer, 0, compute_score=my_score)(batch, return_dict=True)
    assert len(calls) == len(PAIRS) and all(c == ("patarm/chat", 3, 3) for c in calls)
    assert np.allclose(reward_vector(batch, out["reward_tensor"]), 3.0)
    assert out["reward_extra_info"]["tag"] == ["mine"] * len(batch)
    # patarm's own pair-form compute_score and verl's default dispatcher select the native path
    native = PairRewardManager(tokenizer, 0, compute_score=patarm.compute_score)
    assert native.compute_score is None
    from verl.utils.reward_score import default_compute_score

    assert PairRewardManager(tokenizer, 0, compute_score=default_compute_score).compute_score is None

    def broken(**kwargs):
        return {"score": [1.0]}

    with pytest.raises(TypeError, match="'score' list"):
        PairRewardManager(tokenizer, 0, compute_score=broken)(batch)


def test_num_examine_prints_pairs_per_source(tokenizer, batch, capsys):
    PairRewardManager(tokenizer, num_examine=1)(batch)
    printed = capsys.readouterr().out
    assert printed.count("[patarm] source=patarm/chat pair=0") == 6
    assert "pair=p-1" not in printed


def test_rm_scores_pass_through(tokenizer, batch):
    data = batch.select_idxs(np.arange(len(batch)))
    data.batch["rm_scores"] = torch.ones_like(data.batch["responses"], dtype=torch.float32)
    data.non_tensor_batch["acc"] = np.ones(len(data))
    data.meta_info["reward_extra_keys"] = ["acc"]
    out = PairRewardManager(tokenizer, 0)(data, return_dict=True)
    assert out["reward_tensor"] is data.batch["rm_scores"]
    assert list(out["reward_extra_info"]) == ["acc"]


def test_registered_and_loaded_by_verls_own_code(tokenizer, qwen_dir):
    from verl.experimental.reward_loop.reward_manager import get_reward_manager_cls as loop_cls
    from verl.trainer.ppo.reward import load_reward_manager
    from verl.workers.reward_manager import get_reward_manager_cls as batch_cls

    assert batch_cls("patarm") is PairRewardManager and loop_cls("patarm") is PairRewardManager
    for overrides in (
        ["reward.reward_manager.name=patarm"],
        [
            "reward.reward_manager.source=importlib",
            "reward.reward_manager.module.path=pkg://patarm.verl",
            "reward.reward_manager.name=PairRewardManager",
        ],
    ):
        config = compose_config(
            [
                f"actor_rollout_ref.model.path={qwen_dir}",
                "+actor_rollout_ref.rollout.agent.agent_loop_manager_class=patarm.verl.agent_loop.PairAgentLoopManager",
                "+reward.reward_kwargs.f=constant",
                "+reward.reward_kwargs.constant=1.25",
                *overrides,
            ]
        )
        manager = load_reward_manager(config, tokenizer, reward_router_address=None, reward_model_tokenizer=None)
        assert isinstance(manager, PairRewardManager)
        assert manager.options.f(0.5) == pytest.approx(1.25)


def test_reward_loop_config_without_the_agent_loop_manager_is_refused(tokenizer, qwen_dir):
    from verl.trainer.ppo.reward import load_reward_manager

    config = compose_config([f"actor_rollout_ref.model.path={qwen_dir}", "reward.reward_manager.name=patarm"])
    with pytest.raises(ValueError, match="agent_loop_manager_class=patarm.verl.agent_loop.PairAgentLoopManager"):
        load_reward_manager(config, tokenizer)
    config = compose_config(
        [
            f"actor_rollout_ref.model.path={qwen_dir}",
            "reward.reward_manager.name=patarm",
            "+reward.reward_kwargs.allow_pointwise_fallback=true",
        ]
    )
    assert isinstance(load_reward_manager(config, tokenizer), PairRewardManager)


def test_pickles_and_survives_a_ray_actor(tokenizer, batch, ray_session):
    ray = ray_session
    manager = PairRewardManager(tokenizer, num_examine=0, f="constant")
    clone = pickle.loads(pickle.dumps(manager))
    want = reward_vector(batch, manager(batch))
    assert np.allclose(reward_vector(batch, clone(batch)), want)
    assert "PairRewardManager(" in repr(manager)

    @ray.remote
    class Scorer:
        def __init__(self, manager):
            self.manager = manager

        def score(self, data):
            return self.manager(data)

    actor = Scorer.remote(manager)
    assert np.allclose(reward_vector(batch, ray.get(actor.score.remote(batch))), want)
    ray.kill(actor)


def test_patarm_resolves_the_manager_lazily():
    import subprocess
    import sys

    code = (
        "import sys, patarm; assert 'verl' not in sys.modules and 'torch' not in sys.modules; "
        "print(patarm.PairRewardManager.__module__)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "patarm.verl.manager"
    assert patarm.PairRewardManager is PairRewardManager
    assert "PairRewardManager" not in patarm.__all__
