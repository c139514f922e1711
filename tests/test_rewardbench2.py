"""RewardBench 2 scoring: best-of-4 subsets and Ties, worked out by hand, then cross-checked
against rewardbench 0.1.4's own scoring functions (read from the installed package, as
tests/test_rewardbench_scoring.py does: its ``__init__`` needs torch)."""

import ast
import importlib.util
import json
import math
import random
from pathlib import Path

import numpy as np
import pytest

from patarm.workflow.cli import main
from patarm.workflow.evaluation.evaluate import evaluate_scores
from patarm.workflow.evaluation.items import Item, load_benchmark
from patarm.workflow.evaluation.judgements import scores_from_rows
from patarm.workflow.evaluation.render import format_report
from patarm.workflow.evaluation.rewardbench2 import best_of_credits, ties_score

X = None  # an invalid judgement (no score)

# Two judgements per response. Item: chosen | rejected (three, more in Ties)
ITEMS = {
    # Math
    "A": ("Math", [[9, 9]], [[5, 5], [6, 6], [7, 7]]),  # chosen wins at every n
    "B": ("Math", [[8, 6]], [[8, 8], [2, 2], [1, 1]]),  # n1: 2-way tie at the top; n2: mean 7 < 8, loses
    "C": ("Math", [[X, 7]], [[X, X], [3, 3], [4, 4]]),  # n1: chosen invalid; n2: beats the valid ones
    "D": ("Math", [[X, X]], [[X, X], [X, X], [X, X]]),  # nothing valid: rewardbench's error, 1/4
    # Safety: exact means, n2: 0.15 vs 0.15 three times -> a 4-way tie
    "F": ("Safety", [[0.1, 0.2]], [[0.15, 0.15], [0.15, 0.15], [0.15, 0.15]]),
    # Focus: 3-way tie at the top
    "E": ("Focus", [[5, 5]], [[5, 5], [5, 5], [1, 1]]),
    # Ties: ref:1 / tied:1 and ref:2 / tied:2
    "ref:1": ("Ties", [[9, 9]], [[3, 3], [4, 4]]),  # accurate, margin 9-4 = 5
    "tied:1": ("Ties", [[8, 8], [7, 7], [6, 6]], [[5, 5], [2, 2]]),  # accurate, spread 2, margin 1
    "ref:2": ("Ties", [[5, 5]], [[6, 6]]),  # not accurate, margin -1
    "tied:2": ("Ties", [[7, 7], [7, 7]], [[1, 1]]),  # accurate, spread 0, margin 6
}


def build(items=ITEMS):
    bench, rows = [], []
    for item_id, (subset, chosen, rejected) in items.items():
        bench.append(
            Item(
                item_id,
                "p",
                tuple(f"c{j}" for j in range(len(chosen))),
                tuple(f"r{j}" for j in range(len(rejected))),
                subset,
            )
        )
        for side, responses in (("chosen", chosen), ("rejected", rejected)):
            for index, scores in enumerate(responses):
                rows.append({"id": item_id, "side": side, "index": index, "scores": scores})
    return bench, scores_from_rows(rows)


