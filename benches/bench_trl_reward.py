"""What the PaTaRM reward costs a GRPO step in TRL: ``patarm.trl.PatarmReward`` (Rust core, one
``score_batch`` call) side by side with a plain-Python reward function that applies the same
rules (docs/method.md §3 and 4) and logs the same metrics, on the same batch.

One call is what TRL does once per generation batch per process: ``reward_func(prompts=...,
completions=[[{"role": "assistant", "content": ...}], ...], pair_id=[...], side=[...],
data_source=[...], log_metric=...)``.

    python benches/bench_trl_reward.py                      # 64 pairs x 2 sides x 8 generations
    python benches/bench_trl_reward.py --pairs 16 --generations 8 --bytes 3500 --repeats 7

Needs patarm (built with ``maturin develop --release``) and numpy; trl is not imported.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import re
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

# ----------------------------------------------------------------------------------------------
# The plain-Python version of the same rules (honest: compiled regexes, one pass per text)
# ----------------------------------------------------------------------------------------------

_TAG = re.compile(r"</?(?:think|generate_rubrics|eval|answer)>")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")
_PREFIX = ["<think>", "</think>"]
_SUFFIX = ["<eval>", "</eval>", "<answer>", "</answer>"]
_RUBRIC_PAIR = ["<generate_rubrics>", "</generate_rubrics>"]

OK, MISSING_OR_MISORDERED, INVALID_VERDICT = 0, 1, 2
FORMAT_REWARD = {OK: 0.0, MISSING_OR_MISORDERED: -1.5, INVALID_VERDICT: -1.0}


def plain_parse(text: str, *, pairwise: bool = False, think_in_prompt: bool = False):
    """(error_code, score or None, choice or None) for one judgement."""
    if think_in_prompt:
        text = "<think>" + text
    matches = list(_TAG.finditer(text))
    tags = [m.group(0) for m in matches]
    middle = tags[2:-4]
    if (
        len(tags) < 8
        or tags[:2] != _PREFIX
        or tags[-4:] != _SUFFIX
        or len(middle) % 2
        or any(middle[i : i + 2] != _RUBRIC_PAIR for i in range(0, len(middle), 2))
    ):
        return MISSING_OR_MISORDERED, None, None
    verdict = text[matches[-2].end() : matches[-1].start()].strip()
    if pairwise:
        return (OK, None, verdict) if verdict in ("A", "B") else (INVALID_VERDICT, None, None)
    if not _NUMBER.fullmatch(verdict):
        return INVALID_VERDICT, None, None
    value = float(verdict)
    if not 0.0 <= value <= 10.0:
        return INVALID_VERDICT, None, None
    return OK, value, None


def plain_graded(delta: float) -> float:
    return 1.2 if delta <= 2.0 else 1.4


def plain_score_batch(texts, pair_ids, sides, sources=None, *, f=plain_graded, pairwise=False):
    n = len(texts)
    reward = [0.0] * n
    par = [0.0] * n
    fmt = [0.0] * n
    score = [math.nan] * n
    opposite = [math.nan] * n
    error = [0] * n
    found = [True] * n
    parsed = [plain_parse(t, pairwise=pairwise) for t in texts]
    for i, (code, value, choice) in enumerate(parsed):
        error[i] = code
        fmt[i] = FORMAT_REWARD[code]
        if value is not None:
            score[i] = value
        if pairwise:
            par[i] = 1.0 if code == OK and choice == sides[i] else 0.0
    if not pairwise:
        groups: dict[Any, dict[str, list[int]]] = {}
        for i in range(n):
            key = (None if sources is None else sources[i], pair_ids[i])
            groups.setdefault(key, {"chosen": [], "rejected": []})[sides[i]].append(i)
        for group in groups.values():
            means = {}
            for side, rows in group.items():
                valid = [score[i] for i in rows if error[i] == OK]
                # Summed in ascending order, as the core does, so a mean does not depend on row order.
                means[side] = sum(sorted(valid)) / len(valid) if valid else None
            for side, other in (("chosen", "rejected"), ("rejected", "chosen")):
                other_mean = means[other]
                for i in group[side]:
                    found[i] = bool(group[other])
                    if other_mean is not None:
                        opposite[i] = other_mean
                    if error[i] != OK or other_mean is None:
                        continue
                    gap = score[i] - other_mean if side == "chosen" else other_mean - score[i]
                    par[i] = f(gap) if gap > 0 else 0.0
    for i in range(n):
        reward[i] = par[i] + fmt[i]
    return {
        "reward": np.array(reward),
        "par": np.array(par),
        "format_reward": np.array(fmt),
        "score": np.array(score),
        "opposite_mean": np.array(opposite),
        "error_code": np.array(error, dtype=np.int8),
        "partner_found": np.array(found, dtype=bool),
    }


class PlainReward:
    """The same reward function as PatarmReward, in plain Python (same inputs, outputs, metrics)."""

    __name__ = "plain"

    def __call__(self, prompts=None, completions=None, log_metric=None, log_extra=None, **columns):
        texts = []
        for completion in completions:
            if isinstance(completion, str):
                texts.append(completion)
            else:
                texts.append("".join(m.get("content") or "" for m in completion))
        pair_ids, sides, sources = columns["pair_id"], columns["side"], columns.get("data_source")
        result = plain_score_batch(texts, pair_ids, sides, sources)
        if log_metric is not None:
            n = len(texts)
            log_metric("plain/format_error_rate", sum(1 for e in result["error_code"] if e) / n)
            log_metric("plain/par_hit_rate", sum(1 for p in result["par"] if p > 0) / n)
            log_metric("plain/partner_missing", float(sum(1 for x in result["partner_found"] if not x)))
            for side in ("chosen", "rejected"):
                valid = [s for s, sd in zip(result["score"], sides, strict=True) if sd == side and not math.isnan(s)]
                if valid:
                    log_metric(f"plain/score/{side}", sum(valid) / len(valid))
        return result["reward"].tolist()


# ----------------------------------------------------------------------------------------------
# A realistic generation batch
# ----------------------------------------------------------------------------------------------

_WORDS = [
    "the",
    "response",
    "answers",
    "the",
    "question",
    "clearly",
    "and",
    "gives",
    "a",
    "correct",
    "final",
    "result",
    "with",
    "useful",
    "detail",
    "but",
    "misses",
    "an",
    "edge",
    "case",
    "in",
    "the",
    "second",
    "step",
    "while",
    "the",
    "structure",
    "stays",
    "readable",
    "and",
    "relevant",
]


def _prose(rng: random.Random, size: int) -> str:
    words: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(_WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)


def make_judgement(rng: random.Random, size: int) -> str:
    """A judgement of about ``size`` bytes: 85% well formed, 10% broken tags, 5% bad verdict."""
    roll = rng.random()
    rubrics = "".join(
        f"<generate_rubrics>{_prose(rng, size // 10)}</generate_rubrics>\n" for _ in range(rng.randint(1, 3))
    )
    verdict = f"{rng.uniform(0, 10):.1f}"
    if roll < 0.05:
        verdict = rng.choice(["eleven", "12", "7/10", "nan"])
    text = (
        f"<think>{_prose(rng, size // 2)}</think>\n{rubrics}<eval>{_prose(rng, size // 4)}</eval>\n"
        f"<answer>{verdict}</answer>"
    )
    if 0.05 <= roll < 0.15:
        text = text.replace("</eval>", "", 1)
    return text


def make_step(pairs: int, generations: int, size: int, seed: int = 0) -> dict[str, list]:
    rng = random.Random(seed)
    completions, pair_id, side, source = [], [], [], []
    for k in range(pairs):
        for s in ("chosen", "rejected"):
            for _ in range(generations):
                completions.append([{"role": "assistant", "content": make_judgement(rng, size)}])
                pair_id.append(f"pair-{k}")
                side.append(s)
                source.append("patarm/chat")
    return {
        "prompts": [[{"role": "user", "content": "judge this"}]] * len(completions),
        "completions": completions,
        "pair_id": pair_id,
        "side": side,
        "data_source": source,
    }


def time_call(func: Callable[[], Any], repeats: int) -> list[float]:
    func()  # warm-up (thread pool, caches)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return times


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=64)
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--bytes", type=int, default=3500, help="approximate size of one judgement")
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)

    from patarm.trl import PatarmReward

    step = make_step(args.pairs, args.generations, args.bytes)
    rows = len(step["completions"])
    megabytes = sum(len(c[0]["content"]) for c in step["completions"]) / 1e6
    metrics: dict[str, list[float]] = {}

    def log_metric(name: str, value: float) -> None:
        metrics.setdefault(name, []).append(value)

    patarm_reward, plain_reward = PatarmReward(), PlainReward()
    fast = np.array(patarm_reward(log_metric=log_metric, **step))
    slow = np.array(plain_reward(log_metric=log_metric, **step))
    if not np.allclose(fast, slow, equal_nan=True):
        raise SystemExit("the two reward functions disagree; the benchmark is void")

    results, best = {}, {}
    for name, func in (("patarm", patarm_reward), ("plain-python", plain_reward)):
        times = time_call(lambda func=func: func(log_metric=log_metric, **step), args.repeats)
        results[name] = statistics.median(times)
        best[name] = min(times)

    print(
        f"TRL reward per generation batch: {args.pairs} pairs x 2 sides x {args.generations} generations = "
        f"{rows} completions, {megabytes:.1f} MB of judgements; median of {args.repeats}; "
        f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}"
    )
    print(f"{'reward function':<16} {'ms / step':>10} {'best ms':>8} {'us / completion':>16} {'MB/s':>8}")
    for name, seconds in results.items():
        print(
            f"{name:<16} {seconds * 1e3:>10.2f} {best[name] * 1e3:>8.2f} {seconds * 1e6 / rows:>16.2f} "
            f"{megabytes / seconds:>8.0f}"
        )
    speedup = results["plain-python"] / results["patarm"]
    print(f"speed-up (medians): {speedup:.1f}x")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(
                {
                    "rows": rows,
                    "megabytes": megabytes,
                    "median_s": results,
                    "best_s": best,
                    "speedup": speedup,
                    "args": vars(args),
                },
                out,
                indent=2,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
