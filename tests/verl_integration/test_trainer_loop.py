"""PaTaRM judge training through verl 0.9.1's own trainer loops, on the CPU.

The config is verl's shipped ``ppo_trainer`` YAML composed with the overrides of
``examples/verl/run_patarm_grpo.sh`` itself (parsed from the recipe, not copied), sized for a
2-core machine. verl's task runner builds everything and calls ``fit``: what is verl's code and
what is replaced is listed in ``trainer_harness``'s docstring (only the model computations of
the actor/ref worker group, the LLM servers and their weight sync, and the GPU resource pools).

Each run trains with validation before training and after every step (``test_freq=1``),
``balance_batch`` on and GRPO advantages. Asserted on every step, from what verl handed the
actor's ``update_actor``: each rollout's reward equals an exact PAR reference over its whole
pair (float32-safe), each pair of the batch was there whole, GRPO advantages are verl's formula
over those rewards; the logged metrics hold patarm's counters and the pair accuracy; validation
metrics per data source come from the validation file served once. A checkpoint is saved and a
resumed run continues the exact pair order of the uninterrupted one. Cases: the defaults, another
``data.reward_fn_key``, a user's f (``pkg://``), a user's pair-form ``compute_score``
(``reward.custom_reward_function``), on the legacy trainer and the v1 trainer.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from frameworks import require

torch = require("torch")
require("verl.experimental.agent_loop")

import agent_loop_harness as harness  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import trainer_harness  # noqa: E402
from test_recipe import recipe_overrides  # noqa: E402
from verl_batches import compose_config  # noqa: E402

import par_reference  # noqa: E402

NUM_PAIRS = 8  # 6 training pairs (12 rows), 2 validation pairs (4 rows)
VAL_PAIRS = 2
BATCH = 4  # rows (2 whole pairs) per step
ROLLOUT_N = 2
STEPS = 3
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def model_path(qwen_dir, tmp_path_factory):
    return harness.model_dir(qwen_dir, tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """`patarm prepare` output: a training and a validation file of whole pairs, plus a second
    source column for the ``data.reward_fn_key`` case."""
    from patarm.workflow.data import prepare

    root = tmp_path_factory.mktemp("data")
    pairs = harness.write_pairs(root / "pairs.jsonl", NUM_PAIRS)
    prepare(pairs, root / "train.parquet", val_output=str(root / "val.parquet"), val_size=VAL_PAIRS,
            seed=0, show_progress=False)  # fmt: skip
    for name in ("train", "val"):
        table = pq.read_table(root / f"{name}.parquet")
        judged = [f"{source}@judge" for source in table.column("data_source").to_pylist()]
        pq.write_table(table.append_column("judge_source", [judged]), root / f"{name}.parquet")
    return root


def trainer_config(model_path: str, data_dir: Path, ckpt_dir: Path, *extra: str) -> Any:
    """verl's YAML + the recipe's own overrides + the CPU sizing (+ a case's settings)."""
    recipe = recipe_overrides({"DATA": str(data_dir), "MODEL": model_path, "GPUS": "1"})
    cpu = [
        f"data.train_batch_size={BATCH}",
        "data.max_prompt_length=4096",
        "data.max_response_length=128",
        "data.dataloader_num_workers=0",
        f"actor_rollout_ref.rollout.n={ROLLOUT_N}",
        f"actor_rollout_ref.actor.ppo_mini_batch_size={BATCH}",
        "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=1",
        "actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=1",
        "actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu=1",
        "actor_rollout_ref.rollout.tensor_model_parallel_size=1",
        "actor_rollout_ref.rollout.prompt_length=4096",
        "actor_rollout_ref.rollout.response_length=128",
        "actor_rollout_ref.rollout.agent.num_workers=2",
        "trainer.test_freq=1",
        "trainer.val_before_train=True",
        "trainer.balance_batch=True",
        f"trainer.total_training_steps={STEPS}",
        "trainer.save_freq=2",
        f"trainer.default_local_dir={ckpt_dir}",
        "trainer.resume_mode=auto",
        "ray_kwargs.ray_init.num_cpus=2",
        "transfer_queue.backend.SimpleStorage.num_data_storage_units=1",
    ]
    return compose_config([*recipe, *cpu, *extra])


def decode(tokenizer: Any, ids: list[int]) -> str:
    return tokenizer.decode(ids, skip_special_tokens=True)


def reference_rewards(tokenizer: Any, rows: list[dict], source_key: str, f: Any = None) -> list[float]:
    """The exact PAR reward of every row, over all judgements of its pair in the batch."""
    texts = [decode(tokenizer, row["response_ids"]) for row in rows]
    sources = [row[source_key] for row in rows]
    kwargs = {} if f is None else {"f": f}
    return par_reference.score_batch(
        texts,
        [row["extra_info"]["pair_id"] for row in rows],
        [row["extra_info"]["side"] for row in rows],
        sources=sources,
        **kwargs,
    )["reward"]


def grpo_reference(rows: list[dict], epsilon: float = 1e-6) -> list[float]:
    """verl's GRPO outcome advantage, written out: (r - mean) / (std + eps) within each uid."""
    groups: dict = defaultdict(list)
    for row in rows:
        groups[row["uid"]].append(row["reward"])
    stats = {uid: (np.mean(r), np.std(r, ddof=1) if len(r) > 1 else 1.0) for uid, r in groups.items()}
    return [(row["reward"] - stats[row["uid"]][0]) / (stats[row["uid"]][1] + epsilon) for row in rows]


def check_steps(
    trainer: Any, tokenizer: Any, logged: list, *, source_key: str = "data_source", f: Any = None, pair_form=None
) -> None:
    """The per-step assertions of the module docstring on one finished run."""
    updates = trainer.actor_rollout_wg.updates
    assert len(updates) == STEPS
    for rows in updates:
        assert len(rows) == BATCH * ROLLOUT_N
        # whole pairs: each (source, pair id) has both sides, n rollouts each
        sides = Counter((row[source_key], row["extra_info"]["pair_id"], row["extra_info"]["side"]) for row in rows)
        pairs = {(s, p) for s, p, _ in sides}
        assert len(pairs) == BATCH // 2
        assert all(sides[(s, p, side)] == ROLLOUT_N for s, p in pairs for side in ("chosen", "rejected"))
        got = np.asarray([row["reward"] for row in rows], dtype=np.float32)
        if pair_form is not None:
            want = pair_form(tokenizer, rows)
        else:
            want = reference_rewards(tokenizer, rows, source_key, f)
        assert got.tolist() == [harness.float32_safe(w) for w in want]
        assert np.all(got * 1024 == np.round(got * 1024))  # multiples of 2^-10
        advantages = [row["advantage"] for row in rows]
        assert np.allclose(advantages, grpo_reference(rows), atol=1e-5)
    steps = {step: metrics for step, metrics in logged}
    for step in range(1, STEPS + 1):
        metrics = steps[step]
        prefix = "training/" if any(k.startswith("training/patarm/") for k in metrics) else "timing_s/"
        assert metrics[f"{prefix}patarm/partner_missing"] == 0.0
        assert metrics[f"{prefix}patarm/partner_timeout"] == 0.0
        if pair_form is None:
            assert 0.0 <= metrics[f"{prefix}patarm/pair_accuracy"] <= 1.0
        assert any(key.startswith("val-") for key in metrics)  # test_freq=1
    val_sources = set(pq.read_table(trainer.config.data.val_files).column("data_source").to_pylist())
    for step in range(0, STEPS + 1):  # validation before training (step 0) and after every step
        for source in val_sources:
            assert f"val-core/{source}/reward/mean@1" in steps[step]
            if pair_form is None:
                assert f"val-aux/{source}/partner_found/mean@1" in steps[step]
                assert steps[step][f"val-aux/{source}/partner_found/mean@1"] == 1.0


def served_pairs(trainer: Any) -> list[list[tuple]]:
    return [
        sorted({(row["data_source"], row["extra_info"]["pair_id"]) for row in rows})
        for rows in trainer.actor_rollout_wg.updates
    ]


@pytest.mark.parametrize("use_v1", [False, True], ids=["legacy", "v1"])
def test_recipe_trains_through_verls_trainer_loop(use_v1, tokenizer, model_path, data_dir, ray_session, tmp_path):
    config = trainer_config(model_path, data_dir, tmp_path / "ckpt", f"trainer.use_v1={use_v1}")
    run = trainer_harness.run_v1 if use_v1 else trainer_harness.run_legacy
    with trainer_harness.recorded_metrics() as logged:
        trainer = run(config, seed=3)
    check_steps(trainer, tokenizer, logged)
    # the validation file was served once, as is (pair_epochs applies to training only)
    assert len(trainer.val_dataset) == 2 * VAL_PAIRS
    assert len(trainer.train_dataset) == 2 * 2 * (NUM_PAIRS - VAL_PAIRS)  # +data.pair_epochs=2
    assert trainer.actor_rollout_wg.saved  # save_freq=2: a checkpoint at step 2 (and the last step)

    # resume: a run of 1 step saves, a second run resumes from it and continues the pair order
    first = trainer_config(model_path, data_dir, tmp_path / "resume", f"trainer.use_v1={use_v1}",
                           "trainer.total_training_steps=1", "trainer.save_freq=1")  # fmt: skip
    run(first, seed=3)
    resumed = run(trainer_config(model_path, data_dir, tmp_path / "resume", f"trainer.use_v1={use_v1}"), seed=3)
    assert resumed.actor_rollout_wg.loaded  # verl's _load_checkpoint ran
    assert served_pairs(resumed) == served_pairs(trainer)[1:]


def pair_form_score(data_source: str, solution_str: dict, ground_truth: Any, extra_info: dict, **kwargs: Any) -> dict:
    """A user's pair-form compute_score: 1 for a chosen judgement whose score beats every
    rejected one, else 0 (rejected judgements get the mirror)."""
    from patarm import parse_judgement

    chosen = [parse_judgement(text).score for text in solution_str["chosen"]]
    rejected = [parse_judgement(text).score for text in solution_str["rejected"]]
    valid_r = [s for s in rejected if s is not None]
    valid_c = [s for s in chosen if s is not None]
    score = [float(s is not None and all(s > r for r in valid_r)) for s in chosen]
    score += [float(s is not None and all(s < c for c in valid_c)) for s in rejected]
    return {"score": score, "user_tag": [kwargs.get("tag", "")] * len(score)}


def pair_form_reference(tokenizer: Any, rows: list[dict]) -> list[float]:
    groups: dict = defaultdict(lambda: {"chosen": [], "rejected": []})
    for i, row in enumerate(rows):
        groups[(row["data_source"], row["extra_info"]["pair_id"])][row["extra_info"]["side"]].append(i)
    out = [0.0] * len(rows)
    for sides in groups.values():
        order = sides["chosen"] + sides["rejected"]
        result = pair_form_score(
            "", {s: [decode(tokenizer, rows[i]["response_ids"]) for i in sides[s]] for s in sides}, None, {}
        )
        for i, value in zip(order, result["score"], strict=True):
            out[i] = value
    return out


@pytest.mark.parametrize(
    "settings, check",
    [
        (["data.reward_fn_key=judge_source"], {"source_key": "judge_source"}),
        (["reward.reward_kwargs.f=pkg://trainer_harness.steep_f"], {"f": lambda d: trainer_harness.steep_f(float(d))}),
        (
            [
                f"reward.custom_reward_function.path={Path(__file__).resolve()}",
                "reward.custom_reward_function.name=pair_form_score",
                "+reward.custom_reward_function.reward_kwargs.tag=mine",
            ],
            {"pair_form": pair_form_reference},
        ),
    ],
    ids=["reward_fn_key", "user_f", "pair_form_compute_score"],
)
def test_user_settings_reach_the_pair_scorer(settings, check, tokenizer, model_path, data_dir, ray_session, tmp_path):
    config = trainer_config(model_path, data_dir, tmp_path / "ckpt", "trainer.use_v1=False", "trainer.save_freq=-1",
                            *settings)  # fmt: skip
    with trainer_harness.recorded_metrics() as logged:
        trainer = trainer_harness.run_legacy(config, seed=5)
    check_steps(trainer, tokenizer, logged, **check)


def test_settings_that_would_silently_mislead_warn(model_path, data_dir, tmp_path):
    from patarm.verl.setup_checks import warn_about_silent_settings

    config = trainer_config(model_path, data_dir, tmp_path, "actor_rollout_ref.rollout.val_kwargs.n=4",
                            "trainer.total_epochs=30", "data.pair_epochs=1")  # fmt: skip
    with pytest.warns(UserWarning) as caught:
        messages = warn_about_silent_settings(config)
    assert len(messages) == 2 and len(caught) == 2
    assert "val_kwargs.n=4" in messages[0] and "identical" in messages[0]
    assert "total_epochs=30" in messages[1] and "pair_epochs=30" in messages[1]
    recipe = trainer_config(model_path, data_dir, tmp_path)
    assert warn_about_silent_settings(recipe) == []  # the recipe itself is clean