# accuracy per subset: (method, n, ties) -> {subset: accuracy}
BEST_OF = {
    ("mean", 1, "wrong"): {"Math": 1 / 4, "Safety": 0.0, "Focus": 0.0},
    ("mean", 1, "half"): {"Math": (1 + 1 / 2 + 0 + 1 / 4) / 4, "Safety": 0.0, "Focus": 1 / 3},
    ("mean", 2, "wrong"): {"Math": 1 / 4, "Safety": 0.0, "Focus": 0.0},
    ("mean", 2, "half"): {"Math": (1 + 0 + 1 + 1 / 4) / 4, "Safety": 1 / 4, "Focus": 1 / 3},
    # majority@2: B loses round 2 to r0 (6 < 8) after a tied round 1; F splits 1:1 with each
    ("majority", 2, "wrong"): {"Math": 1 / 4, "Safety": 0.0, "Focus": 0.0},
    ("majority", 2, "half"): {"Math": (1 + 0 + 1 + 1 / 4) / 4, "Safety": 1 / 4, "Focus": 1 / 3},
}
# Ties by hand: accuracy ref 1/2, tied 1; correctness_preferred: tied:1 1 > 2 no, tied:2 6 > 0 yes
# -> 1/2; hard: min(5, 1) > 2 no, min(-1, 6) > 0 no -> 0; margin ratio (tied:1 only, spread > 0):
# min(5, 1) / 2 = 1/2 -> tanh(1/2 - 1)
TIES = {
    "accuracy_ref": 0.5,
    "accuracy_tied": 1.0,
    "correctness_preferred": 0.5,
    "correctness_preferred_hard": 0.0,
    "correctness_margin_score": math.tanh(-0.5),
}
TIES_SCORE = 0.3 * 1.0 + 0.3 * 0.5 + 0.2 * 0.5 + 0.2 * 0.0 + 0.01 * math.tanh(-0.5)


@pytest.mark.parametrize("method, n, ties", list(BEST_OF))
def test_subsets_and_overall_by_hand(method, n, ties):
    items, scores = build()
    report = evaluate_scores("rewardbench2", items, scores, ties=ties)
    block = report["results"][method][str(n)]
    assert list(block["subsets"]) == ["Math", "Safety", "Focus", "Ties"]  # RewardBench 2's order
    got = {s: v["accuracy"] for s, v in block["subsets"].items() if s != "Ties"}
    assert got == BEST_OF[(method, n, ties)]
    ties_block = block["subsets"]["Ties"]
    assert {k: ties_block[k] for k in TIES} == TIES  # Ties uses mean scores under both methods
    assert ties_block["accuracy"] == TIES_SCORE and ties_block["items"] == 4
    expected = [*BEST_OF[(method, n, ties)].values(), TIES_SCORE]
    assert block["score"] == sum(expected) / 4


def test_report_shape_and_table():
    items, scores = build()
    report = evaluate_scores("rewardbench2", items, scores)
    assert report["n"] == [1, 2] and report["judgements_per_response"] == 2 and report["items"] == 10
    invalid = 1 + 2 + 8  # C: 1 chosen + 2 rejected, D: all 8
    assert report["valid_judgement_rate"] == pytest.approx(
        1 - invalid / (2 * sum(len(c) + len(r) for _, c, r in ITEMS.values()))
    )
    gaps = dict(zip(ITEMS, report["score_gaps"], strict=True))
    assert gaps["A"] == 2.0 and gaps["B"] == -1.0 and gaps["C"] is None and gaps["F"] == 0.0
    assert gaps["tied:1"] == 1.0  # lowest correct 6 - highest incorrect 5
    table = format_report(report)
    assert table.startswith("rewardbench2: 10 items, 2 judgements per response")
    lines = {line.split("|")[0].strip(): line for line in table.splitlines() if "|" in line}
    assert lines["Math (4)"].split("|")[1].strip() == "25.00"  # mean@1
    assert "score (mean of subsets)" in lines
    assert '<td style="text-align:left">Ties (4)</td>' in report._repr_html_()


def test_ties_response_without_a_score_counts_as_a_failed_rating():
    """rewardbench's rating script scores a failed rating -1: an invalid correct answer sinks
    the prompt's accuracy, an invalid incorrect one ranks below every valid answer."""
    items = {"ref:1": ("Ties", [[X]], [[0]]), "tied:1": ("Ties", [[3], [2]], [[X]])}
    bench, scores = build(items)
    got = ties_score(bench, scores, 1, 1)
    # ref: correct -1 vs incorrect 0: not accurate, margin -1; tied: 2 > -1 accurate, spread 1, margin 3
    assert got["accuracy_ref"] == 0.0 and got["accuracy_tied"] == 1.0
    assert got["correctness_preferred"] == 1.0 and got["correctness_preferred_hard"] == 0.0
    assert got["correctness_margin_score"] == math.tanh(-1 / 1 - 1)


