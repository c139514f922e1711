"""Parsing judgements: rules R1-R4 of docs/method.md §3, single and batch forms."""

import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import par_reference as ref
import patarm


def judgement(answer, think="reasoning", rubrics=("r1",), eval_="evaluation"):
    blocks = "".join(f"<generate_rubrics>{r}</generate_rubrics>" for r in rubrics)
    return f"<think>{think}</think>\n{blocks}\n<eval>{eval_}</eval>\n<answer>{answer}</answer>"


def test_well_formed_pointwise_has_score_and_sections():
    j = patarm.parse_judgement("intro " + judgement(" 7.5\n", rubrics=("a", " b ")) + " outro")
    assert j.score == 7.5
    assert j.choice is None
    assert j.error is None and j.ok
    assert j.format_reward == 0.0
    assert j.think == "reasoning"
    assert j.rubrics == ["a", "b"]
    assert j.eval == "evaluation"
    assert j.answer == "7.5"


def test_well_formed_pairwise_has_choice():
    j = patarm.parse_judgement(judgement("B"), pairwise=True)
    assert (j.choice, j.score, j.error) == ("B", None, None)
    bad = patarm.parse_judgement(judgement("b"), pairwise=True)
    assert (bad.choice, bad.error, bad.format_reward) == (None, "invalid_verdict", -1.0)


@pytest.mark.parametrize(
    "answer, expected",
    [
        ("0", 0.0),
        ("10", 10.0),
        ("+3", 3.0),
        ("-0", 0.0),
        (".5", 0.5),
        ("+.5", 0.5),
        ("007", 7.0),
        ("9.99", 9.99),
        ("10.000", 10.0),
        ("\u3000 8 \t", 8.0),
        ("7.", 7.0),
        ("5.", 5.0),
        ("\x1c7.\x1f", 7.0),
        ("\x1d\x1e 0.5\x85", 0.5),
    ],
)
def test_valid_verdicts(answer, expected):
    j = patarm.parse_judgement(judgement(answer))
    assert j.score == expected and j.error is None
    assert math.copysign(1.0, j.score) == 1.0  # -0 reads as +0


@pytest.mark.parametrize(
    "answer",
    [
        "",
        ".",
        "+.",
        "-.",
        "1e1",
        "1E1",
        "inf",
        "nan",
        "NaN",
        "0x1",
        "10.0001",
        "-1",
        "11",
        "1,5",
        "7/10",
        "\u0663",
        "\uff11",
        "1_0",
        "--1",
        "1.2.3",
        "seven",
        "7 out of 10",
        "A",
    ],
)
def test_invalid_verdicts(answer):
    j = patarm.parse_judgement(judgement(answer))
    assert (j.score, j.error, j.format_reward) == (None, "invalid_verdict", -1.0)
    assert j.think == "reasoning"  # the tags were fine, sections are kept


@pytest.mark.parametrize(
    "text",
    [
        "",
        "7",
        "<think>t</think><eval>e</eval><answer>5</answer>",  # no rubric block
        "<generate_rubrics>r</generate_rubrics><eval>e</eval><answer>5</answer>",  # no think
        judgement("5") + "<answer>5</answer>",  # repeated
        "<think><think>t</think></think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>5</answer>",
        "<think>t</think><generate_rubrics>r</generate_rubrics><answer>5</answer><eval>e</eval>",
        "<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>5",
        "<think>t</think><generate_rubrics>r<eval>e</eval></generate_rubrics><answer>5</answer>",
    ],
)
def test_tag_errors(text):
    j = patarm.parse_judgement(text)
    assert (j.score, j.error, j.format_reward) == (None, "missing_or_misordered_tags", -1.5)
    assert (j.think, j.rubrics, j.eval, j.answer) == (None, [], None, None)


def test_other_tag_like_text_is_plain_text():
    text = (
        "<THINK> <think > <think>a <b> </thinking></think><generate_rubrics x>"
        "<generate_rubrics>r</generate_rubrics><eval>e</eval><answer>6</answer><answer"
    )
    j = patarm.parse_judgement(text)
    assert j.score == 6.0
    assert j.think == "a <b> </thinking>"


