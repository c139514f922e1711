"""A trained PaTaRM judge as the reward model of OpenRLHF (``--reward.remote_url FILE.py``).

OpenRLHF imports a Python file and calls its ``reward_func(queries, prompts, labels)`` inside
the rollout actors (in a worker thread). ``examples/openrlhf/reward_func.py`` re-exports the
function below. Settings come from PATARM_JUDGE_* environment variables (URL and MODEL are
required; N, DOMAIN, TEMPERATURE, MAX_TOKENS, MAX_CONCURRENCY, TIMEOUT, API_KEY, SCALE are
optional). OpenRLHF itself is never imported (it needs flash-attn and deepspeed).

- OpenRLHF catches an exception from ``reward_func``, logs it at INFO and leaves the reward
  None, so training fails later with an unrelated message. This function logs the cause at
  ERROR, with what to change, and then raises.
- OpenRLHF runs each call in its own worker thread. All calls of a process share one event
  loop (:mod:`patarm.openrlhf.background_loop`) and one :class:`patarm.Judge` per settings,
  hence one HTTP client: ``PATARM_JUDGE_MAX_CONCURRENCY`` caps the requests in flight of the
  whole process, not of each call.

- ``queries`` are prompt + response; the response is what follows the prompt.
- The judge sees the user's request: the last user turn of the chat-templated prompt, unless
  the label is a JSON object with ``prompt`` (and optionally ``domain``).
- ``rewards`` = SCALE x mean judge score (0 when no judgement is valid); ``scores`` (used by
  dynamic filtering) = mean score / 10, in [0, 1].
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ..rewards import float32_safe
from ..workflow.judge.client import JudgeError
from ..workflow.judge.settings import (
    DOWNSTREAM_DOMAIN,
    cached_judge,
    env_config,
    label_fields,
    reward_from_score,
    strip_end_markers,
    user_text,
)
from .background_loop import run_in_background

logger = logging.getLogger(__name__)


def _as_tensor(values: list[float]):
    try:
        import torch
    except ImportError:
        return values
    return torch.tensor(values, dtype=torch.float32)


def reward_func(
    queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any] | None = None, **_: Any
) -> dict[str, Any]:
    """OpenRLHF's custom reward function: one reward per query, from the judge's mean score."""
    try:
        return _judge_rewards(queries, prompts, labels)
    except Exception as exc:
        logger.error(
            "patarm reward_func failed, so OpenRLHF gets no reward for this sample (OpenRLHF itself "
            "logs this only at INFO): %s: %s. Fix: %s",
            type(exc).__name__,
            exc,
            _fix_for(exc),
        )
        raise


def _fix_for(exc: Exception) -> str:
    if isinstance(exc, JudgeError):
        return (
            "check that the judge server at PATARM_JUDGE_URL is up and serves PATARM_JUDGE_MODEL; "
            "raise PATARM_JUDGE_TIMEOUT or lower PATARM_JUDGE_MAX_CONCURRENCY if it is overloaded"
        )
    if isinstance(exc, ImportError):
        return "install the judge client in the rollout workers' environment: pip install 'patarm[judge]'"
    return "see the message: it names the setting or argument to change"


def _judge_rewards(queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any] | None) -> dict[str, Any]:
    queries, prompts = list(queries), list(prompts)
    labels = list(labels) if labels is not None else [None] * len(queries)
    if not (len(queries) == len(prompts) == len(labels)):
        raise ValueError(
            f"queries, prompts and labels differ in length ({len(queries)}, {len(prompts)}, {len(labels)})"
        )
    settings = env_config()
    missing = [
        name for name, key in (("PATARM_JUDGE_URL", "base_url"), ("PATARM_JUDGE_MODEL", "model")) if key not in settings
    ]
    if missing:
        raise ValueError(f"set {' and '.join(missing)} to point patarm's reward_func at the judge server")
    scale = settings.pop("scale", 1.0)
    default_domain = settings.pop("domain", DOWNSTREAM_DOMAIN)
    judge = cached_judge(**settings)

    judge_prompts, responses, domains = [], [], []
    for query, prompt, label in zip(queries, prompts, labels, strict=True):
        fields = label_fields(label)
        response = query[len(prompt) :] if query.startswith(prompt) else query
        judge_prompts.append(fields.get("prompt") or user_text(prompt))
        responses.append(strip_end_markers(response))
        domains.append(fields.get("domain") or default_domain)
    # On the process's one loop: one HTTP client and one concurrency cap for every calling thread.
    results = run_in_background(judge.ascore_many(judge_prompts, responses, domains=domains))
    means = [r.score for r in results]
    rewards = float32_safe([reward_from_score(m, scale=scale, invalid=0.0) for m in means]).tolist()
    scores = float32_safe([0.0 if m != m else m / 10.0 for m in means]).tolist()
    valid = [r.num_valid / r.n for r in results]
    return {
        "rewards": _as_tensor(rewards),
        "scores": _as_tensor(scores),
        "extra_logs": {
            "judge_score": _as_tensor([0.0 if m != m else m for m in means]),
            "judge_valid_fraction": _as_tensor(valid),
        },
    }


__all__ = ["reward_func"]
