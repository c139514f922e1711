"""Files the CLI reads and writes: outputs replaced atomically with sane permissions, and every
unreadable input line reported as FILE:LINE, by `score`, `filter` and `evaluate` alike."""

import json
import os
import stat
import subprocess
import sys
import time

import pytest

from patarm.workflow.cli import main
from patarm.workflow.data import io


def judgement(answer):
    return f"<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>{answer}</answer>"


GOOD = [
    {"pair_id": 1, "side": "chosen", "text": judgement(8)},
    {"pair_id": 1, "side": "rejected", "text": judgement(5)},
]


def lines(rows):
    return "".join(json.dumps(row) + "\n" for row in rows)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


# ---- atomic outputs ----------------------------------------------------------------------


def test_score_output_is_untouched_when_an_input_line_is_bad(tmp_path, capsys):
    rollouts = tmp_path / "r.jsonl"
    rollouts.write_text(lines(GOOD) + "{broken\n")
    output = tmp_path / "out.jsonl"
    output.write_text("the user's results\n")
    assert main(["score", str(rollouts), "--output", str(output)]) == 2
    assert "r.jsonl:3: not valid JSON" in capsys.readouterr().err
    assert output.read_text() == "the user's results\n"


def test_score_output_is_whole_or_old_when_writing_fails(tmp_path, monkeypatch, capsys):
    rollouts = tmp_path / "r.jsonl"
    rollouts.write_text(lines(GOOD * 50))
    output = tmp_path / "out.jsonl"
    output.write_text("the user's results\n")
    real_dumps = json.dumps
    written = []

    def dumps_then_fail(obj, **kwargs):  # fails half-way through the output
        written.append(obj)
        if len(written) == 50:
            raise OSError("disk full")
        return real_dumps(obj, **kwargs)

    monkeypatch.setattr(io.json, "dumps", dumps_then_fail)
    assert main(["score", str(rollouts), "--output", str(output)]) == 2
    assert output.read_text() == "the user's results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl", "r.jsonl"]  # no temp file left


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_score_output_killed_mid_run_is_never_partial(tmp_path):
    rollouts = tmp_path / "r.jsonl"
    rows = [
        {"pair_id": i // 2, "side": ("chosen", "rejected")[i % 2], "text": judgement(i % 10)} for i in range(100_000)
    ]
    rollouts.write_text(lines(rows))
    output = tmp_path / "out.jsonl"
    old = "the user's results\n"
    for delay in (0.5, 1.0, 2.0, 3.0):
        output.write_text(old)
        child = subprocess.Popen(
            [sys.executable, "-m", "patarm", "score", str(rollouts), "-o", str(output)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        child.kill()
        child.wait(timeout=30)
        text = output.read_text()
        assert text == old or len(text.splitlines()) == len(rows), f"partial output after {delay} s"


def test_a_replaced_output_keeps_its_mode(tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_text("old\n")
    os.chmod(target, 0o644)
    io.write_jsonl([{"a": 1}], target)
    assert mode(target) == 0o644
    os.chmod(target, 0o640)
    io.write_json({"a": 1}, target)
    assert mode(target) == 0o640


def test_a_new_output_gets_the_umask_permissions(tmp_path):
    previous = os.umask(0o027)
    try:
        io.write_jsonl([{"a": 1}], tmp_path / "new.jsonl")
        io.write_rows_together([([{"a": 1}], tmp_path / "a.json"), ([{"b": 2}], tmp_path / "b.jsonl")])
    finally:
        os.umask(previous)
    for name in ("new.jsonl", "a.json", "b.jsonl"):
        assert mode(tmp_path / name) == 0o640, name


# ---- unreadable input lines --------------------------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000
BAD_LINES = {
    "invalid UTF-8": (b'{"pair_id": 1, "side": "chosen", "text": "\xff\xfe"}\n', "not valid UTF-8"),
    "a 5000-digit integer": (
        ('{"pair_id": ' + "9" * 5000 + ', "side": "chosen", "text": "t"}\n').encode(),
        "unreadable JSON value",
    ),
    "deep nesting": (
        ('{"pair_id": 1, "side": "chosen", "text": "t", "x": ' + DEEP + "}\n").encode(),
        "nested too deeply",
    ),
    "an id outside 64 bits": (b'{"pair_id": 9223372036854775808, "side": "chosen", "text": "t"}\n', "64-bit range"),
    "a NaN id": (b'{"pair_id": NaN, "side": "chosen", "text": "t"}\n', "must be a string or an integer"),
    "a bool id": (b'{"pair_id": true, "side": "chosen", "text": "t"}\n', "must be a string or an integer"),
}


@pytest.mark.parametrize("case", sorted(BAD_LINES))
@pytest.mark.parametrize("command", ["score", "filter rl", "filter sft"])
def test_every_unreadable_line_is_named_by_file_and_line(tmp_path, capsys, case, command):
    content, message = BAD_LINES[case]
    path = tmp_path / "r.jsonl"
    path.write_bytes(lines(GOOD).encode() + content)
    assert main([*command.split(), str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and message in err, err
    assert ("r.jsonl:3" in err) or ("r.jsonl:line 3" in err), err


@pytest.mark.parametrize("case", ["invalid UTF-8", "a 5000-digit integer", "deep nesting", "a NaN id"])
def test_evaluate_names_the_unreadable_line(tmp_path, capsys, case):
    content, message = BAD_LINES[case]
    benchmark = tmp_path / "bench.jsonl"
    benchmark.write_text(lines([{"id": 1, "prompt": "p", "chosen": "c", "rejected": "r", "subset": "alpacaeval-easy"}]))
    judgements = tmp_path / "j.jsonl"
    good = {"id": 1, "side": "chosen", "text": judgement(8)}
    judgements.write_bytes(lines([good]).encode() + content.replace(b'"pair_id"', b'"id"'))
    assert main(["evaluate", str(benchmark), "--judgements", str(judgements), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and message in err and "j.jsonl:line 2" in err, err


def test_core_row_errors_are_located_in_the_file(tmp_path, capsys):
    path = tmp_path / "r.jsonl"
    path.write_text(lines(GOOD + [{"pair_id": 2, "side": "best", "text": "t"}]))
    assert main(["score", str(path)]) == 2
    assert 'r.jsonl:3: side is "best"' in capsys.readouterr().err


def test_json_list_files_report_lines_too(tmp_path):
    path = tmp_path / "r.json"
    path.write_bytes(b'[{"a": 1},\n{"b": "\xff"}]')
    with pytest.raises(io.DataError, match=r"r.json:line 2: not valid UTF-8"):
        io.read_records(path)
    path.write_text("[" * 100_000)
    with pytest.raises(io.DataError, match="nested too deeply|not valid JSON"):
        io.read_records(path)
