"""`import patarm` stays light: no ML framework or heavy optional dependency is imported, and
only layer 1 (the core API): the workflow and the integrations load on use."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

HEAVY = (
    "torch",
    "verl",
    "trl",
    "transformers",
    "pandas",
    "matplotlib",
    "httpx",
    "pyarrow",
    "datasets",
    "ray",
    "tensorflow",
    "jax",
    "openrlhf",
    "tqdm",
    "tokenizers",
    "deepspeed",
)


TESTS = os.path.dirname(os.path.abspath(__file__))


def _modules_after(statements: str, watched) -> list:
    report = f"print(json.dumps(sorted(m for m in {tuple(watched)!r} if m in sys.modules)))"
    code = f"import json, sys\n{statements}\n{report}\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _heavy_modules_after(statements: str) -> list:
    return _modules_after(statements, HEAVY)


# Layers 2 and 3: `import patarm` imports none of them.
NOT_AT_IMPORT = (
    "patarm.workflow",
    "patarm.workflow.judge",
    "patarm.workflow.judge.client",
    "patarm.workflow.judge.pairwise",
    "patarm.workflow.judge.results",
    "patarm.workflow.judge.transport",
    "patarm.workflow.data",
    "patarm.workflow.evaluation",
    "patarm.verl",
    "patarm.trl",
    "patarm.openrlhf",
)


def test_import_patarm_imports_no_heavy_modules():
    assert _heavy_modules_after("import patarm\npatarm.score_batch(['x'], [1], ['chosen'])") == []


def test_import_patarm_imports_only_the_core_api():
    statements = "import patarm\npatarm.score_batch(['x'], [1], ['chosen'])\ndir(patarm)"
    assert _modules_after(statements, NOT_AT_IMPORT) == []


def test_judge_client_names_load_on_first_use():
    statements = "import patarm\nassert patarm.Judge.__module__ == 'patarm.workflow.judge.client'"
    loaded = _modules_after(statements, NOT_AT_IMPORT)
    assert loaded == [
        "patarm.workflow",
        "patarm.workflow.judge",
        "patarm.workflow.judge.client",
        "patarm.workflow.judge.pairwise",
        "patarm.workflow.judge.results",
        "patarm.workflow.judge.transport",
    ]
    assert _heavy_modules_after(statements) == []


def test_star_import_loads_the_judge_client_but_nothing_heavy():
    # Judge and its result types are in __all__: `from patarm import *` loads the judge client
    # (pure Python; httpx loads when a judge first sends a request), never a framework.
    assert _heavy_modules_after("from patarm import *\nassert Judge and PairwiseResults") == []
    assert "patarm.verl" not in _modules_after("from patarm import *", NOT_AT_IMPORT)


def test_lazy_names_are_listed_and_missing_names_raise():
    import patarm

    for name in ("Judge", "JudgeError", "PairResult", "Results", "ScoreResult", "PairwiseResult", "PairwiseResults"):
        assert name in dir(patarm) and name in patarm.__all__
    assert "PairRewardManager" in dir(patarm) and "PairRewardManager" not in patarm.__all__
    with pytest.raises(AttributeError, match="no attribute 'NoSuchName'"):
        patarm.NoSuchName  # noqa: B018


def test_workflow_modules_import_no_heavy_modules():
    # Their optional dependencies (pandas, pyarrow, httpx, tqdm, matplotlib) load on use only.
    modules = ", ".join(
        (
            "patarm.workflow.data",
            "patarm.workflow.evaluation.evaluate",
            "patarm.workflow.evaluation.items",
            "patarm.workflow.evaluation.judgements",
            "patarm.workflow.evaluation.metrics",
            "patarm.workflow.evaluation.render",
            "patarm.workflow.evaluation.pairwise",
            "patarm.workflow.evaluation.report",
            "patarm.workflow.evaluation.rewardbench2",
            "patarm.workflow.evaluation.benchmarks",
            "patarm.workflow.judge",
            "patarm.workflow.cli",
            "patarm.openrlhf",
        )
    )
    assert _heavy_modules_after(f"import {modules}") == []
    if importlib.util.find_spec("verl") is None:
        # patarm.verl's __init__ imports verl on purpose; the reward-model module verl loads does not
        load = f"sys.path.insert(0, {TESTS!r})\nfrom frameworks import import_framework_free\n"
        assert _heavy_modules_after(load + "import_framework_free('patarm.verl.reward_model')") == []


def test_public_names_exist():
    import patarm

    for name in (
        "parse_judgement",
        "parse_judgements",
        "Judgement",
        "ERROR_KINDS",
        "Graded",
        "Constant",
        "par_rewards",
        "PairRewards",
        "score_batch",
        "compute_score",
    ):
        assert name in patarm.__all__ and hasattr(patarm, name)
    assert all(hasattr(patarm, name) for name in patarm.__all__)