# --------------------------------------------------------------------------------------------
# rewardbench 0.1.4's own functions

SPEC = importlib.util.find_spec("rewardbench")


@pytest.fixture(scope="module")
def rewardbench_v2():
    if SPEC is None:
        pytest.skip("rewardbench is not installed (pip install --no-deps rewardbench==0.1.4)")
    datasets = pytest.importorskip("datasets")
    pandas = pytest.importorskip("pandas")
    source = Path(SPEC.submodule_search_locations[0]) / "utils.py"
    wanted = {"sample_stats", "process_single_model", "reroll_and_score_dataset"}
    tree = ast.parse(source.read_text())
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in wanted]
    assert {f.name for f in functions} == wanted
    namespace = {"np": np, "math": math, "pd": pandas, "Dataset": datasets.Dataset}
    exec(compile(ast.Module(body=functions, type_ignores=[]), str(source), "exec"), namespace)
    return namespace


def random_ties_items(rng):
    items = {}
    for pid in range(12):
        for kind in ("ref", "tied"):
            if kind == "tied" and pid % 5 == 4:
                continue  # a ref prompt without its tied partner
            correct = 1 if kind == "ref" else rng.randint(1, 4)
            items[f"{kind}:{pid}"] = (
                "Ties",
                [[rng.randint(1, 10), rng.randint(1, 10)] for _ in range(correct)],
                [[rng.randint(1, 10), rng.randint(1, 10)] for _ in range(rng.randint(1, 4))],
            )
    return items


@pytest.mark.parametrize("seed", range(8))
def test_ties_score_equals_rewardbenchs_process_single_model(rewardbench_v2, seed):
    items = random_ties_items(random.Random(seed))
    bench, scores = build(items)
    for n in (1, 2):
        # rewardbench's input: one row per prompt, scores of chosen then rejected (here: mean@n)
        rows = [
            {"id": item_id, "subset": "Ties", "num_correct": len(c), "scores": [float(np.mean(s[:n])) for s in c + r]}
            for item_id, (_, c, r) in items.items()
        ]
        _, theirs = rewardbench_v2["process_single_model"](rows)
        ours = ties_score(bench, scores, 2, n)["accuracy"]
        assert ours == pytest.approx(float(theirs), rel=0, abs=1e-15)


@pytest.mark.parametrize("seed", range(8))
def test_best_of_4_half_equals_rewardbenchs_reroll_and_score(rewardbench_v2, seed):
    """ties="half" credits as ``reroll_and_score_dataset``: 1/k for a k-way tie at the top."""
    rng = random.Random(100 + seed)
    items = {
        str(i): (
            "Math",
            [[rng.randint(1, 4), rng.randint(1, 4)]],
            [[rng.randint(1, 4), rng.randint(1, 4)] for _ in range(3)],
        )
        for i in range(40)
    }
    bench, scores = build(items)
    from datasets import Dataset

    for n in (1, 2):
        unrolled = [
            {"text": "t", "id": item_id, "subset": "Math", "scores": float(np.mean(s[:n]))}
            for item_id, (_, c, r) in items.items()
            for s in c + r
        ]
        rerolled = rewardbench_v2["reroll_and_score_dataset"](Dataset.from_list(unrolled), [4] * len(items))
        theirs = list(rerolled["results"])
        assert best_of_credits(bench, scores, 2, n, "mean", "half") == theirs
        report = evaluate_scores("rewardbench2", bench, scores, ties="half")
        assert report["results"]["mean"][str(n)]["subsets"]["Math"]["accuracy"] == sum(theirs) / len(theirs)


# --------------------------------------------------------------------------------------------
# CLI: a RewardBench 2 file, judgements by index, and rewardbench's result layout


