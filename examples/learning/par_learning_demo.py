"""PaTaRM learns on the CPU: a tiny judge's pairwise accuracy rises because of PAR.

The experiment (issue 15; measured facts in docs and the note):

1. A synthetic preference task a tiny model can learn. The judge prompt holds a short random
   context and a response with one marker word: ``good`` in every chosen response, ``bad`` in
   every rejected one. Nothing else tells the two apart.
2. A tiny random Qwen2 (hidden 64, 2 layers) and a word-level tokenizer in which the judgement
   tags and the scores 0-10 are ordinary tokens (TRL decodes completions with special tokens
   skipped, so special tags would vanish).
3. Cold start: a short SFT on well-formed judgements with *random* scores, so the judge writes
   the format but has no preference (held-out pairwise accuracy about 50%).
4. GRPO with PAR through ``patarm.trl.PairGRPOTrainer`` + ``patarm.trl.PatarmReward``: graded f,
   constant f, and a control whose PAR rewards are shuffled within each batch (each completion
   keeps its own format reward, so the control still learns the format but gets no preference
   signal).

Held-out pairwise accuracy: 200 new pairs, n judgements per response sampled at temperature 1,
mean voting compared exactly (``patarm.mean_vote_gaps``). ``accuracy`` counts a tie or a side
without a valid judgement as wrong (the paper's rule); ``accuracy_ties_half`` counts it as half a
win (RewardBench's rule). A judge without a preference scores 0.5 on the second, but less on the
first when its scores collapse onto a few values and pairs tie: the control is judged on the
second and on the mean score gap.

    python examples/learning/par_learning_demo.py --seeds 0 1 2 --variants graded constant shuffled \
        --out examples/learning/results.json
    python examples/learning/plot_results.py examples/learning/results.json

Needs the TRL extra (``pip install 'patarm[trl]'``). Runs on the CPU; one variant of one seed takes
a few minutes on 2 cores. Run nothing else on the machine meanwhile: two jobs on 2 cores slow
each other about 10x.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

TAGS = [
    "<think>",
    "</think>",
    "<generate_rubrics>",
    "</generate_rubrics>",
    "<eval>",
    "</eval>",
    "<answer>",
    "</answer>",
]
SCORES = [str(s) for s in range(11)]
FILLER = ["t", "r", "e"]  # the one-word contents of the think / rubrics / eval blocks
WORDS = [f"w{i}" for i in range(40)]  # context and response words
MARKERS = {"chosen": "good", "rejected": "bad"}
FRAME = ["judge", "context", "response", "verdict", ":"]
SPECIAL = ["<pad>", "<eos>", "<unk>"]
CONTEXT_WORDS = 4
RESPONSE_WORDS = 4
DATA_SOURCE = "demo/marker"


# ----------------------------------------------------------------------------- task and model
def build_tokenizer():
    """A word-level tokenizer (~80 tokens): whitespace-split words, decode joins with spaces."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {
        token: index
        for index, token in enumerate(SPECIAL + TAGS + SCORES + FILLER + WORDS + list(MARKERS.values()) + FRAME)
    }
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, eos_token="<eos>", pad_token="<pad>", unk_token="<unk>")
    tokenizer.padding_side = "left"  # generation pads on the left
    return tokenizer


def build_model(tokenizer, seed: int):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=64,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
    )
    return Qwen2ForCausalLM(config)


def judge_prompt(rng: random.Random, side: str) -> str:
    context = rng.choices(WORDS, k=CONTEXT_WORDS)
    response = rng.choices(WORDS, k=RESPONSE_WORDS - 1)
    response.insert(rng.randrange(RESPONSE_WORDS), MARKERS[side])
    return " ".join(["judge", "context", ":", *context, "response", ":", *response, "verdict", ":"])


def judgement(score: int) -> str:
    """The PaTaRM judgement format (docs/method.md §3) with one-word blocks: 13 tokens."""
    return f"<think> t </think> <generate_rubrics> r </generate_rubrics> <eval> e </eval> <answer> {score} </answer>"


def pair_rows(pairs: int, seed: int, prefix: str) -> list[dict]:
    """Rows 2k (chosen) and 2k+1 (rejected) of pair k, with the columns PatarmReward reads."""
    rng = random.Random(seed)
    rows = []
    for k in range(pairs):
        for side in ("chosen", "rejected"):
            rows.append(
                {
                    "prompt": judge_prompt(rng, side),
                    "pair_id": f"{prefix}-{k}",
                    "side": side,
                    "data_source": DATA_SOURCE,
                }
            )
    return rows


