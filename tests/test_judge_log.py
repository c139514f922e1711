"""Judging runs that survive a crash (patarm.workflow.judge.log), progress and judging statistics."""

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("httpx")

from chat_server import ChatServer, judgement
from patarm.workflow.cli import main
from patarm.workflow.data import DataError
from patarm.workflow.judge.client import Judge
from patarm.workflow.judge.log import JudgementLog, LineProgress, request_hash

MALFORMED = "<think>no rubrics</think><answer>7</answer>"


def make_judge(server, **kwargs):
    kwargs.setdefault("backoff", 0.01)
    return Judge(server.url, "patarm-judge", **kwargs)


def log_lines(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def test_cache_reuses_every_logged_judgement(tmp_path):
    cache = tmp_path / "cache.jsonl"
    rules = [{"match": "R1", "judgements": [judgement(8), judgement(6)]}, {"match": "R2", "judgements": [judgement(3)]}]
    with ChatServer(rules) as server:
        judge = make_judge(server, n=2)
        first = judge.score_many(["Q", "Q"], ["R1", "R2"], cache=cache)
        assert len(server.requests) == 2
        again = judge.score_many(["Q", "Q"], ["R2", "R1"], cache=cache)  # order does not matter
        assert len(server.requests) == 2
        assert again.stats.reused == 4 and again.stats.received == 0 and again.stats.requests == 0
        hotter = make_judge(server, n=2, temperature=0.5).score_many(["Q"], ["R1"], cache=cache)
        assert len(server.requests) == 3  # other sampling parameters: another request hash
    assert [r.score for r in again] == [first[1].score, first[0].score]
    assert hotter.stats.received == 2
    rows = log_lines(cache)
    assert len(rows) == 3 and all(set(r) == {"id", "side", "rounds", "request", "judgements"} for r in rows)
    assert rows[0]["rounds"] == [0, 1]


def test_identical_requests_in_one_call_get_their_own_judgements(tmp_path):
    cache = tmp_path / "cache.jsonl"
    with ChatServer([{"match": "R", "judgements": [judgement(s) for s in (1, 2, 3, 4)]}]) as server:
        judge = make_judge(server, n=2, max_concurrency=1)
        first = judge.score_many(["Q", "Q"], ["R", "R"], cache=cache)
        second = judge.score_many(["Q", "Q"], ["R", "R"], cache=cache)
        assert len(server.requests) == 2
    assert sorted(first[0].scores.tolist() + first[1].scores.tolist()) == [1, 2, 3, 4]
    assert [r.scores.tolist() for r in second] == [r.scores.tolist() for r in first]


def test_more_judgements_asks_only_for_the_missing_rounds(tmp_path):
    cache = tmp_path / "cache.jsonl"
    with ChatServer([{"match": "R", "judgements": [judgement(s) for s in (1, 2, 3, 4)]}]) as server:
        make_judge(server, n=2).score_many(["Q"], ["R"], cache=cache)
        result = make_judge(server, n=4).score_many(["Q"], ["R"], cache=cache)
        assert [r["n"] for r in server.requests] == [2, 2]
    assert result[0].scores.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert [r["rounds"] for r in log_lines(cache)] == [[0, 1], [2, 3]]


def test_single_sample_requests_are_logged_one_by_one(tmp_path):
    cache = tmp_path / "cache.jsonl"
    with ChatServer([{"match": "R", "judgements": [judgement(5)], "max_n": 1}]) as server:
        make_judge(server, n=3).score_many(["Q"], ["R"], cache=cache)  # server caps n at 1: topped up
        assert len(server.requests) == 3
    assert sorted(r["rounds"][0] for r in log_lines(cache)) == [0, 1, 2]


def test_a_torn_last_line_is_dropped_cut_off_and_judged_again(tmp_path):
    cache = tmp_path / "cache.jsonl"
    rules = [{"match": f"R{i}", "judgements": [judgement(i)]} for i in range(4)]
    with ChatServer(rules) as server:
        judge = make_judge(server, n=1, max_concurrency=1)
        judge.score_many(["Q"] * 4, [f"R{i}" for i in range(4)], cache=cache)
        data = cache.read_bytes()
        last = data.rstrip(b"\n").rfind(b"\n") + 1
        cache.write_bytes(data[: last + 25])  # a kill in the middle of writing the last line
        with pytest.warns(RuntimeWarning, match="dropped 1 torn"):
            results = judge.score_many(["Q"] * 4, [f"R{i}" for i in range(4)], cache=cache)
        assert len(server.requests) == 5  # only the torn reply is asked again
    assert [r.score for r in results] == [0.0, 1.0, 2.0, 3.0]
    text = cache.read_text()
    assert text.endswith("\n") and len(log_lines(cache)) == 4


def test_a_file_that_is_not_a_log_is_refused_and_left_alone(tmp_path):
    other = tmp_path / "benchmark.jsonl"
    other.write_text('{"prompt": "p", "chosen": "a", "rejected": "b"}\n{"prompt": "q"')
    before = other.read_bytes()
    with pytest.raises(DataError, match="benchmark.jsonl:1: not a judgements log line"):
        JudgementLog(other)
    garbled = tmp_path / "garbled.jsonl"
    garbled.write_text(
        "not json\n" + json.dumps({"id": 0, "side": "cache", "rounds": [0], "request": "h", "judgements": ["x"]}) + "\n"
    )
    with pytest.raises(DataError, match="garbled.jsonl:1: unreadable line inside the judgements log"):
        JudgementLog(garbled)
    assert other.read_bytes() == before and garbled.read_text().startswith("not json")
    with pytest.raises(TypeError, match="cache must be a file path"):
        Judge("http://127.0.0.1:9/v1", "m").score_many(["Q"], ["R"], cache=3)


def test_request_hash_covers_model_messages_and_sampling_but_not_n():
    base = {"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 2, "temperature": 1.0}
    assert request_hash(base) == request_hash(dict(base, n=8))
    for change in (
        {"model": "m2"},
        {"temperature": 0.5},
        {"messages": [{"role": "user", "content": "y"}]},
        {"max_tokens": 10},
    ):
        assert request_hash(dict(base, **change)) != request_hash(base)


def test_log_pickles_and_has_a_short_repr(tmp_path):
    import pickle

    log = JudgementLog(tmp_path / "log.jsonl", resume=False)
    log.append({"id": "1", "side": "chosen"}, "h", [0], ["text"])
    clone = pickle.loads(pickle.dumps(log))
    assert repr(clone) == f"JudgementLog({str(tmp_path / 'log.jsonl')!r}, done=1)"
    assert clone.done({"id": "1", "side": "chosen"}, "h") == {0: "text"}
    log.close()


def _write_benchmark(path, count):
    rows = [
        {"id": i, "prompt": f"p{i}", "chosen": f"GOOD-{i}.", "rejected": f"BAD-{i}.", "subset": "alpacaeval-easy"}
        for i in range(count)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_a_run_killed_mid_way_resumes_where_it_stopped(tmp_path):
    """SIGKILL a live `patarm evaluate` half-way, resume it: only the missing replies are asked."""
    pairs = 10
    benchmark, log = tmp_path / "rb.jsonl", tmp_path / "log.jsonl"
    _write_benchmark(benchmark, pairs)
    rules = [
        {"match": f"GOOD-{i}.", "judgements": [judgement(8), judgement(7)], "slow_first": 10**6, "delay": 0.15}
        for i in range(pairs)
    ] + [
        {"match": f"BAD-{i}.", "judgements": [judgement(3), judgement(9)], "slow_first": 10**6, "delay": 0.15}
        for i in range(pairs)
    ]
    args = [
        "evaluate",
        str(benchmark),
        "-n",
        "2",
        "--max-concurrency",
        "1",
        "--model",
        "judge",
        "--save-judgements",
        str(log),
        "--quiet",
    ]
    with ChatServer(rules) as server:
        child = subprocess.Popen([sys.executable, "-m", "patarm", *args, "--judge-url", server.url])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not log.exists() or log.read_text().count("\n") < 12):
            assert child.poll() is None, "the run finished before it could be killed"
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
        child.wait()
        logged = log.read_text().count("\n")
        assert 12 <= logged < 2 * pairs
        before = len(server.requests)
        out = tmp_path / "resumed.json"
        assert main([*args, "--judge-url", server.url, "--resume", "--json", str(out)]) == 0
        resumed_requests = len(server.requests) - before
    assert resumed_requests == 2 * pairs - logged  # a kill at 60% costs 40% to finish
    report = json.loads(out.read_text())
    assert report["judging"]["reused_from_log"] == 2 * logged and report["judging"]["requests"] == resumed_requests
    assert report["results"]["mean"]["2"]["score"] == 1.0  # 7.5 vs 6 for every pair
    assert report["results"]["majority"]["2"]["subsets"]["alpacaeval-easy"]["accuracy"] == 0.0  # 8>3, 7<9: tie
    assert len(log_lines(log)) == 2 * pairs
    # the log is a judgements file: evaluating it again gives the same results
    again = tmp_path / "again.json"
    assert main(["evaluate", str(benchmark), "--judgements", str(log), "--json", str(again), "--quiet"]) == 0
    assert json.loads(again.read_text())["results"] == report["results"]


def test_resume_needs_save_judgements(capsys):
    assert main(["evaluate", "x.jsonl", "--judge-url", "http://127.0.0.1:9/v1", "--model", "m", "--resume"]) == 2
    assert "--resume continues the judgements log of --save-judgements" in capsys.readouterr().err


def test_without_resume_the_log_starts_afresh(tmp_path):
    benchmark, log = tmp_path / "rb.jsonl", tmp_path / "log.jsonl"
    _write_benchmark(benchmark, 2)
    log.write_text("stale\n")
    with ChatServer(
        [{"match": "GOOD", "judgements": [judgement(9)]}, {"match": "BAD", "judgements": [judgement(1)]}]
    ) as server:
        assert (
            main(
                [
                    "evaluate",
                    str(benchmark),
                    "--judge-url",
                    server.url,
                    "--model",
                    "j",
                    "-n",
                    "1",
                    "--save-judgements",
                    str(log),
                    "--quiet",
                ]
            )
            == 0
        )
        assert len(server.requests) == 4
    assert len(log_lines(log)) == 4


def test_final_report_gives_rate_and_invalid_judgements_by_kind(tmp_path, capsys):
    benchmark, out = tmp_path / "rb.jsonl", tmp_path / "r.json"
    _write_benchmark(benchmark, 2)
    rules = [
        {"match": "GOOD", "judgements": [judgement(9), MALFORMED]},
        {"match": "BAD", "judgements": [judgement(1), judgement(11)]},
    ]
    with ChatServer(rules) as server:
        assert (
            main(["evaluate", str(benchmark), "--judge-url", server.url, "--model", "j", "-n", "2", "--json", str(out)])
            == 0
        )
    printed = capsys.readouterr()
    judging = json.loads(out.read_text())["judging"]
    assert judging["judgements"] == 8 and judging["received"] == 8 and judging["requests"] == 4
    assert judging["invalid"] == 4 and judging["invalid_share"] == 0.5
    assert judging["error_kinds"] == {"missing_or_misordered_tags": 2, "invalid_verdict": 2}
    assert judging["judgements_per_second"] > 0
    assert "invalid 4/8 (50.0%): missing_or_misordered_tags 2, invalid_verdict 2" in printed.out
    assert "judgements/s" in printed.out


def test_progress_bar_shows_rate_and_eta(capsys):
    pytest.importorskip("tqdm")
    import re

    with ChatServer([{"match": "R", "judgements": [judgement(5)], "slow_first": 100, "delay": 0.15}]) as server:
        make_judge(server, n=2, max_concurrency=1).score_many(["Q"] * 3, ["R"] * 3, show_progress=True)
    err = capsys.readouterr().err
    # judgements done / total, [elapsed<ETA, throughput]
    assert re.search(r"judging: +\d+%.*[246]/6 \[\d\d:\d\d<\d\d:\d\d, +[\d.]+judgement/s\]", err), err


def test_without_tqdm_progress_is_printed_as_lines(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with ChatServer([{"match": "R", "judgements": [judgement(5)]}]) as server:
        make_judge(server, n=2).score_many(["Q"] * 3, ["R"] * 3, show_progress=True)
    err = capsys.readouterr().err
    assert "judging: 6/6 judgements (" in err and "/s, ETA 0s)" in err


def test_line_progress_reports_periodically():
    import io

    stream = io.StringIO()
    bar = LineProgress(10, initial=2, interval=0.0, stream=stream)
    bar.update(3)
    bar.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("judging: 5/10 judgements (") and "ETA" in lines[0]


def test_a_failed_request_stops_the_run_and_keeps_what_arrived(tmp_path):
    from patarm.workflow.judge.client import JudgeError

    cache = tmp_path / "cache.jsonl"
    rules = [
        {"match": "DOWN", "judgements": [judgement(1)], "status": 400},
        {"match": "SLOW", "judgements": [judgement(2)], "slow_first": 10**6, "delay": 1.0},
        {"match": "UP", "judgements": [judgement(3)]},
    ]
    with ChatServer(rules) as server:
        # Two slots: UP and SLOW start; DOWN starts when UP is done (and logged), and fails.
        judge = make_judge(server, n=1, max_retries=0, max_concurrency=2)

        async def run():
            with pytest.raises(JudgeError, match="HTTP 400"):
                await judge.ascore_many(["Q"] * 3, ["UP", "SLOW", "DOWN"], cache=cache)
            await asyncio.sleep(1.2)  # the loop lives on: SLOW, had it not been cancelled, would log now
            await judge.aclose()

        asyncio.run(run())
    assert [r["judgements"] for r in log_lines(cache)] == [[judgement(3)]]


def test_compare_many_resumes_from_its_cache(tmp_path):
    cache = tmp_path / "pairs.jsonl"
    rules = [{"match": "GOOD", "judgements": [judgement(8)]}, {"match": "BAD", "judgements": [judgement(2)]}]
    with ChatServer(rules) as server:
        judge = make_judge(server, n=2)
        first = judge.compare_many(["Q1", "Q2"], ["GOOD1", "GOOD2"], ["BAD1", "BAD2"], cache=cache)
        again = judge.compare_many(["Q1", "Q2"], ["GOOD1", "GOOD2"], ["BAD1", "BAD2"], cache=cache)
        assert len(server.requests) == 4
    assert again.stats.reused == 8 and [p.mean_correct for p in again] == [p.mean_correct for p in first] == [
        True,
        True,
    ]
