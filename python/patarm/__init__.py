"""patarm: fast PaTaRM reward-model training and use for verl, TRL and OpenRLHF.

The judge's parsing, the preference-aware reward (PAR), pair sampling, prompts and voting run
in the native core (``patarm._core``); this package is a thin typed layer over it. Framework
integrations live in their own modules (``patarm.verl``, ``patarm.trl``, ``patarm.openrlhf``)
and import their framework lazily: ``import patarm`` never imports torch or verl.
"""
from __future__ import annotations

from ._core import __version__

__all__ = [
    "__version__",
]

# verl integration (lazy: `import patarm` must not import verl or torch).
__all__ += ["PairRewardManager"]


def __getattr__(name: str):
    if name == "PairRewardManager":
        from .verl import PairRewardManager

        return PairRewardManager
    raise AttributeError(f"module 'patarm' has no attribute {name!r}")
