"""verl's own trainer loops on the CPU: what replaces the GPU, and what records the run.

verl's task runners (``verl.trainer.main_ppo_v0.TaskRunner`` for the legacy trainer,
``verl.trainer.main_ppo.TaskRunnerV1`` for the v1 trainer) run unchanged: config resolution,
``validate_config``, the tokenizer, ``create_rl_dataset`` / ``create_rl_sampler`` / ``collate_fn``
(legacy) or the trainer's ``_init_dataloader`` (v1), TransferQueue, verl's ``RewardLoopManager``
and its reward-loop workers, the agent-loop manager named by the config
(``load_class_from_fqn`` + ``create``), and the trainer's ``fit``: repetition, ``balance_batch``,
``compute_advantage``, validation, metrics, checkpoint save and resume. Replaced, since they
need a GPU or an LLM server:

- the model computations of the actor/rollout/ref worker group (``CpuPolicyWorkerGroup``:
  ``compute_log_prob``, ``compute_ref_log_prob``, ``update_actor``, ``save_checkpoint``,
  ``load_checkpoint``, the methods verl's trainers call), which record what verl hands them;
- the LLM servers (``FakeLLMServers``: ``agent_loop_harness.FakeLLMClient``, random
  judgements, some malformed, after random delays) and the weight sync to them
  (``NoWeightSync`` in place of verl's ``CheckpointEngineManager``);
- the GPU resource pools (the trainers' worker-group set-up, the one method each CPU trainer
  overrides: ``init_workers`` for the legacy trainer, ``_setup`` for v1).

``Tracking.log`` (verl's logging sink) is wrapped to record every metrics dict the trainer logs.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any

import torch
from agent_loop_harness import FakeLLMClient
from tensordict import TensorDict
from verl.utils import tensordict_utils as tu
from verl.utils.transferqueue_utils import tqbridge


def _rows(tensor: torch.Tensor, mask: torch.Tensor | None = None) -> list[torch.Tensor]:
    """One 1-D tensor per row: a nested tensor's rows, or a padded tensor's rows cut by `mask`."""
    if tensor.is_nested:
        return list(tensor.unbind())
    if mask is None:
        return list(tensor)
    return [row[m.bool()] for row, m in zip(tensor, mask, strict=True)]


def _column(data: TensorDict, key: str) -> list:
    value = data.get(key)
    return value.tolist() if hasattr(value, "tolist") else list(value)


def _zeros_like_tokens(data: TensorDict) -> torch.Tensor:
    """A float per token of each sequence, in the layout of ``input_ids`` (nested in verl's
    no-padding format), as the engine's log-prob output is laid out."""
    input_ids = data["input_ids"]
    if input_ids.is_nested:
        return torch.nested.nested_tensor_from_jagged(
            torch.zeros(input_ids.values().shape[0], dtype=torch.float32), offsets=input_ids.offsets()
        )
    return torch.zeros(input_ids.shape, dtype=torch.float32)


