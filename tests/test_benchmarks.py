"""Benchmarks by name: the real ``datasets.load_dataset`` call on local copies shaped as the
published repositories (tests/published_datasets.py), and the hub call's arguments."""

import json
from pathlib import Path

import pytest

datasets = pytest.importorskip("datasets")

from patarm.workflow.cli import main  # noqa: E402
from patarm.workflow.data import DataError  # noqa: E402
from patarm.workflow.evaluation.benchmarks import PUBLISHED, load_published_dataset  # noqa: E402
from patarm.workflow.evaluation.evaluate import evaluate_scores  # noqa: E402
from patarm.workflow.evaluation.items import load_benchmark  # noqa: E402
from patarm.workflow.evaluation.judgements import load_judgement_scores  # noqa: E402
from published_datasets import (  # noqa: E402
    rewardbench2_row,
    rewardbench_row,
    write_rewardbench2_repo,
    write_rewardbench_repo,
    write_rmbench_repo,
)

DATA = Path(__file__).parent / "data"


def test_rewardbench_by_name_reads_the_filtered_split(tmp_path):
    filtered = [rewardbench_row(7, "alpacaeval-easy", "p7", "good", "bad"), rewardbench_row(9, "hep-go")]
    raw = filtered + [rewardbench_row(100 + i, "alpacaeval-easy") for i in range(4)]
    root = write_rewardbench_repo(tmp_path / "reward-bench", filtered, raw)
    benchmark, items = load_benchmark("allenai/reward-bench", dataset_path=root)
    assert benchmark == "rewardbench"
    assert [(i.id, i.group, i.prompt, i.chosen, i.rejected) for i in items] == [
        ("7", "alpacaeval-easy", "p7", ("good",), ("bad",)),
        ("9", "hep-go", "p", ("c",), ("r",)),
    ]


@pytest.mark.parametrize(
    "name, split",
    [("allenai/reward-bench", "filtered"), ("THU-KEG/RM-Bench", "train"), ("allenai/reward-bench-2", "test")],
)
def test_a_name_is_loaded_from_the_hub_with_its_split(monkeypatch, name, split):
    calls = []

    def fake_load_dataset(path, name_arg=None, **kwargs):
        calls.append((path, name_arg, kwargs))
        return datasets.Dataset.from_list([{"x": 1}])

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    assert len(load_published_dataset(name)) == 1
    assert calls == [(name, None, {"split": split})]
    assert PUBLISHED[name].split == split


def test_evaluating_by_name_equals_evaluating_the_file(tmp_path):
    """tests/data/rewardbench.jsonl copied into a reward-bench repository gives the same report."""
    rows = [json.loads(line) for line in (DATA / "rewardbench.jsonl").read_text().splitlines()]
    root = write_rewardbench_repo(tmp_path / "rb", rows, rows)
    scores = load_judgement_scores(DATA / "rewardbench_judgements.jsonl")
    by_name = evaluate_scores(*load_benchmark("allenai/reward-bench", dataset_path=root), scores)
    by_file = evaluate_scores(*load_benchmark(DATA / "rewardbench.jsonl"), scores)
    assert by_name == by_file


def test_rmbench_by_name_maps_the_three_styles(tmp_path):
    rows = json.loads((DATA / "rmbench.json").read_text())
    root = write_rmbench_repo(tmp_path / "RM-Bench", rows)
    benchmark, items = load_benchmark("THU-KEG/RM-Bench", dataset_path=root)
    assert benchmark == "rmbench" and len(items) == len(rows)
    assert items[0].chosen == tuple(rows[0]["chosen"]) and items[0].rejected == tuple(rows[0]["rejected"])
    assert "concise" in items[0].chosen[0] and "markdown" in items[0].rejected[2]
    scores = load_judgement_scores(DATA / "rmbench_judgements.jsonl")
    assert evaluate_scores(benchmark, items, scores) == evaluate_scores(*load_benchmark(DATA / "rmbench.json"), scores)


