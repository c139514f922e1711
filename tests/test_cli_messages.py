"""What the CLI tells its user: --version, help for every option, the score table's legend and
bundled example, and errors that name FILE:LINE and the CLI's own options."""

import argparse
import importlib.metadata
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import patarm
from patarm.workflow.cli import build_parser, main
from patarm.workflow.commands.score import bundled_example_path


def subcommands():
    parser = build_parser()
    (choices,) = [action.choices for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    return choices


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"patarm {patarm.__version__}"


def test_version_of_the_command():
    result = subprocess.run([sys.executable, "-m", "patarm", "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == f"patarm {patarm.__version__}"


def test_the_version_is_written_once_in_cargo_toml():
    root = Path(__file__).resolve().parents[1]
    if not (root / "Cargo.toml").exists():
        pytest.skip("needs the repository")
    cargo = re.search(r'^\[package\]$.*?^version = "([^"]+)"$', (root / "Cargo.toml").read_text(), re.M | re.S)
    assert cargo is not None and patarm.__version__ == cargo.group(1)
    pyproject = (root / "pyproject.toml").read_text()
    project = re.search(r"^\[project\]$(.*?)^\[", pyproject, re.M | re.S)
    assert project is not None
    assert re.search(r'^dynamic = \[[^\]]*"version"', project.group(1), re.M)
    assert not re.search(r"^version\s*=", project.group(1), re.M), "pyproject.toml must not repeat the version"
    try:
        installed = importlib.metadata.version("patarm")
    except importlib.metadata.PackageNotFoundError:
        return  # run from the source tree: no distribution metadata to compare
    assert installed == patarm.__version__


@pytest.mark.parametrize("command", sorted(subcommands()))
def test_every_option_has_help(command):
    parser = subcommands()[command]
    unexplained = [action.dest for action in parser._actions if not (action.help or "").strip()]
    assert unexplained == [], f"patarm {command}: options without help text: {unexplained}"


def test_evaluate_help_explains_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for option in (
        "--benchmark",
        "--temperature",
        "--max-tokens",
        "--max-concurrency",
        "--timeout",
        "--max-retries",
        "--model",
        "--judge-url",
        "--plot",
    ):
        assert option in text
    assert "sampling temperature" in text and "in flight at once" in text and "tokens per judgement" in text


def test_score_help_says_where_the_example_is_and_what_columns_mean(capsys):
    with pytest.raises(SystemExit):
        main(["score", "--help"])
    out = capsys.readouterr().out
    assert bundled_example_path() in out and os.path.isfile(bundled_example_path())
    for column in ("opp_mean", "par", "fmt_err", "reward", "note"):
        assert f"\n  {column} " in out, column


def test_score_output_header_names_the_example_and_explains_columns(capsys):
    assert main(["score"]) == 0
    out = capsys.readouterr().out
    header = out.split("\n\n")[0]
    assert bundled_example_path() in header and "bundled example" in header
    assert "opp_mean  mean valid score of the other side" in out
    assert "reward    total reward of this side's judgements: PAR + format reward" in out


# ---- empty and binary inputs ------------------------------------------------------------

PAIR = {"prompt": "p", "chosen": "c", "rejected": "r", "subset": "alpacaeval-easy", "id": 1}


def _commands(path, tmp_path, good):
    return {
        "score": ["score", path],
        "filter rl": ["filter", "rl", path],
        "prepare": ["prepare", path, "-o", str(tmp_path / "out" / "train.jsonl"), "--quiet"],
        "evaluate (benchmark)": ["evaluate", path, "--judgements", good, "--quiet"],
        "evaluate (judgements)": ["evaluate", good, "--judgements", path, "--quiet"],
    }


@pytest.mark.parametrize("command", ["score", "filter rl", "prepare", "evaluate (benchmark)", "evaluate (judgements)"])
@pytest.mark.parametrize("suffix", [".jsonl", ".json", ".parquet"])
def test_an_empty_input_is_an_error_naming_the_file(tmp_path, capsys, command, suffix):
    if command == "score" and suffix != ".jsonl":
        pytest.skip("patarm score reads JSON lines only")
    path = tmp_path / f"empty{suffix}"
    if suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"pair_id": pa.array([], pa.string())}), path)
    else:
        path.write_text("[]" if suffix == ".json" else "\n")
    good = tmp_path / "bench.jsonl"
    good.write_text(json.dumps(PAIR) + "\n")
    assert main(_commands(str(path), tmp_path, str(good))[command]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    message = err.split(f"empty{suffix}: ", 1)[1]  # the file is named first
    assert "(it is empty)" in message or message.startswith("no preference pairs found"), err
    assert not (tmp_path / "out").exists()


BINARY = bytes(range(256)) * 4  # NUL bytes, invalid UTF-8, no newline structure


@pytest.mark.parametrize("command", ["score", "filter rl", "prepare", "evaluate (benchmark)", "evaluate (judgements)"])
@pytest.mark.parametrize("suffix", [".jsonl", ".json", ".parquet"])
def test_a_binary_input_error_names_the_file(tmp_path, capsys, command, suffix):
    path = tmp_path / f"blob{suffix}"
    path.write_bytes(BINARY)
    good = tmp_path / "bench.jsonl"
    good.write_text(json.dumps(PAIR) + "\n")
    assert main(_commands(str(path), tmp_path, str(good))[command]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert f"blob{suffix}" in err, err


def test_score_names_a_parquet_file_given_to_it(tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "rollouts.parquet"
    pq.write_table(pa.table({"pair_id": [1], "side": ["chosen"], "text": ["t"]}), path)
    assert main(["score", str(path)]) == 2
    assert "rollouts.parquet: a parquet file; patarm score reads JSON lines" in capsys.readouterr().err


# ---- side errors: FILE:LINE and the CLI's option, never the Python argument -------------------


def judgement(answer):
    return f"<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>{answer}</answer>"


def write(tmp_path, rows):
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


@pytest.mark.parametrize(
    "side, pairwise, expected",
    [
        (
            "A",
            False,
            'r.jsonl:2: side is "A", but each side must be "chosen" or "rejected" '
            '("A"/"B" are pairwise verdicts: add --pairwise)',
        ),
        ("best", False, 'r.jsonl:2: side is "best", but each side must be "chosen" or "rejected"'),
        (
            "chosen",
            True,
            'r.jsonl:2: side is "chosen", but with --pairwise each side must be the correct verdict '
            '"A" or "B" ("chosen"/"rejected" are pointwise sides: drop --pairwise)',
        ),
        ("C", True, 'r.jsonl:2: side is "C", but with --pairwise each side must be the correct verdict "A" or "B"'),
    ],
)
def test_side_errors_name_the_line_and_the_option(tmp_path, capsys, side, pairwise, expected):
    good = {"pair_id": 1, "side": "B" if pairwise else "chosen", "text": judgement(8)}
    path = write(tmp_path, [good, {"pair_id": 1, "side": side, "text": judgement(3)}])
    assert main(["score", path] + (["--pairwise"] if pairwise else [])) == 2
    err = capsys.readouterr().err
    assert err.rstrip("\n").endswith(expected), err
    assert "sides[" not in err and "pairwise=" not in err


def test_core_errors_are_told_in_the_files_terms(tmp_path, capsys):
    # A lone surrogate is refused by the core about `texts[1]`: the CLI names line 2's text.
    path = tmp_path / "r.jsonl"
    path.write_text(
        '{"pair_id": 1, "side": "chosen", "text": "ok"}\n{"pair_id": 1, "side": "rejected", "text": "\\ud800"}\n'
    )
    assert main(["score", str(path)]) == 2
    err = capsys.readouterr().err
    assert "r.jsonl:2: text holds a lone surrogate" in err and "texts[" not in err, err
