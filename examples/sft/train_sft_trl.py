"""Cold-start SFT of a PaTaRM judge with TRL's SFTTrainer, on the rows `patarm sft-data` writes.

  patarm sft-data pairs.jsonl -o data/sft.parquet --judge-url http://localhost:8000/v1 --model Qwen/Qwen2.5-72B-Instruct
  python examples/sft/train_sft_trl.py --data data/sft.parquet --model Qwen/Qwen3-8B --output-dir checkpoints/sft
  # several GPUs: accelerate launch examples/sft/train_sft_trl.py ...

Each row's ``messages`` is [system?, user: judge prompt, assistant: teacher judgement]. The
script splits it into TRL's conversational prompt-completion form (``prompt`` = the messages
before the judgement, ``completion`` = the judgement), so the loss covers the judgement only
(SFTConfig's ``completion_only_loss`` default for prompt-completion data). One epoch, as in the
paper (docs/method.md §7); the checkpoint is then the starting point of GRPO with the PAR reward
(examples/verl, examples/trl/train_judge.py). Needs ``pip install 'patarm[trl]'``. Not run in CI.
"""

from __future__ import annotations

import argparse


def prompt_completion(row):
    messages = row["messages"]
    return {"prompt": messages[:-1], "completion": messages[-1:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="rows from `patarm sft-data` (.parquet or .jsonl)")
    parser.add_argument("--model", required=True, help="the judge's base model")
    parser.add_argument("--output-dir", default="checkpoints/patarm-sft")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--learning-rate", type=float, default=1e-5)
    parser.add_argument("--per-device-batch-size", type=int, default=1)
    parser.add_argument("--gradient-accumulation-steps", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=8192, help="judge prompt + judgement, in tokens")
    parser.add_argument("--bf16", action="store_true")
    args = parser.parse_args()

    from datasets import load_dataset
    from trl import SFTConfig, SFTTrainer

    kind = "parquet" if args.data.endswith(".parquet") else "json"
    dataset = load_dataset(kind, data_files=args.data, split="train")
    dataset = dataset.map(prompt_completion, remove_columns=dataset.column_names)
    config = SFTConfig(
        output_dir=args.output_dir,
        num_train_epochs=args.epochs,
        learning_rate=args.learning_rate,
        per_device_train_batch_size=args.per_device_batch_size,
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        max_length=args.max_length,
        bf16=args.bf16,
        logging_steps=10,
        save_strategy="epoch",
    )
    trainer = SFTTrainer(model=args.model, args=config, train_dataset=dataset)
    trainer.train()
    trainer.save_model(args.output_dir)


if __name__ == "__main__":
    main()
