"""A trained PaTaRM judge as the reward model of downstream RLHF in verl 0.9 (reward loop).

verl serves the judge itself (``reward.reward_model.enable=True``) and hands every custom
``compute_score`` the address of its router (``reward_router_address``); this async
``compute_score`` builds the pointwise judge prompt for the policy's response, samples ``n``
judgements there through :class:`~patarm.workflow.judge.client.Judge`, and returns the mean-voted score (parsing and
voting in the Rust core), float32-safe (a multiple of 2^-10: a group of equal rewards gets an
advantage of exactly 0 in verl's float32 GRPO normalisation). Select it with::

    reward.custom_reward_function.path=pkg://patarm.verl.reward_model
    reward.custom_reward_function.name=compute_score
    +reward.custom_reward_function.reward_kwargs.n=8          # optional settings

The policy's prompt is taken from ``extra_info`` (``prompt``, ``question`` or ``query``), the
rubric domain from ``extra_info["domain"]`` (default: instruction following, as in the paper's
IFEval / InFoBench runs). Settings: keyword arguments (``reward_kwargs``) or PATARM_JUDGE_*
environment variables.

Judge failures: a response with no valid judgement gets ``invalid_score`` (0.0) and, whatever
that value, ``judge_failed = 1.0`` in its extra info (verl averages it into the step's metrics:
the share of failures). verl 0.9's reward loop has no per-sample mask, so the value is trained
on: set ``invalid_score`` near the judge's typical reward to keep failures from pushing the
policy. A judge call that fails after its retries raises (``on_judge_error="raise"``, default)
or, with ``on_judge_error="score"``, is scored and flagged the same way.

This module itself never imports verl (``patarm.verl``, its package,
does: verl loads it inside its reward loop, where verl is installed).
"""

from __future__ import annotations

from typing import Any

from ..rewards import float32_safe
from ..workflow.judge.settings import DOWNSTREAM_DOMAIN, cached_judge, env_config, reward_from_score

JUDGE_ERRORS = ("raise", "score")

PROMPT_KEYS = ("prompt", "question", "query")

# Used where neither a keyword nor a PATARM_JUDGE_* variable sets a value.
DEFAULT_SETTINGS: dict[str, Any] = dict(
    n=8, temperature=1.0, max_tokens=4096, max_concurrency=64, timeout=600.0, scale=1.0
)


def _policy_prompt(extra_info: dict[str, Any] | None) -> str:
    info = extra_info or {}
    for key in PROMPT_KEYS:
        value = info.get(key)
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, (list, tuple)) and value:
            from ..workflow.data.pairs import render_messages

            return render_messages(value, "extra_info", key)
    raise ValueError(
        "patarm.verl.reward_model.compute_score needs the policy prompt in extra_info['prompt'] "
        "(or 'question' / 'query'): add it to each row's extra_info when building the dataset"
    )


async def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: Any = None,
    extra_info: dict[str, Any] | None = None,
    reward_router_address: str | None = None,
    reward_model_tokenizer: Any = None,
    *,
    base_url: str | None = None,
    model: str | None = None,
    n: int | None = None,
    domain: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    max_concurrency: int | None = None,
    timeout: float | None = None,
    max_retries: int | None = None,
    scale: float | None = None,
    invalid_score: float = 0.0,
    on_judge_error: str = "raise",
    **_: Any,
) -> dict[str, float]:
    """Reward for one policy response: ``scale`` x the judge's mean score over ``n``
    judgements (``invalid_score`` when none is valid), float32-safe. Extra keys are the same
    for every sample, as verl's reward loop requires; ``judge_failed`` is 1.0 for a response
    without a valid judgement or (``on_judge_error="score"``) whose judge call failed.

    Each setting comes from, in order: the keyword (verl's ``reward_kwargs``), the
    PATARM_JUDGE_* environment variable, then the default in ``DEFAULT_SETTINGS``."""
    explicit = dict(
        base_url=base_url,
        model=model,
        n=n,
        domain=domain,
        temperature=temperature,
        max_tokens=max_tokens,
        max_concurrency=max_concurrency,
        timeout=timeout,
        max_retries=max_retries,
        scale=scale,
    )
    settings: dict[str, Any] = {
        **DEFAULT_SETTINGS,
        **env_config(),
        **{key: value for key, value in explicit.items() if value is not None},
    }
    if "base_url" not in settings:
        if not reward_router_address:
            raise ValueError(
                "no judge server: enable verl's reward model (reward.reward_model.enable=True) so that "
                "reward_router_address is set, or pass base_url / set PATARM_JUDGE_URL"
            )
        settings["base_url"] = f"http://{reward_router_address}/v1"
    if "model" not in settings:
        name = getattr(reward_model_tokenizer, "name_or_path", None)
        if not name:
            raise ValueError("no judge model name: pass model= (reward_kwargs) or set PATARM_JUDGE_MODEL")
        settings["model"] = name  # verl serves the reward model under its path
    if on_judge_error not in JUDGE_ERRORS:
        raise ValueError(
            f"on_judge_error={on_judge_error!r}; use 'raise' (a failed judge call stops the step) or 'score' "
            "(it gets invalid_score and judge_failed=1)"
        )
    scale = settings.pop("scale")
    judge_domain = (extra_info or {}).get("domain") or settings.pop("domain", None) or DOWNSTREAM_DOMAIN
    judge = cached_judge(**settings)
    failures = "mask" if on_judge_error == "score" else "raise"
    [result] = await judge.ascore_many(
        [_policy_prompt(extra_info)], [solution_str], domains=[judge_domain], failures=failures
    )
    reward = reward_from_score(result.score, scale=scale, invalid=invalid_score)
    return {
        "score": float(float32_safe(reward)),
        "judge_score": result.score if result.num_valid else float(invalid_score),
        "judge_valid": float(result.num_valid),
        "judge_n": float(result.n),
        "judge_failed": 0.0 if result.num_valid else 1.0,
    }


__all__ = ["compute_score"]
