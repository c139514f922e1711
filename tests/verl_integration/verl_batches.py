"""Real verl batches for the tests, and an independent reference of docs/method.md §3-4.

The reference below is written from METHOD.md alone (plain Python, no patarm), so the tests
compare patarm's native results against the rules, not against themselves.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from qwen_fixture import build_qwen_tokenizer

PROMPT_LEN = 16
TAG_RE = re.compile(r"</?(?:think|generate_rubrics|eval|answer)>")
VERDICT_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)", re.ASCII)  # R4: "3." is 3


def tokenizer_dir() -> str:
    """The Qwen tokenizer, built once per machine (tests and benchmark share it)."""
    root = Path(os.environ.get("PATARM_TEST_CACHE", Path(tempfile.gettempdir()) / "patarm-test-cache"))
    return build_qwen_tokenizer(root / "qwen-tokenizer-v1")


def judgement(verdict: Any, *, think: str = "The response is mostly right.", extra: str = "") -> str:
    """A well-formed judgement with the given verdict text."""
    return (
        f"<think>{think}</think>\n<generate_rubrics>1. Clarity — is it précis? 2. 完整性</generate_rubrics>\n"
        f"<eval>Applies rubric 1 well; rubric 2 partly.{extra}</eval>\n<answer>{verdict}</answer>"
    )


# ------------------------------------------------------------------ reference (docs/method.md §3-4)
def reference_parse(text: str, pairwise: bool = False) -> tuple[Any | None, float]:
    """(score or verdict or None, format reward) by docs/method.md §3; a score as the nearest
    float of its exact value."""
    score, fmt = exact_parse(text, pairwise)
    return (float(score) if isinstance(score, Fraction) else score), fmt


def exact_parse(text: str, pairwise: bool = False) -> tuple[Any | None, float]:
    """(exact score (Fraction) or verdict or None, format reward) by docs/method.md §3-4."""
    tags = TAG_RE.findall(text)
    ok = (
        len(tags) >= 8
        and tags[:2] == ["<think>", "</think>"]
        and tags[-4:] == ["<eval>", "</eval>", "<answer>", "</answer>"]
        and len(tags[2:-4]) >= 2
        and len(tags[2:-4]) % 2 == 0
        and all(
            tags[i] == ("<generate_rubrics>" if (i % 2 == 0) else "</generate_rubrics>")
            for i in range(2, len(tags) - 4)
        )
    )
    if not ok:
        return None, -1.5
    answer = text[text.rindex("<answer>") + len("<answer>") : text.rindex("</answer>")].strip()
    if pairwise:
        return (answer, 0.0) if answer in ("A", "B") else (None, -1.0)
    if not VERDICT_RE.fullmatch(answer) or not 0 <= Fraction(answer) <= 10:
        return None, -1.0
    return Fraction(answer), 0.0


def graded(delta: float) -> float:
    return 1.2 if delta <= 2 else 1.4


def reference_rewards(
    texts: Sequence[str], sources: Sequence[str], pair_ids: Sequence[Any], sides: Sequence[str], f=graded
) -> list[float]:
    """R = R_PAR + R_format for every row, rows grouped by (source, pair id) (docs/method.md §4), with
    exact means and gaps (f receives the exact gap)."""
    parsed = [exact_parse(t) for t in texts]
    valid: dict = {}
    for (score, _), source, pair_id, side in zip(parsed, sources, pair_ids, sides, strict=True):
        if score is not None:
            valid.setdefault((source, pair_id, side), []).append(score)
    rewards = []
    for (score, fmt), source, pair_id, side in zip(parsed, sources, pair_ids, sides, strict=True):
        other = valid.get((source, pair_id, "rejected" if side == "chosen" else "chosen"))
        par = 0.0
        if score is not None and other:
            mean = sum(other) / len(other)
            gap = score - mean if side == "chosen" else mean - score
            par = f(gap) if gap > 0 else 0.0
        rewards.append(par + fmt)
    return rewards


# ------------------------------------------------------------------ batches
def make_batch(
    tokenizer: Any, rows: Sequence[dict], *, response_len: int | None = None, prompt_text: str = "Judge this response."
):
    """A verl DataProto like the trainer's after generation: left-padded prompts, right-padded
    responses ending in EOS, attention mask, positions, and the non-tensor columns of a
    PaTaRM row. `rows`: dicts with text, source, pair_id, side (and optional extra_info)."""
    import torch
    from verl import DataProto

    pad = tokenizer.pad_token_id
    prompt_ids = tokenizer.encode(prompt_text)[:PROMPT_LEN]
    responses = [tokenizer.encode(r["text"]) + ([tokenizer.eos_token_id] if r.get("eos", True) else []) for r in rows]
    width = response_len or max(1, max(len(r) for r in responses))
    n = len(rows)
    prompts = torch.full((n, PROMPT_LEN), pad, dtype=torch.long)
    prompts[:, PROMPT_LEN - len(prompt_ids) :] = torch.tensor(prompt_ids)
    response_tensor = torch.full((n, width), pad, dtype=torch.long)
    attention = torch.zeros((n, PROMPT_LEN + width), dtype=torch.long)
    attention[:, PROMPT_LEN - len(prompt_ids) : PROMPT_LEN] = 1
    for i, ids in enumerate(responses):
        ids = ids[:width]
        response_tensor[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        attention[i, PROMPT_LEN : PROMPT_LEN + len(ids)] = 1
    input_ids = torch.cat([prompts, response_tensor], dim=1)
    position_ids = (attention.cumsum(-1) - 1).clamp(min=0)
    extra = []
    for r in rows:
        info = {"pair_id": r["pair_id"], "side": r["side"], "domain": "chat"} if r.get("pair_id") is not None else {}
        info.update(r.get("extra_info", {}))
        extra.append(info)
    obj = lambda values: np.array(values + [None], dtype=object)[:-1]  # noqa: E731 (keeps dicts as objects)
    return DataProto.from_dict(
        tensors={
            "prompts": prompts,
            "responses": response_tensor,
            "attention_mask": attention,
            "input_ids": input_ids,
            "position_ids": position_ids,
        },
        non_tensors={
            "data_source": np.array([r["source"] for r in rows], dtype=object),
            "reward_model": obj([{"style": "rule", "ground_truth": r["side"]} for r in rows]),
            "extra_info": obj(extra),
            "uid": np.array([f"{r['source']}-{r['pair_id']}-{r['side']}" for r in rows], dtype=object),
        },
    )


def pair_rows(pairs: Sequence[tuple[Any, Sequence[str], Sequence[str]]], source: str = "patarm/chat") -> list[dict]:
    """Rows for pairs given as (pair_id, chosen judgement texts, rejected judgement texts),
    laid out as verl lays out n rollouts per prompt: chosen prompt's n rows, then rejected's."""
    rows = []
    for pair_id, chosen, rejected in pairs:
        rows += [{"text": t, "source": source, "pair_id": pair_id, "side": "chosen"} for t in chosen]
        rows += [{"text": t, "source": source, "pair_id": pair_id, "side": "rejected"} for t in rejected]
    return rows


def compose_config(overrides: Sequence[str] = ()) -> Any:
    """verl's shipped ppo_trainer config composed with `overrides` (as the trainer's CLI does)."""
    import verl
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    config_dir = os.path.join(os.path.dirname(verl.__file__), "trainer", "config")
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=config_dir, version_base=None):
        return compose("ppo_trainer", overrides=list(overrides))