# ----------------------------------------------------------------------------- cold start (SFT)
def cold_start(model, tokenizer, seed: int, steps: int = 300, batch: int = 64, lr: float = 3e-3) -> float:
    """SFT on well-formed judgements with uniformly random scores: the format, no preference.
    Loss on the judgement and EOS only. Returns the wall time in seconds."""
    import torch

    start = time.perf_counter()
    rng = random.Random(seed + 1000)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        inputs, labels = [], []
        for _ in range(batch):
            prompt_ids = tokenizer(judge_prompt(rng, rng.choice(("chosen", "rejected"))))["input_ids"]
            answer_ids = tokenizer(judgement(rng.randint(0, 10)))["input_ids"] + [tokenizer.eos_token_id]
            inputs.append(prompt_ids + answer_ids)
            labels.append([-100] * len(prompt_ids) + answer_ids)
        loss = model(input_ids=torch.tensor(inputs), labels=torch.tensor(labels)).loss  # fixed lengths: no padding
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    return time.perf_counter() - start


# ----------------------------------------------------------------------------- evaluation
@dataclass
class Accuracy:
    accuracy: float  # share of pairs whose mean chosen score is above the mean rejected score
    accuracy_ties_half: float  # the same, a tie (or a side without a valid score) counting half
    ties: float  # share of pairs with equal means (or a side without a valid score)
    mean_gap: float  # mean over pairs of mean(chosen) - mean(rejected)
    format_error_rate: float
    mean_score_chosen: float
    mean_score_rejected: float


