"""``patarm filter``: keep the pairs worth training on, from the judge's own rollouts (docs/method.md §7)."""

from __future__ import annotations

import argparse
from fractions import Fraction


def _fraction(text: str) -> float:
    try:
        return float(Fraction(text))
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"expected a number or a fraction such as 6/8, got {text!r}") from None


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "filter",
        help="select RL or SFT pairs from the judge's rollouts",
        description="RL: keep pairs whose fraction of correct judgements lies in [--low, --high] (default 1/8..6/8). "
        "SFT: keep pairs whose mean chosen score exceeds the mean rejected score by more than --min-gap (default 2). "
        "The rollouts file has one judgement per line: pair_id, side, text (or score), optional source.",
    )
    parser.add_argument("mode", choices=("rl", "sft"), help="which filter")
    parser.add_argument("rollouts", help="judgement rollouts (.jsonl / .parquet)")
    parser.add_argument("--data", help="rows to filter: verl rows from `patarm prepare` or a pairs file")
    parser.add_argument("-o", "--output", help="write the kept rows of --data here")
    parser.add_argument("--decisions", help="write one JSON line per pair: statistics, kept, reason")
    parser.add_argument("--low", type=_fraction, default=1 / 8, help="RL: lowest fraction correct kept (default 1/8)")
    parser.add_argument("--high", type=_fraction, default=6 / 8, help="RL: highest fraction correct kept (default 6/8)")
    parser.add_argument("--min-gap", type=float, default=2.0, help="SFT: the score gap must exceed this (default 2)")
    parser.add_argument("--think-in-prompt", action="store_true", help="judgements start inside <think>")
    for field, default in (
        ("pair-id", "pair_id"),
        ("side", "side"),
        ("text", "text"),
        ("score", "score"),
        ("source", "source"),
    ):
        parser.add_argument(
            f"--{field}-key", default=default, help=f"rollout field holding the {field} (default {default})"
        )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..data.filter import RolloutColumns, load_judgements, rl_filter, select_rows, sft_filter
    from ..data.io import check_writable, write_jsonl, write_rows

    if args.output and not args.data:
        raise ValueError("--output writes the kept rows of --data: pass --data too")
    check_writable(args.output)
    columns = RolloutColumns(
        pair_id=args.pair_id_key, side=args.side_key, text=args.text_key, score=args.score_key, source=args.source_key
    )
    judgements = load_judgements(args.rollouts, columns=columns, think_in_prompt=args.think_in_prompt)
    if args.mode == "rl":
        report = rl_filter(judgements, low=args.low, high=args.high)
    else:
        report = sft_filter(judgements, min_gap=args.min_gap)
    print(report.format())
    if args.data and args.output:
        rows, dropped = select_rows(args.data, report)
        write_rows(rows, args.output)
        print(f"wrote {len(rows)} rows to {args.output} ({dropped} rows dropped)")
    if args.decisions:
        write_jsonl(report.decisions(), args.decisions)
        print(f"wrote per-pair decisions to {args.decisions}")
    return 0
