"""`patarm evaluate` on small files in RewardBench's and RM-Bench's published formats.

Every expected number is worked out by hand from the judgement scores written in the comments.
"""

import json
from pathlib import Path

import pytest

from patarm.workflow.cli import main
from patarm.workflow.data import DataError
from patarm.workflow.evaluation.evaluate import evaluate_scores
from patarm.workflow.evaluation.items import REWARDBENCH_SECTIONS, load_benchmark
from patarm.workflow.evaluation.judgements import load_judgement_scores
from patarm.workflow.evaluation.metrics import REWARDBENCH_WEIGHTS
from patarm.workflow.evaluation.render import format_report

DATA = Path(__file__).parent / "data"
RB, RB_J = DATA / "rewardbench.jsonl", DATA / "rewardbench_judgements.jsonl"
RM, RM_J = DATA / "rmbench.json", DATA / "rmbench_judgements.jsonl"

# RewardBench: 8 judgements per response (X = malformed, no score). Pair: chosen | rejected
#  1 alpacaeval-easy        9 x8              | 3 x8                 correct at every n
#  2 alpacaeval-easy        5 x8              | 6,4 x7               n1 wrong, n2 tie (5 vs 5), n4/n8 right
#  3 mt-bench-hard          7,X,7 x6          | 8,6,8 x6             wrong at every n (n2: 7 vs 7 tie)
#  4 llmbar-natural         6 x8              | X x8                 rejected has no score: never correct
#  5 refusals-dangerous     8,2 alternating   | 5 x8                 n1 right; then 5 vs 5 ties
#  6 xstest-should-respond  4,9 x7            | 6,1 x7               n1 wrong; mean right from n2;
#                                                                    majority 1:1 tie at n2, right from n4
#  7 math-prm               2 x8              | 1 x8                 correct at every n
#  8 hep-python             3 x8              | 4 x8                 wrong at every n
#  9 hep-python             6 x8              | 5,7 alternating      n1 right; then ties
SUBSET_ACC = {
    "mean": {
        1: {
            "alpacaeval-easy": 1 / 2,
            "mt-bench-hard": 0,
            "llmbar-natural": 0,
            "refusals-dangerous": 1,
            "xstest-should-respond": 0,
            "math-prm": 1,
            "hep-python": 1 / 2,
        },
        2: {
            "alpacaeval-easy": 1 / 2,
            "mt-bench-hard": 0,
            "llmbar-natural": 0,
            "refusals-dangerous": 0,
            "xstest-should-respond": 1,
            "math-prm": 1,
            "hep-python": 0,
        },
        4: {
            "alpacaeval-easy": 1,
            "mt-bench-hard": 0,
            "llmbar-natural": 0,
            "refusals-dangerous": 0,
            "xstest-should-respond": 1,
            "math-prm": 1,
            "hep-python": 0,
        },
        8: {
            "alpacaeval-easy": 1,
            "mt-bench-hard": 0,
            "llmbar-natural": 0,
            "refusals-dangerous": 0,
            "xstest-should-respond": 1,
            "math-prm": 1,
            "hep-python": 0,
        },
    },
    "majority": {
        1: {
            "alpacaeval-easy": 1 / 2,
            "mt-bench-hard": 0,
            "llmbar-natural": 0,
            "refusals-dangerous": 1,
            "xstest-should-respond": 0,
            "math-prm": 1,
            "hep-python": 1 / 2,
        },
        2: {
            "alpacaeval-easy": 1 / 2,
            "mt-bench-hard": 0,
            "llmbar-natural": 0,
            "refusals-dangerous": 0,
            "xstest-should-respond": 0,
            "math-prm": 1,
            "hep-python": 0,
        },
        4: {
            "alpacaeval-easy": 1,
            "mt-bench-hard": 0,
            "llmbar-natural": 0,
            "refusals-dangerous": 0,
            "xstest-should-respond": 1,
            "math-prm": 1,
            "hep-python": 0,
        },
        8: {
            "alpacaeval-easy": 1,
            "mt-bench-hard": 0,
            "llmbar-natural": 0,
            "refusals-dangerous": 0,
            "xstest-should-respond": 1,
            "math-prm": 1,
            "hep-python": 0,
        },
    },
}


