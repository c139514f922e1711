"""The TransferQueue variant (verl 0.9's default ``trainer.use_v1=True``) of the pair-aware
agent-loop manager; imported only when that trainer runs (it needs the ``transferqueue`` package)."""
from __future__ import annotations

from typing import Any

import ray

from verl.trainer.ppo.v1.agent_loop_tq import AgentLoopManagerTQ, AgentLoopWorkerTQ

from .agent_loop import PairWorkerMixin, check_pair_chunks


class PairAgentLoopWorkerTQ(PairWorkerMixin, AgentLoopWorkerTQ.__ray_actor_class__):
    """verl's TransferQueue agent-loop worker with the pair rendezvous."""


class PairAgentLoopManagerTQ(AgentLoopManagerTQ):
    """``AgentLoopManagerTQ`` whose workers give PaTaRM rollouts their PAR reward."""

    def __init__(self, config: Any, *args: Any, **kwargs: Any) -> None:
        check_pair_chunks(config)
        super().__init__(config, *args, **kwargs)
        # AgentLoopManagerTQ.__init__ sets its own worker class; ours replaces it before the
        # workers are started (in create -> _init_agent_loop_workers).
        self.agent_loop_workers_class = ray.remote(PairAgentLoopWorkerTQ)
