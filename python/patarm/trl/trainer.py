"""``PairGRPOTrainer``, built on first access so that importing patarm.trl does not import trl."""

from __future__ import annotations

from typing import Any

from .sampler import PairRepeatSampler, check_pair_batching, check_pair_layout

# ----------------------------------------------------------------------------------------------
# PairGRPOTrainer (built on first access, so importing this module does not import trl)
# ----------------------------------------------------------------------------------------------


def _build_pair_grpo_trainer() -> type:
    from .._optional import require_framework

    require_framework("patarm.trl.PairGRPOTrainer", "trl", ("torch", "transformers", "trl"), "trl")
    from trl import GRPOTrainer

    class PairGRPOTrainer(GRPOTrainer):
        """``GRPOTrainer`` that keeps every preference pair whole in each process's batch.

        Use with ``PatarmReward`` on pointwise rows laid out in pairs (rows 2k, 2k+1). The train
        sampler is :class:`PairRepeatSampler` (same structure as TRL's ``RepeatSampler``), and
        start-up checks reject settings that would split pairs (:func:`check_pair_batching`,
        :func:`check_pair_layout`), dropped pair columns and streaming datasets.
        """

        def __init__(
            self,
            *args: Any,
            pair_id_column: str = "pair_id",
            side_column: str = "side",
            source_column: str | None = "data_source",
            **kwargs: Any,
        ) -> None:
            self.pair_columns: dict[str, Any] = {
                "pair_id_column": pair_id_column,
                "side_column": side_column,
                "source_column": source_column,
            }
            super().__init__(*args, **kwargs)
            self._check_pairs_stay_whole()

        def _check_pairs_stay_whole(self) -> None:
            args = self.args
            if args.remove_unused_columns:
                raise ValueError(
                    "PairGRPOTrainer: remove_unused_columns=True would drop the pair columns the reward needs; "
                    "set GRPOConfig(remove_unused_columns=False) (TRL's default)"
                )
            if not hasattr(self.train_dataset, "__getitem__") or not hasattr(self.train_dataset, "__len__"):
                raise ValueError(
                    "PairGRPOTrainer: the train dataset must be a map-style datasets.Dataset; a streaming "
                    "IterableDataset is shuffled through a buffer that splits pairs. Load it with "
                    "streaming=False"
                )
            check_pair_batching(
                per_device_batch_size=args.per_device_train_batch_size,
                steps_per_generation=args.steps_per_generation,
                num_generations=self.num_generations,
            )
            pairs = check_pair_layout(self.train_dataset, what="train_dataset", **self.pair_columns)
            prompts_per_batch = args.generation_batch_size // self.num_generations
            if 2 * pairs < prompts_per_batch:
                raise ValueError(
                    f"PairGRPOTrainer: train_dataset has {pairs} pairs ({2 * pairs} prompts), fewer than one "
                    f"generation batch needs (generation_batch_size / num_generations = {prompts_per_batch} "
                    "prompts); add pairs or lower per_device_train_batch_size"
                )
            eval_sets = self.eval_dataset
            if eval_sets is not None:
                if not isinstance(eval_sets, dict):
                    eval_sets = {"eval_dataset": eval_sets}
                check_pair_batching(
                    per_device_batch_size=args.per_device_eval_batch_size,
                    steps_per_generation=1,
                    num_generations=self.num_generations_eval,
                    eval=True,
                )
                for name, eval_set in eval_sets.items():
                    check_pair_layout(eval_set, what=name, **self.pair_columns)

        def _get_train_sampler(self, dataset: Any = None) -> PairRepeatSampler:
            if dataset is None:
                dataset = self.train_dataset
            return PairRepeatSampler(
                len(dataset),
                num_generations=self.num_generations,
                prompts_per_batch=self.args.generation_batch_size // self.num_generations,
                repeat_count=self.num_iterations * self.args.steps_per_generation,
                shuffle=self.shuffle_dataset,
                seed=self.args.seed,
            )

        def _get_eval_sampler(self, eval_dataset: Any) -> PairRepeatSampler:
            return PairRepeatSampler(
                len(eval_dataset),
                num_generations=self.num_generations_eval,
                prompts_per_batch=2,
                shuffle=False,
            )

    PairGRPOTrainer.__module__ = "patarm.trl"  # where pickle finds it (the package __getattr__)
    return PairGRPOTrainer
