"""`import patarm` stays light: no ML framework or heavy optional dependency is imported."""
import json
import subprocess
import sys

HEAVY = ("torch", "verl", "trl", "transformers", "pandas", "matplotlib", "httpx", "pyarrow",
         "datasets", "ray", "tensorflow", "jax", "openrlhf", "tqdm")


def test_import_patarm_imports_no_heavy_modules():
    code = (
        "import json, sys, patarm\n"
        "patarm.score_batch(['x'], [1], ['chosen'])\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_public_names_exist():
    import patarm

    for name in ("parse_judgement", "parse_judgements", "Judgement", "ERROR_KINDS", "Graded", "Constant",
                 "par_rewards", "PairRewards", "score_batch", "compute_score"):
        assert name in patarm.__all__ and hasattr(patarm, name)
    assert all(hasattr(patarm, name) for name in patarm.__all__)
