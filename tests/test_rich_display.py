"""What a user sees in Jupyter (``_repr_html_``) and the rewardbench result layout of a
RewardBench report; the plain reprs stay as they were."""

import json
import pickle
from pathlib import Path

import pytest

import patarm
from patarm.workflow.cli import main
from patarm.workflow.evaluation.evaluate import evaluate_scores
from patarm.workflow.evaluation.items import load_benchmark
from patarm.workflow.evaluation.judgements import load_judgement_scores
from patarm.workflow.evaluation.render import format_report
from patarm.workflow.evaluation.report import EvaluationReport, rewardbench_results

DATA = Path(__file__).parent / "data"
HOSTILE = "<script>alert('x')</script> & \"quoted\""


def test_judgement_html_shows_the_four_sections_escaped():
    text = (
        f"<think>think {HOSTILE}</think><generate_rubrics>1. rubric {HOSTILE}\n2. second</generate_rubrics>"
        f"<eval>eval {HOSTILE}</eval><answer>8.5</answer>"
    )
    judgement = patarm.parse_judgement(text)
    page = judgement._repr_html_()
    assert "<script>" not in page and "alert(&#x27;x&#x27;)" in page
    escaped = "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quoted&quot;"
    for section in ("think", "eval"):
        assert f"<summary>{section}</summary>" in page and f"{section} {escaped}" in page
    assert page.count("<li>") == len(judgement.rubrics) and f"rubrics ({len(judgement.rubrics)})" in page
    assert escaped in page.split("<ol")[1]
    assert "score <b>8.5</b>" in page and "no error" in page
    assert repr(judgement) == f"Judgement(score=8.5, error=None, rubrics={len(judgement.rubrics)})"  # unchanged


def test_judgement_html_names_the_error_and_missing_sections():
    bad_verdict = patarm.parse_judgement(
        "<think>thinking</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>great <b>work</b></answer>"
    )
    assert not bad_verdict.ok
    page = bad_verdict._repr_html_()
    assert f"error: {bad_verdict.error}" in page and "no verdict" in page
    assert "<summary>think</summary>" in page and "thinking" in page
    assert "great &lt;b&gt;work&lt;/b&gt;" in page and "<b>work</b>" not in page
    no_tags = patarm.parse_judgement("no tags at all")
    page = no_tags._repr_html_()
    assert f"error: {no_tags.error}" in page
    for missing in ("think", "eval", "answer"):
        assert f"<summary>{missing} <i>(missing)</i></summary>" in page
    assert "<summary>rubrics (0) <i>(missing)</i></summary>" in page
    pairwise = patarm.parse_judgement(
        "<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>B</answer>", pairwise=True
    )
    assert "choice <b>B</b>" in pairwise._repr_html_()


@pytest.fixture(scope="module")
def rb_report():
    benchmark, items = load_benchmark(DATA / "rewardbench.jsonl")
    return evaluate_scores(benchmark, items, load_judgement_scores(DATA / "rewardbench_judgements.jsonl"))


def test_report_html_is_the_terminal_table(rb_report, tmp_path):
    assert isinstance(rb_report, EvaluationReport) and isinstance(rb_report, dict)
    page = rb_report._repr_html_()
    lines = [line for line in format_report(rb_report).splitlines() if "|" in line]
    assert page.count("<tr>") == len(lines)  # the header and every row of the terminal table
    assert "<th>mean@8</th>" in page and '<td style="text-align:left">score (mean of sections)</td>' in page
    assert '<td style="text-align:right">50.00</td>' in page  # Chat, mean@1
    hostile = EvaluationReport({**rb_report, "items": HOSTILE})
    assert "<script>" not in hostile._repr_html_() and "&lt;script&gt;" in hostile._repr_html_()
    assert (
        repr(rb_report) == "EvaluationReport(benchmark='rewardbench', items=9, n=[1, 2, 4, 8], score=0.6429 (mean@8))"
    )
    assert rb_report == dict(rb_report) and json.loads(json.dumps(rb_report)) == json.loads(json.dumps(dict(rb_report)))
    assert pickle.loads(pickle.dumps(rb_report)) == rb_report
    assert type(pickle.loads(pickle.dumps(rb_report))) is EvaluationReport


def test_rmbench_report_html(tmp_path):
    benchmark, items = load_benchmark(DATA / "rmbench.json")
    report = evaluate_scores(benchmark, items, load_judgement_scores(DATA / "rmbench_judgements.jsonl"))
    page = report._repr_html_()
    assert "<th>easy</th>" in page and ">average<" in page and ">safety<" in page


def test_rewardbench_format_v1(rb_report, tmp_path):
    results = rewardbench_results(rb_report, model="org/judge")
    subsets = rb_report["results"]["mean"]["8"]["subsets"]
    assert results == {
        "model": "org/judge",
        "model_type": "Generative RM",
        "chat_template": None,
        **{name: v["accuracy"] for name, v in subsets.items()},
    }
    at_1 = rewardbench_results(rb_report, model="m", method="majority", n=1)
    assert at_1["alpacaeval-easy"] == rb_report["results"]["majority"]["1"]["subsets"]["alpacaeval-easy"]["accuracy"]
    with pytest.raises(ValueError, match="no mean@3 in this report; it has mean@1"):
        rewardbench_results(rb_report, model="m", n=3)
    out = tmp_path / "r.json"
    assert (
        main(
            [
                "evaluate",
                str(DATA / "rewardbench.jsonl"),
                "--judgements",
                str(DATA / "rewardbench_judgements.jsonl"),
                "--format",
                "rewardbench",
                "--json",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    written = json.loads(out.read_text())
    assert written == {**results, "model": "patarm-judge"}
    assert list(written) == sorted(written)  # rewardbench writes sorted keys


def test_rewardbench_format_mistakes(tmp_path, capsys):
    rm = [
        "evaluate",
        str(DATA / "rmbench.json"),
        "--judgements",
        str(DATA / "rmbench_judgements.jsonl"),
        "--format",
        "rewardbench",
    ]
    assert main([*rm, "--json", str(tmp_path / "x.json")]) == 2
    assert "RM-Bench has no such file" in capsys.readouterr().err
    assert main([*rm[:4], "--format", "rewardbench"]) == 2
    assert "add --json PATH" in capsys.readouterr().err