def sections_by_hand(acc):
    """rewardbench 0.1.4's section weights (EXAMPLE_COUNTS): refusals-dangerous 100,
    xstest-should-respond 250, math-prm 984 (upweighted to equal the six code subsets),
    hep-python 164, mt-bench-hard 37, llmbar-natural 100; section names as it prints them."""
    return {
        "Chat": acc["alpacaeval-easy"],
        "Chat Hard": (37 * acc["mt-bench-hard"] + 100 * acc["llmbar-natural"]) / 137,
        "Safety": (100 * acc["refusals-dangerous"] + 250 * acc["xstest-should-respond"]) / 350,
        "Reasoning": (984 * acc["math-prm"] + 164 * acc["hep-python"]) / 1148,
    }


@pytest.fixture(scope="module")
def rb_report():
    benchmark, items = load_benchmark(RB)
    assert benchmark == "rewardbench" and len(items) == 9
    return evaluate_scores(benchmark, items, load_judgement_scores(RB_J))


@pytest.mark.parametrize("method", ["mean", "majority"])
@pytest.mark.parametrize("n", [1, 2, 4, 8])
def test_rewardbench_subsets_sections_and_score(rb_report, method, n):
    block = rb_report["results"][method][str(n)]
    expected = SUBSET_ACC[method][n]
    assert {s: v["accuracy"] for s, v in block["subsets"].items()} == pytest.approx(expected)
    assert block["subsets"]["hep-python"]["pairs"] == 2
    sections = sections_by_hand(expected)
    assert block["sections"] == pytest.approx(sections)
    assert block["score"] == pytest.approx(sum(sections.values()) / 4)


def test_rewardbench_report_shape(rb_report):
    assert rb_report["n"] == [1, 2, 4, 8] and rb_report["judgements_per_response"] == 8
    assert rb_report["primary"] == {
        "method": "mean",
        "n": 8,
        "score": pytest.approx((1 + 0 + 250 / 350 + 984 / 1148) / 4),
    }
    assert rb_report["ties"] == "wrong"
    # malformed: 1 of the 72 chosen judgements (pair 3) and 8 of the 72 rejected ones (pair 4)
    assert rb_report["valid_judgement_rate"] == pytest.approx(1 - 9 / 144)
    gaps = rb_report["score_gaps"]
    assert gaps[0] == pytest.approx(6.0) and gaps[3] is None  # pair 4: the rejected side has no score
    assert gaps[1] == pytest.approx(5 - 34 / 8)


def test_the_section_mapping_is_rewardbenchs():
    assert list(REWARDBENCH_SECTIONS) == ["Chat", "Chat Hard", "Safety", "Reasoning"]
    assert REWARDBENCH_SECTIONS["Chat Hard"][0] == "mt-bench-hard"
    assert sum(len(v) for v in REWARDBENCH_SECTIONS.values()) == 23
    assert set(REWARDBENCH_SECTIONS["Reasoning"]) == {
        "math-prm",
        "hep-cpp",
        "hep-go",
        "hep-java",
        "hep-js",
        "hep-python",
        "hep-rust",
    }
    assert (REWARDBENCH_WEIGHTS["xstest-should-refuse"], REWARDBENCH_WEIGHTS["xstest-should-respond"]) == (154, 250)


# With ties="half" a tie, or a side without a valid score, is half a win (pairs as above).
HALF_TIES = {
    ("mean", 2): {
        "alpacaeval-easy": 3 / 4,
        "mt-bench-hard": 1 / 2,
        "llmbar-natural": 1 / 2,
        "refusals-dangerous": 1 / 2,
        "xstest-should-respond": 1,
        "math-prm": 1,
        "hep-python": 1 / 4,
    },
    ("majority", 2): {
        "alpacaeval-easy": 3 / 4,
        "mt-bench-hard": 0,
        "llmbar-natural": 1 / 2,
        "refusals-dangerous": 1 / 2,
        "xstest-should-respond": 1 / 2,
        "math-prm": 1,
        "hep-python": 1 / 4,
    },
    ("mean", 8): {
        "alpacaeval-easy": 1,
        "mt-bench-hard": 0,
        "llmbar-natural": 1 / 2,
        "refusals-dangerous": 1 / 2,
        "xstest-should-respond": 1,
        "math-prm": 1,
        "hep-python": 1 / 4,
    },
}


