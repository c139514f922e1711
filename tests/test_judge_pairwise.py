"""Pairwise judges (docs/method.md §5): the A/B prompt in both orders, votes, position consistency."""

import json
import math
import pickle

import numpy as np
import pytest

pytest.importorskip("httpx")

import patarm
from chat_server import ChatServer
from patarm.workflow.cli import main
from patarm.workflow.judge.client import Judge
from patarm.workflow.judge.pairwise import PairwiseResults, vote_pairwise


def verdict(letter):
    return (
        f"<think>compare</think><generate_rubrics>extra rubric</generate_rubrics>"
        f"<eval>applies the rubrics</eval><answer>{letter}</answer>"
    )


MALFORMED = "<think>no rubrics</think><answer>A</answer>"


def shown_as(letter, text):
    """A rule matching prompts that show ``text`` as response ``letter``."""
    return f"Response {letter}:\n<response>\n{text}"


def make_judge(server, **kwargs):
    kwargs.setdefault("backoff", 0.01)
    return Judge(server.url, "patarm-judge", **kwargs)


def consistent_rules(good):
    """A judge that always names the response ``good``, wherever it is shown."""
    return [
        {"match": shown_as("A", good), "judgements": [verdict("A")]},
        {"match": shown_as("B", good), "judgements": [verdict("B")]},
    ]


def test_both_orders_are_judged_with_the_pairwise_prompt():
    with ChatServer(consistent_rules("GOOD")) as server:
        result = make_judge(server, n=2).compare_pairwise("Q?", "GOOD", "BAD", domain="code")
        prompts = [r["messages"][0]["content"] for r in server.requests]
        assert all(r["n"] == 2 for r in server.requests)
    assert sorted(prompts) == sorted(
        [
            patarm.build_pairwise_prompt("Q?", "GOOD", "BAD", domain="code"),
            patarm.build_pairwise_prompt("Q?", "BAD", "GOOD", domain="code"),
        ]
    )
    assert result.choices == {"AB": ["A", "A"], "BA": ["B", "B"]}
    assert result.mean_correct and result.majority_correct and result.votes == (2, 0)
    assert result.chosen_share == 1.0 and result.consistent is True and result.consistent_rounds == 2
    assert repr(result) == "PairwiseResult(chosen_share=1, mean_correct=True, majority_correct=True, consistent=True)"


def test_a_judge_that_always_answers_a_is_inconsistent_and_ties():
    with ChatServer([{"match": "", "judgements": [verdict("A")]}]) as server:
        results = make_judge(server, n=1).compare_pairwise_many(["Q1", "Q2"], ["C1", "C2"], ["R1", "R2"])
    assert isinstance(results, PairwiseResults) and repr(results) == "Results(2 x PairwiseResult)"
    assert results.accuracy("mean") == 0.0 and results.accuracy("majority", ties="half") == 0.5
    summary = results.summary()
    assert summary["position_consistency"] == 0.0 and summary["a_rate"] == 1.0
    assert summary["round_consistency"] == 0.0 and results.position_consistency == 0.0
    assert all(r.mean_tie and r.majority_tie and r.chosen_share == 0.5 for r in results)


def test_mean_and_majority_voting_differ_on_undecided_rounds():
    rules = [
        # order AB (chosen C shown first): A names C, B names R, then a malformed judgement
        {"match": shown_as("A", "CX"), "judgements": [verdict("A"), verdict("B"), MALFORMED]},
        # order BA (C shown second): B names C twice, then A names R
        {"match": shown_as("B", "CX"), "judgements": [verdict("B"), verdict("B"), verdict("A")]},
    ]
    with ChatServer(rules) as server:
        result = make_judge(server, n=3).compare_pairwise("Q", "CX", "RX")
    assert np.array_equal(result.verdicts, np.array([[1.0, 0.0, np.nan], [1.0, 1.0, 0.0]]), equal_nan=True)
    # mean: 3 of 5 valid verdicts name the chosen response -> correct
    assert result.chosen_share == pytest.approx(0.6) and result.mean_correct and not result.mean_tie
    # majority: round 0 chosen, round 1 undecided (orders disagree), round 2 rejected -> 1:1 tie
    assert result.votes == (1, 1) and not result.majority_correct and result.majority_tie
    # order AB is split 1:1, so the pair has no consistency verdict; rounds: 1 of 2 comparable agree
    assert result.consistent is None and (result.consistent_rounds, result.comparable_rounds) == (1, 2)
    assert result.errors["AB"] == [None, None, "missing_or_misordered_tags"] and result.num_valid == 5


def test_vote_pairwise_without_valid_verdicts_is_a_tie():
    votes = vote_pairwise([np.full((2, 2), np.nan)])
    assert votes["order"][0] == 0 and not votes["chosen_wins"][0] and math.isnan(votes["shares"][0])


