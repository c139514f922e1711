"""vllm.inputs.TokensPrompt: a dict with prompt_token_ids (vLLM's is a TypedDict)."""

from typing import Any


def TokensPrompt(**kwargs: Any) -> dict[str, Any]:  # noqa: N802 (vLLM's name)
    return dict(kwargs)
