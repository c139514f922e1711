"""Pair-preserving samplers (docs/method.md §8): invariants, reproducibility, errors, pickling."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patarm import DistributedPairSampler, PairRandomSampler, check_pair_batch_size, pair_permutation

# ---------------------------------------------------------------------------------------------
# An independent re-implementation of the documented algorithm on numpy's PCG64, so the Rust
# orders are checked against a second implementation (and against pinned values below).

_M64 = (1 << 64) - 1
_M128 = (1 << 128) - 1
_PCG_STREAM = 0x0A02BDBF7BB3C0A7AC28FA16A64ABF96
_PCG_MULT = 0x2360ED051FC65DA44385DF649FCCF645


def _splitmix64(x: int) -> int:
    z = (x + 0x9E3779B97F4A7C15) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def _reference_rng(seed: int, epoch: int) -> np.random.PCG64:
    hi = _splitmix64(seed)
    lo = _splitmix64(hi ^ epoch)
    inc = ((_PCG_STREAM << 1) | 1) & _M128
    # rand_pcg's Pcg64::new(state, stream): state += inc, then one LCG step.
    state = ((((hi << 64) | lo) + inc) * _PCG_MULT + inc) & _M128
    rng = np.random.PCG64()
    rng.state = {"bit_generator": "PCG64", "state": {"state": state, "inc": inc}, "has_uint32": 0, "uinteger": 0}
    return rng


def _below(rng: np.random.PCG64, bound: int) -> int:
    product = int(rng.random_raw()) * bound
    if (product & _M64) < bound:
        threshold = ((-bound) & _M64) % bound
        while (product & _M64) < threshold:
            product = int(rng.random_raw()) * bound
    return product >> 64


def _reference_pair_order(num_pairs: int, seed: int, epoch: int) -> list[int]:
    rng = _reference_rng(seed, epoch)
    pairs = list(range(num_pairs))
    for i in range(num_pairs - 1, 0, -1):
        j = _below(rng, i + 1)
        pairs[i], pairs[j] = pairs[j], pairs[i]
    return pairs


def _rows(pairs: list[int]) -> list[int]:
    return [row for pair in pairs for row in (2 * pair, 2 * pair + 1)]


def _pairs(rows) -> list[int]:
    """Pair ids of a row order, asserting every pair is whole: 2k directly followed by 2k+1."""
    rows = [int(r) for r in rows]
    assert len(rows) % 2 == 0, rows
    for chosen, rejected in zip(rows[0::2], rows[1::2], strict=True):
        assert chosen % 2 == 0 and rejected == chosen + 1, rows
    return [r // 2 for r in rows[0::2]]


# ---------------------------------------------------------------------------------------------
# Reproducibility


def test_pinned_orders_never_change():
    # The cross-platform contract: these exact sequences on every OS, CPU and version.
    assert pair_permutation(10, 0).tolist() == [2, 3, 4, 5, 8, 9, 6, 7, 0, 1]
    assert list(PairRandomSampler(10, seed=0)) == [2, 3, 4, 5, 8, 9, 6, 7, 0, 1]
    assert pair_permutation(21, 12345, epoch=3).tolist() == _rows(_reference_pair_order(10, 12345, 3))


@settings(max_examples=60, deadline=None)
@given(num_rows=st.integers(0, 400), seed=st.integers(0, 2**64 - 1), epoch=st.integers(0, 2**63 - 1))
def test_matches_independent_reference_implementation(num_rows, seed, epoch):
    expected = _rows(_reference_pair_order(num_rows // 2, seed, epoch))
    assert pair_permutation(num_rows, seed, epoch).tolist() == expected


def test_same_seed_same_order_and_epochs_reshuffle():
    a, b = PairRandomSampler(1000, seed=7), PairRandomSampler(1000, seed=7)
    first_a, first_b = list(a), list(b)
    assert first_a == first_b
    second = list(a)
    assert second != first_a, "each __iter__ starts a new epoch with a new order"
    assert sorted(second) == sorted(first_a)
    assert list(PairRandomSampler(1000, seed=8)) != first_a


def test_set_epoch_is_a_pure_function_of_seed_and_epoch():
    sampler = PairRandomSampler(200, seed=3)
    for _ in range(3):
        list(sampler)
    sampler.set_epoch(5)
    epoch5 = list(sampler)
    fresh = PairRandomSampler(200, seed=3)
    fresh.set_epoch(5)
    assert list(fresh) == epoch5 == pair_permutation(200, 3, epoch=5).tolist()
    assert list(sampler) == pair_permutation(200, 3, epoch=6).tolist()  # then it moves on


def test_negative_seed_wraps_like_torch_manual_seed():
    assert pair_permutation(50, -1).tolist() == pair_permutation(50, 2**64 - 1).tolist()


def test_random_seed_without_seed_or_generator():
    orders = {tuple(PairRandomSampler(400)) for _ in range(4)}
    assert len(orders) > 1


def test_numpy_generator_draws_the_seed():
    a = PairRandomSampler(100, generator=np.random.default_rng(1))
    b = PairRandomSampler(100, generator=np.random.default_rng(1))
    assert a.seed == b.seed and list(a) == list(b)


# ---------------------------------------------------------------------------------------------
# Pair invariants (docs/method.md §8)


@settings(max_examples=80, deadline=None)
@given(num_rows=st.integers(2, 300), seed=st.integers(0, 2**64 - 1), epochs=st.integers(1, 3))
def test_every_pair_exactly_once_per_epoch(num_rows, seed, epochs):
    sampler = PairRandomSampler(num_rows, seed=seed)
    for _ in range(epochs):
        rows = list(sampler)
        assert len(rows) == len(sampler) == 2 * (num_rows // 2)
        pairs = _pairs(rows)
        assert sorted(pairs) == list(range(num_rows // 2))  # no repeats, none missing
        assert num_rows - 1 not in rows or num_rows % 2 == 0  # odd last row never yielded


@settings(max_examples=60, deadline=None)
@given(
    num_rows=st.integers(2, 200),
    half=st.integers(1, 300),
    seed=st.integers(0, 2**63),
    replacement=st.booleans(),
)
def test_num_samples_and_replacement_keep_pairs_whole(num_rows, half, seed, replacement):
    sampler = PairRandomSampler(num_rows, replacement=replacement, num_samples=2 * half, seed=seed)
    rows = list(sampler)
    assert len(rows) == len(sampler) == 2 * half
    pairs = _pairs(rows)
    assert all(0 <= p < num_rows // 2 for p in pairs)
    if not replacement:
        # Chained permutations: each full block of num_pairs is a permutation, no repeats inside.
        num_pairs = num_rows // 2
        for start in range(0, len(pairs), num_pairs):
            block = pairs[start : start + num_pairs]
            assert len(set(block)) == len(block)


def test_odd_rows_never_yield_the_last_row():
    for seed in range(20):
        rows = list(PairRandomSampler(9, seed=seed))
        assert 8 not in rows and sorted(rows) == list(range(8))
        rows = list(PairRandomSampler(9, replacement=True, num_samples=40, seed=seed))
        assert 8 not in rows


def test_replacement_draws_are_roughly_uniform():
    rows = list(PairRandomSampler(10, replacement=True, num_samples=100_000, seed=1))
    counts = np.bincount(_pairs(rows), minlength=5)
    assert counts.sum() == 50_000
    assert np.all(np.abs(counts - 10_000) < 600), counts


def test_sized_data_source_and_numpy_int():
    assert len(PairRandomSampler(list(range(7)), seed=0)) == 6
    assert len(PairRandomSampler(np.int64(8), seed=0)) == 8


# ---------------------------------------------------------------------------------------------
# Distributed


@settings(max_examples=80, deadline=None)
@given(
    num_rows=st.integers(0, 300),
    replicas=st.integers(1, 9),
    seed=st.integers(0, 2**63),
    epoch=st.integers(0, 100),
    drop_last=st.booleans(),
    shuffle=st.booleans(),
)
def test_distributed_shards_are_whole_disjoint_and_cover(num_rows, replicas, seed, epoch, drop_last, shuffle):
    num_pairs = num_rows // 2
    shards = []
    for rank in range(replicas):
        sampler = DistributedPairSampler(
            num_rows, num_replicas=replicas, rank=rank, seed=seed, drop_last=drop_last, shuffle=shuffle
        )
        sampler.set_epoch(epoch)
        rows = list(sampler)
        assert len(rows) == len(sampler)
        shards.append(_pairs(rows))
    sizes = {len(s) for s in shards}
    assert len(sizes) == 1, "every rank gets the same number of pairs"
    everything = [p for s in shards for p in s]
    if drop_last:
        assert len(set(everything)) == len(everything), "disjoint"
        assert num_pairs - len(everything) < replicas
    else:
        assert set(everything) == set(range(num_pairs)), "every pair is covered"
        assert len(everything) - num_pairs < replicas or num_pairs == 0
        if num_pairs % replicas == 0:
            assert len(set(everything)) == len(everything), "no padding needed: disjoint"


def test_distributed_matches_the_shared_permutation():
    order = _pairs(pair_permutation(20, 9, epoch=2))
    ranks = []
    for rank in range(3):
        sampler = DistributedPairSampler(20, num_replicas=3, rank=rank, seed=9)
        sampler.set_epoch(2)
        ranks.append(_pairs(list(sampler)))
    padded = order + order[:2]  # 10 pairs over 3 ranks: 4 each, 2 repeated from the start
    assert ranks == [padded[r::3] for r in range(3)]


def test_distributed_without_shuffle_is_in_order():
    sampler = DistributedPairSampler(8, num_replicas=2, rank=1, shuffle=False)
    assert list(sampler) == [2, 3, 6, 7]


def test_distributed_needs_replicas_without_torch_distributed():
    with pytest.raises(ValueError, match="num_replicas"):
        DistributedPairSampler(10)
    with pytest.raises(ValueError, match="rank=2 is out of range"):
        DistributedPairSampler(10, num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas=0"):
        DistributedPairSampler(10, num_replicas=0, rank=0)


# ---------------------------------------------------------------------------------------------
# Errors: caller mistakes name the problem and the fix; hostile input never crashes


def test_odd_num_samples_is_a_clear_error():
    with pytest.raises(ValueError, match="num_samples=5 is odd.*even"):
        PairRandomSampler(10, num_samples=5)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"data_source": 1}, ValueError, "no complete"),
        ({"data_source": 0}, ValueError, "no complete"),
        ({"data_source": -4}, ValueError, "negative"),
        ({"data_source": 2.5}, TypeError, "data_source"),
        ({"data_source": object()}, TypeError, "data_source"),
        ({"data_source": 10, "num_samples": 0}, ValueError, "num_samples=0"),
        ({"data_source": 10, "num_samples": -2}, ValueError, "negative"),
        ({"data_source": 10, "num_samples": 4.0}, TypeError, "num_samples"),
        ({"data_source": 10, "num_samples": 2**70}, ValueError, "64 bits"),
        ({"data_source": 10, "seed": "x"}, TypeError, "seed"),
        ({"data_source": 10, "seed": 2**64}, ValueError, "seed"),
        ({"data_source": 10, "seed": 1, "generator": np.random.default_rng()}, ValueError, "not both"),
        ({"data_source": 10, "generator": 5}, TypeError, "generator"),
        ({"data_source": 10, "replacement": "yes"}, TypeError, "replacement"),
    ],
)
def test_caller_mistakes(kwargs, error, match):
    with pytest.raises(error, match=match):
        PairRandomSampler(**kwargs)


def test_hostile_sizes_raise_not_crash():
    with pytest.raises(ValueError, match="memory"):
        pair_permutation(2**63 - 1, 0)
    with pytest.raises(ValueError, match="memory"):
        list(PairRandomSampler(4, num_samples=2**62, replacement=True, seed=0))
    with pytest.raises(ValueError):
        pair_permutation(-1, 0)
    with pytest.raises(ValueError, match="epoch"):
        PairRandomSampler(10, seed=0).set_epoch(-1)
    with pytest.raises(TypeError):
        pair_permutation(10, 0.5)


def test_check_pair_batch_size():
    check_pair_batch_size(8)
    check_pair_batch_size(np.int32(2), name="per_device_train_batch_size")
    with pytest.raises(ValueError, match="data.train_batch_size=7 is odd.*even number, e.g. 8"):
        check_pair_batch_size(7, name="data.train_batch_size")
    with pytest.raises(ValueError, match="batch_size=0"):
        check_pair_batch_size(0)
    with pytest.raises(TypeError, match="batch_size"):
        check_pair_batch_size("8")
    with pytest.raises(TypeError, match="name must be a str"):
        check_pair_batch_size(8, name=8)  # type: ignore[arg-type]


@pytest.mark.parametrize("repeats", [1, 2, 3, 4, 8])
@pytest.mark.parametrize("block", range(-2, 40))
def test_whole_pairs_rule_with_repeated_rows(block, repeats):
    """A block of a pair order whose rows are each repeated `repeats` times holds whole pairs
    exactly when check_pair_batch_size(block, repeats=...) passes."""
    stream = [pair for pair in range(100) for _side in range(2) for _ in range(repeats)]
    whole = block > 0 and all(
        len(set(stream[start : start + block])) * 2 * repeats == block for start in range(0, 4 * block, block)
    )
    try:
        check_pair_batch_size(block, name="block", repeats=repeats)
        passed = True
    except ValueError as error:
        passed = False
        assert f"block={block}" in str(error)
        if repeats > 1:
            assert f"2 x {repeats} = {2 * repeats}" in str(error)
    assert passed == whole


# ---------------------------------------------------------------------------------------------
# Pickling, state, repr


@pytest.mark.parametrize(
    "sampler",
    [
        PairRandomSampler(101, seed=5),
        PairRandomSampler(20, replacement=True, num_samples=50 * 2, seed=2**64 - 1),
        DistributedPairSampler(33, num_replicas=4, rank=3, seed=11, drop_last=True),
    ],
    ids=repr,
)
def test_pickle_round_trip_keeps_the_order(sampler):
    sampler.set_epoch(4)
    clone = pickle.loads(pickle.dumps(sampler))
    assert repr(clone) == repr(sampler)
    assert list(clone) == list(sampler)
    assert list(clone) == list(sampler)  # and the next epoch too
    assert len(repr(sampler)) < 160


def test_pickle_mid_iteration():
    sampler = PairRandomSampler(50, seed=1)
    iterator = iter(sampler)
    head = [next(iterator) for _ in range(10)]
    clone = pickle.loads(pickle.dumps(sampler))
    assert head == list(PairRandomSampler(50, seed=1))[:10]
    assert list(clone) == pair_permutation(50, 1, epoch=1).tolist()


def test_state_dict_resumes_mid_epoch():
    sampler = PairRandomSampler(40, seed=21)
    list(sampler)  # epoch 0
    iterator = iter(sampler)  # epoch 1
    head = [next(iterator) for _ in range(6)]
    state = sampler.state_dict()
    assert state == {"seed": 21, "epoch": 1, "yielded": 6}
    resumed = PairRandomSampler(40)  # a different random seed, replaced by the state's
    resumed.load_state_dict(state)
    assert head + list(resumed) == pair_permutation(40, 21, epoch=1).tolist()
    assert list(resumed) == pair_permutation(40, 21, epoch=2).tolist()
    rest = list(iterator)
    assert sampler.state_dict() == {"seed": 21, "epoch": 2, "yielded": 0}
    assert head + rest == pair_permutation(40, 21, epoch=1).tolist()
    with pytest.raises(ValueError, match="state"):
        resumed.load_state_dict({"epoch": 1})
    with pytest.raises(ValueError, match="yielded"):
        resumed.load_state_dict({"seed": 1, "epoch": 0, "yielded": 41})


def test_set_epoch_is_reflected_in_state_dict():
    sampler = DistributedPairSampler(40, num_replicas=2, rank=0, seed=4)
    sampler.set_epoch(7)
    assert sampler.state_dict() == {"seed": 4, "epoch": 7, "yielded": 0}


# ---------------------------------------------------------------------------------------------
# torch


def test_samplers_do_not_import_torch():
    code = (
        "import sys, patarm, pickle;"
        "s = patarm.PairRandomSampler(10); list(s); pickle.dumps(s);"
        "d = patarm.DistributedPairSampler(10, num_replicas=2, rank=0); list(d);"
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_torch_generator_and_dataloader():
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    gen_a, gen_b = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    a, b = PairRandomSampler(64, generator=gen_a), PairRandomSampler(64, generator=gen_b)
    assert a.seed == b.seed and list(a) == list(b)

    torch.manual_seed(123)
    seeded_a = PairRandomSampler(64).seed
    torch.manual_seed(123)
    assert PairRandomSampler(64).seed == seeded_a, "torch.manual_seed governs the default seed"

    dataset = list(range(65))  # odd: row 64 has no partner
    sampler = PairRandomSampler(dataset, seed=0)
    loader = DataLoader(dataset, batch_size=4, sampler=sampler, num_workers=0)
    for epoch in range(2):
        sampler.set_epoch(epoch)
        rows = [int(x) for batch in loader for x in batch]
        assert rows == pair_permutation(65, 0, epoch).tolist()
        assert all(len(batch) % 2 == 0 for batch in loader)
    workers = DataLoader(dataset, batch_size=6, sampler=sampler, num_workers=2)
    sampler.set_epoch(0)
    assert [int(x) for batch in workers for x in batch] == pair_permutation(65, 0, 0).tolist()


def test_torch_distributed_defaults(tmp_path):
    pytest.importorskip("torch")
    import torch.distributed as dist

    if not dist.is_available():
        pytest.skip("torch built without distributed")
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", world_size=1, rank=0)
    try:
        sampler = DistributedPairSampler(10)
        assert (sampler.num_replicas, sampler.rank) == (1, 0)
        assert sorted(sampler) == list(range(10))
    finally:
        dist.destroy_process_group()


# ---- tampered state (issue: states are data from outside) ----------------------------------


def test_load_state_dict_refuses_a_position_inside_a_pair():
    sampler = PairRandomSampler(10, seed=3)
    with pytest.raises(ValueError, match=r"yielded=1 is odd: pairs are yielded whole"):
        sampler.load_state_dict({"seed": 3, "epoch": 0, "yielded": 1})
    sampler.load_state_dict({"seed": 3, "epoch": 0, "yielded": 2})
    assert len(list(sampler)) == 8


def _tampered(sampler, **changes):
    state = sampler.__getstate__()
    state.update(changes)
    return pickle.dumps((type(sampler), state))


def _unpickle(blob):
    cls, state = pickle.loads(blob)
    clone = cls.__new__(cls)
    clone.__setstate__(state)
    return clone


@pytest.mark.parametrize(
    "sampler",
    [PairRandomSampler(10, seed=3), DistributedPairSampler(10, num_replicas=2, rank=1, seed=3)],
    ids=["random", "distributed"],
)
@pytest.mark.parametrize(
    "changes, field",
    [
        ({"_resume_at": -1}, "_resume_at=-1 is outside"),
        ({"_resume_at": 3}, "_resume_at=3 is odd"),
        ({"_num_samples": 3}, "_num_samples=3, but its settings give"),
        ({"_num_rows": -4}, "negative row count"),
        ({"_seed": -1}, "_seed=-1 is outside"),
        ({"_epoch": "0"}, "epoch must be an integer"),
        ({"_num_rows": None}, "_num_rows must be an integer"),
    ],
)
def test_unpickling_a_tampered_sampler_names_the_field(sampler, changes, field):
    assert list(_unpickle(_tampered(sampler))) == list(pickle.loads(pickle.dumps(sampler)))
    with pytest.raises(ValueError, match=field):
        _unpickle(_tampered(sampler, **changes))


def test_unpickling_checks_the_settings_too():
    sampler = DistributedPairSampler(10, num_replicas=2, rank=1, seed=3)
    with pytest.raises(ValueError, match="rank"):
        _unpickle(_tampered(sampler, _rank=5))
    with pytest.raises(ValueError, match="_shuffle must be a bool"):
        _unpickle(_tampered(sampler, _shuffle="yes"))
    with pytest.raises(ValueError, match="lacks _seed"):
        state = sampler.__getstate__()
        del state["_seed"]
        sampler.__class__.__new__(sampler.__class__).__setstate__(state)
    with pytest.raises(ValueError, match="_replacement must be a bool"):
        _unpickle(_tampered(PairRandomSampler(10, seed=1), _replacement=None))
