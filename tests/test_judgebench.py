"""JudgeBench (ScalerLab/JudgeBench): its records, its two-game rule, and patarm's numbers
against its official ``utils/metrics.py``.

The official scorer is not a package: ``PATARM_JUDGEBENCH_SRC`` names a checkout of
github.com/ScalerLab/JudgeBench (its ``utils/metrics.py`` imports only ``typing``), whose
``compute_final_metrics`` is loaded from that file and run (checked against commit e2c52c2).
Without it that test is skipped; the others work the numbers by hand.
"""

import importlib.util
import json
import os
import random
from pathlib import Path

import pytest

from patarm.workflow.cli import main
from patarm.workflow.data import DataError
from patarm.workflow.evaluation.evaluate import evaluate_scores
from patarm.workflow.evaluation.items import load_benchmark
from patarm.workflow.evaluation.judgebench import JUDGEBENCH_CATEGORIES
from patarm.workflow.evaluation.judgements import load_judgement_scores
from patarm.workflow.evaluation.pairwise import evaluate_pairwise


def judgement(score):
    return f"<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>{score}</answer>"


def verdict(letter):
    return f"<think>compare</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>{letter}</answer>"


MALFORMED = "<think>no rubrics</think><answer>A</answer>"


def record(pair_id, source, label, a="response A", b="response B"):
    # the published layout (github.com/ScalerLab/JudgeBench data/*.jsonl, the hub's gpt/claude splits)
    return {
        "pair_id": pair_id,
        "original_id": 1,
        "source": source,
        "question": f"question {pair_id}",
        "response_model": "gpt-4o-2024-05-13",
        "response_A": a,
        "response_B": b,
        "label": label,
    }


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


# pair          source           label  score A  score B  -> chosen vs rejected
#  j1           livebench-math   A>B    8        3           8 > 3   correct
#  j2           livebench-math   B>A    5        5           tie     not correct (half with --ties half)
#  j3           mmlu-pro-law     B>A    7        2           2 < 7   not correct
#  j4           livecodebench    A>B    6        invalid     no rejected score: not correct (half)
RECORDS = [
    record("j1", "livebench-math", "A>B"),
    record("j2", "livebench-math", "B>A"),
    record("j3", "mmlu-pro-law", "B>A"),
    record("j4", "livecodebench", "A>B"),
]
SCORES = {  # (pair, side) -> judgements; the chosen side is the label's better response
    ("j1", "chosen"): [judgement(8)],
    ("j1", "rejected"): [judgement(3)],
    ("j2", "chosen"): [judgement(5)],
    ("j2", "rejected"): [judgement(5)],
    ("j3", "chosen"): [judgement(2)],
    ("j3", "rejected"): [judgement(7)],
    ("j4", "chosen"): [judgement(6)],
    ("j4", "rejected"): [MALFORMED],
}


@pytest.fixture
def files(tmp_path):
    rows = [{"id": i, "side": side, "judgements": texts} for (i, side), texts in SCORES.items()]
    return write_jsonl(tmp_path / "jb.jsonl", RECORDS), write_jsonl(tmp_path / "j.jsonl", rows)


def test_records_map_the_better_response_to_chosen(files):
    benchmark, items = load_benchmark(files[0])
    assert benchmark == "judgebench"
    j1, j2 = items[0], items[1]
    assert (j1.id, j1.prompt, j1.chosen, j1.rejected, j1.group) == (
        "j1",
        "question j1",
        ("response A",),
        ("response B",),
        "livebench-math",
    )
    assert (j2.chosen, j2.rejected) == (("response B",), ("response A",))


