"""A missing optional dependency is one line (what is missing, the exact pip command), exit
code 2, no traceback, and nothing written. Absence is simulated: ``sys.modules[name] = None``
makes ``import name`` fail as if the package were not installed; framework imports run in a
subprocess behind a meta-path blocker, so the result does not depend on what this venv has."""

import json
import subprocess
import sys
import textwrap

import pytest

import patarm
from patarm._optional import MissingDependency, is_installed, require
from patarm.workflow.cli import main


def block(monkeypatch, *names):
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)


def lines(rows):
    return "".join(json.dumps(row) + "\n" for row in rows)


def judgement(score):
    return f"<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>{score}</answer>"


PAIRS = [{"prompt": "p", "chosen": "good", "rejected": "bad", "id": str(i)} for i in range(3)]


def one_line_error(capsys, *pieces):
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    for piece in pieces:
        assert piece in err, err
    return err


def test_prepare_without_pyarrow_writes_nothing(tmp_path, monkeypatch, capsys):
    block(monkeypatch, "pyarrow", "pyarrow.parquet")
    source = tmp_path / "pairs.jsonl"
    source.write_text(lines(PAIRS))
    output = tmp_path / "data" / "judge" / "train.parquet"
    assert main(["prepare", str(source), "-o", str(output), "--quiet"]) == 2
    one_line_error(capsys, "patarm prepare: error:", "pyarrow", "pip install pyarrow")
    assert not (tmp_path / "data").exists()  # no empty output folder left behind


def test_prepare_without_pyarrow_to_jsonl_still_works(tmp_path, monkeypatch, capsys):
    block(monkeypatch, "pyarrow", "pyarrow.parquet")
    source = tmp_path / "pairs.jsonl"
    source.write_text(lines(PAIRS))
    assert main(["prepare", str(source), "-o", str(tmp_path / "out" / "train.jsonl"), "--quiet"]) == 0
    assert len((tmp_path / "out" / "train.jsonl").read_text().splitlines()) == 6


def test_reading_parquet_without_pyarrow(tmp_path, monkeypatch, capsys):
    block(monkeypatch, "pyarrow", "pyarrow.parquet")
    rollouts = tmp_path / "rollouts.parquet"
    rollouts.write_bytes(b"PAR1")
    assert main(["filter", "rl", str(rollouts)]) == 2
    one_line_error(capsys, "parquet", "pip install pyarrow")


def test_filter_checks_its_parquet_output_before_reading(tmp_path, monkeypatch, capsys):
    block(monkeypatch, "pyarrow", "pyarrow.parquet")
    rollouts = tmp_path / "rollouts.jsonl"
    rollouts.write_text("{not read}\n")  # a read would fail differently: the check comes first
    assert main(["filter", "rl", str(rollouts), "--data", "x.jsonl", "-o", str(tmp_path / "new" / "kept.parquet")]) == 2
    one_line_error(capsys, "pip install pyarrow")
    assert not (tmp_path / "new").exists()


def benchmark_files(tmp_path):
    benchmark = tmp_path / "bench.jsonl"
    benchmark.write_text(lines([{"id": 1, "prompt": "p", "chosen": "c", "rejected": "r", "subset": "alpacaeval-easy"}]))
    judgements = tmp_path / "judgements.jsonl"
    judgements.write_text(
        lines([{"id": 1, "side": "chosen", "text": judgement(8)}, {"id": 1, "side": "rejected", "text": judgement(3)}])
    )
    return str(benchmark), str(judgements)


def test_evaluate_judge_url_without_httpx(tmp_path, monkeypatch, capsys):
    block(monkeypatch, "httpx")
    benchmark, _ = benchmark_files(tmp_path)
    # Port 9 (discard): were a request attempted, the error would be a connection error instead.
    code = main(["evaluate", benchmark, "--judge-url", "http://127.0.0.1:9/v1", "--model", "m", "--quiet"])
    assert code == 2
    one_line_error(capsys, "patarm evaluate: error:", "httpx", "pip install 'patarm[judge]'")


def test_evaluate_plot_without_matplotlib_fails_before_writing(tmp_path, monkeypatch, capsys):
    block(monkeypatch, "matplotlib", "matplotlib.pyplot")
    benchmark, judgements = benchmark_files(tmp_path)
    report = tmp_path / "report.json"
    code = main(
        [
            "evaluate",
            benchmark,
            "--judgements",
            judgements,
            "--json",
            str(report),
            "--plot",
            str(tmp_path / "plot.png"),
            "--quiet",
        ]
    )
    assert code == 2
    one_line_error(capsys, "matplotlib", "pip install 'patarm[plot]'")
    assert not report.exists() and not (tmp_path / "plot.png").exists()


