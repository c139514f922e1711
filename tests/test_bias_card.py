"""The bias card (`patarm evaluate --bias`): every figure worked out by hand from the judgements."""

import json
import statistics

import pytest

from patarm.workflow.cli import main
from patarm.workflow.evaluation.bias import format_bias, pointwise_bias
from patarm.workflow.evaluation.evaluate import evaluate_scores
from patarm.workflow.evaluation.items import load_benchmark
from patarm.workflow.evaluation.judgements import load_judgement_details, load_judgement_scores
from patarm.workflow.evaluation.pairwise import evaluate_pairwise


def judgement(score):
    return f"<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>{score}</answer>"


def verdict(letter):
    return f"<think>compare</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>{letter}</answer>"


MALFORMED = "<think>no rubrics</think><answer>5</answer>"  # missing_or_misordered_tags


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


# RewardBench pairs (lengths in characters), judgements per side, mean vote:
#  p1 alpacaeval-easy  chosen 20 [8, 8]       rejected 5  [3, MALFORMED]      8 > 3: longer wins
#  p2 alpacaeval-easy  chosen 2  [5, 5]       rejected 19 [5, 5]              tie
#  p3 alpacaeval-easy  chosen 3  [2, 2]       rejected 8  [7, 11 (invalid)]   7 > 2: longer wins
#  p4 math-prm         chosen 10 scores [6, null]  rejected 4 [4, 4]          6 > 4: longer wins
PAIRS = [
    {"id": "p1", "prompt": "q", "chosen": "a" * 20, "rejected": "b" * 5, "subset": "alpacaeval-easy"},
    {"id": "p2", "prompt": "q", "chosen": "c" * 2, "rejected": "d" * 19, "subset": "alpacaeval-easy"},
    {"id": "p3", "prompt": "q", "chosen": "e" * 3, "rejected": "f" * 8, "subset": "alpacaeval-easy"},
    {"id": "p4", "prompt": "q", "chosen": "g" * 10, "rejected": "h" * 4, "subset": "math-prm"},
]
TEXTS = {
    ("p1", "chosen"): [judgement(8), judgement(8)],
    ("p1", "rejected"): [judgement(3), MALFORMED],
    ("p2", "chosen"): [judgement(5), judgement(5)],
    ("p2", "rejected"): [judgement(5), judgement(5)],
    ("p3", "chosen"): [judgement(2), judgement(2)],
    ("p3", "rejected"): [judgement(7), judgement(11)],
    ("p4", "rejected"): [judgement(4), judgement(4)],
}


@pytest.fixture
def rewardbench_files(tmp_path):
    rows = [{"id": i, "side": side, "judgements": texts} for (i, side), texts in TEXTS.items()]
    rows.append({"id": "p4", "side": "chosen", "scores": [6, None]})
    return write_jsonl(tmp_path / "rb.jsonl", PAIRS), write_jsonl(tmp_path / "j.jsonl", rows)


def test_pointwise_card_counts_invalid_kinds_ties_and_length_preference(rewardbench_files):
    bench, judged = rewardbench_files
    benchmark, items = load_benchmark(bench)
    details = load_judgement_details(judged)
    report = evaluate_scores(benchmark, items, {key: d.scores for key, d in details.items()})
    card = pointwise_bias(report, benchmark, items, details)
    assert card["judgements"] == 16
    assert card["invalid_rate"] == 3 / 16
    assert card["invalid_by_kind"] == {
        "invalid_verdict": 1 / 16,
        "missing_or_misordered_tags": 1 / 16,
        "no_text": 1 / 16,
    }
    texts = [t for ts in TEXTS.values() for t in ts]  # the scores row has no text
    assert card["mean_judgement_chars"] == pytest.approx(sum(map(len, texts)) / len(texts))
    assert card["tie_rate"] == 1 / 4 and card["compared"] == 4
    chat = card["length"]["chat"]
    assert chat["longer_preferred"] == 1.0 and chat["decided_pairs"] == 2  # p1, p3 (p2 ties)
    lengths, means = [20, 5, 2, 19, 3, 8], [8, 3, 5, 5, 2, 7]
    assert chat["pearson"] == pytest.approx(statistics.correlation(lengths, means))
    # ranks by hand (ties share the average rank)
    assert chat["spearman"] == pytest.approx(statistics.correlation([6, 3, 1, 5, 2, 4], [6, 2, 3.5, 3.5, 1, 5]))
    math_ = card["length"]["math"]
    assert math_["longer_preferred"] == 1.0 and math_["responses"] == 2
    assert math_["pearson"] == pytest.approx(1.0)  # two points: (10, 6) and (4, 4)
    assert "invalid 18.8%" in format_bias(card) and "ties 25.0% of 4 compared" in format_bias(card)


