"""score_batch: PAR over a batch in any row order, grouped by (source, pair_id)."""

import os
import pickle
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import par_reference as ref
import patarm

KEYS = ("reward", "par", "format_reward", "score", "opposite_mean", "error_code", "partner_found")


def judgement(answer):
    return f"<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>{answer}</answer>"


def assert_same(out, expected, rows=None):
    for key in KEYS:
        got = out[key].tolist()
        want = expected[key] if rows is None else [expected[key][i] for i in rows]
        np.testing.assert_array_equal(np.array(got, dtype=float), np.array(want, dtype=float), err_msg=key)


def test_contract_keys_dtypes_and_values():
    texts = [judgement(8), judgement(3), judgement(6), "junk", judgement(9)]
    out = patarm.score_batch(texts, [1, 1, 2, 2, 3], ["chosen", "rejected", "rejected", "chosen", "chosen"])
    assert set(out) == set(KEYS)
    assert all(out[k].shape == (5,) for k in KEYS)
    assert out["reward"].dtype == np.float64 and out["error_code"].dtype == np.int8
    assert out["partner_found"].dtype == np.bool_
    assert out["reward"].tolist() == [1.4, 1.4, 0.0, -1.5, 0.0]
    np.testing.assert_array_equal(out["opposite_mean"], [3.0, 8.0, np.nan, 6.0, np.nan])
    assert out["partner_found"].tolist() == [True, True, True, True, False]
    assert out["error_code"].tolist() == [0, 0, 0, 1, 0]


def test_groups_by_source_and_pair_id():
    texts = [judgement(8), judgement(2), judgement(8), judgement(2)]
    same = patarm.score_batch(texts, [1, 1, 1, 1], ["chosen", "rejected"] * 2)
    split = patarm.score_batch(texts, [1, 1, 1, 1], ["chosen", "rejected"] * 2, sources=["a", "a", "b", "b"])
    assert same["reward"].tolist() == split["reward"].tolist() == [1.4] * 4
    crossed = patarm.score_batch(texts, [1, 1, 1, 1], ["chosen", "rejected"] * 2, sources=["a", "b", "b", "a"])
    assert crossed["reward"].tolist() == [1.4] * 4
    lonely = patarm.score_batch(texts[:2], [1, 1], ["chosen", "rejected"], sources=["a", "b"])
    assert lonely["partner_found"].tolist() == [False, False] and lonely["reward"].tolist() == [0.0, 0.0]
    one_source = patarm.score_batch(texts[:2], [1, 1], ["chosen", "rejected"], sources="patarm/chat")
    assert one_source["reward"].tolist() == [1.4, 1.4]


def test_str_and_int_ids_are_different_pairs_and_numpy_ids_work():
    texts = [judgement(8), judgement(2)]
    assert patarm.score_batch(texts, ["1", 1], ["chosen", "rejected"])["partner_found"].tolist() == [False, False]
    ids = np.array([7, 7], dtype=np.int64)
    assert patarm.score_batch(texts, ids, np.array(["chosen", "rejected"]))["reward"].tolist() == [1.4, 1.4]


def test_callable_f_and_builtin_agree():
    texts = [judgement(s) for s in (9, 7, 1, 4, 6, 2)]
    ids, sides = [0, 0, 0, 1, 1, 1], ["chosen", "chosen", "rejected", "chosen", "rejected", "rejected"]
    builtin = patarm.score_batch(texts, ids, sides, f=patarm.Graded())
    python = patarm.score_batch(texts, ids, sides, f=lambda d: 1.2 if d <= 2 else 1.4)
    assert builtin["reward"].tolist() == python["reward"].tolist()
    constant = patarm.score_batch(texts, ids, sides, f=patarm.Constant(1.3))
    assert set(constant["par"].tolist()) <= {0.0, 1.3}