class CpuPolicyWorkerGroup:
    """Stands in for verl's ``ActorRolloutRefWorker`` group (one data-parallel rank): log-probs
    are zeros, the update changes nothing, and every batch the trainer hands ``update_actor`` is
    recorded (``updates``: per row its uid, source, extra info, response ids, reward and
    advantage). The methods are wrapped by verl's own ``tqbridge``, as verl's workers are, so the
    v1 trainer's TransferQueue batches arrive as tensors and the outputs go back to TransferQueue."""

    def __init__(self) -> None:
        self._dispatch_info: dict = {}
        self.world_size = 1
        self.updates: list[list[dict]] = []
        self.saved: list[str] = []
        self.loaded: list[str] = []

    def _query_dispatch_info(self, role: str) -> list[int]:
        return [0]

    def init_model(self) -> None:
        return None

    def start_profile(self, **kwargs: Any) -> None:
        return None

    def stop_profile(self, **kwargs: Any) -> None:
        return None

    @tqbridge()
    def compute_log_prob(self, data: TensorDict) -> TensorDict:
        output = TensorDict(
            {"log_probs": _zeros_like_tokens(data), "entropy": _zeros_like_tokens(data)}, batch_size=data.batch_size
        )
        tu.assign_non_tensor(output, metrics={"mfu": 0.0})
        return output

    @tqbridge()
    def compute_ref_log_prob(self, data: TensorDict) -> TensorDict:
        return TensorDict({"log_probs": _zeros_like_tokens(data)}, batch_size=data.batch_size)

    @tqbridge()
    def update_actor(self, data: TensorDict) -> TensorDict:
        mask = data["response_mask"]
        advantages = _rows(data["advantages"], mask)
        # the legacy trainer hands the rewards as token_level_rewards, the v1 trainer as rm_scores
        rewards = _rows(data["token_level_rewards" if "token_level_rewards" in data.keys() else "rm_scores"], mask)
        responses = _rows(data["responses"], mask)
        uids, sources, extras = _column(data, "uid"), _column(data, "data_source"), _column(data, "extra_info")
        judge_sources = _column(data, "judge_source") if "judge_source" in data.keys() else sources
        rows = []
        for i in range(len(uids)):
            rows.append(
                {
                    "uid": uids[i],
                    "data_source": sources[i],
                    "judge_source": judge_sources[i],
                    "extra_info": dict(extras[i]),
                    "response_ids": responses[i].tolist(),
                    "reward": float(rewards[i].sum()),
                    "advantage": float(advantages[i][0]) if len(advantages[i]) else 0.0,
                }
            )
        self.updates.append(rows)
        return tu.get_tensordict(tensor_dict={}, non_tensor_dict={"metrics": {"mfu": 0.0, "pg_loss": [0.0]}})

    def save_checkpoint(self, local_path: str, hdfs_path: Any = None, global_step: int = 0, **kwargs: Any) -> None:
        os.makedirs(local_path, exist_ok=True)
        with open(os.path.join(local_path, "stand_in.json"), "w") as out:
            json.dump({"global_step": global_step}, out)
        self.saved.append(local_path)

    def load_checkpoint(self, local_path: str, hdfs_path: Any = None, **kwargs: Any) -> None:
        with open(os.path.join(local_path, "stand_in.json")) as source:
            json.load(source)
        self.loaded.append(local_path)


class NoWeightSync:
    """In place of verl's ``CheckpointEngineManager``: there are no LLM servers to sync weights to."""

    def __init__(self) -> None:
        self.updates: list = []

    def update_weights(self, global_steps: Any = None) -> None:
        self.updates.append(global_steps)

    def sleep_replicas(self) -> None:
        return None


class FakeLLMServers:
    """In place of verl's ``LLMServerManager``: one fake client, no replicas."""

    def __init__(self, config: Any, seed: int) -> None:
        self.client = FakeLLMClient(config, seed=seed)

    def get_client(self) -> FakeLLMClient:
        return self.client

    def get_replicas(self) -> list:
        return []

    def start_profile(self) -> None:
        return None

    def stop_profile(self) -> None:
        return None


def create_agent_loop_manager(trainer: Any, llm_client: Any, reward_handles: Any) -> Any:
    """The agent-loop manager the config names, created as verl's trainers create it."""
    from verl.experimental.agent_loop import AgentLoopManager
    from verl.utils.import_utils import load_class_from_fqn

    fqn = trainer.config.actor_rollout_ref.rollout.get("agent", {}).get("agent_loop_manager_class")
    manager_cls = load_class_from_fqn(fqn, "AgentLoopManager") if fqn else AgentLoopManager
    return manager_cls.create(
        config=trainer.config, llm_client=llm_client, teacher_client=None, reward_loop_worker_handles=reward_handles
    )


def cpu_legacy_trainer(seed: int) -> type:
    """verl's ``RayPPOTrainer`` with ``init_workers`` building the CPU stand-ins (the rest is verl's)."""
    from verl.experimental.reward_loop import RewardLoopManager
    from verl.trainer.ppo.ray_trainer import RayPPOTrainer

    class CpuRayPPOTrainer(RayPPOTrainer):
        def init_workers(self) -> None:
            self.actor_rollout_wg = self.ref_policy_wg = CpuPolicyWorkerGroup()
            self.reward_loop_manager = RewardLoopManager(config=self.config, rm_resource_pool=None)
            self.async_rollout_mode = True
            self.teacher_model_manager = None
            self.distillation_config = None
            self.llm_server_manager = FakeLLMServers(self.config, seed)
            self.async_rollout_manager = create_agent_loop_manager(
                self, self.llm_server_manager.get_client(), self.reward_loop_manager.reward_loop_workers
            )
            self.checkpoint_manager = NoWeightSync()
            self.checkpoint_manager.sleep_replicas()
            RUNS.append(self)

    return CpuRayPPOTrainer