@pytest.mark.parametrize(
    ("ties", "expected"),
    [
        ("wrong", {"livebench-math": 1 / 2, "mmlu-pro": 0.0, "livecodebench": 0.0, "overall": 1 / 4}),
        ("half", {"livebench-math": 3 / 4, "mmlu-pro": 0.0, "livecodebench": 1 / 2, "overall": 2 / 4}),
    ],
)
def test_pointwise_accuracy_per_category_and_overall(files, ties, expected):
    benchmark, items = load_benchmark(files[0])
    report = evaluate_scores(benchmark, items, load_judgement_scores(files[1]), ties=ties)
    block = report["results"]["mean"]["1"]
    assert {c: v["accuracy"] for c, v in block["categories"].items()} == {
        c: expected[c] for c in ("livebench-math", "mmlu-pro", "livecodebench")
    }
    assert block["score"] == expected["overall"] and block["pairs"] == 4
    assert block["subsets"]["mmlu-pro-law"] == {"accuracy": 0.0, "pairs": 1}


def test_cli_prints_the_categories(files, capsys):
    assert main(["evaluate", str(files[0]), "--judgements", str(files[1])]) == 0
    out = capsys.readouterr().out
    assert "livebench-math (2)" in out and "overall (4)" in out and "25.00" in out


def test_pairwise_two_game_rule(tmp_path):
    # AB shows the chosen response as A. p1: both orders right. p2: AB right, BA wrong
    # (inconsistent): not correct. p3: AB right, BA malformed: correct. p4: both wrong.
    rows = [record(f"p{i}", "livebench-reasoning", "A>B") for i in range(1, 5)]
    texts = {
        ("p1", "AB"): [verdict("A")],
        ("p1", "BA"): [verdict("B")],
        ("p2", "AB"): [verdict("A")],
        ("p2", "BA"): [verdict("A")],
        ("p3", "AB"): [verdict("A")],
        ("p3", "BA"): [MALFORMED],
        ("p4", "AB"): [verdict("B")],
        ("p4", "BA"): [verdict("A")],
    }
    _, items = load_benchmark(write_jsonl(tmp_path / "jb.jsonl", rows))
    report = evaluate_pairwise(items, texts, benchmark="judgebench")
    assert report["benchmark"] == "judgebench"
    assert report["results"]["mean"]["1"]["score"] == 2 / 4
    half = evaluate_pairwise(items, texts, benchmark="judgebench", ties="half")
    assert half["results"]["mean"]["1"]["score"] == 2.5 / 4


def test_by_name_and_from_a_local_copy_with_both_splits(tmp_path, files, capsys):
    pytest.importorskip("datasets")
    from published_datasets import write_parquet_repo

    claude = [dict(r, pair_id=f"c-{r['pair_id']}", response_model="claude-3-5-sonnet-20240620") for r in RECORDS]
    repo = write_parquet_repo(tmp_path / "JudgeBench", {"gpt": RECORDS, "claude": claude})
    benchmark, gpt_items = load_benchmark("ScalerLab/JudgeBench", dataset_path=repo)
    assert benchmark == "judgebench" and [i.id for i in gpt_items] == ["j1", "j2", "j3", "j4"]
    _, claude_items = load_benchmark("ScalerLab/JudgeBench", dataset_path=repo, split="claude")
    assert [i.id for i in claude_items] == ["c-j1", "c-j2", "c-j3", "c-j4"]
    with pytest.raises(ValueError, match="--split 'test': ScalerLab/JudgeBench is scored on the split gpt, claude"):
        load_benchmark("ScalerLab/JudgeBench", dataset_path=repo, split="test")
    with pytest.raises(ValueError, match="--split is for a benchmark given by name"):
        load_benchmark(files[0], split="claude")
    by_name, by_file = tmp_path / "name.json", tmp_path / "file.json"
    base = ["--judgements", str(files[1]), "--quiet", "--json"]
    assert main(["evaluate", "ScalerLab/JudgeBench", "--dataset-path", str(repo), *base, str(by_name)]) == 0
    assert main(["evaluate", str(files[0]), *base, str(by_file)]) == 0
    assert json.loads(by_name.read_text()) == json.loads(by_file.read_text())


