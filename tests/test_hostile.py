"""Hostile input: huge, empty, NUL, non-ASCII, surrogate and tag-noise texts, odd objects.

A malformed judgement is data; no Rust panic may reach Python; everything is linear time
(a quadratic scan of these inputs would not finish; no timing is asserted)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import patarm

MB = 1 << 20
HEAD = "<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>"
TAIL = "</answer>"


HUGE = {
    "valid, 10 MB of reasoning": (
        "<think>" + "reasoning " * MB + "</think><generate_rubrics>r</generate_rubrics>"
        "<eval>e</eval><answer>7</answer>",
        7.0,
        None,
    ),
    "10 MB of '<'": ("<" * (10 * MB), None, "missing_or_misordered_tags"),
    "10 MB of open think tags": ("<think>" * (10 * MB // 7), None, "missing_or_misordered_tags"),
    "10 MB of near-miss tags": ("<thin</answe<generate_rubric" * (10 * MB // 28), None, "missing_or_misordered_tags"),
    "10 MB of NUL": ("\x00" * (10 * MB), None, "missing_or_misordered_tags"),
    "10 MB of non-ASCII": ("ü漢😀\u2028" * (10 * MB // 12), None, "missing_or_misordered_tags"),
    "10 MB verdict of zeros": (HEAD + "0" * (10 * MB) + "7" + TAIL, 7.0, None),
    "10 MB verdict of digits": (HEAD + "9" * (10 * MB) + TAIL, None, "invalid_verdict"),
    "10 MB verdict of whitespace": (HEAD + " \u3000" * (5 * MB) + "3" + "\n" * MB + TAIL, 3.0, None),
    "10 MB of repeated rubric blocks": (
        "<think>t</think>"
        + "<generate_rubrics>r</generate_rubrics>" * (10 * MB // 37)
        + "<eval>e</eval><answer>2</answer>",
        2.0,
        None,
    ),
}


@pytest.mark.parametrize("name", list(HUGE))
def test_huge_judgements(name):
    text, score, error = HUGE[name]
    j = patarm.parse_judgement(text)
    assert (j.score, j.error) == (score, error)
    out = patarm.parse_judgements([text, text], num_threads=2)
    assert patarm.ERROR_KINDS[out["error_code"][0]] == error


def test_a_million_rows():
    n = 1_000_000
    texts = [HEAD + str(i % 11) + TAIL if i % 7 else "" for i in range(n)]
    ids = [i // 4 for i in range(n)]
    sides = ["chosen", "chosen", "rejected", "rejected"] * (n // 4)
    out = patarm.score_batch(texts, ids, sides, sources="s")
    assert out["reward"].shape == (n,)
    assert int((out["error_code"] == 1).sum()) == len(range(0, n, 7))
    assert np.isfinite(out["reward"]).all()
    string_ids = patarm.score_batch(texts, [str(i) for i in ids], sides)
    np.testing.assert_array_equal(string_ids["reward"], out["reward"])


def test_empty_and_whitespace_texts():
    out = patarm.parse_judgements(["", " ", "\n\t", HEAD + TAIL, HEAD + " " + TAIL])
    assert out["error_code"].tolist() == [1, 1, 1, 2, 2]


def test_nul_is_data():
    # NUL is not a digit or whitespace: in the verdict it makes the verdict invalid; before
    # the tags it is text like any other.
    inside = patarm.parse_judgement(HEAD + "7\x00" + TAIL)
    assert (inside.score, inside.error) == (None, "invalid_verdict")
    before = patarm.parse_judgement("\x00" + HEAD + "7" + TAIL)
    assert (before.score, before.error) == (7.0, None)


def test_odd_objects_give_clear_errors_not_panics():
    class StrLike(str):
        pass

    class BadIndex:
        def __index__(self):
            raise RuntimeError("no index")

    def failing_generator():
        yield HEAD + "5" + TAIL
        raise RuntimeError("generator failed")

    assert patarm.parse_judgement(StrLike(HEAD + "5" + TAIL)).score == 5.0
    with pytest.raises(TypeError):
        patarm.score_batch(["a"], [BadIndex()], ["chosen"])
    with pytest.raises(RuntimeError, match="generator failed"):
        patarm.parse_judgements(failing_generator())
    # Each mistake is a TypeError or ValueError naming the argument (a Rust panic would be a
    # PanicException, a BaseException that pytest.raises does not catch).
    for args, match in (
        ([None, None, None], "texts is NoneType"),
        ([[object()], [1], ["chosen"]], r"texts\[0\] is object"),
        ([["a"], [[1]], ["chosen"]], r"pair_ids\[0\] is list"),
        ([["a"], [1], [None]], r"sides\[0\] is NoneType"),
        ([["a"], {1: 2}, ["chosen"]], "pair_ids is a dict"),
        ([5, 5, 5], "texts is int"),
    ):
        with pytest.raises(TypeError, match=match):
            patarm.score_batch(*args)
    with pytest.raises(ValueError, match="threshold 1 is inf"):
        patarm.Graded(thresholds=[1e308, float("inf")], values=[0, 1, 2])
    with pytest.raises(ValueError, match="exactly one more value than thresholds"):
        patarm.Graded(thresholds=[], values=[])
    with pytest.raises(ValueError, match="is -inf"):
        patarm.Constant(float("-inf"))
    with pytest.raises(ValueError, match="f must return a finite float"):
        patarm.par_rewards([HEAD + "5" + TAIL], [HEAD + "1" + TAIL], f=lambda d: "not a float")
    # A thread count beyond the machine's is capped, not refused.
    out = patarm.score_batch([HEAD + "5" + TAIL], [1], ["chosen"], num_threads=2**62)
    assert out["score"].tolist() == [5.0]


# Every code point but lone surrogates, which are refused (see test_reliability: one str policy).
ANY_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=("Cs",)), max_size=200)


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(st.one_of(ANY_TEXT, st.builds(lambda a: HEAD + a + TAIL, ANY_TEXT)), max_size=10),
    pairwise=st.booleans(),
    think_in_prompt=st.booleans(),
)
def test_any_text_is_data(texts, pairwise, think_in_prompt):
    for text in texts:
        j = patarm.parse_judgement(text, pairwise=pairwise, think_in_prompt=think_in_prompt)
        assert j.format_reward in (0.0, -1.0, -1.5)
    sides = ["A" if pairwise else "chosen"] * len(texts)
    out = patarm.score_batch(texts, list(range(len(texts))), sides, pairwise=pairwise, think_in_prompt=think_in_prompt)
    assert np.isfinite(out["reward"]).all()
