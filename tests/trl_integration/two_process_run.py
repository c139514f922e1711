"""One rank of a 2-process GRPO run on the CPU (launched by test_trl_multiprocess.py with
torch.distributed.run): writes the batches its reward function scored to OUT/rank<N>.json."""

from __future__ import annotations

import importlib.util
import json
import pathlib
import sys

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "trl" / "train_judge.py"


def main(out_dir: str) -> None:
    from datasets import Dataset
    from trl import GRPOConfig

    from patarm.trl import PairGRPOTrainer, PatarmReward

    spec = importlib.util.spec_from_file_location("train_judge", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    model, tokenizer = example.tiny_model_and_tokenizer()

    batches = []

    class Recording(PatarmReward):
        def __call__(self, prompts=None, completions=None, **columns):
            rewards = super().__call__(prompts=prompts, completions=completions, **columns)
            batches.append(list(zip(columns["pair_id"], columns["side"], strict=True)))
            return rewards

    rows = [
        {
            "prompt": [{"role": "user", "content": f"Judge answer {side} of question {k}."}],
            "pair_id": f"p{k}",
            "side": side,
            "data_source": "patarm/chat",
        }
        for k in range(8)
        for side in ("chosen", "rejected")
    ]
    args = GRPOConfig(
        output_dir=out_dir,
        use_cpu=True,
        bf16=False,
        seed=0,
        max_steps=3,
        num_generations=2,
        per_device_train_batch_size=4,
        max_completion_length=8,
        gradient_checkpointing=False,
        logging_steps=1,
        report_to="none",
        save_strategy="no",
    )
    reward = Recording()
    trainer = PairGRPOTrainer(
        model=model, reward_funcs=[reward], args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer
    )
    trainer.train()
    rank = trainer.accelerator.process_index
    record = {
        "rank": rank,
        "processes": trainer.accelerator.num_processes,
        "batches": batches,
        "partner_missing_total": reward.partner_missing_total,
        "log_history": trainer.state.log_history if rank == 0 else None,
    }
    (pathlib.Path(out_dir) / f"rank{rank}.json").write_text(json.dumps(record))


if __name__ == "__main__":
    main(sys.argv[1])