def test_bad_records_are_named(tmp_path):
    path = write_jsonl(tmp_path / "jb.jsonl", [record("x", "livecodebench", "A=B")])
    with pytest.raises(DataError, match=r"jb.jsonl:line 1: field 'label' must be 'A>B' or 'B>A', got 'A=B'"):
        load_benchmark(path)


SOURCE = os.environ.get("PATARM_JUDGEBENCH_SRC")


@pytest.mark.skipif(SOURCE is None, reason="PATARM_JUDGEBENCH_SRC (a ScalerLab/JudgeBench checkout) is not set")
def test_scores_equal_judgebench_official_compute_final_metrics(tmp_path):
    source = Path(SOURCE) / "utils" / "metrics.py"
    spec = importlib.util.spec_from_file_location("judgebench_metrics", source)  # imports only typing
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    official = module.compute_final_metrics

    rng = random.Random(24)
    sources = ["mmlu-pro-law", "mmlu-pro-math", "livebench-reasoning", "livebench-math", "livecodebench"]
    records, pairs, texts, point_rows, point_pairs = [], [], {}, [], []
    letter = {"A>B": verdict("A"), "B>A": verdict("B"), "A=B": MALFORMED, None: MALFORMED}
    for i in range(300):
        label = rng.choice(["A>B", "B>A"])
        rec = record(f"r{i}", rng.choice(sources), label, a=f"a{i}", b=f"b{i}")
        records.append(rec)
        # pairwise: game 1 shows (A, B), game 2 (B, A); a None judgment is a failed call
        games = [rng.choice(["A>B", "B>A", "A=B", None]) for _ in range(2)]
        pairs.append(
            {
                "label": label,
                "source": rec["source"],
                "judgments": [None if g is None else {"decision": g} for g in games],
            }
        )
        chosen_first = label == "A>B"  # game 1 shows the chosen response as A
        texts[(rec["pair_id"], "AB" if chosen_first else "BA")] = [letter[games[0]]]
        texts[(rec["pair_id"], "BA" if chosen_first else "AB")] = [letter[games[1]]]
        # pointwise: a reward model's decision in each game, as JudgeBench's reward judges
        # decide ('A>B' if score_A > score_B else 'B>A'); scores with ties and invalid ones
        score_a, score_b = (rng.choice([None, *range(0, 11, 2)]) for _ in range(2))

        def decide(x, y):
            return "A>B" if (x if x is not None else float("nan")) > (y if y is not None else float("nan")) else "B>A"

        point_pairs.append(
            {
                "label": label,
                "source": rec["source"],
                "judgments": [{"decision": decide(score_a, score_b)}, {"decision": decide(score_b, score_a)}],
            }
        )
        better, worse = (score_a, score_b) if chosen_first else (score_b, score_a)
        point_rows.append({"id": rec["pair_id"], "side": "chosen", "scores": [better]})
        point_rows.append({"id": rec["pair_id"], "side": "rejected", "scores": [worse]})
    bench = write_jsonl(tmp_path / "jb.jsonl", records)
    benchmark, items = load_benchmark(bench)
    pairwise = evaluate_pairwise(items, texts, benchmark="judgebench")["results"]["mean"]["1"]
    pointwise = evaluate_scores(benchmark, items, load_judgement_scores(write_jsonl(tmp_path / "s.jsonl", point_rows)))
    pointwise = pointwise["results"]["mean"]["1"]
    for block, official_pairs in ((pairwise, pairs), (pointwise, point_pairs)):
        for prefix in (*JUDGEBENCH_CATEGORIES, ""):
            want = official(official_pairs, True, include_fn=lambda x, p=prefix: x["source"].startswith(p))
            got = block["categories"][prefix] if prefix else {"accuracy": block["score"], "pairs": block["pairs"]}
            correct = round(got["accuracy"] * got["pairs"])
            assert 100 * correct / got["pairs"] == want  # the same count, the same division
            assert got["accuracy"] == correct / got["pairs"]