def pairwise_accuracy(
    model, tokenizer, rows: Sequence[dict], n: int = 4, seed: int = 0, max_new_tokens: int = 16
) -> Accuracy:
    """Sample n judgements per held-out response (temperature 1) and vote by the exact mean."""
    import torch

    import patarm

    torch.manual_seed(seed)
    prompts = [row["prompt"] for row in rows]
    encoded = tokenizer(prompts, return_tensors="pt", padding=True)
    with torch.no_grad():
        output = model.generate(
            **encoded,
            do_sample=True,
            temperature=1.0,
            top_k=0,
            top_p=1.0,
            max_new_tokens=max_new_tokens,
            num_return_sequences=n,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
    texts = tokenizer.batch_decode(output[:, encoded["input_ids"].shape[1] :], skip_special_tokens=True)
    scores = patarm.score_batch(
        texts,
        [row["pair_id"] for row in rows for _ in range(n)],
        [row["side"] for row in rows for _ in range(n)],
    )["score"].reshape(len(rows), n)
    chosen, rejected = scores[0::2], scores[1::2]
    gap, order = patarm.mean_vote_gaps(chosen, rejected)
    wins, ties = float((order == 1).mean()), float((order == 0).mean())
    return Accuracy(
        accuracy=wins,
        accuracy_ties_half=wins + ties / 2,
        ties=ties,
        mean_gap=float(np.nanmean(gap)) if not np.isnan(gap).all() else float("nan"),
        format_error_rate=float(np.isnan(scores).mean()),
        mean_score_chosen=float(np.nanmean(chosen)) if not np.isnan(chosen).all() else float("nan"),
        mean_score_rejected=float(np.nanmean(rejected)) if not np.isnan(rejected).all() else float("nan"),
    )


# ----------------------------------------------------------------------------- GRPO with PAR
def shuffled_par_reward(seed: int):
    """The control: PatarmReward whose PAR parts are permuted within each batch; every completion
    keeps its own format reward (shuffling the format penalty too collapses the judge into
    format errors, which says nothing about preferences)."""
    from patarm.rewards import float32_safe
    from patarm.trl import PatarmReward, completion_texts

    class ShuffledParReward(PatarmReward):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.rng = np.random.default_rng(seed)

        def __call__(self, prompts=None, completions=None, log_metric=None, log_extra=None, **columns):
            texts = completion_texts(completions)
            result = self.score(texts, list(columns["pair_id"]), list(columns["side"]), list(columns["data_source"]))
            shuffled = result["format_reward"] + self.rng.permutation(result["par"])
            return float32_safe(shuffled).tolist()

    return ShuffledParReward(name="patarm")


VARIANTS = ("graded", "constant", "shuffled")


def par_reward(variant: str, seed: int):
    import patarm
    from patarm.trl import PatarmReward

    if variant == "graded":
        return PatarmReward(f=patarm.Graded())
    if variant == "constant":
        return PatarmReward(f=patarm.Constant())
    if variant == "shuffled":
        return shuffled_par_reward(seed)
    raise ValueError(f"variant is {variant!r}; pass one of {VARIANTS}")


@dataclass
class GrpoSettings:
    steps: int = 600
    pairs_per_step: int = 8
    num_generations: int = 8
    learning_rate: float = 1e-3
    max_completion_length: int = 16
    train_pairs: int = 2000


def train_grpo(
    model, tokenizer, variant: str, seed: int, settings: GrpoSettings, output_dir: Path
) -> dict[str, object]:
    """GRPO with PAR; returns the reward per logged step and the wall time."""
    from datasets import Dataset
    from trl import GRPOConfig

    from patarm.trl import PairGRPOTrainer

    completions_per_step = 2 * settings.pairs_per_step * settings.num_generations
    config = GRPOConfig(
        output_dir=str(output_dir),
        use_cpu=True,
        bf16=False,
        seed=seed,
        learning_rate=settings.learning_rate,
        lr_scheduler_type="constant",
        warmup_steps=0,
        beta=0.0,
        num_generations=settings.num_generations,
        per_device_train_batch_size=completions_per_step,
        steps_per_generation=1,
        max_completion_length=settings.max_completion_length,
        temperature=1.0,
        max_steps=settings.steps,
        logging_steps=10,
        report_to="none",
        save_strategy="no",
        dataloader_num_workers=0,
        gradient_checkpointing=False,
        disable_tqdm=True,
    )
    trainer = PairGRPOTrainer(
        model=model,
        reward_funcs=[par_reward(variant, seed)],
        args=config,
        train_dataset=Dataset.from_list(pair_rows(settings.train_pairs, seed + 2000, "train")),
        processing_class=tokenizer,
    )
    start = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - start
    curve = [
        {"step": entry["step"], "reward": entry["reward"]}
        for entry in trainer.state.log_history
        if "reward" in entry and "step" in entry
    ]
    return {"reward_curve": curve, "grpo_wall_s": wall}


# ----------------------------------------------------------------------------- one seed, all variants
@dataclass
class SeedResult:
    seed: int
    cold_start_wall_s: float
    before: Accuracy
    after: dict[str, Accuracy] = field(default_factory=dict)
    reward_curve: dict[str, list] = field(default_factory=dict)
    grpo_wall_s: dict[str, float] = field(default_factory=dict)


def run_seed(
    seed: int, variants: Sequence[str], settings: GrpoSettings, workdir: Path, eval_pairs: int = 200, n: int = 4
) -> SeedResult:
    import torch

    torch.manual_seed(seed)
    random.seed(seed)
    tokenizer = build_tokenizer()
    base = build_model(tokenizer, seed)
    cold_wall = cold_start(base, tokenizer, seed)
    held_out = pair_rows(eval_pairs, seed + 3000, "held-out")
    result = SeedResult(
        seed=seed, cold_start_wall_s=cold_wall, before=pairwise_accuracy(base, tokenizer, held_out, n=n, seed=seed)
    )
    for variant in variants:
        model = copy.deepcopy(base)  # every variant starts from the same cold-start judge
        trained = train_grpo(model, tokenizer, variant, seed, settings, workdir / f"seed{seed}-{variant}")
        model.eval()
        result.after[variant] = pairwise_accuracy(model, tokenizer, held_out, n=n, seed=seed)
        result.reward_curve[variant] = trained["reward_curve"]
        result.grpo_wall_s[variant] = trained["grpo_wall_s"]
    return result


def as_json(result: SeedResult) -> dict:
    from dataclasses import asdict

    return asdict(result)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--steps", type=int, default=GrpoSettings.steps, help="GRPO steps per variant")
    parser.add_argument("--out", type=Path, default=Path("par_learning_results.json"), help="results (JSON)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/patarm-learning-demo"), help="trainer output dirs")
    args = parser.parse_args(argv)
    settings = GrpoSettings(steps=args.steps)
    results = []
    for seed in args.seeds:
        result = run_seed(seed, args.variants, settings, args.workdir)
        results.append(as_json(result))

        def shown(a: Accuracy) -> str:
            return f"{a.accuracy:.2f} ({a.accuracy_ties_half:.2f} ties half, gap {a.mean_gap:+.2f})"

        line = ", ".join(f"{v} {shown(a)}" for v, a in result.after.items())
        print(
            f"seed {seed}: before {shown(result.before)} -> {line}; cold start {result.cold_start_wall_s:.0f} s, "
            + ", ".join(f"{v} {s:.0f} s" for v, s in result.grpo_wall_s.items()),
            flush=True,
        )
        args.out.write_text(json.dumps({"settings": settings.__dict__, "seeds": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
