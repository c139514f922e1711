"""patarm: fast PaTaRM reward-model training and use for verl, TRL and OpenRLHF.

The judge's parsing, the preference-aware reward (PAR), pair sampling, prompts and voting run
in the native core (``patarm._core``); this package is a thin typed layer over it. Framework
integrations live in their own modules (``patarm.verl``, ``patarm.trl``, ``patarm.openrlhf``)
and import their framework lazily: ``import patarm`` never imports torch or verl.

The rules and numbers are stated in ``docs/method.md``; the code and its docstrings cite its
sections as "docs/method.md §N".
"""

from __future__ import annotations

from ._core import DEFAULT_DOMAIN, __version__
from .judge import Judge, JudgeError, PairResult, Results, ScoreResult
from .judge_pairwise import PairwiseResult, PairwiseResults
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
    "score_batch",
    "compute_score",
    "float32_safe",
    "REWARD_QUANTUM",
    # workflow: the judge client (patarm.data, patarm.evaluate, patarm.openrlhf and
    # patarm.reward_model are imported on use)
    "Judge",
    "JudgeError",
    "PairResult",
    "PairwiseResult",
    "PairwiseResults",
    "Results",
    "ScoreResult",
]

# verl integration, resolved lazily so that `import patarm` never imports verl or torch (and so
# not listed in __all__: `from patarm import *` must stay light).


def __getattr__(name: str):
    if name == "PairRewardManager":
        from .verl import PairRewardManager  # without verl: one line naming verl and its extra

        return PairRewardManager
    raise AttributeError(f"module 'patarm' has no attribute {name!r}")
