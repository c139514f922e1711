"""Judge-training data: preference pairs in, verl-format rows out (``patarm prepare``), the
RL / SFT pair filters of docs/method.md §7 (``patarm filter``), and the cold-start SFT corpus
from a teacher judge (``patarm sft-data``, :mod:`patarm.workflow.data.sft`). Parquet goes through pyarrow
(a dependency of patarm), imported on use, never by ``import patarm``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..._core import DEFAULT_DOMAIN
from .filter import FilterReport, PairJudgements, RolloutColumns, load_judgements, rl_filter, select_rows, sft_filter
from .io import DataError, check_writable, read_records, write_rows, write_rows_together
from .pairs import Columns, PreferencePair, load_pairs, pair_from_record, render_messages
from .prepare import (
    FORMATS,
    PrepareSummary,
    RubricCache,
    build_rows,
    judge_messages,
    judge_prompt_texts,
    openrlhf_rows,
    shuffle_pairs,
    split_pairs,
    summarize,
    token_counter,
)
from .sft import build_sft_rows, read_teacher_judgements, sft_data


def drop_long_pairs(
    pairs: Sequence[PreferencePair],
    count_tokens: Callable[[list[str]], list[int]],
    max_tokens: int,
    *,
    pairwise: bool = False,
    seed: int = 0,
    rubrics: RubricCache | None = None,
) -> tuple[list[PreferencePair], int]:
    """The pairs whose judge prompts (both sides, or the A/B prompt) are all at most
    ``max_tokens`` tokens, in their order, and how many were left out. Counted on the prompt
    text, without the chat template's tokens."""
    rows = build_rows(pairs, pairwise=pairwise, seed=seed, rubrics=rubrics)
    lengths = count_tokens(["".join(m["content"] for m in row["prompt"]) for row in rows])
    long_ids = {row["extra_info"]["pair_id"] for row, n in zip(rows, lengths, strict=True) if n > max_tokens}
    kept = [pair for pair in pairs if pair.pair_id not in long_ids]
    return kept, len(pairs) - len(kept)


def prepare(
    input_path,
    output_path,
    *,
    val_output: str | None = None,
    val_size: float = 0.0,
    pairwise: bool = False,
    seed: int = 0,
    columns: Columns = Columns(),
    default_domain: str = DEFAULT_DOMAIN,
    rubric_file: str | None = None,
    tokenizer: None | str | Callable[[list[str]], list[int]] = None,
    data_source_prefix: str = "patarm",
    show_progress: bool = True,
    format: str = "verl",
    max_prompt_tokens: int | None = None,
) -> PrepareSummary:
    """Read preference pairs, validate them all, shuffle whole pairs from ``seed``, optionally
    split off a validation set of whole pairs, build the judge prompts, and write verl rows
    (``format="verl"``) or one OpenRLHF row per pair (``format="openrlhf"``). Nothing is
    written unless every pair is valid. ``max_prompt_tokens`` (needs ``tokenizer``) leaves out,
    before the split, every pair with a judge prompt over that many tokens. Returns the summary."""
    if format not in FORMATS:
        raise ValueError(f"format={format!r} is unknown; use one of {', '.join(FORMATS)}")
    if val_size and not val_output:
        raise ValueError("val_size needs val_output (the validation file to write)")
    if val_output and not val_size:
        raise ValueError("val_output needs val_size (a fraction such as 0.05, or a pair count)")
    # Everything that can fail without reading the data fails first, before any output exists.
    if max_prompt_tokens is not None and (
        not isinstance(max_prompt_tokens, int) or isinstance(max_prompt_tokens, bool) or max_prompt_tokens < 1
    ):
        raise ValueError(f"max_prompt_tokens must be a positive token count, got {max_prompt_tokens!r}")
    if max_prompt_tokens is not None and tokenizer is None:
        raise ValueError("max_prompt_tokens counts tokens: add tokenizer (--tokenizer tokenizer.json or a local model)")
    check_writable(output_path, val_output)
    counter = token_counter(tokenizer) if isinstance(tokenizer, str) else tokenizer
    rubrics = RubricCache(rubric_file)
    if rubric_file is not None:
        rubrics.get(rubric_file)  # an unreadable rubric file fails before any row is read
    pairs = load_pairs(
        input_path,
        columns=columns,
        default_domain=default_domain,
        check_domain=rubrics.check,
        show_progress=show_progress,
    )
    ordered = shuffle_pairs(pairs, seed)
    too_long = 0
    if max_prompt_tokens is not None and counter is not None:
        ordered, too_long = drop_long_pairs(
            ordered, counter, max_prompt_tokens, pairwise=pairwise, seed=seed, rubrics=rubrics
        )
        if not ordered:
            raise DataError(
                f"every pair has a judge prompt over max_prompt_tokens={max_prompt_tokens} tokens; raise it"
            )
    train, val = split_pairs(ordered, val_size)

    def build(pairs: Sequence[PreferencePair], split: str) -> list[dict[str, Any]]:
        return build_rows(
            pairs, split=split, pairwise=pairwise, seed=seed, rubrics=rubrics, data_source_prefix=data_source_prefix
        )

    layout = openrlhf_rows if format == "openrlhf" else list
    train_rows = build(train, "train")
    outputs = [(layout(train_rows), output_path)]
    all_rows = list(train_rows)
    if val:
        val_rows = build(val, "val")
        outputs.append((layout(val_rows), val_output))
        all_rows.extend(val_rows)
    summary = summarize(
        all_rows,
        ordered,
        pairwise=pairwise,
        count_tokens=counter,
        splits={"train": len(train), "val": len(val)} if val else None,
    )
    summary.layout = format
    summary.too_long = too_long
    summary.max_prompt_tokens = max_prompt_tokens
    summary.rows = sum(len(rows) for rows, _ in outputs)
    write_rows_together(outputs)
    return summary


__all__ = [
    "Columns",
    "DataError",
    "FORMATS",
    "FilterReport",
    "PairJudgements",
    "PreferencePair",
    "PrepareSummary",
    "RolloutColumns",
    "RubricCache",
    "build_rows",
    "judge_messages",
    "judge_prompt_texts",
    "drop_long_pairs",
    "load_judgements",
    "load_pairs",
    "openrlhf_rows",
    "pair_from_record",
    "prepare",
    "read_records",
    "render_messages",
    "rl_filter",
    "select_rows",
    "sft_filter",
    "build_sft_rows",
    "read_teacher_judgements",
    "sft_data",
    "shuffle_pairs",
    "split_pairs",
    "summarize",
    "token_counter",
    "write_rows",
    "write_rows_together",
]
