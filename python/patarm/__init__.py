"""patarm: fast PaTaRM reward-model training and use for verl, TRL and OpenRLHF.

The judge's parsing, the preference-aware reward (PAR), pair sampling, prompts and voting run
in the native core (``patarm._core``); this package is a thin typed layer over it, in three
layers: the core API at the top level (``parsing``, ``rewards``, ``prompts``, ``sampling``,
``voting``), the workflow (``patarm.workflow``: data, evaluation, the judge client, the CLI),
and the framework integrations (``patarm.verl``, ``patarm.trl``, ``patarm.openrlhf``), which
import their framework lazily. ``import patarm`` imports only the core API and numpy:
``patarm.Judge`` and its result types load on first use, and nothing here imports torch or verl.

The rules and numbers are stated in ``docs/method.md``; the code and its docstrings cite its
sections as "docs/method.md §N".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._core import DEFAULT_DOMAIN, __version__
from .parsing import ERROR_KINDS, VERDICT_LABELS, Judgement, parse_judgement, parse_judgements
from .prompts import (
    RUBRICS_PATH_ENV,
    PromptTemplate,
    RubricError,
    Rubrics,
    TemplateError,
    build_messages,
    build_pairwise_prompt,
    build_pairwise_prompts,
    build_prompt,
    build_prompts,
    load_rubrics,
    rubric_domains,
)
from .rewards import (
    REWARD_QUANTUM,
    Constant,
    Graded,
    PairRewards,
    SideRewards,
    compute_score,
    float32_safe,
    group_par_rewards,
    par_rewards,
    score_batch,
)
from .sampling import DistributedPairSampler, PairRandomSampler, check_pair_batch_size, pair_permutation
from .voting import MajorityVote, majority_vote, majority_vote_verdicts, mean_vote, mean_vote_gaps

__all__ = [
    "__version__",
    # prompts and rubrics (docs/method.md §2)
    "Rubrics",
    "PromptTemplate",
    "RubricError",
    "TemplateError",
    "RUBRICS_PATH_ENV",
    "load_rubrics",
    "rubric_domains",
    "build_prompt",
    "build_pairwise_prompt",
    "build_messages",
    "build_prompts",
    "build_pairwise_prompts",
    # sampling (docs/method.md §8) and voting (docs/method.md §6)
    "PairRandomSampler",
    "DistributedPairSampler",
    "pair_permutation",
    "check_pair_batch_size",
    "mean_vote",
    "mean_vote_gaps",
    "majority_vote",
    "majority_vote_verdicts",
    "MajorityVote",
    # core: parsing and rewards (docs/method.md §3-5)
    "DEFAULT_DOMAIN",
    "ERROR_KINDS",
    "VERDICT_LABELS",
    "Judgement",
    "parse_judgement",
    "parse_judgements",
    "Graded",
    "Constant",
    "PairRewards",
    "SideRewards",
    "par_rewards",
    "group_par_rewards",
    "score_batch",
    "compute_score",
    "float32_safe",
    "REWARD_QUANTUM",
    # layer 2, the workflow: the judge client (patarm.workflow.judge), imported on first use (below)
    "Judge",
    "JudgeError",
    "PairResult",
    "PairwiseResult",
    "PairwiseResults",
    "Results",
    "ScoreResult",
]

if TYPE_CHECKING:  # for type checkers only: at run time these load on first use (__getattr__)
    from .verl.manager import PairRewardManager as PairRewardManager
    from .workflow.judge.client import Judge, JudgeError
    from .workflow.judge.pairwise import PairwiseResult, PairwiseResults
    from .workflow.judge.results import PairResult, Results, ScoreResult

# Layers 2 and 3 behind the front door, resolved lazily so that `import patarm` imports only the
# core API and numpy: the judge client (patarm.workflow.judge) loads on first use of its names;
# PairRewardManager imports verl and torch, so it is not in __all__ (`from patarm import *` must
# stay light).
_JUDGE_CLIENT = ("Judge", "JudgeError")
_JUDGE_RESULTS = ("PairResult", "Results", "ScoreResult")
_JUDGE_PAIRWISE = ("PairwiseResult", "PairwiseResults")


def __getattr__(name: str) -> Any:
    value: Any
    if name in _JUDGE_CLIENT:
        from .workflow.judge import client

        value = getattr(client, name)
    elif name in _JUDGE_RESULTS:
        from .workflow.judge import results

        value = getattr(results, name)
    elif name in _JUDGE_PAIRWISE:
        from .workflow.judge import pairwise

        value = getattr(pairwise, name)
    elif name == "PairRewardManager":
        from .verl import manager  # without verl: one line naming verl and its extra

        value = manager.PairRewardManager
    else:
        raise AttributeError(f"module 'patarm' has no attribute {name!r}")
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_JUDGE_CLIENT, *_JUDGE_RESULTS, *_JUDGE_PAIRWISE, "PairRewardManager"})
