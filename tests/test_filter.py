"""`patarm filter`: RL (fraction correct in [1/8, 6/8]) and SFT (score gap > 2) pair selection.

tests/data/rollouts.jsonl holds the judge's rollouts for pairs p1..p10 (scores written out in
the comments below); the expected decisions are worked out by hand from those scores.
"""

import json
from pathlib import Path

import pytest

from patarm.workflow.cli import main
from patarm.workflow.data import DataError, load_judgements, prepare, rl_filter, sft_filter

DATA = Path(__file__).parent / "data"
ROLLOUTS = DATA / "rollouts.jsonl"

# Round-wise correct judgements (chosen_i > rejected_i; ties, malformed and missing rounds are wrong):
#   p1  c=[8,7,9,8,6,7,8,9] r=[5,8,4,9,6,3,2,1] -> T F T F F(tie) T T T = 5/8  kept
#   p2  c=9 x8, r=2 x8                          -> 8/8 too easy
#   p3  c=3 x8, r=6 x8                          -> 0/8 too hard
#   p4  c=[7,bad tags,5,bad verdict] r=6 x4     -> T F F F = 1/4 kept
#   p5  c=[8,8], no rejected judgements         -> nothing to compare
#   p6  c=malformed x4, r=5 x4                  -> 0/4 too hard
#   p7  c=6 x4, r=3 x4                          -> 4/4 too easy
#   p8  c=[5,5] r=[3,3]                         -> 2/2 too easy
#   p9  c=9 x8, r=[1 x6, 9, 9]                  -> 6/8 kept (upper bound is inclusive)
#   p10 c=5 x8, r=[9 x7, 1]                     -> 1/8 kept (lower bound is inclusive)
RL_FRACTIONS = {
    "p1": 5 / 8,
    "p2": 1.0,
    "p3": 0.0,
    "p4": 0.25,
    "p6": 0.0,
    "p7": 1.0,
    "p8": 1.0,
    "p9": 6 / 8,
    "p10": 1 / 8,
}
RL_KEPT = ["p1", "p4", "p9", "p10"]

# Mean chosen - mean rejected over valid scores:
#   p1 62/8 - 38/8 = 3   p2 9-2 = 7   p3 3-6 = -3   p4 (7+5)/2 - 6 = 0   p5, p6 no valid side
#   p7 6-3 = 3   p8 5-3 = 2 (not above 2)   p9 9 - 24/8 = 6   p10 5 - 64/8 = -3
SFT_GAPS = {"p1": 3.0, "p2": 7.0, "p3": -3.0, "p4": 0.0, "p7": 3.0, "p8": 2.0, "p9": 6.0, "p10": -3.0}
SFT_KEPT = ["p1", "p2", "p7", "p9"]


def ids(keys):
    return [pid for _, pid in keys]


def test_rl_filter_keeps_pairs_with_fraction_correct_in_range():
    report = rl_filter(load_judgements(ROLLOUTS))
    assert ids(report.kept) == RL_KEPT
    for key, stats in report.stats.items():
        if key[1] in RL_FRACTIONS:
            assert stats["fraction_correct"] == pytest.approx(RL_FRACTIONS[key[1]])
    reasons = {pid: reason for (_, pid), reason in report.dropped.items()}
    assert reasons == {
        "p2": "fraction correct above 0.75 (too easy)",
        "p3": "fraction correct below 0.125 (too hard)",
        "p5": "no judgements on one side",
        "p6": "fraction correct below 0.125 (too hard)",
        "p7": "fraction correct above 0.75 (too easy)",
        "p8": "fraction correct above 0.75 (too easy)",
    }
    assert report.reasons() == {
        "fraction correct above 0.75 (too easy)": 3,
        "fraction correct below 0.125 (too hard)": 2,
        "no judgements on one side": 1,
    }
    assert "kept 4 of 10 pairs, dropped 6" in report.format()


def test_rl_filter_custom_range():
    report = rl_filter(load_judgements(ROLLOUTS), low=0.5, high=1.0)
    assert ids(report.kept) == ["p1", "p2", "p7", "p8", "p9"]
    with pytest.raises(ValueError, match="0 <= low <= high <= 1"):
        rl_filter({}, low=0.8, high=0.2)


def test_sft_filter_keeps_pairs_whose_gap_exceeds_the_threshold():
    report = sft_filter(load_judgements(ROLLOUTS))
    assert ids(report.kept) == SFT_KEPT
    for (_, pid), stats in report.stats.items():
        if pid in SFT_GAPS:
            assert stats["score_gap"] == pytest.approx(SFT_GAPS[pid])
    reasons = {pid: reason for (_, pid), reason in report.dropped.items()}
    assert reasons == {
        "p3": "score gap not above 2",
        "p4": "score gap not above 2",
        "p5": "no valid score on one side",
        "p6": "no valid score on one side",
        "p8": "score gap not above 2",
        "p10": "score gap not above 2",
    }


