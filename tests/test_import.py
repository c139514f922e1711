"""`import patarm` stays light: no ML framework or heavy optional dependency is imported."""

import json
import subprocess
import sys

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


def _heavy_modules_after(statements: str) -> list:
    code = f"import json, sys\n{statements}\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_import_patarm_imports_no_heavy_modules():
    assert _heavy_modules_after("import patarm\npatarm.score_batch(['x'], [1], ['chosen'])") == []


def test_workflow_modules_import_no_heavy_modules():
    # Their optional dependencies (pandas, pyarrow, httpx, tqdm, matplotlib) load on use only.
    modules = (
        "patarm.workflow.data, patarm.evaluate, patarm.judge, patarm.openrlhf, patarm.reward_model, patarm.workflow.cli"
    )
    assert _heavy_modules_after(f"import {modules}") == []


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