def cpu_v1_trainer(base: type, seed: int) -> type:
    """A verl v1 trainer class (``get_trainer_cls(mode)``) whose ``_setup`` builds the CPU
    stand-ins in place of the GPU worker groups; tokenizer, data loader, dump executor, resource
    pool spec, reward loop and checkpoint loading are verl's."""
    from verl.experimental.reward_loop import RewardLoopManager

    class CpuV1Trainer(base):  # type: ignore[misc,valid-type]
        def _setup(self) -> None:
            self._init_tokenizer()
            self._init_dataloader()
            self._init_dump_executor()
            self._init_resource_pool_mgr()
            self.ref_in_actor = False
            self.actor_rollout_wg = self.ref_policy_wg = CpuPolicyWorkerGroup()
            self.reward_loop_manager = RewardLoopManager(config=self.config, rm_resource_pool=None)
            self.teacher_model_manager = None
            self.distillation_config = None
            self.llm_server_manager = FakeLLMServers(self.config, seed)
            self.checkpoint_manager = NoWeightSync()
            self.checkpoint_manager.sleep_replicas()
            self._load_checkpoint()
            RUNS.append(self)

    return CpuV1Trainer


def steep_f(delta: float) -> float:
    """A user's f of the gap (``reward.reward_kwargs.f=pkg://trainer_harness.steep_f``)."""
    return 2.0 if delta >= 3 else 0.5


#: Every CPU trainer built in this process (the test reads the last one's records).
RUNS: list = []


@contextlib.contextmanager
def recorded_metrics() -> Iterator[list[tuple[int, dict]]]:
    """Every (step, metrics) verl's ``Tracking.log`` receives while the block runs."""
    from verl.utils.tracking import Tracking

    logged: list[tuple[int, dict]] = []
    original = Tracking.log

    def log(self: Any, data: dict, step: int, *args: Any, **kwargs: Any) -> Any:
        logged.append((int(step), dict(data)))
        return original(self, data, step, *args, **kwargs)

    Tracking.log = log
    try:
        yield logged
    finally:
        Tracking.log = original


def stop_actors(*handle_lists: Any) -> None:
    """Ends a finished run's named Ray actors (a real run ends with its driver process; here the
    next run in this process would find the names taken)."""
    import ray

    killed = [handle for handles in handle_lists for handle in handles or []]
    for handle in killed:
        ray.kill(handle, no_restart=True)
    for handle in killed:  # the name is free once the actor is dead
        with contextlib.suppress(Exception):
            ray.get(handle.__ray_ready__.remote(), timeout=30)


def run_legacy(config: Any, seed: int = 0) -> Any:
    """verl's legacy ``TaskRunner.run(config)`` in this process, with the CPU trainer; returns it."""
    from unittest import mock

    import verl.trainer.main_ppo_v0 as main_ppo_v0

    runner = main_ppo_v0.TaskRunner.__ray_metadata__.modified_class.__ray_actor_class__()
    try:
        with mock.patch.object(main_ppo_v0, "RayPPOTrainer", cpu_legacy_trainer(seed)):
            runner.run(config)
    finally:
        trainer = RUNS[-1]
        stop_actors(
            getattr(getattr(trainer, "async_rollout_manager", None), "agent_loop_workers", None),
            getattr(getattr(trainer, "reward_loop_manager", None), "reward_loop_workers", None),
        )
    return trainer


def run_v1(config: Any, seed: int = 0) -> Any:
    """verl's ``TaskRunnerV1.run(config)`` in this process, with the CPU trainer; returns it."""
    from unittest import mock

    import verl.trainer.main_ppo as main_ppo
    import verl.trainer.ppo.v1 as v1

    real = v1.get_trainer_cls
    runner = main_ppo.TaskRunnerV1.__ray_metadata__.modified_class.__ray_actor_class__()
    try:
        with mock.patch.object(v1, "get_trainer_cls", lambda mode: cpu_v1_trainer(real(mode), seed)):
            runner.run(config)
    finally:
        trainer = RUNS[-1]
        stop_actors(
            getattr(runner.agent_loop_manager, "agent_loop_workers", None),
            getattr(getattr(trainer, "reward_loop_manager", None), "reward_loop_workers", None),
        )
    return trainer