def test_cli_bias_adds_the_card_without_changing_the_accuracy(rewardbench_files, tmp_path, capsys):
    bench, judged = rewardbench_files
    plain, biased, png = tmp_path / "plain.json", tmp_path / "bias.json", tmp_path / "bias.png"
    assert main(["evaluate", str(bench), "--judgements", str(judged), "--json", str(plain), "--quiet"]) == 0
    assert main(["evaluate", str(bench), "--judgements", str(judged), "--json", str(biased), "--bias"]) == 0
    out = capsys.readouterr().out
    assert "bias card (pointwise judge, 16 judgements)" in out and "longer preferred 100.0%" in out
    with_card, without = json.loads(biased.read_text()), json.loads(plain.read_text())
    assert "bias" not in without and with_card.pop("bias")["tie_rate"] == 0.25
    assert with_card == without  # the same judgements, the same accuracy
    pytest.importorskip("matplotlib")
    assert main(["evaluate", str(bench), "--judgements", str(judged), "--bias-plot", str(png), "--quiet"]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert load_judgement_scores(judged)[("p4", "chosen", 0)].tolist()[0] == 6.0


def test_rmbench_card_has_the_style_matrix_and_mean_score_per_style(tmp_path):
    # one chat item; chosen styles score 9, 6, 3 and rejected 5, 5, 8 (one judgement each):
    # chosen row i beats rejected column j when chosen[i] > rejected[j]
    item = {
        "id": "m1",
        "prompt": "q",
        "chosen": ["c1", "c22", "c333"],
        "rejected": ["r1", "r22", "r333"],
        "domain": "chat",
    }
    rows = [
        {"id": "m1", "side": side, "style": s, "judgements": [judgement(v)]}
        for side, values in (("chosen", (9, 6, 3)), ("rejected", (5, 5, 8)))
        for s, v in enumerate(values)
    ]
    bench = write_jsonl(tmp_path / "rm.jsonl", [item])
    judged = write_jsonl(tmp_path / "j.jsonl", rows)
    out = tmp_path / "r.json"
    assert main(["evaluate", str(bench), "--judgements", str(judged), "--bias", "--json", str(out), "--quiet"]) == 0
    styles = json.loads(out.read_text())["bias"]["styles"]
    assert styles["order"] == ["concise", "detailed", "markdown"]
    assert styles["matrix"] == [[1.0, 1.0, 1.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]
    assert styles["mean_score"] == {
        "chosen": {"concise": 9.0, "detailed": 6.0, "markdown": 3.0},
        "rejected": {"concise": 5.0, "detailed": 5.0, "markdown": 8.0},
    }


def test_rewardbench2_card_counts_majority_cycles(tmp_path):
    # c1: A = [3, 1, 2], B = [2, 3, 1], C = [1, 2, 3] over three rounds: A beats B 2-1, B beats C
    # 2-1, C beats A 2-1 (a Condorcet cycle); D = 0 loses every round. c2: A > B > C > D always.
    items = [
        {"id": "c1", "prompt": "q", "chosen": ["A"], "rejected": ["B", "C", "D"], "subset": "Focus", "num_correct": 1},
        {"id": "c2", "prompt": "q", "chosen": ["A"], "rejected": ["B", "C", "D"], "subset": "Focus", "num_correct": 1},
    ]
    scores = {"c1": ([3, 1, 2], [2, 3, 1], [1, 2, 3], [0, 0, 0]), "c2": ([5] * 3, [4] * 3, [3] * 3, [2] * 3)}
    rows = [
        {"id": i, "side": "chosen" if r == 0 else "rejected", "index": 0 if r == 0 else r - 1, "scores": list(s)}
        for i, responses in scores.items()
        for r, s in enumerate(responses)
    ]
    bench = write_jsonl(tmp_path / "rb2.jsonl", items)
    judged = write_jsonl(tmp_path / "j.jsonl", rows)
    benchmark, loaded = load_benchmark(bench)
    details = load_judgement_details(judged)
    report = evaluate_scores(benchmark, loaded, {key: d.scores for key, d in details.items()})
    card = pointwise_bias(report, benchmark, loaded, details)
    assert card["cycles"] == {"items": 2, "with_cycle": 1, "rate": 0.5, "method": "majority"}
    # the mean scores order every item: c1's means are 2, 2, 2, 0, so A ties B and C
    assert card["tie_rate"] == 2 / 6 and card["invalid_by_kind"] == {}
    assert card["mean_judgement_chars"] is None  # scores rows carry no text


def test_pairwise_card_position_a_share_ties_and_length(tmp_path):
    # AB shows the chosen response as A, BA as B. Valid letters: q1 A A | B A, q2 B - | A A,
    # q3 A B | B A: 11 letters, 7 of them A. q3 votes 2-2 (a mean tie); one malformed verdict.
    pairs = [
        {"id": "q1", "prompt": "q", "chosen": "a" * 17, "rejected": "b" * 2, "subset": "alpacaeval-easy"},
        {"id": "q2", "prompt": "q", "chosen": "c" * 3, "rejected": "d" * 23, "subset": "alpacaeval-easy"},
        {"id": "q3", "prompt": "q", "chosen": "e", "rejected": "f", "subset": "alpacaeval-easy"},
    ]
    letters = {
        ("q1", "AB"): "AA",
        ("q1", "BA"): "BA",
        ("q2", "AB"): "B-",
        ("q2", "BA"): "AA",
        ("q3", "AB"): "AB",
        ("q3", "BA"): "BA",
    }
    texts = {key: [MALFORMED if c == "-" else verdict(c) for c in value] for key, value in letters.items()}
    bench = write_jsonl(tmp_path / "rb.jsonl", pairs)
    _, items = load_benchmark(bench)
    report = evaluate_pairwise(items, texts, bias=True)
    card = report["bias"]
    assert card["judge"] == "pairwise" and card["judgements"] == 12
    assert card["invalid_rate"] == 1 / 12 and card["invalid_by_kind"] == {"missing_or_misordered_tags": 1 / 12}
    assert card["a_share"] == 7 / 11
    assert card["position_consistency"] == report["pairwise"]["position_consistency"]
    assert card["tie_rate"] == 1 / 3
    # q1: 3 of 4 valid verdicts name the (longer) chosen; q2: all 3 name the (longer) rejected
    assert card["length"] == {"chat": {"longer_preferred": 6 / 7, "verdicts": 7}}
    assert "A-share 63.6%" in format_bias(card)
