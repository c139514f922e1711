"""Keeping pairs in one batch: PairShuffledDataset (verl >= 0.8), PairSampler (verl <= 0.7.1)."""

from __future__ import annotations

import pickle

import pytest

from frameworks import require

torch = require("torch")
verl = require("verl")
pq = require("pyarrow.parquet")
pa = require("pyarrow")

from verl_batches import compose_config  # noqa: E402

from patarm.verl.data import PairSampler, PairShuffledDataset, check_pair_batch_sizes, pair_units  # noqa: E402


def write_rows(path, num_pairs, *, drop=()):
    rows = []
    for k in range(num_pairs):
        for side in ("chosen", "rejected"):
            if (k, side) in drop:
                continue
            rows.append(
                {
                    "data_source": "patarm/chat",
                    "prompt": [{"role": "user", "content": f"Judge response {side} of pair {k}."}],
                    "ability": "judge",
                    "reward_model": {"style": "rule", "ground_truth": side},
                    "extra_info": {"pair_id": f"p{k}", "side": side, "domain": "chat", "index": len(rows)},
                }
            )
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def data_config(qwen_dir, train, val=None, *extra):
    config = compose_config(
        [
            f"actor_rollout_ref.model.path={qwen_dir}",
            f"data.train_files={train}",
            f"data.val_files={val or train}",
            "data.custom_cls.path=pkg://patarm.verl.data",
            "data.custom_cls.name=PairShuffledDataset",
            "data.shuffle=False",
            "data.train_batch_size=4",
            "data.filter_overlong_prompts=False",
            "data.dataloader_num_workers=0",
            *extra,
        ]
    )
    return config


def batches_of(dataset, batch_size):
    from torch.utils.data import DataLoader, SequentialSampler
    from verl.utils.dataset.rl_dataset import collate_fn

    loader = DataLoader(
        dataset, batch_size=batch_size, sampler=SequentialSampler(dataset), collate_fn=collate_fn, drop_last=True
    )
    return [[(e["pair_id"], e["side"]) for e in batch["extra_info"]] for batch in loader]


def test_dataset_loaded_by_verl_serves_whole_pairs_reshuffled_each_epoch(tokenizer, qwen_dir, tmp_path):
    from verl.trainer.ppo.utils import create_rl_dataset, create_rl_sampler

    path = write_rows(str(tmp_path / "train.parquet"), 10, drop={(3, "rejected")})
    config = data_config(qwen_dir, path, None, "+data.pair_epochs=2", "+data.pair_seed=7")
    dataset = create_rl_dataset(config.data.train_files, config.data, tokenizer, None)
    assert isinstance(dataset, PairShuffledDataset)
    assert len(dataset) == 2 * 2 * 9  # pair p3 lost its rejected row and is left out; two epochs
    sampler = create_rl_sampler(config.data, dataset)  # verl's own choice with data.shuffle=False
    assert type(sampler).__name__ == "SequentialSampler"
    batches = batches_of(dataset, 4)
    for batch in batches:  # every batch holds whole pairs, chosen then rejected
        assert [side for _, side in batch] == ["chosen", "rejected"] * 2
        assert batch[0][0] == batch[1][0] and batch[2][0] == batch[3][0]
    first = [pid for batch in batches[:4] for pid, side in batch if side == "chosen"]
    second = [pid for batch in batches[5:9] for pid, side in batch if side == "chosen"]
    assert first != second  # each epoch has its own order
    assert "p3" not in first
    again = create_rl_dataset(config.data.train_files, config.data, tokenizer, None)
    assert batches_of(again, 4) == batches  # a pure function of the seed


def test_batch_sizes_that_split_pairs_fail_at_start_up(qwen_dir, tokenizer, tmp_path):
    path = write_rows(str(tmp_path / "train.parquet"), 4)
    from verl.trainer.ppo.utils import create_rl_dataset

    for overrides, message in (
        (["data.train_batch_size=3"], "data.train_batch_size"),
        (["data.shuffle=True"], "data.shuffle=True would shuffle single rows"),
        (["data.val_batch_size=3"], "data.val_batch_size"),
        (["data.val_batch_size=4", "data.validation_shuffle=True"], "validation_shuffle"),
    ):
        config = data_config(qwen_dir, path, None, *overrides)
        with pytest.raises(ValueError, match=message):
            create_rl_dataset(config.data.train_files, config.data, tokenizer, None)
    check_pair_batch_sizes({"train_batch_size": 8, "val_batch_size": None})


