"""patarm: fast PaTaRM reward-model training and use for verl, TRL and OpenRLHF.

The judge's parsing, the preference-aware reward (PAR), pair sampling, prompts and voting run
in the native core (``patarm._core``); this package is a thin typed layer over it. Framework
integrations live in their own modules (``patarm.verl``, ``patarm.trl``, ``patarm.openrlhf``)
and import their framework lazily: ``import patarm`` never imports torch or verl.
"""
from __future__ import annotations

from ._core import __version__
from .sampling import DistributedPairSampler, PairRandomSampler, check_pair_batch_size, pair_permutation
from .voting import MajorityVote, majority_vote, majority_vote_verdicts, mean_vote

__all__ = [
    "__version__",
    # sampling (METHOD 8) and voting (METHOD 6)
    "PairRandomSampler",
    "DistributedPairSampler",
    "pair_permutation",
    "check_pair_batch_size",
    "mean_vote",
    "majority_vote",
    "majority_vote_verdicts",
    "MajorityVote",
]