def test_pairwise_results_pickle_and_export(tmp_path):
    pd = pytest.importorskip("pandas")
    with ChatServer(consistent_rules("GOOD")) as server:
        results = make_judge(server, n=1).compare_pairwise_many(["Q"], ["GOOD"], ["BAD"], cache=tmp_path / "c.jsonl")
        again = make_judge(server, n=1).compare_pairwise_many(["Q"], ["GOOD"], ["BAD"], cache=tmp_path / "c.jsonl")
        assert len(server.requests) == 2  # the second call is served from the cache
    clone = pickle.loads(pickle.dumps(results))
    assert isinstance(clone, PairwiseResults) and clone[0].choices == results[0].choices
    assert clone.stats.requests == 2 and again.stats.reused == 2
    frame = clone.to_pandas()
    assert isinstance(frame, pd.DataFrame) and bool(frame.loc[0, "consistent"]) and frame.loc[0, "choices_ab"] == ["A"]


def test_cli_evaluate_pairwise_reports_accuracy_and_position_consistency(tmp_path, capsys):
    benchmark = tmp_path / "rb.jsonl"
    rows = [
        {"id": 1, "prompt": "p1", "chosen": "GOOD-1", "rejected": "BAD-1", "subset": "alpacaeval-easy"},
        {"id": 2, "prompt": "p2", "chosen": "GOOD-2", "rejected": "BAD-2", "subset": "hep-go"},
    ]
    benchmark.write_text("".join(json.dumps(r) + "\n" for r in rows))
    # pair 1: a consistent judge; pair 2: always answers A (position bias)
    rules = consistent_rules("GOOD-1") + [{"match": "GOOD-2", "judgements": [verdict("A")]}]
    saved, out = tmp_path / "j.jsonl", tmp_path / "r.json"
    with ChatServer(rules) as server:
        assert (
            main(
                [
                    "evaluate",
                    str(benchmark),
                    "--pairwise",
                    "--judge-url",
                    server.url,
                    "--model",
                    "j",
                    "-n",
                    "2",
                    "--save-judgements",
                    str(saved),
                    "--json",
                    str(out),
                ]
            )
            == 0
        )
        assert len(server.requests) == 4
        code_prompt = [r["messages"][0]["content"] for r in server.requests_matching(shown_as("A", "GOOD-2"))]
    printed = capsys.readouterr().out
    assert code_prompt == [patarm.build_pairwise_prompt("p2", "GOOD-2", "BAD-2", domain="code")]
    report = json.loads(out.read_text())
    assert report["judge"] == "pairwise" and report["n"] == [1, 2]
    assert report["results"]["mean"]["2"]["subsets"] == {
        "alpacaeval-easy": {"accuracy": 1.0, "pairs": 1},
        "hep-go": {"accuracy": 0.0, "pairs": 1},
    }
    assert report["pairwise"]["position_consistency"] == 0.5 and report["pairwise"]["a_rate"] == 0.75
    assert "position consistency 50.0% of 2 pairs" in printed
    assert "2 judgements per pair and order" in printed
    saved_rows = [json.loads(line) for line in saved.read_text().splitlines()]
    assert sorted((r["id"], r["side"], r["order"]) for r in saved_rows) == [
        ("1", "pair", "AB"),
        ("1", "pair", "BA"),
        ("2", "pair", "AB"),
        ("2", "pair", "BA"),
    ]
    again = tmp_path / "again.json"
    assert (
        main(
            [
                "evaluate",
                str(benchmark),
                "--pairwise",
                "--judgements",
                str(saved),
                "--ties",
                "half",
                "--json",
                str(again),
                "--quiet",
            ]
        )
        == 0
    )
    half = json.loads(again.read_text())
    assert half["results"]["mean"]["2"]["subsets"]["hep-go"]["accuracy"] == 0.5  # the tie counts half
    assert half["pairwise"] == report["pairwise"]
    leaderboard = tmp_path / "leaderboard.json"
    assert (
        main(
            [
                "evaluate",
                str(benchmark),
                "--pairwise",
                "--judgements",
                str(saved),
                "--format",
                "rewardbench",
                "--json",
                str(leaderboard),
                "--quiet",
            ]
        )
        == 0
    )
    assert json.loads(leaderboard.read_text())["hep-go"] == 0.0
    from patarm.workflow.evaluation.report import EvaluationReport  # the Jupyter table names the position consistency

    assert "position consistency 50.0%" in EvaluationReport(report)._repr_html_()


def test_cli_pairwise_refuses_benchmarks_with_several_responses_per_side(tmp_path, capsys):
    bench = tmp_path / "rm.jsonl"
    bench.write_text(
        json.dumps({"id": 1, "prompt": "p", "chosen": ["a", "b", "c"], "rejected": ["d", "e", "f"], "domain": "chat"})
        + "\n"
    )
    assert main(["evaluate", str(bench), "--pairwise", "--judge-url", "http://127.0.0.1:9/v1", "--model", "m"]) == 2
    assert "--pairwise evaluates RewardBench or JudgeBench pairs" in capsys.readouterr().err


def test_pairwise_judgements_file_needs_orders(tmp_path, capsys):
    bench = tmp_path / "rb.jsonl"
    bench.write_text(json.dumps({"id": 1, "prompt": "p", "chosen": "a", "rejected": "b", "subset": "hep-go"}) + "\n")
    judgements = tmp_path / "j.jsonl"
    judgements.write_text(json.dumps({"id": 1, "side": "chosen", "judgements": [verdict("A")]}) + "\n")
    assert main(["evaluate", str(bench), "--pairwise", "--judgements", str(judgements)]) == 2
    assert "field 'order' must be 'AB'" in capsys.readouterr().err