def test_cli_rewardbench2_file_and_rewardbench_format(tmp_path, capsys):
    bench_path, judgements = tmp_path / "rb2.jsonl", tmp_path / "j.jsonl"
    bench_rows, rows = [], []
    for item_id, (subset, chosen, rejected) in ITEMS.items():
        bench_rows.append(
            {
                "id": item_id,
                "prompt": "p",
                "chosen": [f"c{j}" for j in range(len(chosen))],
                "rejected": [f"r{j}" for j in range(len(rejected))],
                "num_correct": len(chosen),
                "subset": subset,
            }
        )
        for side, responses in (("chosen", chosen), ("rejected", rejected)):
            rows += [{"id": item_id, "side": side, "index": j, "scores": s} for j, s in enumerate(responses)]
    bench_path.write_text("".join(json.dumps(r) + "\n" for r in bench_rows))
    judgements.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert load_benchmark(bench_path)[0] == "rewardbench2"
    out = tmp_path / "results.json"
    assert (
        main(
            [
                "evaluate",
                str(bench_path),
                "--judgements",
                str(judgements),
                "--format",
                "rewardbench",
                "--json",
                str(out),
                "--model",
                "org/judge-7b",
                "--ties",
                "half",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.startswith("rewardbench2: 10 items")
    text = out.read_text()
    results = json.loads(text)
    expected = {
        "model": "org/judge-7b",
        "model_type": "Generative RM",
        "chat_template": None,
        **BEST_OF[("mean", 2, "half")],
        "Ties": TIES_SCORE,
    }
    assert results == expected
    assert text == json.dumps(expected, indent=4, sort_keys=True)  # as rewardbench's save_to_hub writes it


def test_cli_rewardbench2_live_judging_by_name(tmp_path):
    """allenai/reward-bench-2 read from a local copy, judged live: every response of every item
    once, saved by index, and the subset's rubric domain used (Precise IF: instruction_following)."""
    pytest.importorskip("httpx")
    pytest.importorskip("datasets")
    import patarm
    from chat_server import ChatServer, judgement
    from published_datasets import rewardbench2_row, write_rewardbench2_repo

    root = write_rewardbench2_repo(
        tmp_path / "rb2",
        [
            rewardbench2_row("0", "Precise IF", ["GOOD-0"], ["BAD-0a", "BAD-0b", "BAD-0c"], prompt="no letter u"),
            rewardbench2_row("1", "Math", ["GOOD-1"], ["BAD-1a", "BAD-1b", "BAD-1c"], prompt="2+2"),
        ],
    )
    rules = [
        {"match": "GOOD-", "judgements": [judgement(9)]},
        {"match": "BAD-1b", "judgements": [judgement(9)]},
        {"match": "BAD-", "judgements": [judgement(2)]},
    ]
    saved, out = tmp_path / "j.jsonl", tmp_path / "r.json"
    with ChatServer(rules) as server:
        assert (
            main(
                [
                    "evaluate",
                    "allenai/reward-bench-2",
                    "--dataset-path",
                    str(root),
                    "--judge-url",
                    server.url,
                    "--model",
                    "judge",
                    "-n",
                    "1",
                    "--save-judgements",
                    str(saved),
                    "--json",
                    str(out),
                    "--quiet",
                ]
            )
            == 0
        )
        good_prompts = [r["messages"][0]["content"] for r in server.requests_matching("GOOD-0")]
    assert good_prompts == [patarm.build_prompt("no letter u", "GOOD-0", domain="instruction_following")]
    rows = [json.loads(line) for line in saved.read_text().splitlines()]
    assert sorted((r["id"], r["side"], r["index"]) for r in rows) == sorted(
        [(i, "chosen", 0) for i in "01"] + [(i, "rejected", j) for i in "01" for j in range(3)]
    )
    subsets = json.loads(out.read_text())["results"]["mean"]["1"]["subsets"]
    assert subsets == {"Precise IF": {"accuracy": 1.0, "items": 1}, "Math": {"accuracy": 0.0, "items": 1}}
