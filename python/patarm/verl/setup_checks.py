"""Start-up checks of a verl run that uses patarm (no verl import): the verl version each route
was tested on, and the trainer settings that would break pairs. Each failure names the
setting the user set and the fix, before any rollout is generated."""

from __future__ import annotations

import os
import re
import warnings
from typing import Any

#: Set to 1 to run a route on a verl version it was not tested on (at your own risk).
ALLOW_UNTESTED_ENV = "PATARM_ALLOW_UNTESTED_VERL"
#: verl versions each trainer route is tested on end to end (inclusive (major, minor, patch) bounds).
TESTED_VERSIONS = {
    "agent_loop": ((0, 9, 0), (0, 9, 999)),  # PairAgentLoopManager on verl's reward loop
}
_ROUTE_NAMES = {
    "agent_loop": "the agent-loop route (PairAgentLoopManager)",
}


def _release(version: str) -> tuple[int, int, int] | None:
    match = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", version)
    if match is None:
        return None
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def check_verl_version(route: str, version: str | None = None) -> None:
    """Raises RuntimeError when `route` runs on a verl version it was not tested on."""
    if os.environ.get(ALLOW_UNTESTED_ENV) == "1":
        return
    if version is None:
        import verl

        version = getattr(verl, "__version__", "unknown")
    low, high = TESTED_VERSIONS[route]
    release = _release(version)
    if release is not None and low <= release <= high:
        return
    tested = (
        ".".join(map(str, low))
        + " to "
        + (".".join(map(str, high[:2])) + ".x" if high[2] == 999 else ".".join(map(str, high)))
    )
    raise RuntimeError(
        f"patarm: {_ROUTE_NAMES[route]} is tested on verl {tested}, and this is verl {version}. "
        f"Install a tested version (pip install 'verl>=0.9,<0.10'), or set "
        f"{ALLOW_UNTESTED_ENV}=1 to try this one anyway."
    )


def _get(config: Any, dotted: str, default: Any = None) -> Any:
    node = config
    for part in dotted.split("."):
        if node is None:
            return default
        getter = getattr(node, "get", None)
        node = getter(part) if getter is not None else getattr(node, part, None)
    return default if node is None else node


def uses_transfer_queue(config: Any) -> bool:
    """True for verl 0.9's default v1 trainer: its task runner enables TransferQueue on the config
    before it creates the agent-loop manager. The legacy trainer and one-step-off policy leave it
    off and drive the DataProto API."""
    return bool(_get(config, "trainer.use_v1", False)) and bool(_get(config, "transfer_queue.enable", False))


def check_trainer_setup(config: Any) -> None:
    """Raises ValueError for a trainer mode in which patarm cannot keep a pair's prompts in one
    dispatch (so PAR would be computed on half pairs)."""
    if _get(config, "async_training") is not None:
        raise ValueError(fully_async_message())
    if not uses_transfer_queue(config):
        return
    mode = _get(config, "trainer.v1.trainer_mode", "sync")
    if mode != "sync":
        raise ValueError(
            f"trainer.v1.trainer_mode={mode}: verl's asynchronous modes fetch prompts one at a time "
            "(data.gen_batch_size is forced to 1) and refill them in arbitrary counts, so the chosen and the "
            "rejected prompt of a pair are generated in different dispatches and PAR would see half pairs. "
            "Use trainer.v1.trainer_mode=sync (the default) with patarm."
        )
    if _get(config, "algorithm.filter_groups.enable", False):
        raise ValueError(
            "algorithm.filter_groups.enable=True (DAPO group filtering): verl then fetches prompts one at a time "
            "(data.gen_batch_size is forced to 1) and refills evicted groups one prompt at a time, which splits "
            "pairs across dispatches. Set algorithm.filter_groups.enable=False with patarm."
        )
    if _get(config, "trainer.v1.sampler.sync_refill_failed_groups", False):
        raise ValueError(
            "trainer.v1.sampler.sync_refill_failed_groups=True: verl then fetches prompts one at a time "
            "(data.gen_batch_size is forced to 1) and refills single prompts, which splits pairs across "
            "dispatches. Leave it False with patarm (a failed rollout is scored without its partner instead)."
        )


def warn_about_silent_settings(config: Any) -> list[str]:
    """Warns (UserWarning) about settings that run but do not do what a PaTaRM user means;
    returns the messages. Checked when the agent-loop manager is created."""
    messages = []
    val_n = int(_get(config, "actor_rollout_ref.rollout.val_kwargs.n", 1))
    if val_n > 1 and not _get(config, "actor_rollout_ref.rollout.val_kwargs.do_sample", False):
        messages.append(
            f"actor_rollout_ref.rollout.val_kwargs.n={val_n} with val_kwargs.do_sample=False: verl validates "
            f"greedily, so each validation prompt gets {val_n} identical judgements at {val_n}x the cost. Set "
            "val_kwargs.n=1, or val_kwargs.do_sample=True (with a val_kwargs.temperature) to vote over samples."
        )
    custom = _get(config, "data.custom_cls.name")
    epochs = int(_get(config, "trainer.total_epochs", 1))
    if custom == "PairShuffledDataset" and epochs > 1 and int(_get(config, "data.pair_epochs", 1)) == 1:
        messages.append(
            f"trainer.total_epochs={epochs} with PairShuffledDataset and data.pair_epochs=1: verl reads the "
            f"dataset in order (data.shuffle=False), so all {epochs} epochs serve the same pair order. Set "
            f"+data.pair_epochs={epochs} trainer.total_epochs=1 to reshuffle the pairs every epoch."
        )
    for message in messages:
        warnings.warn("patarm: " + message, UserWarning, stacklevel=2)
    return messages


def fully_async_message() -> str:
    return (
        "verl's fully-async trainer (verl.experimental.fully_async_policy, the config has async_training) builds "
        "its own agent-loop manager and ignores actor_rollout_ref.rollout.agent.agent_loop_manager_class, so "
        "patarm could not apply PAR and the judge would train on format rewards only. Use verl's main trainer "
        "(python -m verl.trainer.main_ppo, trainer.v1.trainer_mode=sync, or trainer.use_v1=False)."
    )
