"""patarm: fast PaTaRM reward-model training and use for verl, TRL and OpenRLHF.

The judge's parsing, the preference-aware reward (PAR), pair sampling, prompts and voting run
in the native core (``patarm._core``); this package is a thin typed layer over it. Framework
integrations live in their own modules (``patarm.verl``, ``patarm.trl``, ``patarm.openrlhf``)
and import their framework lazily: ``import patarm`` never imports torch or verl.
"""
from __future__ import annotations

from ._core import __version__
from .judge import Judge, JudgeError, PairResult, Results, ScoreResult

__all__ = [
    "__version__",
    # workflow: the judge client (patarm.data, patarm.evaluate, patarm.openrlhf and
    # patarm.reward_model are imported on use)
    "Judge",
    "JudgeError",
    "PairResult",
    "Results",
    "ScoreResult",
]
