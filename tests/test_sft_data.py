"""``patarm sft-data``: the cold-start SFT corpus (docs/method.md §7) from a live teacher on a
real loopback chat-completions server (tests/chat_server.py) or from a teacher-judgement file."""

import json
from pathlib import Path

import pytest

pytest.importorskip("httpx")

import patarm
from chat_server import ChatServer, judgement
from patarm.workflow.cli import main
from patarm.workflow.data import load_pairs
from patarm.workflow.data.io import DataError
from patarm.workflow.data.sft import build_sft_rows, chosen_position, read_teacher_judgements, sft_data
from patarm.workflow.judge.client import Judge

# pair: (chosen score, rejected score) the teacher gives in pointwise mode
SCORES = {
    "wide": ("9", "6.5"),  # gap 2.5: kept
    "exact": ("4.4", "2.4"),  # gap exactly 2 (2.0000000000000004 in floats): dropped
    "narrow": ("7", "6"),  # gap 1: dropped
    "broken": (None, "3"),  # the chosen judgement is malformed: dropped
}
# pairwise: does the teacher's verdict name the chosen response?
AGREES = {"wide": True, "exact": True, "narrow": False, "broken": True}
MALFORMED = "<think>forgot the rubrics</think><answer>8</answer>"


@pytest.fixture
def pairs_file(tmp_path):
    path = tmp_path / "pairs.jsonl"
    rows = [
        {
            "id": name,
            "prompt": f"question about {name}",
            "chosen": f"CHOSEN-{name}",
            "rejected": f"REJECTED-{name}",
            "domain": "math" if name == "wide" else "chat",
        }
        for name in SCORES
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def teacher_rules():
    rules = []
    for name, agrees in AGREES.items():  # pairwise prompts hold both responses: their rules come first
        for first in ("CHOSEN", "REJECTED"):
            names_first = (first == "CHOSEN") == agrees  # the verdict names the chosen response iff agrees
            rules.append(
                {
                    "match": f"Response A:\n<response>\n{first}-{name}",
                    "judgements": [judgement("A" if names_first else "B")],
                }
            )
    for name, (chosen, rejected) in SCORES.items():
        rules.append({"match": f"CHOSEN-{name}", "judgements": [MALFORMED if chosen is None else judgement(chosen)]})
        rules.append({"match": f"REJECTED-{name}", "judgements": [judgement(rejected)]})
    return rules


def read_jsonl(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def teacher(server, **kwargs):
    return Judge(server.url, "teacher", backoff=0.01, **kwargs)


def test_live_pointwise_keeps_gaps_above_two_exactly(pairs_file, tmp_path):
    out = tmp_path / "sft.jsonl"
    with ChatServer(teacher_rules()) as server:
        counts = sft_data(pairs_file, out, judge=teacher(server), system="You judge responses.")
        assert len(server.requests) == 8  # 4 pairs x 2 sides x 1 round
    assert counts["kept"] == 1 and counts["pairs_kept"] == 1 and counts["rows"] == 2
    assert counts["dropped"] == {"malformed teacher judgement": 1, "score gap not above 2": 2}
    assert counts["teacher"]["new"] == 8 and counts["teacher"]["reused"] == 0
    rows = read_jsonl(out)
    assert [(r["pair_id"], r["side"], r["verdict"], r["round"], r["mode"]) for r in rows] == [
        ("wide", "chosen", "9", 0, "pointwise"),
        ("wide", "rejected", "6.5", 0, "pointwise"),
    ]
    chosen = rows[0]
    assert [m["role"] for m in chosen["messages"]] == ["system", "user", "assistant"]
    assert chosen["messages"][1]["content"] == patarm.build_prompt("question about wide", "CHOSEN-wide", domain="math")
    assert chosen["messages"][2]["content"] == judgement("9") and chosen["domain"] == "math"
    log = read_jsonl(f"{out}.teacher.jsonl")
    assert len(log) == 8 and {tuple(sorted(r)) for r in log} == {("pair_id", "round", "side", "source", "text")}


def test_judgement_file_path_and_the_exact_boundary(pairs_file, tmp_path):
    judgements = tmp_path / "teacher.jsonl"
    records = [
        {"pair_id": "wide", "side": "chosen", "text": judgement("4.5")},
        {"pair_id": "wide", "side": "rejected", "text": judgement("2.4")},  # 2.1 > 2: kept
        {"pair_id": "exact", "side": "chosen", "text": judgement("4.4")},
        {"pair_id": "exact", "side": "rejected", "text": judgement("2.4")},  # exactly 2: dropped
        {"pair_id": "narrow", "side": "chosen", "text": judgement("0.3")},
        {"pair_id": "narrow", "side": "rejected", "text": judgement("2.3")},  # negative gap
        {"pair_id": "not-a-pair", "side": "chosen", "text": judgement("9")},
    ]  # "broken" has no judgement at all
    judgements.write_text("".join(json.dumps(r) + "\n" for r in records))
    out = tmp_path / "sft.parquet"
    counts = sft_data(pairs_file, out, judgements_path=judgements)
    assert counts["dropped"] == {"no teacher judgement": 1, "score gap not above 2": 2}
    assert (counts["kept"], counts["rows"], counts["unmatched_judgements"]) == (1, 2, 1)
    import pyarrow.parquet as pq

    rows = pq.read_table(out).to_pylist()
    assert [(r["pair_id"], r["side"]) for r in rows] == [("wide", "chosen"), ("wide", "rejected")]
    assert rows[0]["messages"][-1] == {"role": "assistant", "content": judgement("4.5")}
    # a lower threshold lets the exact-2 pair through only when it is below 2
    pairs = load_pairs(pairs_file, show_progress=False)
    loaded, _ = read_teacher_judgements(judgements)
    _, looser = build_sft_rows(pairs, loaded, min_gap=1.9999999999)
    assert looser["kept"] == 2


def test_pairwise_keeps_verdicts_that_agree_and_intersects(pairs_file, tmp_path):
    with ChatServer(teacher_rules()) as server:
        plain = sft_data(pairs_file, tmp_path / "pw.jsonl", judge=teacher(server), mode="pairwise", seed=3)
        assert len(server.requests) == 4
        both = sft_data(
            pairs_file, tmp_path / "pwi.jsonl", judge=teacher(server), mode="pairwise", seed=3, intersect_pointwise=True
        )
        assert len(server.requests) == 4 + 12  # a fresh log: 4 pairwise + 8 pointwise prompts
    assert plain["dropped"] == {"verdict disagrees with the label": 1}
    assert (plain["kept"], plain["rows"]) == (3, 3)
    rows = read_jsonl(tmp_path / "pw.jsonl")
    pairs = {p.pair_id: p for p in load_pairs(pairs_file, show_progress=False)}
    for row in rows:
        position = chosen_position(pairs[row["pair_id"]], 3)
        assert row["side"] == row["verdict"] == position
        a, b = ("CHOSEN", "REJECTED") if position == "A" else ("REJECTED", "CHOSEN")
        name = row["pair_id"]
        assert row["messages"][0]["content"] == patarm.build_pairwise_prompt(
            f"question about {name}", f"{a}-{name}", f"{b}-{name}", domain=pairs[name].domain
        )
    # intersect: only "wide" passes the pointwise filter; "exact" and "broken" agree but are dropped
    assert both["pointwise_pairs_kept"] == 1 and both["rows"] == 1
    assert both["dropped"] == {"pair not kept by the pointwise filter": 2, "verdict disagrees with the label": 1}
    assert [r["pair_id"] for r in read_jsonl(tmp_path / "pwi.jsonl")] == ["wide"]


def test_resume_after_a_kill_drops_the_torn_line_and_asks_only_for_the_rest(pairs_file, tmp_path):
    full_out, out = tmp_path / "full.jsonl", tmp_path / "sft.jsonl"
    log = tmp_path / "teacher.jsonl"
    with ChatServer(teacher_rules()) as server:
        sft_data(pairs_file, full_out, judge=teacher(server), rounds=2)
        full_log = Path(f"{full_out}.teacher.jsonl").read_bytes().splitlines(keepends=True)
        assert len(full_log) == 16
        # The killed run: 5 judgements written, the 6th cut off mid-line.
        log.write_bytes(b"".join(full_log[:5]) + full_log[5][:17])
        with pytest.raises(ValueError, match="pass --resume"):
            sft_data(pairs_file, out, judge=teacher(server), save_judgements=log, rounds=2)
        before = len(server.requests)
        counts = sft_data(pairs_file, out, judge=teacher(server), save_judgements=log, rounds=2, resume=True)
        asked = sum(r["n"] for r in server.requests[before:])
    assert asked == 11  # 16 judgements in all, 5 kept from the killed run
    assert counts["teacher"] == {"judgements_file": str(log), "reused": 5, "new": 11, "torn_lines_dropped": 1}
    lines = log.read_bytes().splitlines(keepends=True)
    assert len(lines) == 16 and all(line.endswith(b"\n") for line in lines)
    keys = {(r["pair_id"], r["side"], r["round"]) for r in map(json.loads, lines)}
    assert len(keys) == 16
    assert read_jsonl(out) == read_jsonl(full_out)  # the same corpus as the uninterrupted run
    assert counts["kept"] == 2 and counts["candidates"] == 8  # 4 pairs x 2 rounds; "wide" kept twice


def test_a_failed_run_keeps_what_arrived_and_resume_finishes_it(pairs_file, tmp_path):
    out, log = tmp_path / "sft.jsonl", tmp_path / "teacher.jsonl"
    failing = [dict(rule, status=400) if rule["match"] == "REJECTED-broken" else rule for rule in teacher_rules()]
    with ChatServer(failing) as server:
        # One request at a time, in pair order: the last prompt fails after 7 judgements arrived.
        with pytest.raises(patarm.JudgeError, match="HTTP 400"):
            sft_data(pairs_file, out, judge=teacher(server, max_concurrency=1), save_judgements=log)
    assert not out.exists()
    assert [(r["pair_id"], r["side"]) for r in read_jsonl(log)][-1] == ("broken", "chosen")
    assert len(read_jsonl(log)) == 7
    with ChatServer(teacher_rules()) as server:
        counts = sft_data(pairs_file, out, judge=teacher(server), save_judgements=log, resume=True)
        assert [r["messages"][0]["content"].count("REJECTED-broken") for r in server.requests] == [1]
    assert counts["teacher"]["reused"] == 7 and counts["teacher"]["new"] == 1 and counts["rows"] == 2


def test_a_torn_line_only_counts_at_the_end(pairs_file, tmp_path):
    path = tmp_path / "teacher.jsonl"
    good = json.dumps({"pair_id": "wide", "side": "chosen", "text": judgement(9)})
    path.write_text(good + "\n" + '{"pair_id": "wi')
    judgements, torn = read_teacher_judgements(path)
    assert len(judgements) == 1 and torn == 1
    path.write_text('{"pair_id": "wi\n' + good + "\n")
    with pytest.raises(DataError, match="line 1: not valid JSON"):
        read_teacher_judgements(path)
    path.write_text(good + "\n" + good + "\n")  # no round field: numbered in file order
    assert [j.round for j in read_teacher_judgements(path)[0]] == [0, 1]
    explicit = json.dumps({"pair_id": "wide", "side": "chosen", "round": 0, "text": judgement(9)})
    path.write_text(explicit + "\n" + explicit + "\n")
    with pytest.raises(DataError, match="round 0 repeats"):
        read_teacher_judgements(path)


def test_cli_sft_data_live_and_from_file(pairs_file, tmp_path, capsys):
    out = tmp_path / "sft.parquet"
    with ChatServer(teacher_rules()) as server:
        assert (
            main(["sft-data", str(pairs_file), "-o", str(out), "--judge-url", server.url, "--model", "t", "--quiet"])
            == 0
        )
        assert capsys.readouterr().out == ""
        code = main(
            [
                "sft-data",
                str(pairs_file),
                "-o",
                str(tmp_path / "pw.jsonl"),
                "--judge-url",
                server.url,
                "--model",
                "t",
                "--pairwise",
                "--intersect-pointwise",
            ]
        )
    assert code == 0
    printed = capsys.readouterr().out
    assert "SFT data (pairwise): kept 1 of 4 pair-rounds (1 of 4 pairs) -> 1 rows" in printed
    assert "dropped      2  pair not kept by the pointwise filter" in printed
    assert (
        main(
            [
                "sft-data",
                str(pairs_file),
                "-o",
                str(tmp_path / "again.jsonl"),
                "--judgements",
                f"{out}.teacher.jsonl",
                "--min-gap",
                "0.5",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "kept 3 of 4 pair-rounds" in printed and "dropped      1  malformed teacher judgement" in printed
    import pyarrow.parquet as pq

    assert pq.read_table(out).column_names[:2] == ["messages", "pair_id"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--judge-url", "http://127.0.0.1:9/v1"], "--judge-url needs --model"),
        (["--judgements", "x.jsonl", "--resume"], "belong to a live teacher run"),
        (["--judgements", "x.jsonl", "--intersect-pointwise"], "applies to --pairwise"),
        (["--judgements", "missing.jsonl"], "missing.jsonl: no such file"),
    ],
)
def test_cli_caller_mistakes_are_one_line(pairs_file, tmp_path, capsys, argv, message):
    assert main(["sft-data", str(pairs_file), "-o", str(tmp_path / "o.jsonl")] + argv) == 2
    assert message in capsys.readouterr().err