def test_pairwise_mode():
    texts = [judgement("A"), judgement("B"), judgement("7"), "junk"]
    out = patarm.score_batch(texts, [1, 2, 3, 4], ["A", "A", "B", "B"], pairwise=True)
    assert out["reward"].tolist() == [1.0, 0.0, -1.0, -1.5]
    assert out["error_code"].tolist() == [0, 0, 2, 1]
    assert np.isnan(out["score"]).all() and out["partner_found"].all()
    custom = patarm.score_batch(
        texts, [1, 2, 3, 4], ["A", "A", "B", "B"], pairwise=True, correct_reward=2.0, wrong_reward=-0.5
    )
    assert custom["reward"].tolist() == [2.0, -0.5, -1.0, -1.5]


def test_empty_batch():
    out = patarm.score_batch([], [], [])
    assert all(out[k].shape == (0,) for k in KEYS)


# ---- caller mistakes ------------------------------------------------------------------------


def test_length_mismatch():
    with pytest.raises(ValueError, match="pair_ids has 1 entries but texts has 2"):
        patarm.score_batch(["a", "b"], [1], ["chosen", "rejected"])
    with pytest.raises(ValueError, match="sides has 3 entries but texts has 2"):
        patarm.score_batch(["a", "b"], [1, 1], ["chosen", "rejected", "chosen"])
    with pytest.raises(ValueError, match="sources has 1 entries"):
        patarm.score_batch(["a", "b"], [1, 1], ["chosen", "rejected"], sources=["s"])


def test_bad_sides_name_the_row_and_what_is_allowed():
    with pytest.raises(ValueError, match=r"sides\[1\] is \"Chosen\".*'chosen' or 'rejected'"):
        patarm.score_batch(["a", "b"], [1, 1], ["chosen", "Chosen"])
    with pytest.raises(ValueError, match="pass pairwise=True"):
        patarm.score_batch(["a"], [1], ["A"])
    with pytest.raises(ValueError, match=r"sides\[0\].*'A' or 'B'.*pairwise=False"):
        patarm.score_batch(["a"], [1], ["chosen"], pairwise=True)
    with pytest.raises(TypeError, match=r"sides\[0\] is int"):
        patarm.score_batch(["a"], [1], [0])


def test_wrong_types():
    with pytest.raises(TypeError, match=r"texts\[1\] is bytes"):
        patarm.score_batch(["a", b"b"], [1, 1], ["chosen", "rejected"])
    with pytest.raises(TypeError, match=r"texts\[0\] is NoneType"):
        patarm.score_batch([None], [1], ["chosen"])
    with pytest.raises(TypeError, match=r"pair_ids\[1\] is float.*str or int"):
        patarm.score_batch(["a", "b"], [1, 1.5], ["chosen", "rejected"])
    with pytest.raises(TypeError, match=r"pair_ids\[0\] is an int outside the 64-bit range"):
        patarm.score_batch(["a"], [2**70], ["chosen"])
    with pytest.raises(TypeError, match="not a single string"):
        patarm.score_batch("ab", [1, 1], ["chosen", "rejected"])
    with pytest.raises(TypeError, match="callable"):
        patarm.score_batch(["a"], [1], ["chosen"], f="graded")
    with pytest.raises(ValueError, match="num_threads"):
        patarm.score_batch(["a"], [1], ["chosen"], num_threads=-2)
    with pytest.raises(ValueError, match="finite"):
        patarm.score_batch(["a"], [1], ["A"], pairwise=True, correct_reward=float("nan"))
    # All caller mistakes are ValueError or TypeError subclasses.
    with pytest.raises((TypeError, ValueError)):
        patarm.score_batch(1, 1, 1)


# ---- threads and fork -----------------------------------------------------------------------


def random_batch(rng, pairs=50):
    texts, ids, sides, sources = [], [], [], []
    for pair in range(pairs):
        for side in ("chosen", "rejected"):
            for _ in range(rng.randint(0, 4)):
                answer = rng.choice([str(rng.randint(0, 100) / 10), "x", "11"])
                texts.append(judgement(answer) if rng.random() > 0.1 else "junk")
                ids.append(rng.choice([pair, str(pair)]))
                sides.append(side)
                sources.append(rng.choice(["a", "b"]))
    return texts, ids, sides, sources