@pytest.mark.parametrize("method, n", list(HALF_TIES))
def test_rewardbench_ties_count_half(method, n):
    benchmark, items = load_benchmark(RB)
    report = evaluate_scores(benchmark, items, load_judgement_scores(RB_J), ties="half")
    assert report["ties"] == "half"
    block = report["results"][method][str(n)]
    expected = HALF_TIES[(method, n)]
    assert {s: v["accuracy"] for s, v in block["subsets"].items()} == expected
    assert block["sections"] == pytest.approx(sections_by_hand(expected))
    with pytest.raises(ValueError, match="ties='draw'"):
        evaluate_scores(benchmark, items, load_judgement_scores(RB_J), ties="draw")


def test_mean_voting_ties_are_exact_in_evaluation(tmp_path):
    """mean@2 of chosen [0.1, 0.2] against rejected [0.15, 0.15] is a tie, not a win."""
    bench, judgements = tmp_path / "b.jsonl", tmp_path / "j.jsonl"
    bench.write_text(json.dumps({"id": 1, "prompt": "p", "chosen": "c", "rejected": "r", "subset": "hep-go"}) + "\n")
    judgements.write_text(
        json.dumps({"id": 1, "side": "chosen", "scores": [0.1, 0.2]})
        + "\n"
        + json.dumps({"id": 1, "side": "rejected", "scores": [0.15, 0.15]})
        + "\n"
    )
    benchmark, items = load_benchmark(bench)
    for ties, credit in (("wrong", 0.0), ("half", 0.5)):
        report = evaluate_scores(benchmark, items, load_judgement_scores(judgements), ties=ties)
        assert report["results"]["mean"]["2"]["subsets"]["hep-go"]["accuracy"] == credit
    assert report["score_gaps"] == [0.0]


# RM-Bench: 2 judgements per response; rows = chosen style, columns = rejected style.
#  chat/1          chosen 6,7,8 | rejected 5,7,9    -> [[1,0,0],[1,0,0],[1,1,0]]   (7 vs 7 is a tie)
#  chat/2          chosen 9,9,9 | rejected 1,1,1    -> all 1
#  safety-refuse/1 chosen 4,X,6 | rejected 5,5,5    -> [[0,0,0],[0,0,0],[1,1,1]]
#  math/1          chosen (8,2) each | rejected (6,6) each: n=1 all 1; n=2 means 5 < 6, majority 1:1 -> all 0
CHAT = dict(hard=(0.5 + 0.5 + 0.5) / 3, normal=(1 + 0.5 + 0.5) / 3, easy=(1 + 1 + 1) / 3, accuracy=6.5 / 9)
SAFETY = dict(hard=0.0, normal=1 / 3, easy=2 / 3, accuracy=3 / 9)
MATH = {1: dict(hard=1.0, normal=1.0, easy=1.0, accuracy=1.0), 2: dict(hard=0.0, normal=0.0, easy=0.0, accuracy=0.0)}


@pytest.fixture(scope="module")
def rm_report():
    benchmark, items = load_benchmark(RM)
    assert benchmark == "rmbench" and len(items) == 4
    return evaluate_scores(benchmark, items, load_judgement_scores(RM_J))


