"""End to end on verl 0.9.1's real machinery: `PairAgentLoopManager.create` called as verl's
trainers call it, real Ray worker actors built by Ray from patarm's worker classes, verl's
reward-loop worker, verl's RLHFDataset over `patarm prepare` rows, TransferQueue put/list/get
and verl's replay buffer (v1), DataProto repetition and validation padding (legacy). Only the
LLM server is replaced (`agent_loop_harness.FakeLLMClient`: random judgements, some malformed,
after random delays). Every reward is checked against an exact PAR reference over the pair."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest

from frameworks import require

torch = require("torch")
require("verl.experimental.agent_loop")

import agent_loop_harness as harness  # noqa: E402
from verl import DataProto  # noqa: E402
from verl_batches import compose_config  # noqa: E402

from patarm.verl.agent_loop import PairAgentLoopManager  # noqa: E402
from patarm.verl.setup_checks import check_trainer_setup  # noqa: E402

MANAGER = "patarm.verl.agent_loop.PairAgentLoopManager"


def e2e_config(model_path: str, *extra: str):
    return compose_config(
        [
            f"actor_rollout_ref.model.path={model_path}",
            "actor_rollout_ref.rollout.name=vllm",
            "reward.reward_manager.source=importlib",
            "reward.reward_manager.module.path=pkg://patarm.verl",
            "reward.reward_manager.name=PairRewardManager",
            f"+actor_rollout_ref.rollout.agent.agent_loop_manager_class={MANAGER}",
            "reward.num_workers=1",
            "actor_rollout_ref.rollout.agent.num_workers=2",
            "actor_rollout_ref.rollout.n=2",
            "actor_rollout_ref.rollout.val_kwargs.n=3",
            "data.max_prompt_length=4096",
            "actor_rollout_ref.rollout.prompt_length=4096",
            "actor_rollout_ref.rollout.response_length=128",
            *extra,
        ]
    )


@pytest.fixture(scope="module")
def model_path(qwen_dir, tmp_path_factory):
    return harness.model_dir(qwen_dir, tmp_path_factory.mktemp("model"))


def check_rewards(texts, sources, extras, rm_scores):
    """Each reward equals the exact, float32-safe PAR reference over its whole pair."""
    want = harness.reference_rewards(texts, sources, [e["pair_id"] for e in extras], [e["side"] for e in extras])
    got = np.asarray(rm_scores, dtype=np.float32)
    assert got.tolist() == [harness.float32_safe(w) for w in want]
    assert np.all(got * 1024 == np.round(got * 1024))  # multiples of 2^-10


def legacy_batch(dataset, rows, n, *, validate, step=1):
    batch_dict = harness.collate(dataset, rows)
    batch_dict["uid"] = np.array([str(uuid.uuid4()) for _ in rows], dtype=object)
    batch = DataProto.from_single_dict(batch_dict).repeat(n, interleave=True)
    batch.meta_info = {"global_steps": step, "validate": validate}
    return batch


def decoded(tokenizer, output):
    prompt_len = output.batch["prompts"].shape[1]
    lengths = output.batch["attention_mask"][:, prompt_len:].sum(-1)
    texts = [
        tokenizer.decode(output.batch["responses"][i, : int(lengths[i])], skip_special_tokens=True)
        for i in range(len(output))
    ]
    rewards = output.batch["rm_scores"].sum(-1).tolist()
    return texts, rewards


def test_legacy_trainer_scores_whole_pairs_in_any_order(tokenizer, model_path, ray_session, tmp_path):
    from verl.protocol import pad_dataproto_to_divisor, unpad_dataproto

    config = e2e_config(model_path, "trainer.use_v1=False")
    dataset = harness.prepared_dataset(tmp_path, harness.write_pairs(tmp_path / "pairs.jsonl", 5), model_path, config)
    counter = ray_session.remote(harness.CountingRewardLoopWorker).remote(config)
    manager = PairAgentLoopManager.create(
        config=config,
        llm_client=harness.FakeLLMClient(config, seed=1),
        teacher_client=None,
        reward_loop_worker_handles=[counter],
    )
    assert type(manager) is PairAgentLoopManager
    rng = np.random.default_rng(0)
    pair_order = list(range(len(dataset)))
    shuffled = rng.permutation(len(dataset)).tolist()
    for step, (rows, validate, n) in enumerate(
        [(pair_order, False, 2), (shuffled, False, 2), (pair_order, True, 3)], start=1
    ):
        batch = legacy_batch(dataset, rows, n, validate=validate, step=step)
        if validate:  # as verl's legacy validation: padded to the worker count, unpadded after
            padded, pad_size = pad_dataproto_to_divisor(batch, 4)  # verl pads to its worker count
            assert pad_size > 0
            output = unpad_dataproto(manager.generate_sequences(padded), pad_size=pad_size)
        else:
            output = manager.generate_sequences(batch)
        # verl unions the output with the input batch by position: it must come back in verl's row order
        assert [list(p) for p in output.non_tensor_batch["raw_prompt"]] == [
            list(p) for p in batch.non_tensor_batch["raw_prompt"]
        ]
        texts, rewards = decoded(tokenizer, output)
        check_rewards(
            texts,
            batch.non_tensor_batch["data_source"].tolist(),
            batch.non_tensor_batch["extra_info"].tolist(),
            rewards,
        )
        assert all(found == 1.0 for found in output.non_tensor_batch["partner_found"])
        assert not any(output.non_tensor_batch["partner_timeout"])
        assert output.meta_info["timing"]["patarm/partner_missing"] == 0.0
    assert ray_session.get(counter.num_calls.remote()) == 0  # verl's per-rollout reward worker never ran
    # a pair with one side in the batch: PAR 0 for that side, counted; and a rollout that raises
    lone = legacy_batch(dataset, [0, 1, 2], 2, validate=False, step=9)
    output = manager.generate_sequences(lone)
    texts, rewards = decoded(tokenizer, output)
    check_rewards(
        texts, lone.non_tensor_batch["data_source"].tolist(), lone.non_tensor_batch["extra_info"].tolist(), rewards
    )
    assert output.meta_info["timing"]["patarm/partner_missing"] == 2.0


def test_legacy_rollout_that_raises_fails_the_batch_without_waiting(tokenizer, model_path, ray_session, tmp_path):
    config = e2e_config(model_path, "trainer.use_v1=False", "+reward.reward_kwargs.pair_timeout_s=600")
    dataset = harness.prepared_dataset(
        tmp_path, harness.write_pairs(tmp_path / "fail.jsonl", 2, fail_pair=1), model_path, config
    )
    manager = PairAgentLoopManager.create(
        config=config, llm_client=harness.FakeLLMClient(config), teacher_client=None, reward_loop_worker_handles=None
    )
    with pytest.raises(Exception, match="request failed"):  # verl's worker gathers without return_exceptions
        manager.generate_sequences(legacy_batch(dataset, range(len(dataset)), 2, validate=False))


def as_list(column):
    """A TransferQueue column as a list (a NonTensorStack, or a list already)."""
    return column.tolist() if hasattr(column, "tolist") else list(column)


def test_v1_trainer_transfer_queue_scores_whole_pairs(tokenizer, model_path, ray_session, tmp_path):
    tq = require("transfer_queue")
    from omegaconf import open_dict
    from verl.utils import tensordict_utils as tu

    from patarm.verl.replay_buffer import METRIC_PARTNER_MISSING, PairReplayBuffer

    # one TransferQueue storage unit: each takes a CPU, and the test's Ray has two
    config = e2e_config(
        model_path, "trainer.use_v1=True", "transfer_queue.backend.SimpleStorage.num_data_storage_units=1"
    )
    with open_dict(config):
        config.transfer_queue.enable = True  # what verl's TaskRunnerV1 sets before creating the manager
    tq.init(config.transfer_queue)
    try:
        dataset = harness.prepared_dataset(
            tmp_path, harness.write_pairs(tmp_path / "pairs.jsonl", 5, fail_pair=3), model_path, config
        )
        counter = ray_session.remote(harness.CountingRewardLoopWorker).remote(config)
        manager = PairAgentLoopManager.create(
            config=config,
            llm_client=harness.FakeLLMClient(config, seed=2),
            teacher_client=None,
            reward_loop_worker_handles=[counter],
        )
        assert type(manager).__name__ == "PairAgentLoopManagerTQ"
        buffer = PairReplayBuffer(
            trainer_mode="sync",
            trainer_config={},
            max_off_policy_threshold=None,
            max_off_policy_strategy="drop",
            sampler_kwargs={},
            poll_interval=0.1,
        )
        shuffled = np.random.default_rng(1).permutation(len(dataset)).tolist()
        cases = [(shuffled, "train"), (list(range(len(dataset)))[:-1], "val")]  # val: last pair misses a side
        for step, (rows, partition) in enumerate(cases, start=1):
            batch_dict = harness.collate(dataset, rows)
            batch_dict["uid"] = np.array([str(uuid.uuid4()) for _ in rows], dtype=object)
            batch = tu.get_tensordict(batch_dict)
            tu.assign_non_tensor_data(batch, "global_steps", step)
            if partition == "val":
                tu.assign_non_tensor_data(batch, "validate", True)
            tags = [{"is_prompt": True, "status": "pending", "global_steps": step} for _ in rows]
            tq.kv_batch_put(keys=list(batch["uid"]), partition_id=partition, tags=tags)
            manager.generate_sequences(batch)
            meta, metrics = buffer.sample(global_steps=step, partition_id=partition, batch_size=len(rows))
            data = tq.kv_batch_get(
                keys=meta.keys,
                partition_id=partition,
                select_fields=["responses", "rm_scores", "data_source", "extra_info", "extra_fields"],
            )
            texts = [tokenizer.decode(ids, skip_special_tokens=True) for ids in data["responses"].unbind()]
            rewards = [float(r.sum()) for r in data["rm_scores"].unbind()]
            extras = as_list(data["extra_info"])
            check_rewards(texts, as_list(data["data_source"]), extras, rewards)
            infos = [fields["reward_extra_info"] for fields in as_list(data["extra_fields"])]
            assert not any(info["partner_timeout"] for info in infos)
            present = {(e["pair_id"], e["side"]) for e in extras}
            for extra, info in zip(extras, infos, strict=True):
                whole = (extra["pair_id"], "rejected" if extra["side"] == "chosen" else "chosen") in present
                assert info["partner_found"] == float(whole)
            if partition == "train":
                # the failed rollout (pair 3) withdrew itself: its partners were scored without waiting
                assert len(meta.keys) == 2 * len(rows) - 2  # one failed request per side of pair 3
                assert metrics[METRIC_PARTNER_MISSING] == 0.0
            else:
                assert sum(1 for info in infos if info["partner_found"] == 0.0) == 3
            tq.kv_clear(keys=meta.keys, partition_id=partition)
        assert ray_session.get(counter.num_calls.remote()) == 0
    finally:
        tq.close()


@pytest.mark.parametrize(
    "overrides, setting",
    [
        (["trainer.v1.trainer_mode=colocate_async"], "trainer.v1.trainer_mode=colocate_async"),
        (["algorithm.filter_groups.enable=True"], "algorithm.filter_groups.enable=True"),
        (["trainer.v1.sampler.sync_refill_failed_groups=True"], "sync_refill_failed_groups=True"),
        (["+async_training.staleness_threshold=1"], "fully-async"),
    ],
)
def test_unsupported_trainer_modes_are_refused_naming_the_setting(model_path, overrides, setting):
    config = e2e_config(model_path, "trainer.use_v1=True", *overrides)
    from omegaconf import open_dict

    with open_dict(config):
        config.transfer_queue.enable = True
    with pytest.raises(ValueError, match=setting.replace(".", r"\.")):
        check_trainer_setup(config)


def test_fully_async_reward_workers_refuse_to_train_on_format_rewards(tokenizer, model_path):
    from patarm.verl import PairRewardManager

    config = e2e_config(model_path, "+async_training.staleness_threshold=1")
    with pytest.raises(ValueError, match="fully-async"):
        PairRewardManager(tokenizer=tokenizer, config=config)


def test_untested_verl_versions_are_refused():
    from patarm.verl.setup_checks import check_verl_version

    check_verl_version("agent_loop", "0.9.1")
    for version in ("0.7.1", "0.8.0", "0.10.0"):
        with pytest.raises(RuntimeError, match="tested on verl 0.9"):
            check_verl_version("agent_loop", version)


def test_model_dir_is_only_a_config(model_path):
    assert (Path(model_path) / "config.json").exists() and not list(Path(model_path).glob("*.safetensors"))