def test_threads_do_not_change_results(monkeypatch):
    texts, ids, sides, sources = random_batch(random.Random(1), pairs=300)
    base = patarm.score_batch(texts, ids, sides, sources=sources, num_threads=1)
    for threads in (2, 3, 8):
        out = patarm.score_batch(texts, ids, sides, sources=sources, num_threads=threads)
        assert_same(out, {k: base[k].tolist() for k in KEYS})
    monkeypatch.setenv("PATARM_NUM_THREADS", "2")
    out = patarm.score_batch(texts, ids, sides, sources=sources)
    assert_same(out, {k: base[k].tolist() for k in KEYS})


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_works_after_fork():
    texts, ids, sides, sources = random_batch(random.Random(2), pairs=200)
    parent = patarm.score_batch(texts, ids, sides, sources=sources, num_threads=2)  # builds a pool
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: the parent's pool threads do not exist here
        code = 1
        try:
            child = patarm.score_batch(texts, ids, sides, sources=sources, num_threads=2)
            again = patarm.parse_judgements(texts, num_threads=3)
            os.write(write_end, pickle.dumps((child["reward"].tolist(), again["error_code"].tolist())))
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    data = b""
    while chunk := os.read(read_end, 1 << 16):
        data += chunk
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    rewards, codes = pickle.loads(data)
    assert rewards == parent["reward"].tolist()
    assert codes == parent["error_code"].tolist()


# ---- properties -----------------------------------------------------------------------------

ROWS = st.lists(
    st.tuples(
        st.integers(0, 5),  # pair id
        st.sampled_from(["chosen", "rejected"]),
        st.sampled_from(["", "src/a"]),
        st.one_of(
            st.integers(0, 100).map(lambda s: judgement(s / 10)),
            st.sampled_from(["junk", judgement("x"), judgement("-1")]),
        ),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(rows=ROWS, seed=st.integers(0, 2**32))
def test_matches_reference_and_ignores_row_order(rows, seed):
    ids = [r[0] for r in rows]
    sides = [r[1] for r in rows]
    sources = [r[2] for r in rows]
    texts = [r[3] for r in rows]
    out = patarm.score_batch(texts, ids, sides, sources=sources, num_threads=2)
    expected = ref.score_batch(texts, ids, sides, sources=sources)
    assert_same(out, expected)

    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    shuffled = patarm.score_batch(
        [texts[i] for i in order],
        [ids[i] for i in order],
        [sides[i] for i in order],
        sources=[sources[i] for i in order],
    )
    assert_same(shuffled, {k: out[k].tolist() for k in KEYS}, rows=order)


@settings(max_examples=100, deadline=None)
@given(rows=ROWS, repeat=st.integers(1, 3))
def test_repeating_every_row_keeps_means(rows, repeat):
    """verl's rollout.n repeats rows: every copy of a row gets the same reward, and means are
    exact, so rewards and side means are exactly those of the rows once."""
    texts = [r[3] for r in rows]
    ids, sides = [r[0] for r in rows], [r[1] for r in rows]
    n = len(rows)
    once = patarm.score_batch(texts, ids, sides)
    many = patarm.score_batch(texts * repeat, ids * repeat, sides * repeat)
    for k in range(repeat):
        np.testing.assert_array_equal(many["reward"][k * n : (k + 1) * n], once["reward"])
    np.testing.assert_array_equal(many["opposite_mean"][:n], once["opposite_mean"])
    np.testing.assert_array_equal(many["partner_found"][:n], once["partner_found"])


def test_a_non_sequence_argument_is_named():
    with pytest.raises(TypeError, match=r"^texts is int, but it must be a sequence"):
        patarm.score_batch(5, [1], ["chosen"])