@pytest.mark.parametrize("method", ["mean", "majority"])
@pytest.mark.parametrize("n", [1, 2])
def test_rmbench_easy_normal_hard_per_domain(rm_report, method, n):
    block = rm_report["results"][method][str(n)]
    assert list(block["domains"]) == ["chat", "math", "safety"]
    for domain, expected in (("chat", CHAT), ("math", MATH[n]), ("safety", SAFETY)):
        got = {k: block["domains"][domain][k] for k in ("hard", "normal", "easy", "accuracy")}
        assert got == pytest.approx(expected), domain
    assert block["domains"]["chat"]["items"] == 2
    assert block["domains"]["chat"]["matrix"] == [[1, 0.5, 0.5], [1, 0.5, 0.5], [1, 1, 0.5]]  # exact halves
    average = {k: (CHAT[k] + MATH[n][k] + SAFETY[k]) / 3 for k in CHAT}
    assert block["average"] == pytest.approx(average)
    assert block["score"] == pytest.approx(average["accuracy"])


def test_rmbench_uses_all_judgements_available(rm_report):
    assert rm_report["n"] == [1, 2] and rm_report["judgements_per_response"] == 2


def test_missing_judgements_are_named(tmp_path):
    partial = tmp_path / "j.jsonl"
    partial.write_text("".join(line for line in RB_J.read_text().splitlines(True) if '"id": 9' not in line))
    benchmark, items = load_benchmark(RB)
    with pytest.raises(DataError, match=r"no judgements for id='9' side=chosen style=0, id='9' side=rejected"):
        evaluate_scores(benchmark, items, load_judgement_scores(partial))


@pytest.mark.parametrize(
    "record, message",
    [
        ({"prompt": "p", "chosen": "a", "subset": "x"}, "line 1: missing field 'rejected'"),
        (
            {"prompt": "p", "chosen": ["a", "b"], "rejected": ["c", "d", "e"], "domain": "chat"},
            "line 1: field 'chosen' must be three strings",
        ),
        ({"prompt": "p", "chosen": ["a"] * 3, "rejected": ["b"] * 3, "domain": "poetry"}, "unknown RM-Bench domain"),
    ],
)
def test_bad_benchmark_records_are_named(tmp_path, record, message):
    path = tmp_path / "bench.jsonl"
    path.write_text(json.dumps(record) + "\n")
    with pytest.raises(DataError, match=message):
        load_benchmark(path)


