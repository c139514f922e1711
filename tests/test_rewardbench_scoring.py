"""patarm's RewardBench scoring against rewardbench 0.1.4's own code, when it is installed.

rewardbench's package ``__init__`` imports torch, transformers and fastchat, so the modules
cannot be imported in a light test environment. The test reads them from the installed
package without running its ``__init__``: ``rewardbench/constants.py`` (no imports) is loaded
as it is, and ``calculate_scores_per_section`` (a pure function) is compiled from the
source of ``rewardbench/utils.py`` alone. scripts/test.sh installs it with ``--no-deps``.
tests/test_evaluate.py checks the same numbers by hand from the constants, without it.
"""

import ast
import importlib.util
import random
from pathlib import Path

import pytest

from patarm.workflow.evaluation.items import REWARDBENCH_SECTIONS, Item
from patarm.workflow.evaluation.metrics import REWARDBENCH_WEIGHTS, rewardbench_metrics, section_scores

SPEC = importlib.util.find_spec("rewardbench")
pytestmark = pytest.mark.skipif(
    SPEC is None, reason="rewardbench is not installed (pip install --no-deps rewardbench==0.1.4)"
)


@pytest.fixture(scope="module")
def rewardbench():
    package = Path(SPEC.submodule_search_locations[0])
    spec = importlib.util.spec_from_file_location("rewardbench_constants", package / "constants.py")
    constants = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(constants)
    tree = ast.parse((package / "utils.py").read_text())
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "calculate_scores_per_section")
    namespace = {}
    exec(compile(ast.Module(body=[function], type_ignores=[]), str(package / "utils.py"), "exec"), namespace)
    return constants, namespace["calculate_scores_per_section"]


def test_weights_and_sections_are_rewardbenchs(rewardbench):
    constants, _ = rewardbench
    assert REWARDBENCH_WEIGHTS == constants.EXAMPLE_COUNTS
    assert {k: list(v) for k, v in REWARDBENCH_SECTIONS.items()} == constants.SUBSET_MAPPING


@pytest.mark.parametrize("seed", range(20))
def test_section_scores_equal_rewardbenchs(rewardbench, seed):
    constants, calculate = rewardbench
    rng = random.Random(seed)
    subsets = [s for s in REWARDBENCH_WEIGHTS if rng.random() < 0.8]
    accuracy = {s: rng.randint(0, 40) / rng.choice([8, 40, 134, 250]) for s in subsets}
    theirs = calculate(constants.EXAMPLE_COUNTS, constants.SUBSET_MAPPING, accuracy)
    ours = section_scores(accuracy)
    assert ours == {k: v for k, v in theirs.items() if k in ours}  # bit for bit
    assert all(theirs[k] == 0 for k in theirs if k not in ours)  # rewardbench writes 0 for an absent section


def test_report_sections_equal_rewardbenchs(rewardbench):
    """From per-pair results, as rewardbench's run scripts do: subset accuracy = correct / total
    (0.5 for a tie with ties="half"), then the sections."""
    constants, calculate = rewardbench
    import numpy as np

    rng = random.Random(7)
    items, credit = [], []
    for subset in REWARDBENCH_WEIGHTS:
        for k in range(rng.randint(1, 9)):
            items.append(Item(f"{subset}-{k}", "p", ("c",), ("r",), subset))
            credit.append(rng.choice([0.0, 0.5, 1.0]))
    metrics = rewardbench_metrics(items, np.asarray(credit).reshape(-1, 1, 1))
    results_grouped = {}
    for subset in sorted(set(i.group for i in items)):
        results = [c for c, i in zip(credit, items, strict=True) if i.group == subset]
        results_grouped[subset] = sum(results) / len(results)
    assert {s: v["accuracy"] for s, v in metrics["subsets"].items()} == results_grouped
    assert metrics["sections"] == calculate(constants.EXAMPLE_COUNTS, constants.SUBSET_MAPPING, results_grouped)
