"""The bindings' argument rules (src/python/inputs/), the same for every function of _core:

* a row argument is any ordered iterable (list, tuple, numpy array, generator), never a lone str
  or an unordered dict/set;
* a count argument (num_threads, rounds) is None or an int >= 0: another type is a TypeError and
  a negative count a ValueError, both naming the argument (never an OverflowError).
"""

from __future__ import annotations

import numpy as np
import pytest

import patarm
from patarm import _core

PROMPTS = ["What is 2+2?", "Name a colour."]
RESPONSES = ["4", "Blue."]
RESPONSES_B = ["5", "Loud."]


@pytest.mark.parametrize(
    "convert",
    [list, tuple, np.array, lambda rows: iter(list(rows)), lambda rows: (row for row in rows)],
    ids=["list", "tuple", "numpy", "iterator", "generator"],
)
def test_prompt_batches_take_any_ordered_iterable(convert):
    expected = patarm.build_prompts(PROMPTS, RESPONSES)
    assert patarm.build_prompts(convert(PROMPTS), convert(RESPONSES)) == expected
    assert _core.build_prompts(convert(PROMPTS), convert(RESPONSES), ["chat", "chat"]) == expected
    pairwise = patarm.build_pairwise_prompts(PROMPTS, RESPONSES, RESPONSES_B)
    got = patarm.build_pairwise_prompts(convert(PROMPTS), convert(RESPONSES), convert(RESPONSES_B))
    assert got == pairwise
    assert patarm.build_prompts(PROMPTS, RESPONSES, convert(["chat", "chat"])) == expected


def test_prompt_batches_and_score_batch_share_the_sequence_rule():
    # The same argument mistakes give the same errors in both bindings.
    for bad, error in [("one string", "not a single string"), ({"a": 1}, "in row order"), (5, "must be a sequence")]:
        with pytest.raises(TypeError, match=error) as prompts_error:
            patarm.build_prompts(["p"], bad)
        with pytest.raises(TypeError, match=error) as scores_error:
            patarm.score_batch(bad, [0], ["chosen"])
        assert str(prompts_error.value).startswith("responses ")
        assert str(scores_error.value) == str(prompts_error.value).replace("responses", "texts", 1)


def _decoder():
    return _core.TokenDecoder.from_pieces([b"a", b"b"], [])


COUNTED = {
    "parse_judgements": lambda **kw: _core.parse_judgements(["x"], **kw),
    "score_batch": lambda **kw: _core.score_batch(["x"], [0], ["chosen"], **kw),
    "par_rewards": lambda **kw: _core.par_rewards(["x"], ["y"], **kw),
    "build_prompts": lambda **kw: _core.build_prompts(PROMPTS, RESPONSES, **kw),
    "build_pairwise_prompts": lambda **kw: _core.build_pairwise_prompts(PROMPTS, RESPONSES, RESPONSES_B, **kw),
    "mean_vote_rows": lambda **kw: _core.mean_vote_rows(np.ones((2, 2)), **kw),
    "mean_vote_gaps": lambda **kw: _core.mean_vote_gaps(np.ones((2, 2)), np.ones((2, 2)), **kw),
    "majority_vote_counts": lambda **kw: _core.majority_vote_counts(np.ones((2, 2)), np.ones((2, 2)), **kw),
    "decode_rows": lambda **kw: _decoder().decode_rows(np.zeros((1, 2), np.int64), np.array([2]), **kw),
    "decode_and_score": lambda **kw: _core.decode_and_score(
        _decoder(), np.zeros((1, 2), np.int64), np.array([2]), [0], ["chosen"], None, f=_core.Constant(1.3), **kw
    ),
}


@pytest.mark.parametrize("name", sorted(COUNTED))
@pytest.mark.parametrize("bad", [-1, -(2**70), np.int64(-3)])
def test_negative_num_threads_is_a_value_error_naming_it(name, bad):
    with pytest.raises(ValueError, match=rf"^num_threads is {int(bad)}; pass a positive thread count"):
        COUNTED[name](num_threads=bad)


@pytest.mark.parametrize("name", sorted(COUNTED))
@pytest.mark.parametrize("bad", [True, 2.0, "2"])
def test_non_int_num_threads_is_a_type_error_naming_it(name, bad):
    with pytest.raises(TypeError, match=r"^num_threads is (bool|float|str); pass a positive thread count"):
        COUNTED[name](num_threads=bad)


@pytest.mark.parametrize("name", sorted(COUNTED))
def test_num_threads_accepts_none_zero_numpy_and_huge_counts(name):
    for ok in [None, 0, 1, np.int32(2), 2**62, 10**30]:
        COUNTED[name](num_threads=ok)


VOTES = {
    "mean_vote_rows": lambda rounds: _core.mean_vote_rows(np.ones((2, 3)), rounds),
    "mean_vote_gaps": lambda rounds: _core.mean_vote_gaps(np.ones((2, 3)), np.ones((2, 3)), 0.0, rounds),
    "majority_vote_counts": lambda rounds: _core.majority_vote_counts(np.ones((2, 3)), np.ones((2, 3)), rounds),
    "majority_vote_verdict_counts": lambda rounds: _core.majority_vote_verdict_counts(
        np.ones((2, 3), np.int8), np.ones(2, np.int8), rounds
    ),
}