def test_judge_without_httpx_raises_the_one_line_hint(monkeypatch):
    block(monkeypatch, "httpx")
    judge = patarm.Judge("http://127.0.0.1:9/v1", "m", n=1, max_retries=0)
    with pytest.raises(
        MissingDependency,
        match=r"^the judge client .* needs httpx, which is not installed: "
        r"pip install 'patarm\[judge\]'$",
    ) as info:
        judge.score("p", "r")
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_to_pandas_without_pandas(monkeypatch):
    block(monkeypatch, "pandas")
    with pytest.raises(ImportError) as info:
        patarm.Results([]).to_pandas()
    message = str(info.value)
    assert message == "Results.to_pandas() needs pandas, which is not installed: pip install 'patarm[pandas]'"
    assert "\n" not in message and info.value.__cause__ is None and info.value.__suppress_context__


def test_prepare_tokenizer_file_without_tokenizers(tmp_path, monkeypatch, capsys):
    block(monkeypatch, "tokenizers")
    source = tmp_path / "pairs.jsonl"
    source.write_text(lines(PAIRS))
    output = tmp_path / "out" / "train.jsonl"
    assert main(["prepare", str(source), "-o", str(output), "--tokenizer", "tok.json", "--quiet"]) == 2
    one_line_error(capsys, "tokenizers", "pip install tokenizers")
    assert not (tmp_path / "out").exists()


def test_score_needs_no_optional_dependency(monkeypatch, capsys):
    block(monkeypatch, "pyarrow", "pyarrow.parquet", "httpx", "matplotlib", "pandas", "tqdm", "tqdm.auto")
    assert main(["score"]) == 0
    assert "totals:" in capsys.readouterr().out


def test_a_folder_named_like_a_framework_is_not_the_framework(tmp_path, monkeypatch):
    (tmp_path / "fakeframework_xyz").mkdir()  # no __init__.py: a namespace package
    monkeypatch.syspath_prepend(str(tmp_path))
    assert not is_installed("fakeframework_xyz")
    (tmp_path / "fakeframework_xyz" / "__init__.py").write_text("")
    assert is_installed("fakeframework_xyz")


def test_a_broken_install_keeps_its_own_error(tmp_path, monkeypatch):
    # An installed package failing on one of *its* imports is not reported as "not installed".
    (tmp_path / "brokenpkg").mkdir()
    (tmp_path / "brokenpkg" / "__init__.py").write_text("import a_module_that_does_not_exist_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="a_module_that_does_not_exist_xyz") as info:
        require("brokenpkg", "a feature", "brokenpkg")
    assert not isinstance(info.value, MissingDependency)
    with pytest.raises(
        MissingDependency, match=r"^a feature needs nothere_xyz, which is not installed: pip install x$"
    ):
        require("nothere_xyz.sub", "a feature", "x")


# ---- framework integrations, in a subprocess with the framework's packages blocked ----------

BLOCKER = textwrap.dedent(
    """
    import importlib.abc, sys
    BLOCKED = set(sys.argv[1].split(","))

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    for module in list(sys.modules):
        if module.partition(".")[0] in BLOCKED:
            del sys.modules[module]
    sys.meta_path.insert(0, Blocker())
    try:
        exec(sys.argv[2])
    except ImportError as exc:
        # "clean": no chained error under the one-line message
        clean = exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__)
        print(type(exc).__name__, "|", exc, "|", clean, sep="")
    else:
        print("imported")
    """
)


def import_without(blocked, statement):
    result = subprocess.run(
        [sys.executable, "-c", BLOCKER, ",".join(blocked), statement], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def not_installed(modules, blocked, framework):
    """The message's account of what is missing: the blocked packages plus those this
    environment lacks anyway (the core venv has no torch)."""
    missing = [m for m in modules if m in blocked or not is_installed(m)]
    return ", which is not installed" if missing == [framework] else f" (not installed: {', '.join(missing)})"


@pytest.mark.parametrize("blocked", [("torch", "verl"), ("verl",), ("torch",)])
@pytest.mark.parametrize(
    "statement",
    ["import patarm.verl", "from patarm.verl import PairRewardManager", "import patarm; patarm.PairRewardManager"],
)
def test_verl_integration_without_verl(blocked, statement):
    kind, message, clean = import_without(blocked, statement).split("|")
    assert kind == "MissingDependency" and clean == "True"
    assert (
        message
        == f"patarm.verl needs verl{not_installed(('torch', 'verl'), blocked, 'verl')}: pip install 'patarm[verl]'"
    )
    assert "No module named" not in message


@pytest.mark.parametrize("blocked", [("trl",), ("torch", "transformers", "trl")])
def test_trl_trainer_without_trl(blocked):
    # `import patarm.trl` stays light (PatarmReward and the samplers need no TRL); the trainer,
    # built from TRL's GRPOTrainer on first use, names TRL and the extra.
    assert import_without(blocked, "import patarm.trl") == "imported"
    kind, message, _ = import_without(blocked, "from patarm.trl import PairGRPOTrainer").split("|")
    assert kind == "MissingDependency"
    expected = not_installed(("torch", "transformers", "trl"), blocked, "trl")
    assert message == f"patarm.trl.PairGRPOTrainer needs trl{expected}: pip install 'patarm[trl]'"


def test_openrlhf_integration_never_needs_openrlhf():
    # OpenRLHF loads patarm's executor and reward files itself; patarm never imports it.
    assert import_without(("openrlhf", "torch", "deepspeed"), "import patarm.openrlhf") == "imported"