def test_pairwise_rollouts_count_verdicts_naming_the_chosen_response():
    # q1 (chosen is A): A A B A -> 3/4 kept; q2 (chosen is B): B x4 -> too easy;
    # q3 (chosen is A): B, invalid, B, B -> 0 too hard
    judgements = load_judgements(DATA / "rollouts_pairwise.jsonl")
    report = rl_filter(judgements)
    assert ids(report.kept) == ["q1"]
    assert report.stats[(None, "q1")]["fraction_correct"] == pytest.approx(0.75)
    with pytest.raises(ValueError, match="SFT filter needs pointwise scores"):
        sft_filter(judgements)


def test_numeric_scores_and_sources(tmp_path):
    rollouts = tmp_path / "r.jsonl"
    rows = [
        {"pair_id": 1, "source": "a", "side": "chosen", "score": 9},
        {"pair_id": 1, "source": "a", "side": "rejected", "score": 2},
        {"pair_id": 1, "source": "b", "side": "chosen", "score": 4},
        {"pair_id": 1, "source": "b", "side": "rejected", "score": 5},
    ]
    rollouts.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = sft_filter(load_judgements(rollouts))
    assert report.kept == [("a", "1")]
    assert report.dropped == {("b", "1"): "score gap not above 2"}


@pytest.mark.parametrize(
    "row, message",
    [
        ({"side": "chosen", "text": "x"}, "line 1: missing field 'pair_id'"),
        ({"pair_id": 1, "side": "winner", "text": "x"}, "line 1: field 'side' must be"),
        ({"pair_id": 1, "side": "chosen"}, "line 1: needs field 'text'"),
        ({"pair_id": 1, "side": "chosen", "text": 5}, "line 1: field 'text' must be a string"),
    ],
)
def test_bad_rollouts_are_named(tmp_path, row, message):
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(DataError, match=message):
        load_judgements(path)


def test_cli_filter_rl_writes_kept_rows_and_decisions(tmp_path, capsys):
    data = tmp_path / "train.parquet"
    prepare(DATA / "pairs_filter.jsonl", data, seed=0, show_progress=False)
    out, decisions = tmp_path / "rl.parquet", tmp_path / "decisions.jsonl"
    code = main(["filter", "rl", str(ROLLOUTS), "--data", str(data), "-o", str(out), "--decisions", str(decisions)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "RL filter: kept 4 of 10 pairs, dropped 6" in printed
    assert "dropped      3  fraction correct above 0.75 (too easy)" in printed
    assert "wrote 8 rows" in printed and "(12 rows dropped)" in printed

    import pyarrow.parquet as pq

    rows = pq.read_table(out).to_pylist()
    kept_ids = [r["extra_info"]["pair_id"] for r in rows]
    assert sorted(set(kept_ids)) == sorted(RL_KEPT)
    for k in range(0, len(rows), 2):  # pairs stay whole and adjacent, chosen first
        assert kept_ids[k] == kept_ids[k + 1]
        assert [rows[k]["extra_info"]["side"], rows[k + 1]["extra_info"]["side"]] == ["chosen", "rejected"]
    records = {r["pair_id"]: r for r in map(json.loads, decisions.read_text().splitlines())}
    assert records["p1"]["kept"] is True and records["p1"]["reason"] is None
    assert records["p1"]["fraction_correct"] == pytest.approx(5 / 8)
    assert records["p5"]["fraction_correct"] is None and records["p5"]["kept"] is False


def test_cli_filter_sft_on_a_pairs_file_with_custom_threshold(tmp_path, capsys):
    out = tmp_path / "sft.jsonl"
    code = main(
        ["filter", "sft", str(ROLLOUTS), "--data", str(DATA / "pairs_filter.jsonl"), "-o", str(out), "--min-gap", "5"]
    )
    assert code == 0
    kept = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert kept == ["p2", "p9"]  # gaps 7 and 6 exceed 5
    assert "SFT filter: kept 2 of 10 pairs, dropped 8" in capsys.readouterr().out


def test_cli_filter_range_as_fractions(capsys):
    assert main(["filter", "rl", str(ROLLOUTS), "--low", "2/8", "--high", "5/8"]) == 0
    assert "kept 2 of 10 pairs" in capsys.readouterr().out  # p1 (5/8) and p4 (1/4)


def test_cli_filter_output_needs_data(tmp_path, capsys):
    assert main(["filter", "rl", str(ROLLOUTS), "-o", str(tmp_path / "x.parquet")]) == 2
    assert "pass --data too" in capsys.readouterr().err