def test_think_in_prompt():
    text = "reasoning</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>4</answer>"
    assert patarm.parse_judgement(text).error == "missing_or_misordered_tags"
    j = patarm.parse_judgement(text, think_in_prompt=True)
    assert (j.score, j.think) == (4.0, "reasoning")
    # Under the option an own <think> is a repeated tag.
    assert patarm.parse_judgement("<think>" + text, think_in_prompt=True).error == "missing_or_misordered_tags"


def test_judgement_is_frozen_picklable_and_short():
    j = patarm.parse_judgement(judgement("7", think="x" * 10_000))
    with pytest.raises(AttributeError):
        j.score = 3.0
    again = pickle.loads(pickle.dumps(j))
    assert again == j and again.think == j.think
    assert repr(j) == "Judgement(score=7.0, error=None, rubrics=1)"
    assert len(repr(j)) < 100
    assert "invalid_verdict" in repr(patarm.parse_judgement(judgement("x")))


def test_error_kinds():
    assert patarm.ERROR_KINDS == (None, "missing_or_misordered_tags", "invalid_verdict")


def test_batch_matches_single():
    texts = [judgement("8"), judgement("x"), "junk", judgement("0.5")]
    out = patarm.parse_judgements(texts, num_threads=2)
    assert out["score"].dtype == np.float64 and out["error_code"].dtype == np.int8
    assert out["format_reward"].dtype == np.float64
    for i, text in enumerate(texts):
        j = patarm.parse_judgement(text)
        assert patarm.ERROR_KINDS[out["error_code"][i]] == j.error
        assert out["format_reward"][i] == j.format_reward
        assert (math.isnan(out["score"][i]) and j.score is None) or out["score"][i] == j.score
    assert "choice" not in out


def test_verdict_labels_are_one_spelling_indexed_by_code():
    # The core's labels (vote::verdict::LABELS): "choice" in parse_judgements and the verdicts of
    # majority_vote_verdicts are spelt by them, and a code is a label's index.
    assert patarm.VERDICT_LABELS == ("", "A", "B") and "VERDICT_LABELS" in patarm.__all__
    out = patarm.parse_judgements([judgement("A"), judgement("B"), judgement("C")], pairwise=True)
    assert out["choice"].tolist() == ["A", "B", ""]
    codes = [patarm.VERDICT_LABELS.index(choice) for choice in out["choice"].tolist()]
    by_label = patarm.majority_vote_verdicts([out["choice"].tolist()], ["A"])
    by_code = patarm.majority_vote_verdicts(np.array([codes]), np.array([patarm.VERDICT_LABELS.index("A")]))
    assert by_label.chosen_votes.tolist() == by_code.chosen_votes.tolist() == [1]
    assert by_label.rejected_votes.tolist() == by_code.rejected_votes.tolist() == [1]


def test_batch_pairwise_choice():
    out = patarm.parse_judgements([judgement("A"), judgement("B"), judgement("C")], pairwise=True)
    assert out["choice"].tolist() == ["A", "B", ""]
    assert out["error_code"].tolist() == [0, 0, 2]
    assert np.isnan(out["score"]).all()


def test_batch_accepts_tuples_generators_and_numpy():
    texts = (judgement("1"), judgement("2"))
    assert patarm.parse_judgements(texts)["score"].tolist() == [1.0, 2.0]
    assert patarm.parse_judgements(t for t in texts)["score"].tolist() == [1.0, 2.0]
    assert patarm.parse_judgements(np.array(texts))["score"].tolist() == [1.0, 2.0]
    assert patarm.parse_judgements([])["score"].shape == (0,)


def test_wrong_types_are_clear_type_errors():
    with pytest.raises(TypeError, match="must be a str"):
        patarm.parse_judgement(b"<think>")
    with pytest.raises(TypeError, match=r"texts\[1\] is int"):
        patarm.parse_judgements(["ok", 3])
    with pytest.raises(TypeError, match="not a single string"):
        patarm.parse_judgements("one text")
    with pytest.raises(ValueError, match="num_threads"):
        patarm.parse_judgements(["x"], num_threads=-1)


