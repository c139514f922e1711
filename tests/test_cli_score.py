"""`patarm score [FILE]`: per-pair table, totals, JSON-lines output."""

import json
import shutil
import subprocess
import sys
import sysconfig

import pytest

from patarm.workflow.cli import main


def judgement(answer):
    return f"<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>{answer}</answer>"


def write_rollouts(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def test_bundled_example(capsys):
    assert main(["score"]) == 0
    out = capsys.readouterr().out
    assert "example_rollouts.jsonl" in out
    for column in ("pair_id", "side", "scores", "par", "fmt_err", "reward"):
        assert column in out
    assert "other side missing" in out  # the example has a pair with one side only
    assert "missing_or_misordered_tags 2" in out and "invalid_verdict 2" in out
    assert "totals: 23 judgements in 5 pairs" in out


def test_output_matches_score_batch(tmp_path, capsys):
    rows = [
        {"pair_id": 1, "side": "chosen", "text": judgement(8), "source": "s"},
        {"pair_id": 1, "side": "rejected", "text": judgement(5), "source": "s"},
        {"pair_id": 1, "side": "rejected", "text": "junk", "source": "s"},
        {"pair_id": "x", "side": "chosen", "text": judgement(7)},
    ]
    path = write_rollouts(tmp_path / "r.jsonl", rows)
    out_path = tmp_path / "out.jsonl"
    assert main(["score", path, "--output", str(out_path), "--f", "constant"]) == 0
    printed = capsys.readouterr().out
    assert "Constant(1.3)" in printed and "wrote 4 lines" in printed
    scored = [json.loads(line) for line in out_path.read_text().splitlines()]
    assert [r["reward"] for r in scored] == [1.3, 1.3, -1.5, 0.0]
    assert [r["error"] for r in scored] == [None, None, "missing_or_misordered_tags", None]
    assert scored[2]["score"] is None and scored[3]["opposite_mean"] is None
    assert [r["partner_found"] for r in scored] == [True, True, True, False]
    assert scored[0]["text"] == rows[0]["text"] and scored[0]["source"] == "s"


def test_pairwise(tmp_path, capsys):
    rows = [{"pair_id": 1, "side": "A", "text": judgement("A")}, {"pair_id": 2, "side": "B", "text": judgement("A")}]
    assert main(["score", write_rollouts(tmp_path / "p.jsonl", rows), "--pairwise"]) == 0
    assert "reward 1 (mean 0.5)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json}\n", "r.jsonl:1: not valid JSON"),
        ('{"pair_id": 1, "side": "chosen"}\n', "missing text"),
        ('{"pair_id": 1.5, "side": "chosen", "text": "t"}\n', "pair_id must be"),
        ('{"pair_id": 1, "side": "best", "text": "t"}\n', 'r.jsonl:1: side is "best"'),
        ("[1, 2]\n", "expected a JSON object"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path, capsys, content, message):
    path = tmp_path / "r.jsonl"
    path.write_text(content)
    assert main(["score", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_missing_file(capsys):
    assert main(["score", "/nonexistent/rollouts.jsonl"]) == 2
    assert "No such file" in capsys.readouterr().err


def test_runs_as_a_module_and_as_the_installed_command():
    result = subprocess.run([sys.executable, "-m", "patarm", "score"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "totals:" in result.stdout
    # The entry point of the environment running the tests (scripts/test.sh does not put the
    # venv on PATH), else the one on PATH.
    command = shutil.which("patarm", path=sysconfig.get_path("scripts")) or shutil.which("patarm")
    if command is None:
        pytest.skip("patarm is not installed (no entry point)")
    result = subprocess.run([command, "score"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "totals:" in result.stdout
