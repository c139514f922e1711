"""The GRPOConfig of the tests' short GRPO runs: CPU, fp32, logged every step, completions
tables written (log_completions=True), nothing saved or reported."""

from __future__ import annotations


def cpu_grpo_config(output_dir, **settings):
    from trl import GRPOConfig

    defaults = dict(
        output_dir=str(output_dir),
        use_cpu=True,
        bf16=False,
        seed=0,
        learning_rate=1e-3,
        gradient_checkpointing=False,
        logging_steps=1,
        log_completions=True,
        num_completions_to_print=0,
        report_to="none",
        save_strategy="no",
        dataloader_num_workers=0,
    )
    return GRPOConfig(**{**defaults, **settings})
