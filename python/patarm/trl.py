"""PaTaRM judge training in TRL's ``GRPOTrainer``.

Two pieces, used together::

    from patarm.trl import PairGRPOTrainer, PatarmReward

    trainer = PairGRPOTrainer(
        model=model,
        reward_funcs=[PatarmReward()],
        args=GRPOConfig(..., num_generations=8, per_device_train_batch_size=16),
        train_dataset=rows,          # pair k = rows 2k (chosen) and 2k+1 (rejected)
        processing_class=tokenizer,
    )

- :class:`PatarmReward` is a reward function for ``GRPOTrainer(reward_funcs=[...])``. TRL calls it
  once per generation batch of a process with every dataset column as a list; it reads
  ``pair_id``, ``side`` and (optionally) ``data_source``, groups each pair's judgements across the
  batch with :func:`patarm.score_batch` (Rust, GIL released) and returns the METHOD section 4 total
  (PAR + format reward) per completion. Components go to TRL's metric hook.
- ``PairGRPOTrainer`` is a ``GRPOTrainer`` whose train/eval samplers keep each prompt's
  ``num_generations`` completions adjacent (as TRL's ``RepeatSampler`` does) *and* keep the
  chosen and rejected prompts of a pair in the same generation batch of the same process. At
  start-up it rejects settings and data layouts that would split pairs, with the fix.

For policy training with a served judge (the paper's downstream use), :class:`JudgeReward`
(:mod:`patarm.trl_judge_reward`) is an async reward function backed by :class:`patarm.Judge`.

Importing this module does not import trl, transformers or torch; ``PairGRPOTrainer`` is built
on first access.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Iterator, Sequence
from typing import Any, Callable

import numpy as np

__all__ = [
    "JudgeReward",  # noqa: F822 (imported on first access by the module __getattr__)
    "PairGRPOTrainer",  # noqa: F822 (built on first access by the module __getattr__)
    "PairRepeatSampler",
    "PatarmReward",
    "check_pair_batching",
    "check_pair_layout",
    "completion_text",
    "completion_texts",
]

logger = logging.getLogger(__name__)

POINTWISE_SIDES = ("chosen", "rejected")
PAIRWISE_SIDES = ("A", "B")


# ----------------------------------------------------------------------------------------------
# Reading what TRL passes to a reward function
# ----------------------------------------------------------------------------------------------


def completion_text(completion: Any) -> str:
    """The judgement text of one TRL completion.

    Standard prompts give a string. Conversational prompts give a list of messages; their
    contents are joined. When TRL parsed the response with a response schema, the reasoning sits
    in ``reasoning_content`` (or ``thinking``); it is put back inside ``<think>`` tags so the
    judgement parses as the model wrote it.
    """
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        completion = [completion]
    if not isinstance(completion, (list, tuple)):
        raise TypeError(
            f"a completion must be a string or a list of chat messages, got {type(completion).__name__}; "
            "pass the completions exactly as GRPOTrainer hands them to reward functions"
        )
    parts: list[str] = []
    for message in completion:
        if not isinstance(message, dict):
            raise TypeError(
                f"a conversational completion must be a list of message dicts, got an item of type "
                f"{type(message).__name__}"
            )
        reasoning = message.get("reasoning_content", message.get("thinking"))
        if reasoning is not None:
            parts.append(f"<think>{reasoning}</think>")
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):  # content blocks: keep the text ones
            parts.extend(block.get("text", "") for block in content if isinstance(block, dict))
    return "".join(parts)


def completion_texts(completions: Sequence[Any]) -> list[str]:
    """:func:`completion_text` of each completion, with a fast path for TRL's usual
    ``[{"role": "assistant", "content": text}]`` and plain strings."""
    texts: list[str] = []
    append = texts.append
    for completion in completions:
        if type(completion) is str:
            append(completion)
            continue
        if type(completion) is list and len(completion) == 1:
            message = completion[0]
            if type(message) is dict and len(message) == 2 and "role" in message:
                content = message.get("content")
                if type(content) is str:
                    append(content)
                    continue
        append(completion_text(completion))
    return texts


def _pair_columns(
    columns: dict[str, Any],
    rows: int,
    pair_id_column: str,
    side_column: str,
    source_column: str | None,
) -> tuple[list, list, list | None]:
    """(pair_ids, sides, sources) from the dataset columns TRL forwards.

    Columns may sit at the top level or inside verl-style ``extra_info`` dicts (what
    ``patarm prepare`` writes), so the same rows serve verl and TRL.
    """
    extra_info = columns.get("extra_info")

    def column(name: str, required: bool) -> list | None:
        if name in columns and columns[name] is not None:
            values = list(columns[name])
        elif extra_info is not None and all(isinstance(e, dict) and name in e for e in extra_info):
            values = [e[name] for e in extra_info]
        elif required:
            raise ValueError(
                f"the reward function needs a `{name}` dataset column (or `extra_info['{name}']`), but TRL "
                f"passed only {sorted(k for k in columns if not callable(columns[k]))}. Add `{name}` to every "
                "row (patarm.build_messages / `patarm prepare` rows have it) and keep "
                "GRPOConfig(remove_unused_columns=False), TRL's default"
            )
        else:
            return None
        if len(values) != rows:
            raise ValueError(
                f"the `{name}` column has {len(values)} values for {rows} completions; pass the columns "
                "GRPOTrainer forwards, one value per completion"
            )
        return values

    pair_ids = column(pair_id_column, True)
    sides = column(side_column, True)
    sources = column(source_column, False) if source_column else None
    return pair_ids, sides, sources  # type: ignore[return-value]


# ----------------------------------------------------------------------------------------------
# The reward function
# ----------------------------------------------------------------------------------------------


class PatarmReward:
    """PaTaRM reward for ``GRPOTrainer(reward_funcs=[PatarmReward()])``.

    Returns, per completion, ``R = R_PAR + R_format`` (METHOD section 4; with ``pairwise=True``
    section 5: ``correct_reward`` / ``wrong_reward`` for a verdict that names / misses the chosen
    response, plus the format reward). A judgement's pair is found by ``(data_source, pair_id)``,
    never by position.

    Logged through TRL's ``log_metric`` (averaged per logging step, under ``metric_prefix/``):
    ``score/chosen`` and ``score/rejected`` (mean valid judge score per side, pointwise only),
    ``format_error_rate``, ``par_hit_rate`` (share of completions with R_PAR > 0; pairwise: the
    share of correct verdicts), ``partner_missing`` (completions whose pair's other side was not in
    the batch). TRL itself logs the total as ``rewards/<name>/mean``. With
    ``log_completion_columns`` each completion's pair id, side, score, PAR and error kind also go
    to TRL's completions table (``GRPOConfig(log_completions=True)``).

    A pair seen on one side only gets R_PAR = 0 (the METHOD rule) and a counted warning;
    ``partner_missing_total`` keeps the running count. Use ``PairGRPOTrainer`` so that never
    happens.

    The rewards handed to TRL are float32-safe (METHOD section 4): multiples of 2^-10
    (``patarm.float32_safe``), so a group of identical rewards gets an advantage of exactly 0 in
    TRL's float32 group normalisation. ``float32_safe=False`` hands over the exact values;
    :meth:`score` always returns them.
    """

    def __init__(
        self,
        *,
        f: Any = None,
        pairwise: bool = False,
        think_in_prompt: bool = False,
        num_threads: int | None = None,
        correct_reward: float = 1.0,
        wrong_reward: float = 0.0,
        pair_id_column: str = "pair_id",
        side_column: str = "side",
        source_column: str | None = "data_source",
        name: str = "patarm",
        metric_prefix: str = "patarm",
        log_completion_columns: bool = True,
        float32_safe: bool = True,
    ) -> None:
        if f is None:
            from . import Graded

            f = Graded()
        if not callable(f):
            raise TypeError(
                f"f must be patarm.Graded(...), patarm.Constant(...) or a callable of the score gap, "
                f"got {type(f).__name__}"
            )
        self.f = f
        self.pairwise = bool(pairwise)
        self.think_in_prompt = bool(think_in_prompt)
        self.num_threads = num_threads
        self.correct_reward = float(correct_reward)
        self.wrong_reward = float(wrong_reward)
        self.pair_id_column = pair_id_column
        self.side_column = side_column
        self.source_column = source_column
        # TRL names a reward function by its __name__: metrics appear as rewards/<name>/mean.
        self.__name__ = name
        self.metric_prefix = metric_prefix
        self.log_completion_columns = bool(log_completion_columns)
        self.float32_safe = bool(float32_safe)
        self.partner_missing_total = 0

    def __repr__(self) -> str:
        mode = "pairwise" if self.pairwise else "pointwise"
        return f"PatarmReward({mode}, f={self.f!r}, name={self.__name__!r})"

    def __call__(
        self,
        prompts: Sequence[Any] | None = None,
        completions: Sequence[Any] | None = None,
        log_metric: Callable[[str, float], None] | None = None,
        log_extra: Callable[[str, list], None] | None = None,
        **columns: Any,
    ) -> list[float]:
        if completions is None:
            raise TypeError("PatarmReward needs `completions`; it is called by GRPOTrainer as a reward function")
        texts = completion_texts(completions)
        pair_ids, sides, sources = _pair_columns(
            columns, len(texts), self.pair_id_column, self.side_column, self.source_column
        )
        result = self.score(texts, pair_ids, sides, sources)
        self._report(result, sides, pair_ids, sources, log_metric, log_extra)
        if self.float32_safe:
            from .rewards import float32_safe

            return float32_safe(result["reward"]).tolist()
        return result["reward"].tolist()

    def score(
        self,
        texts: Sequence[str],
        pair_ids: Sequence[Any],
        sides: Sequence[str],
        sources: Sequence[str] | None = None,
    ) -> dict[str, np.ndarray]:
        """``patarm.score_batch`` with this reward's settings (one call per batch)."""
        from . import score_batch

        return score_batch(
            list(texts),
            list(pair_ids),
            list(sides),
            sources=None if sources is None else list(sources),
            f=self.f,
            pairwise=self.pairwise,
            think_in_prompt=self.think_in_prompt,
            num_threads=self.num_threads,
            correct_reward=self.correct_reward,
            wrong_reward=self.wrong_reward,
        )

    def metrics(self, result: dict[str, np.ndarray], sides: Sequence[str]) -> dict[str, float]:
        """The logged components of one scored batch (finite values only)."""
        prefix = self.metric_prefix
        rows = len(result["reward"])
        if rows == 0:
            return {}
        errors = np.asarray(result["error_code"]) != 0
        par = np.asarray(result["par"], dtype=np.float64)
        if self.pairwise:  # a hit is a valid verdict naming the chosen response
            hits = ~errors & (par == self.correct_reward) if self.correct_reward != self.wrong_reward else None
        else:
            hits = par > 0
        out = {
            f"{prefix}/format_error_rate": float(errors.mean()),
            f"{prefix}/partner_missing": float(self._partner_missing(result).sum()),
        }
        if hits is not None:
            out[f"{prefix}/par_hit_rate"] = float(hits.mean())
        if not self.pairwise:
            side_array = np.asarray(sides, dtype=object)
            scores = np.asarray(result["score"], dtype=np.float64)
            for side in POINTWISE_SIDES:
                valid = scores[(side_array == side) & ~np.isnan(scores)]
                if valid.size:
                    out[f"{prefix}/score/{side}"] = float(valid.mean())
        return {k: v for k, v in out.items() if math.isfinite(v)}

    def _partner_missing(self, result: dict[str, np.ndarray]) -> np.ndarray:
        """Rows whose pair's other side is not in the batch (pairwise rows hold a whole pair)."""
        if self.pairwise:
            return np.zeros(len(result["reward"]), dtype=bool)
        return ~np.asarray(result["partner_found"], dtype=bool)

    def _report(self, result, sides, pair_ids, sources, log_metric, log_extra) -> None:
        if log_metric is not None:
            for key, value in self.metrics(result, sides).items():
                log_metric(key, value)
        if log_extra is not None and self.log_completion_columns:
            from . import ERROR_KINDS

            # The completions table then shows which pair and side each judgement belongs to.
            log_extra(f"{self.metric_prefix}_pair_id", [str(p) for p in pair_ids])
            log_extra(f"{self.metric_prefix}_side", [str(s) for s in sides])
            log_extra(f"{self.metric_prefix}_score", np.asarray(result["score"], dtype=np.float64).tolist())
            log_extra(f"{self.metric_prefix}_par", np.asarray(result["par"], dtype=np.float64).tolist())
            log_extra(
                f"{self.metric_prefix}_error",
                [ERROR_KINDS[int(code)] for code in np.asarray(result["error_code"]).tolist()],
            )
        missing = self._partner_missing(result)
        if missing.any():
            count = int(missing.sum())
            self.partner_missing_total += count
            lonely = sorted(
                {(None if sources is None else sources[i], pair_ids[i]) for i in np.flatnonzero(missing).tolist()},
                key=repr,
            )
            logger.warning(
                "patarm: %d completion(s) of %d pair(s) had no partner side in this batch (e.g. %s) and get "
                "R_PAR = 0 (METHOD section 4); %d so far. Train with patarm.trl.PairGRPOTrainer to keep "
                "pairs whole.",
                count,
                len(lonely),
                lonely[0],
                self.partner_missing_total,
            )


