"""patarm: fast PaTaRM reward-model training and use for verl, TRL and OpenRLHF.

The judge's parsing, the preference-aware reward (PAR), pair sampling, prompts and voting run
in the native core (``patarm._core``); this package is a thin typed layer over it. Framework
integrations live in their own modules (``patarm.verl``, ``patarm.trl``, ``patarm.openrlhf``)
and import their framework lazily: ``import patarm`` never imports torch or verl.
"""
from __future__ import annotations

from ._core import __version__
from .parsing import ERROR_KINDS, Judgement, parse_judgement, parse_judgements
from .rewards import Constant, Graded, PairRewards, SideRewards, compute_score, par_rewards, score_batch

__all__ = [
    "__version__",
    # core: parsing and rewards
    "ERROR_KINDS",
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
]
