"""The TransferQueue variant (verl 0.9's default v1 trainer) of the pair-aware agent-loop
manager; imported only when that trainer runs (it needs the ``transferqueue`` package).

The v1 trainer hands the manager one row per prompt (the n rollouts are made inside the
worker) and reads the results back from TransferQueue by key, so the split only has to keep
each pair's prompts on one worker; there is no output to reorder.
"""

from __future__ import annotations

from typing import Any

import ray
from tensordict import NonTensorData, NonTensorStack, TensorDict
from verl.trainer.ppo.v1.agent_loop_tq import AgentLoopManagerTQ, AgentLoopWorkerTQ
from verl.utils.tensordict_utils import index_select_tensor_dict

from .pair_worker import PairWorkerMixin, identity_columns, pair_split_key, plain_step, reward_fn_key_of
from .pairing import plan_worker_chunks

# verl declares its worker with @ray.remote, so the module attribute is Ray's actor handle
# class; a subclass must derive from the plain class underneath (deriving from Ray's wrapper
# makes Ray build the actor from verl's class).
_PlainWorkerTQ = AgentLoopWorkerTQ.__ray_metadata__.modified_class.__ray_actor_class__


def column(batch: TensorDict, key: str) -> list:
    """A TensorDict column as a list of plain Python values (one per row)."""
    value = batch.get(key)
    if isinstance(value, NonTensorStack):
        return value.tolist()
    if isinstance(value, NonTensorData):
        return [value.data] * len(batch)
    return [item.item() if hasattr(item, "item") else item for item in value]


class PairAgentLoopWorkerTQ(PairWorkerMixin, _PlainWorkerTQ):  # type: ignore[misc,valid-type]  # Ray's class, found at import
    """verl's TransferQueue agent-loop worker with the pair rendezvous."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Must exist. Ray wraps the actor's __init__ for tracing and sends the class to the
        # worker process with cloudpickle. An inherited __init__ would be verl's, which
        # cloudpickle cannot find by name (verl's module attribute is the Ray wrapper), so it
        # ships that function by value together with a copy of its class; verl's zero-argument
        # super() then names the copy, and the actor dies with "TypeError: super(type, obj)".
        # This __init__ is found by name, and its super() resolves verl's class as imported.
        super().__init__(*args, **kwargs)

    async def generate_sequences(self, batch: TensorDict) -> None:
        validate = plain_step(batch["validate"]) if "validate" in batch.keys() else False
        step = batch["global_steps"] if "global_steps" in batch.keys() else -1
        rollout = self.config.actor_rollout_ref.rollout
        default_n = int(rollout.val_kwargs.n if validate else rollout.n)
        names = (*identity_columns(reward_fn_key_of(self.config)), "__rollout_n__")
        columns = {key: column(batch, key) for key in names if key in batch.keys()}
        registered = []
        for row in range(len(batch)):
            fields = {key: values[row] for key, values in columns.items()}
            n = fields.get("__rollout_n__")
            count = default_n if n is None else int(plain_step(n))
            registered.append(self._patarm_expect(fields, validate, step, count=count))
        self._patarm_new_dispatch(registered)
        # verl's TransferQueue worker starts the rollouts and returns without waiting for them
        return await super().generate_sequences(batch)


class PairAgentLoopManagerTQ(AgentLoopManagerTQ):
    """``AgentLoopManagerTQ`` whose workers get whole pairs and give PaTaRM rollouts their PAR reward."""

    def __init__(self, config: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        # AgentLoopManagerTQ.__init__ sets verl's worker class; ours replaces it before the
        # workers are started (in create -> _init_agent_loop_workers).
        self.agent_loop_workers_class = ray.remote(PairAgentLoopWorkerTQ)

    def generate_sequences(self, prompts: TensorDict) -> None:
        """Dispatches the prompts to the workers, whole pairs per worker, balanced by rollouts."""
        validate = plain_step(prompts["validate"]) if "validate" in prompts.keys() else False
        rollout = self.rollout_config
        default_n = int(rollout.val_kwargs.n if validate else rollout.n)
        reward_fn_key = reward_fn_key_of(self.config)
        present = [key for key in (*identity_columns(reward_fn_key), "__rollout_n__") if key in prompts.keys()]
        columns = {key: column(prompts, key) for key in present}
        rows = [{key: values[row] for key, values in columns.items()} for row in range(len(prompts))]
        keys = [pair_split_key(fields, reward_fn_key) for fields in rows]
        weights = [
            default_n if fields.get("__rollout_n__") is None else int(plain_step(fields["__rollout_n__"]))
            for fields in rows
        ]
        plan = plan_worker_chunks(keys, weights, len(self.agent_loop_workers))
        ray.get(
            [
                worker.generate_sequences.remote(index_select_tensor_dict(prompts, indices.tolist()))
                for worker, indices in zip(self.agent_loop_workers, plan, strict=True)
                if len(indices)
            ]
        )