# ----------------------------------------------------------------------------------------------
# Keeping pairs whole: the sampler and the start-up checks
# ----------------------------------------------------------------------------------------------


class PairRepeatSampler:
    """TRL's ``RepeatSampler`` order, over whole pairs.

    Rows 2k and 2k+1 are pair k. The row order is :class:`patarm.PairRandomSampler`'s
    (:func:`patarm.pair_permutation` of (seed, epoch): shuffled pairs, each yielding its chosen
    then its rejected row; a new order every epoch), or dataset order with ``shuffle=False``.
    It is cut into chunks of ``prompts_per_batch`` rows (an even number, so a chunk holds whole
    pairs; an incomplete last chunk is dropped, as TRL does); each chunk is
    yielded ``repeat_count`` times, each row ``num_generations`` times in a row::

        c0 c0 c0 r0 r0 r0 c1 c1 c1 r1 r1 r1 | (repeat) ...     num_generations=3, prompts_per_batch=4

    Every process builds the same sampler with the same seed, so the processes agree on the
    order; accelerate hands each process a consecutive block of each generation batch.
    """

    def __init__(
        self,
        num_rows: int,
        *,
        num_generations: int,
        prompts_per_batch: int = 2,
        repeat_count: int = 1,
        shuffle: bool = True,
        seed: int | None = None,
    ) -> None:
        for name, value in (
            ("num_rows", num_rows),
            ("num_generations", num_generations),
            ("prompts_per_batch", prompts_per_batch),
            ("repeat_count", repeat_count),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < (0 if name == "num_rows" else 1):
                raise ValueError(f"PairRepeatSampler: {name} must be a positive integer, got {value!r}")
        if prompts_per_batch % 2:
            raise ValueError(
                f"PairRepeatSampler: prompts_per_batch={prompts_per_batch} is odd, so a chunk would split a "
                "pair; use an even number of prompts per generation batch"
            )
        self.num_rows = num_rows
        self.num_generations = num_generations
        self.prompts_per_batch = prompts_per_batch
        self.repeat_count = repeat_count
        self.shuffle = shuffle
        # Every process must shuffle alike: TRL passes args.seed. Without one, draw it here.
        self.seed = seed if seed is not None else random.SystemRandom().randrange(2**63)
        self.epoch = 0
        self._paired_rows = num_rows - num_rows % 2  # an odd last row has no partner: never yielded

    def __repr__(self) -> str:
        return (
            f"PairRepeatSampler(rows={self.num_rows}, num_generations={self.num_generations}, "
            f"prompts_per_batch={self.prompts_per_batch}, repeat_count={self.repeat_count}, "
            f"shuffle={self.shuffle}, seed={self.seed})"
        )

    def set_epoch(self, epoch: int) -> None:
        """Called by the Trainer at each epoch: the shuffle depends on (seed, epoch)."""
        self.epoch = int(epoch)

    def row_order(self) -> list[int]:
        """One epoch's row order (pairs adjacent), before chunking and repetition."""
        if not self.shuffle:
            return list(range(self._paired_rows))
        from . import pair_permutation  # the PairRandomSampler order: a pure function of (seed, epoch)

        return pair_permutation(self._paired_rows, self.seed, self.epoch).tolist()

    def __iter__(self) -> Iterator[int]:
        order = self.row_order()
        self.epoch += 1  # a later epoch reshuffles even if nobody calls set_epoch
        size = self.prompts_per_batch
        for start in range(0, len(order) - size + 1, size):
            chunk = order[start : start + size]
            for _ in range(self.repeat_count):
                for row in chunk:
                    for _ in range(self.num_generations):
                        yield row

    def __len__(self) -> int:
        chunks = self._paired_rows // self.prompts_per_batch
        return chunks * self.prompts_per_batch * self.num_generations * self.repeat_count


def check_pair_batching(
    *,
    per_device_batch_size: int,
    steps_per_generation: int,
    num_generations: int,
    eval: bool = False,
) -> None:
    """Raise ``ValueError`` unless every process's generation batch holds whole pairs.

    TRL scores the completions of one generation batch per process: ``per_device_train_batch_size
    x steps_per_generation`` rows (eval: ``per_device_eval_batch_size``), cut from the global
    sampler order in consecutive blocks, one per process. With each row repeated
    ``num_generations`` times and the two rows of a pair adjacent, the blocks hold whole pairs
    exactly when their size is a multiple of ``2 x num_generations``, whatever the number of
    processes. Gradient accumulation splits the batch only after scoring, so it does not matter.
    """
    block = per_device_batch_size * steps_per_generation
    pair_rows = 2 * num_generations
    if block % pair_rows == 0:
        return
    if eval:
        setting = f"per_device_eval_batch_size={per_device_batch_size}"
        fix = f"Set per_device_eval_batch_size to a multiple of {pair_rows}."
        generations = "num_generations_eval"
    else:
        setting = f"per_device_train_batch_size={per_device_batch_size} x steps_per_generation={steps_per_generation}"
        smallest = pair_rows // math.gcd(pair_rows, steps_per_generation)
        fix = (
            f"Make per_device_train_batch_size x steps_per_generation a multiple of {pair_rows}, e.g. "
            f"per_device_train_batch_size={smallest} (or a multiple of it)."
        )
        generations = "num_generations"
    raise ValueError(
        f"PairGRPOTrainer: each process scores {block} completions at a time ({setting}), which is not a "
        f"multiple of 2 x {generations} = {pair_rows}: the chosen and rejected judge prompts of some pairs "
        f"would be scored in different batches and get no preference-aware reward. {fix}"
    )


def _dataset_column(dataset: Any, name: str) -> list | None:
    names = getattr(dataset, "column_names", None)
    if names is not None and name in names:
        return list(dataset[name])
    return None


def check_pair_layout(
    dataset: Any,
    *,
    pair_id_column: str = "pair_id",
    side_column: str = "side",
    source_column: str | None = "data_source",
    what: str = "train_dataset",
) -> int:
    """Raise ``ValueError`` unless rows (2k, 2k+1) are the two sides of one pair; return the pair count.

    This is the layout of METHOD section 1 (chosen row then rejected row), which ``patarm
    prepare`` and ``patarm.build_messages`` rows follow. Columns may also sit in ``extra_info``.
    """
    rows = len(dataset)
    pair_ids = _dataset_column(dataset, pair_id_column)
    sides = _dataset_column(dataset, side_column)
    sources = _dataset_column(dataset, source_column) if source_column else None
    if pair_ids is None or sides is None:
        extra_info = _dataset_column(dataset, "extra_info")
        if extra_info is not None:
            pair_ids, sides, found_sources = _pair_columns(
                {"extra_info": extra_info}, rows, pair_id_column, side_column, source_column
            )
            sources = sources if sources is not None else found_sources
    if pair_ids is None or sides is None:
        columns = getattr(dataset, "column_names", None)
        raise ValueError(
            f"PairGRPOTrainer: {what} needs `{pair_id_column}` and `{side_column}` columns (or an `extra_info` "
            f"dict holding them) to keep pairs together; its columns are {columns}. Build the rows with "
            "patarm.build_messages or `patarm prepare`"
        )
    if rows < 2:
        raise ValueError(f"PairGRPOTrainer: {what} has {rows} row(s); it needs at least one pair (2 rows)")
    for k in range(rows // 2):
        a, b = 2 * k, 2 * k + 1
        key_a = (None if sources is None else sources[a], pair_ids[a])
        key_b = (None if sources is None else sources[b], pair_ids[b])
        side_pair = {sides[a], sides[b]}
        if key_a != key_b or side_pair != set(POINTWISE_SIDES):
            hint = ""
            if set(sides[a : b + 1]) <= set(PAIRWISE_SIDES):
                hint = (
                    " These look like pairwise rows (side A/B): each row holds a whole pair, so train them "
                    "with the plain GRPOTrainer and PatarmReward(pairwise=True)."
                )
            raise ValueError(
                f"PairGRPOTrainer: rows {a} and {b} of {what} are not the two sides of one pair "
                f"(pair {key_a} side {sides[a]!r}, pair {key_b} side {sides[b]!r}). Put each pair's chosen "
                f"and rejected rows at adjacent indices (2k, 2k+1), as `patarm prepare` writes them; do not "
                f"shuffle or filter the dataset row by row.{hint}"
            )
    if rows % 2:
        logger.warning(
            "patarm: %s has an odd number of rows (%d); the last row has no partner and is never sampled",
            what,
            rows,
        )
    return rows // 2


# ----------------------------------------------------------------------------------------------
# PairGRPOTrainer (built on first access, so importing this module does not import trl)
# ----------------------------------------------------------------------------------------------


def _build_pair_grpo_trainer() -> type:
    from ._optional import require_framework

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

    PairGRPOTrainer.__module__ = __name__
    return PairGRPOTrainer


def __getattr__(name: str) -> Any:
    if name == "JudgeReward":  # a served judge as the reward of policy training
        from .trl_judge_reward import JudgeReward

        globals()[name] = JudgeReward
        return JudgeReward
    if name == "PairGRPOTrainer":
        cls = _build_pair_grpo_trainer()
        globals()[name] = cls  # later lookups (and pickle) find the same class
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
