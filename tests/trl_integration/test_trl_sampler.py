"""Keeping pairs whole in TRL: PairRepeatSampler, check_pair_batching, check_pair_layout."""

from __future__ import annotations

import logging
import pickle
from collections import Counter

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from frameworks import require
from patarm.trl import PairRepeatSampler, check_pair_batching, check_pair_layout


def expand(order, num_generations):
    return [row for row in order for _ in range(num_generations)]


def blocks_of(stream, size):
    return [stream[i : i + size] for i in range(0, len(stream), size)]


def pairs_whole(block, num_generations):
    """Every pair (rows 2k, 2k+1) in the block has all its rows: num_generations of each side."""
    counts = Counter(block)
    return all(counts[2 * (row // 2)] == counts[2 * (row // 2) + 1] == num_generations for row in counts)


@settings(max_examples=80, deadline=None)
@given(
    rows=st.integers(0, 41),
    num_generations=st.integers(1, 4),
    half_chunk=st.integers(1, 5),
    repeat_count=st.integers(1, 3),
    shuffle=st.booleans(),
    seed=st.integers(0, 2**31),
)
def test_sampler_structure(rows, num_generations, half_chunk, repeat_count, shuffle, seed):
    chunk = 2 * half_chunk
    sampler = PairRepeatSampler(
        rows,
        num_generations=num_generations,
        prompts_per_batch=chunk,
        repeat_count=repeat_count,
        shuffle=shuffle,
        seed=seed,
    )
    stream = list(sampler)
    assert len(stream) == len(sampler)
    chunk_rows = chunk * num_generations * repeat_count
    assert len(stream) % chunk_rows == 0
    seen = []
    for block in blocks_of(stream, chunk_rows):
        copies = blocks_of(block, chunk * num_generations)
        assert all(copy == copies[0] for copy in copies)  # each chunk repeated repeat_count times
        groups = blocks_of(copies[0], num_generations)
        assert all(len(set(group)) == 1 for group in groups)  # a prompt's generations are adjacent
        prompts = [group[0] for group in groups]
        for k in range(0, chunk, 2):  # pairs adjacent: chosen row 2k then rejected row 2k+1
            assert prompts[k] % 2 == 0 and prompts[k + 1] == prompts[k] + 1
        seen.extend(prompts)
    assert len(seen) == len(set(seen))  # no prompt twice in an epoch
    assert all(row < rows - rows % 2 for row in seen)  # an odd last row is never yielded
    assert len(seen) == (rows - rows % 2) // chunk * chunk  # only an incomplete last chunk is dropped


def test_seeded_order_is_reproducible_and_epochs_reshuffle():
    def make():
        return PairRepeatSampler(200, num_generations=2, prompts_per_batch=4, seed=7)

    a, b = make(), make()
    first = list(a)
    assert first == list(b)
    assert list(a) != first  # a second pass (next epoch) reshuffles
    b.set_epoch(0)
    assert list(b) == first  # the Trainer's set_epoch(epoch) pins the order
    assert list(PairRepeatSampler(200, num_generations=2, prompts_per_batch=4, seed=8)) != first
    assert list(PairRepeatSampler(10, num_generations=2, shuffle=False)) == expand(range(10), 2)
    assert "rows=200" in repr(a)


def test_sampler_pickles_mid_run():
    sampler = PairRepeatSampler(40, num_generations=2, prompts_per_batch=4, seed=5)
    list(sampler)  # epoch 0 done
    clone = pickle.loads(pickle.dumps(sampler))
    assert list(clone) == list(sampler)  # both serve epoch 1 alike


def test_sampler_rejects_bad_arguments():
    with pytest.raises(ValueError, match="prompts_per_batch=3 is odd"):
        PairRepeatSampler(10, num_generations=2, prompts_per_batch=3)
    with pytest.raises(ValueError, match="num_generations must be a positive integer"):
        PairRepeatSampler(10, num_generations=0)


@settings(max_examples=200, deadline=None)
@given(
    per_device=st.integers(1, 12),
    steps_per_generation=st.integers(1, 4),
    num_generations=st.integers(2, 6),
    processes=st.integers(1, 4),
)
def test_batching_check_is_exact(per_device, steps_per_generation, num_generations, processes):
    """check_pair_batching passes exactly when every process's scored block holds whole pairs."""
    block = per_device * steps_per_generation
    generation_batch = block * processes
    assume(generation_batch % num_generations == 0)  # TRL's own GRPOConfig check
    prompts = generation_batch // num_generations
    # The ideal pair-preserving order (c0 r0 c1 r1 ...), cut as accelerate cuts it: one consecutive
    # block per process. With an odd prompt count, the last pair of the batch is split by construction.
    stream = expand(range(prompts + prompts % 2), num_generations)[:generation_batch]
    whole = all(pairs_whole(b, num_generations) for b in blocks_of(stream, block))
    try:
        check_pair_batching(
            per_device_batch_size=per_device, steps_per_generation=steps_per_generation, num_generations=num_generations
        )
        passed = True
    except ValueError as error:
        passed = False
        assert "per_device_train_batch_size" in str(error) and str(2 * num_generations) in str(error)
    assert passed == whole
    if passed:  # and the real sampler, cut the same way, keeps them whole too
        sampler = PairRepeatSampler(
            4 * prompts,
            num_generations=num_generations,
            prompts_per_batch=prompts,
            repeat_count=steps_per_generation,
            seed=1,
        )
        assert all(pairs_whole(b, num_generations) for b in blocks_of(list(sampler), block))


def test_batching_error_suggests_a_fix():
    with pytest.raises(ValueError, match=r"e\.g\. per_device_train_batch_size=8") as error:
        check_pair_batching(per_device_batch_size=6, steps_per_generation=1, num_generations=4)
    assert "each process scores 6 completions" in str(error.value)
    with pytest.raises(ValueError, match="per_device_eval_batch_size to a multiple of 4"):
        check_pair_batching(per_device_batch_size=6, steps_per_generation=1, num_generations=2, eval=True)
    check_pair_batching(per_device_batch_size=4, steps_per_generation=2, num_generations=4)


class Columns:
    """The little of datasets.Dataset that check_pair_layout reads."""

    def __init__(self, **columns):
        self.columns = columns
        self.column_names = list(columns)

    def __len__(self):
        return len(next(iter(self.columns.values())))

    def __getitem__(self, name):
        return self.columns[name]


def test_layout_check():
    good = Columns(pair_id=[0, 0, 1, 1], side=["chosen", "rejected", "rejected", "chosen"])
    assert check_pair_layout(good) == 2
    with pytest.raises(ValueError, match="rows 0 and 1 .* are not the two sides of one pair"):
        check_pair_layout(Columns(pair_id=[0, 1, 0, 1], side=["chosen", "chosen", "rejected", "rejected"]))
    with pytest.raises(ValueError, match="rows 2 and 3"):
        check_pair_layout(Columns(pair_id=[0, 0, 1, 1], side=["chosen", "rejected", "chosen", "chosen"]))
    with pytest.raises(ValueError, match="pairwise rows"):
        check_pair_layout(Columns(pair_id=[0, 1], side=["A", "B"]))
    with pytest.raises(ValueError, match="needs `pair_id` and `side` columns"):
        check_pair_layout(Columns(prompt=["a", "b"]))
    with pytest.raises(ValueError, match="at least one pair"):
        check_pair_layout(Columns(pair_id=[0], side=["chosen"]))
    sources = Columns(pair_id=[0, 0], side=["chosen", "rejected"], data_source=["a", "b"])
    with pytest.raises(ValueError, match="not the two sides"):
        check_pair_layout(sources)
    nested = Columns(
        extra_info=[{"pair_id": 5, "side": "chosen"}, {"pair_id": 5, "side": "rejected"}], data_source=["s", "s"]
    )
    assert check_pair_layout(nested) == 1


def test_layout_check_warns_on_odd_last_row(caplog):
    with caplog.at_level(logging.WARNING, logger="patarm.trl"):
        assert check_pair_layout(Columns(pair_id=[0, 0, 1], side=["chosen", "rejected", "chosen"])) == 1
    assert "odd number of rows" in caplog.text


def test_unsorted_order_matches_trl_repeat_sampler():
    """Without shuffling, the structure is exactly TRL's RepeatSampler (pairs are consecutive rows)."""
    trl_utils = require("trl.trainer.utils")
    for rows, generations, chunk, repeat in [(8, 2, 4, 1), (12, 3, 6, 2), (20, 4, 2, 3)]:
        ours = PairRepeatSampler(
            rows, num_generations=generations, prompts_per_batch=chunk, repeat_count=repeat, shuffle=False
        )
        theirs = trl_utils.RepeatSampler(
            list(range(rows)), mini_repeat_count=generations, batch_size=chunk, repeat_count=repeat, shuffle=False
        )
        assert list(ours) == list(theirs)


def _process_batches(sampler, block, processes):
    """What each process's dataloader yields: accelerate's own sharding of the sampler."""
    require("accelerate")
    torch_data = require("torch.utils.data")
    from accelerate.data_loader import BatchSamplerShard

    return [
        list(BatchSamplerShard(torch_data.BatchSampler(sampler, block, drop_last=False), processes, rank))
        for rank in range(processes)
    ]


@pytest.mark.parametrize(
    "processes,per_device,steps,generations", [(1, 4, 2, 2), (2, 4, 1, 2), (4, 8, 2, 4), (3, 2, 3, 3)]
)
def test_accelerate_shards_keep_pairs_whole(processes, per_device, steps, generations):
    check_pair_batching(per_device_batch_size=per_device, steps_per_generation=steps, num_generations=generations)
    block = per_device * steps
    prompts = block * processes // generations
    sampler = PairRepeatSampler(
        10 * prompts, num_generations=generations, prompts_per_batch=prompts, repeat_count=steps, seed=3
    )
    batches = _process_batches(sampler, block, processes)
    assert sum(len(b) for b in batches) * block == len(sampler)
    for rank_batches in batches:
        assert rank_batches and all(pairs_whole(batch, generations) for batch in rank_batches)


def test_trl_default_sampler_splits_pairs():
    """The reason PairGRPOTrainer exists: TRL's RepeatSampler shuffles rows, not pairs."""
    trl_utils = require("trl.trainer.utils")
    theirs = trl_utils.RepeatSampler(list(range(64)), mini_repeat_count=2, batch_size=8, repeat_count=1, seed=0)
    batches = _process_batches(theirs, 16, 1)
    assert not all(pairs_whole(batch, 2) for batch in batches[0])