def test_pair_units_by_id_not_position():
    sources = ["s"] * 5
    extra = [
        {"pair_id": 1, "side": "rejected"},
        {"pair_id": 2, "side": "chosen"},
        {"pair_id": 1, "side": "chosen"},
        {"pair_id": 2, "side": "rejected"},
        {"pair_id": 9, "side": "A"},
    ]
    assert pair_units(sources, extra) == [(4,), (2, 0), (1, 3)]
    with pytest.raises(ValueError, match="pair_id"):
        pair_units(["s"], [{"side": "chosen"}])
    with pytest.raises(ValueError, match="two 'chosen' rows"):
        pair_units(["s", "s"], [{"pair_id": 1, "side": "chosen"}] * 2)


def test_legacy_sampler_contract_and_pickling(tokenizer, qwen_dir, tmp_path, ray_session):
    from verl.trainer.ppo.utils import create_rl_dataset

    path = write_rows(str(tmp_path / "train.parquet"), 6)
    config = data_config(qwen_dir, path, None, "data.custom_cls.path=null")
    dataset = create_rl_dataset(config.data.train_files, config.data, tokenizer, None)
    sampler = PairSampler(data_source=dataset, data_config=config.data)  # verl <= 0.7.1 calls it so
    epoch0, epoch1 = list(sampler), list(sampler)
    assert sorted(epoch0) == list(range(12)) and epoch0 != epoch1
    for k in range(0, 12, 2):
        assert epoch0[k] % 2 == 0 and epoch0[k + 1] == epoch0[k] + 1  # chosen row, then its rejected row
    sampler.set_epoch(0)
    clone = pickle.loads(pickle.dumps(sampler))
    assert list(clone) == epoch0
    remote = ray_session.put(sampler)
    assert list(ray_session.get(remote)) == epoch0
    with pytest.raises(ValueError, match="data.train_batch_size"):
        PairSampler(range(4), {"train_batch_size": 5})
    assert list(PairSampler(range(5), {"train_batch_size": 2, "seed": 1})).__len__() == 4


def test_patarm_prepare_output_through_the_pair_dataset_and_manager(tokenizer, qwen_dir, tmp_path):
    """The data CLI's files -> verl's dataset loading -> PairShuffledDataset -> rewards by pair."""
    from pathlib import Path

    from verl.trainer.ppo.utils import create_rl_dataset
    from verl_batches import judgement, make_batch

    from patarm.verl import PairRewardManager
    from patarm.workflow.data import prepare

    pairs = Path(__file__).resolve().parents[1] / "data" / "pairs.jsonl"
    out = tmp_path / "train.parquet"
    prepare(pairs, out, seed=3, show_progress=False)
    config = data_config(qwen_dir, str(out), None, "data.train_batch_size=2")
    dataset = create_rl_dataset(config.data.train_files, config.data, tokenizer, None)
    items = [dataset[i] for i in range(len(dataset))]
    for k in range(0, len(items), 2):
        assert items[k]["extra_info"]["pair_id"] == items[k + 1]["extra_info"]["pair_id"]
    # judge each row: chosen rows 8, rejected rows 3 -> every chosen 1.4 (gap 5), every rejected 1.4
    rows = [
        {
            "text": judgement(8 if item["reward_model"]["ground_truth"] == "chosen" else 3),
            "source": item["data_source"],
            "pair_id": item["extra_info"]["pair_id"],
            "side": item["extra_info"]["side"],
        }
        for item in items
    ]
    data = make_batch(tokenizer, rows)
    rewards = PairRewardManager(tokenizer, 0)(data).sum(-1)
    assert torch.allclose(rewards, torch.full_like(rewards, 1.400390625))  # 1.4, float32-safe