def test_bad_judgement_rows_are_named(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_text(json.dumps({"id": 1, "side": "chosen", "style": 5, "scores": [1]}) + "\n")
    with pytest.raises(DataError, match=r"j.jsonl:line 1: field 'style' must be 0, 1, 2"):
        load_judgement_scores(path)


def test_terminal_table(rb_report, rm_report):
    table = format_report(rb_report)
    assert "mean@8" in table and "majority@1" in table
    assert "  hep-python (2)" in table
    lines = {line.split("|")[0].strip(): line for line in table.splitlines() if "|" in line}
    assert lines["Chat"].split("|")[1].strip() == "50.00"  # mean@1
    assert "ties count as wrong" in table.splitlines()[0]
    table = format_report(rm_report)
    assert "easy" in table and "hard" in table and "average" in table


def test_cli_evaluate_rewardbench_json_and_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out_json, out_png = tmp_path / "report.json", tmp_path / "plot.png"
    code = main(["evaluate", str(RB), "--judgements", str(RB_J), "--json", str(out_json), "--plot", str(out_png)])
    assert code == 0
    printed = capsys.readouterr().out
    assert printed.startswith("rewardbench: 9 items, 8 judgements per response")
    report = json.loads(out_json.read_text())
    assert report["results"]["majority"]["4"]["sections"]["Chat"] == 1.0
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_evaluate_ties_half(tmp_path, capsys):
    out_json = tmp_path / "report.json"
    assert main(["evaluate", str(RB), "--judgements", str(RB_J), "--ties", "half", "--json", str(out_json)]) == 0
    assert "ties count as half a win" in capsys.readouterr().out
    report = json.loads(out_json.read_text())
    assert report["ties"] == "half"
    assert report["results"]["mean"]["2"]["subsets"]["hep-python"]["accuracy"] == 0.25


def test_cli_evaluate_rmbench(tmp_path, capsys):
    out_json = tmp_path / "rm.json"
    assert main(["evaluate", str(RM), "--judgements", str(RM_J), "--json", str(out_json), "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    report = json.loads(out_json.read_text())
    assert report["results"]["mean"]["2"]["domains"]["safety"]["easy"] == pytest.approx(2 / 3)


def test_cli_evaluate_live_judge(tmp_path, capsys):
    """Scores from a live server: every response is judged n times, saved, and evaluated."""
    pytest.importorskip("httpx")
    from chat_server import ChatServer, judgement

    benchmark = tmp_path / "rb.jsonl"
    rows = [
        {"id": 1, "prompt": "p1", "chosen": "GOOD-1", "rejected": "BAD-1", "subset": "alpacaeval-easy"},
        {"id": 2, "prompt": "p2", "chosen": "GOOD-2", "rejected": "BAD-2", "subset": "hep-go"},
    ]
    benchmark.write_text("".join(json.dumps(r) + "\n" for r in rows))
    rules = [
        {"match": "GOOD-1", "judgements": [judgement(8), judgement(6)]},
        {"match": "BAD-1", "judgements": [judgement(5)]},
        {"match": "GOOD-2", "judgements": [judgement(2)]},
        {"match": "BAD-2", "judgements": [judgement(4), judgement(1)]},  # mean 2.5 > 2: chosen loses
    ]
    saved, out_json = tmp_path / "judgements.jsonl", tmp_path / "r.json"
    with ChatServer(rules) as server:
        code = main(
            [
                "evaluate",
                str(benchmark),
                "--judge-url",
                server.url,
                "--model",
                "judge",
                "-n",
                "2",
                "--save-judgements",
                str(saved),
                "--json",
                str(out_json),
                "--quiet",
            ]
        )
        assert code == 0
        code_prompts = [r["messages"][0]["content"] for r in server.requests_matching("GOOD-2")]
    report = json.loads(out_json.read_text())
    assert report["results"]["mean"]["2"]["subsets"] == {
        "alpacaeval-easy": {"accuracy": 1.0, "pairs": 1},
        "hep-go": {"accuracy": 0.0, "pairs": 1},
    }
    # n=1: GOOD-2 2 vs BAD-2 4 -> wrong; majority n=2: rounds 2<4, 2>1 -> tie -> wrong
    assert report["results"]["majority"]["2"]["subsets"]["hep-go"]["accuracy"] == 0.0
    saved_rows = [json.loads(line) for line in saved.read_text().splitlines()]
    assert len(saved_rows) == 4 and all(len(r["judgements"]) == 2 for r in saved_rows)
    # re-evaluating the saved judgements gives the same report
    again = tmp_path / "again.json"
    assert main(["evaluate", str(benchmark), "--judgements", str(saved), "--json", str(again), "--quiet"]) == 0
    assert json.loads(again.read_text())["results"] == report["results"]
    import patarm

    assert code_prompts == [patarm.build_prompt("p2", "GOOD-2", domain="code")]  # hep-* is judged as code


def test_cli_evaluate_needs_model_with_judge_url(capsys):
    assert main(["evaluate", str(RB), "--judge-url", "http://127.0.0.1:9/v1"]) == 2
    assert "--judge-url needs --model" in capsys.readouterr().err


def test_json_report_has_no_nan(tmp_path):
    """A subset whose accuracy is undefined must not produce invalid JSON."""
    from patarm.workflow.data.io import write_json

    path = tmp_path / "r.json"
    write_json({"a": float("nan"), "b": [1.0, float("inf")], "c": {"d": 2.5}}, path)
    assert json.loads(path.read_text()) == {"a": None, "b": [1.0, None], "c": {"d": 2.5}}


def test_cli_evaluate_unreachable_judge_is_one_clear_error(capsys):
    pytest.importorskip("httpx")
    from chat_server import ChatServer

    with ChatServer([]) as server:
        url = server.url  # closed again: nothing listens there any more
    assert (
        main(["evaluate", str(RB), "--judge-url", url, "--model", "m", "-n", "1", "--max-retries", "0", "--quiet"]) == 2
    )
    err = capsys.readouterr().err
    assert err.startswith("patarm evaluate: error:") and "failed after 1 attempts" in err
