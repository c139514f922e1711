"""PaTaRM judge training in verl (importing this module imports verl and registers the manager).

- ``PairRewardManager``: the reward manager, registered as ``"patarm"`` in verl's batch registry
  (verl <= 0.7.0) and reward-loop registry (verl >= 0.7); batch ``__call__`` and ``run_single``.
- ``PairAgentLoopManager`` (``patarm.verl.agent_loop``): PAR on verl 0.9's reward loop, both
  trainers; ``PairReplayBuffer`` (``patarm.verl.replay_buffer``): pair counters in v1 training metrics.
- ``PairShuffledDataset`` / ``PairSampler`` / ``check_pair_batch_sizes`` (``patarm.verl.data``):
  pairs stay in one batch.
- ``FastDecoder`` (``patarm.verl.decode``): checked native decoding of response tensors.

The agent-loop and data modules import more of verl (Ray, datasets) and load on first use.
"""

from __future__ import annotations

from typing import Any

from .._optional import require_framework

# Before anything imports torch: without verl the error names verl and its extra, in one line.
require_framework("patarm.verl", "verl", ("torch", "verl"), "verl")

from .decode import FastDecoder  # noqa: E402
from .manager import REGISTERED_NAME, PairRewardManager  # noqa: E402

_LAZY = {
    "PairAgentLoopManager": "agent_loop",
    "PairBoard": "pairing",
    "PairReplayBuffer": "replay_buffer",
    "PairShuffledDataset": "data",
    "PairSampler": "data",
    "check_pair_batch_sizes": "data",
}

__all__ = ["FastDecoder", "PairRewardManager", "REGISTERED_NAME", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'patarm.verl' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
