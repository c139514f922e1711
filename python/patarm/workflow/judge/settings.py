"""Shared set-up for using a trained judge as a downstream reward model (verl, OpenRLHF):
the policy prompt to show the judge, and one cached :class:`patarm.Judge` per configuration."""

from __future__ import annotations

import json
import os
import re
import threading
from typing import Any

# The rubric domain of the paper's downstream experiments (IFEval / InFoBench).
DOWNSTREAM_DOMAIN = "instruction_following"

_JUDGES: dict[tuple[Any, ...], Any] = {}
_LOCK = threading.Lock()

# The last user turn of a chat-templated prompt (ChatML / Qwen, Llama 3).
_USER_TURN = (
    re.compile(r"<\|im_start\|>user\n(.*?)<\|im_end\|>", re.S),
    re.compile(r"<\|start_header_id\|>user<\|end_header_id\|>\n\n(.*?)<\|eot_id\|>", re.S),
)
_END_MARKERS = ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "</s>", "<｜end▁of▁sentence｜>")


def user_text(templated_prompt: str) -> str:
    """The user's request inside a chat-templated prompt; the prompt itself if no template
    is recognised."""
    for pattern in _USER_TURN:
        turns = pattern.findall(templated_prompt)
        if turns:
            return turns[-1].strip()
    return templated_prompt.strip()


def strip_end_markers(response: str) -> str:
    for marker in _END_MARKERS:
        response = response.replace(marker, "")
    return response.strip()


def label_fields(label: Any) -> dict[str, Any]:
    """A dataset label may be a JSON object with ``prompt``, ``domain`` and ``rubrics``."""
    if isinstance(label, dict):
        return label
    if isinstance(label, str) and label.lstrip().startswith("{"):
        try:
            value = json.loads(label)
        except json.JSONDecodeError:
            return {}
        return value if isinstance(value, dict) else {}
    return {}


def env_config(prefix: str = "PATARM_JUDGE_") -> dict[str, Any]:
    """Judge settings from the environment: PATARM_JUDGE_URL, _MODEL, _N, _DOMAIN,
    _TEMPERATURE, _MAX_TOKENS, _MAX_CONCURRENCY, _TIMEOUT, _API_KEY."""
    env = os.environ
    config: dict[str, Any] = {}
    casts = {
        "URL": ("base_url", str),
        "MODEL": ("model", str),
        "N": ("n", int),
        "DOMAIN": ("domain", str),
        "TEMPERATURE": ("temperature", float),
        "MAX_TOKENS": ("max_tokens", int),
        "MAX_CONCURRENCY": ("max_concurrency", int),
        "TIMEOUT": ("timeout", float),
        "API_KEY": ("api_key", str),
        "SCALE": ("scale", float),
    }
    for suffix, (key, cast) in casts.items():
        value = env.get(prefix + suffix)
        if value:
            try:
                config[key] = cast(value)
            except ValueError:
                raise ValueError(f"{prefix + suffix}={value!r} is not a valid {cast.__name__}") from None
    return config


def cached_judge(**settings: Any):
    """One Judge per distinct settings, shared by every call in this process."""
    from .client import Judge

    key = tuple(sorted((k, repr(v)) for k, v in settings.items()))
    with _LOCK:
        judge = _JUDGES.get(key)
        if judge is None:
            base_url, model = settings.pop("base_url"), settings.pop("model")
            judge = _JUDGES[key] = Judge(base_url, model, **settings)
    return judge


def reward_from_score(score: float, *, scale: float, invalid: float) -> float:
    """The reward for a mean-voted judge score (NaN: no valid judgement)."""
    return invalid if score != score else score * scale