@pytest.mark.parametrize("name", sorted(VOTES))
def test_rounds_follows_the_integer_rule(name):
    call = VOTES[name]
    with pytest.raises(ValueError, match=r"^rounds is -1; pass a positive int"):
        call(-1)
    with pytest.raises(ValueError, match=r"^rounds is -1180591620717411303424; pass"):
        call(-(2**70))
    with pytest.raises(TypeError, match=r"^rounds is bool; pass a positive int"):
        call(True)
    with pytest.raises(TypeError, match=r"^rounds is float; pass"):
        call(2.0)
    # numpy integers count like ints; the first 2 of 3 judgements
    assert np.array_equal(np.asarray(call(np.int64(2))[0]), np.asarray(call(2)[0]))


def test_decode_and_score_reads_f_as_score_batch_does_and_refuses_a_python_f():
    decoder = _core.TokenDecoder.from_pieces([bytes([b]) for b in range(256)], [])
    texts = [
        f"<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>{s}</answer>" for s in (9, 5)
    ]
    matrix = np.array([list(t.encode()) for t in texts], dtype=np.int64)
    lengths = np.array([matrix.shape[1]] * 2, dtype=np.int64)
    args = (decoder, matrix, lengths, [0, 0], ["chosen", "rejected"], None)
    for f in (None, patarm.Graded(), patarm.Graded((1.0,), (0.5, 2.0)), patarm.Constant(0.7)):
        out = _core.decode_and_score(*args, f=f)
        assert out["par"].tolist() == patarm.score_batch(texts, [0, 0], ["chosen", "rejected"], f=f)["par"].tolist()
    for bad, name in [(lambda gap: 1.0, "function"), ("graded", "str"), (("constant", 1.3), "tuple")]:
        with pytest.raises(TypeError, match=rf"^f is a {name}; decode_and_score runs f natively"):
            _core.decode_and_score(*args, f=bad)


# The samplers' integer rule (inputs::int64 / seed / epoch): an int or numpy integer, never a
# bool or a float, within 64 bits; errors name the argument (never an OverflowError).
SAMPLER_INTS = {
    "pair_permutation(num_rows)": lambda v: _core.pair_permutation(v, 0, 0),
    "resolve_pair_num_samples(num_rows)": lambda v: _core.resolve_pair_num_samples(v),
    "distributed_pair_len(num_rows)": lambda v: _core.distributed_pair_len(v, 1, 0),
    "random_pair_indices(num_rows)": lambda v: _core.random_pair_indices(v, 0, 0),
    "distributed_pair_indices(num_rows)": lambda v: _core.distributed_pair_indices(v, 1, 0, 0, 0),
}


@pytest.mark.parametrize("name", sorted(SAMPLER_INTS))
def test_sampler_row_counts_follow_the_integer_rule(name):
    call = SAMPLER_INTS[name]
    with pytest.raises(TypeError, match=r"^num_rows must be an integer, got a bool \(True\)$"):
        call(True)
    with pytest.raises(TypeError, match=r"^num_rows must be an integer, got float \(4\.0\)$"):
        call(4.0)
    with pytest.raises(ValueError, match=r"^num_rows=1180591620717411303424 is out of range: pass a value that fits"):
        call(2**70)
    with pytest.raises(ValueError, match=r"^num_rows=-2 is a negative row count"):
        call(-2)
    np.testing.assert_equal(call(np.int32(4)), call(4))  # numpy integers count like ints


def test_seeds_and_epochs_follow_the_integer_rule():
    assert _core.pair_permutation(8, -1, 0).tolist() == _core.pair_permutation(8, 2**64 - 1, 0).tolist()
    assert _core.read_seed(-1) == 2**64 - 1 and _core.read_seed(np.uint64(2**64 - 1)) == 2**64 - 1
    with pytest.raises(ValueError, match=r"^seed=18446744073709551616 is out of range: pass an integer in \[-2\*\*63"):
        _core.pair_permutation(8, 2**64, 0)
    with pytest.raises(ValueError, match=r"^seed=-9223372036854775809 is out of range"):
        _core.read_seed(-(2**63) - 1)
    with pytest.raises(TypeError, match=r"^seed must be an integer, got str \('1'\)$"):
        _core.random_pair_indices(8, "1", 0)
    with pytest.raises(ValueError, match=r"^epoch=-1 is negative: pass the epoch number"):
        _core.distributed_pair_indices(8, 1, 0, 0, -1)
    with pytest.raises(TypeError, match=r"^_epoch must be an integer, got a bool"):
        _core.read_epoch(False, "_epoch")
    with pytest.raises(TypeError, match=r"^rank must be an integer, got NoneType \(None\)$"):
        _core.distributed_pair_len(8, 1, None)


def test_check_pair_batch_size_reads_its_arguments_by_the_same_rule():
    with pytest.raises(TypeError, match=r"^data\.train_batch_size must be an integer, got float \(8\.0\)$"):
        _core.check_pair_batch_size(8.0, name="data.train_batch_size")
    with pytest.raises(TypeError, match=r"^batch_size must be an integer, got a bool"):
        _core.check_pair_batch_size(True)
    with pytest.raises(TypeError, match=r"^name must be a str \(the setting's name\), not int$"):
        _core.check_pair_batch_size(8, name=8)
    with pytest.raises(TypeError, match=r"^repeats must be an integer, got float"):
        _core.check_pair_batch_size(8, repeats=2.0)
    with pytest.raises(ValueError, match=r"^repeats=0 must be at least 1"):
        _core.check_pair_batch_size(8, repeats=0)
    _core.check_pair_batch_size(np.int64(8), repeats=np.int32(4))
