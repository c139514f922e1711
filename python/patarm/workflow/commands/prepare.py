"""``patarm prepare``: preference pairs (JSON lines / parquet) to verl or OpenRLHF judge-training rows."""

from __future__ import annotations

import argparse

from ..._core import DEFAULT_DOMAIN
from ._options import add_pair_field_options, pair_columns


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "prepare",
        help="build verl-format judge-training data from preference pairs",
        description="Turn preference pairs (prompt, chosen, rejected[, domain, source, id, rubrics]) into "
        "verl rows: two adjacent rows per pair (pointwise) or one row with randomised A/B (pairwise). "
        "Pairs are shuffled whole from --seed; nothing is written unless every pair is valid.",
    )
    parser.add_argument("input", help="pairs file: .jsonl, .json or .parquet")
    parser.add_argument("-o", "--output", required=True, help="output file (.parquet, or .jsonl)")
    parser.add_argument("--pairwise", action="store_true", help="one pairwise (A/B) row per pair")
    parser.add_argument(
        "--format",
        choices=("verl", "openrlhf"),
        default="verl",
        help="verl rows (default), or openrlhf: one row per pair whose label holds both judge "
        "prompts, for patarm.openrlhf.PairJudgeExecutor (--train.agent_func_path)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for the pair order and A/B positions (default 0)")
    parser.add_argument("--val-output", help="validation file; needs --val-size")
    parser.add_argument(
        "--val-size",
        type=float,
        default=0.0,
        help="validation pairs: a fraction (< 1) or a count (>= 1); whole pairs only",
    )
    parser.add_argument(
        "--domain", default=DEFAULT_DOMAIN, help=f"domain of rows without one (default {DEFAULT_DOMAIN})"
    )
    parser.add_argument("--rubrics", help="a rubric file for every row without its own 'rubrics' field")
    parser.add_argument("--tokenizer", help="tokenizer.json or a local Hugging Face tokenizer, for token percentiles")
    parser.add_argument(
        "--max-prompt-tokens",
        type=int,
        help="leave out pairs whose judge prompt (either side) is over this many tokens of --tokenizer "
        "(before the split; chat-template tokens not counted); the summary says how many",
    )
    parser.add_argument("--data-source-prefix", default="patarm", help="data_source is PREFIX/DOMAIN (default patarm)")
    add_pair_field_options(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..data import prepare

    columns = pair_columns(args)
    val_size = args.val_size
    if val_size >= 1 and float(val_size).is_integer():
        val_size = int(val_size)
    summary = prepare(
        args.input,
        args.output,
        val_output=args.val_output,
        val_size=val_size,
        pairwise=args.pairwise,
        seed=args.seed,
        columns=columns,
        default_domain=args.domain,
        rubric_file=args.rubrics,
        tokenizer=args.tokenizer,
        data_source_prefix=args.data_source_prefix,
        show_progress=not args.quiet,
        format=args.format,
        max_prompt_tokens=args.max_prompt_tokens,
    )
    if not args.quiet:
        print(summary.format())
        print(f"wrote {args.output}" + (f" and {args.val_output}" if args.val_output else ""))
    return 0