PIECES = st.sampled_from(
    [
        "<think>",
        "</think>",
        "<generate_rubrics>",
        "</generate_rubrics>",
        "<eval>",
        "</eval>",
        "<answer>",
        "</answer>",
        "<",
        "</",
        "<think",
        "answer>",
        " ",
        "\n",
        "A",
        "B",
        "7",
        ".",
        "-",
        "10",
        "\x00",
        "é",
        "\u3000",
        "\x1c",
        "\x1f",
        "\x85",
        "\u200b",
        "7.",
        "\xa0",
    ]
)
TEXTS = st.one_of(
    st.lists(st.one_of(PIECES, st.text(max_size=5)), max_size=30).map("".join),
    st.builds(
        lambda t, rs, e, a, pre, post: pre + judgement(a, think=t, rubrics=rs, eval_=e) + post,
        st.text(max_size=8),
        st.lists(st.text(max_size=5), min_size=1, max_size=3),
        st.text(max_size=5),
        st.one_of(
            st.sampled_from(["7", " 3.25 ", "A", "B", "x", "+.5", "1e1", "10.5", "7.", "\x1e7.\x1c"]),
            st.decimals(min_value=-1, max_value=11, allow_nan=False).map(str),
            st.text(max_size=4),
        ),
        st.text(max_size=4),
        st.text(max_size=4),
    ),
)


@settings(max_examples=400, deadline=None)
@given(text=TEXTS, pairwise=st.booleans(), think_in_prompt=st.booleans())
def test_parser_matches_plain_python_reference(text, pairwise, think_in_prompt):
    verdict, error = ref.parse(text, pairwise=pairwise, think_in_prompt=think_in_prompt)
    j = patarm.parse_judgement(text, pairwise=pairwise, think_in_prompt=think_in_prompt)
    assert patarm.ERROR_KINDS[error] == j.error
    if pairwise or verdict is None:
        assert (j.choice if pairwise else j.score) == verdict
    else:
        assert j.score == float(verdict)  # the nearest float of the exact value
    assert j.format_reward == ref.FORMAT_REWARD[error]
    batch = patarm.parse_judgements([text], pairwise=pairwise, think_in_prompt=think_in_prompt)
    assert batch["error_code"][0] == error


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(TEXTS, max_size=20))
def test_batch_equals_singles(texts):
    out = patarm.parse_judgements(texts, num_threads=2)
    for i, text in enumerate(texts):
        j = patarm.parse_judgement(text)
        assert patarm.ERROR_KINDS[out["error_code"][i]] == j.error
        assert (j.score is None and np.isnan(out["score"][i])) or j.score == out["score"][i]


def test_verdict_whitespace_is_exactly_what_str_strip_removes():
    """R4: every character str.strip() removes is stripped around a verdict, and no other
    (all of the Basic Multilingual Plane, surrogates aside)."""
    chars = [chr(c) for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF]
    out = patarm.parse_judgements([judgement(f"{c}7{c}") for c in chars], num_threads=2)
    stripped = {c for c, code in zip(chars, out["error_code"], strict=True) if code == 0}
    assert stripped == {c for c in chars if c.strip() == ""}
    assert {"\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\u3000"} <= stripped


@pytest.mark.parametrize(
    "fields, message",
    [
        (dict(score=float("nan")), "score is NaN"),
        (dict(score=float("inf")), "score is inf"),
        (dict(score=None), "no score, no choice and error=None"),
        (dict(error="typo"), 'error is "typo"'),
        (dict(choice="C"), 'choice is "C"'),
        (dict(format_reward=float("nan")), "format_reward is NaN"),
    ],
)
def test_a_judgement_cannot_claim_ok_without_a_verdict(fields, message):
    base = dict(score=7.0, choice=None, format_reward=0.0, error=None, think="t", rubrics=[], eval="e", answer="7")
    with pytest.raises(ValueError, match=message):
        patarm.Judgement(**{**base, **fields})
    # What the parser produces round-trips through pickle unchanged.
    import pickle

    for text in ("junk", "<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>7</answer>"):
        parsed = patarm.parse_judgement(text)
        assert pickle.loads(pickle.dumps(parsed)) == parsed