def test_rewardbench2_by_name_and_from_save_to_disk(tmp_path):
    rows = [
        rewardbench2_row("0", "Math", ["right"], ["w1", "w2", "w3"]),
        rewardbench2_row("ref:3", "Ties", ["red"], ["cat", "dog"]),
        rewardbench2_row("tied:3", "Ties", ["red", "blue", "green"], ["cat", "dog"]),
    ]
    root = write_rewardbench2_repo(tmp_path / "reward-bench-2", rows)
    benchmark, items = load_benchmark("allenai/reward-bench-2", dataset_path=root)
    assert benchmark == "rewardbench2"
    assert [(i.id, i.group, len(i.chosen), len(i.rejected)) for i in items] == [
        ("0", "Math", 1, 3),
        ("ref:3", "Ties", 1, 2),
        ("tied:3", "Ties", 3, 2),
    ]
    # the same rows as a DatasetDict written by save_to_disk
    saved = tmp_path / "saved"
    datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)}).save_to_disk(str(saved))
    assert load_benchmark("allenai/reward-bench-2", dataset_path=saved)[1] == items
    other = tmp_path / "other"
    datasets.DatasetDict({"train": datasets.Dataset.from_list(rows)}).save_to_disk(str(other))
    with pytest.raises(ValueError, match=r"has splits \['train'\], not 'test'"):
        load_benchmark("allenai/reward-bench-2", dataset_path=other)


@pytest.mark.parametrize(
    "row, message",
    [
        (rewardbench2_row("ties-1", "Ties", ["a", "b"], ["c"]), "a Ties item id is 'ref:N' or 'tied:N'"),
        (rewardbench2_row("1", "Focus", ["a", "b"], ["c", "d", "e"]), "a 'Focus' item has one chosen response, got 2"),
        (
            {**rewardbench2_row("1", "Math", ["a"], ["c", "d", "e"]), "num_correct": 2},
            "'num_correct' is 2 but 'chosen' has 1",
        ),
    ],
)
def test_bad_rewardbench2_items_are_named(tmp_path, row, message):
    root = write_rewardbench2_repo(tmp_path / "rb2", [row])
    with pytest.raises(DataError, match=message):
        load_benchmark("allenai/reward-bench-2", dataset_path=root)


def test_caller_mistakes_are_clear(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="--dataset-path is for a benchmark given by name"):
        load_benchmark(DATA / "rewardbench.jsonl", dataset_path=tmp_path)
    with pytest.raises(FileNotFoundError, match="--dataset-path .*missing: no such file"):
        load_benchmark("allenai/reward-bench", dataset_path=tmp_path / "missing")
    rows = [rewardbench_row(1, "hep-go")]
    root = write_rewardbench_repo(tmp_path / "rb", rows, rows)
    with pytest.raises(ValueError, match="is a rewardbench benchmark, not 'rmbench'"):
        load_benchmark("allenai/reward-bench", "rmbench", dataset_path=root)
    monkeypatch.setitem(__import__("sys").modules, "datasets", None)
    with pytest.raises(ImportError, match=r"pip install 'patarm\[eval\]'"):
        load_benchmark("allenai/reward-bench", dataset_path=root)


def test_cli_evaluates_a_benchmark_by_name(tmp_path, capsys):
    rows = [json.loads(line) for line in (DATA / "rewardbench.jsonl").read_text().splitlines()]
    root = write_rewardbench_repo(tmp_path / "rb", rows, rows)
    out = tmp_path / "r.json"
    assert (
        main(
            [
                "evaluate",
                "allenai/reward-bench",
                "--dataset-path",
                str(root),
                "--judgements",
                str(DATA / "rewardbench_judgements.jsonl"),
                "--json",
                str(out),
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.startswith("rewardbench: 9 items, 8 judgements per response")
    assert json.loads(out.read_text())["results"]["majority"]["4"]["sections"]["Chat"] == 1.0
