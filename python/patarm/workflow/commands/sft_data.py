"""``patarm sft-data``: the cold-start SFT corpus from a teacher judge (docs/method.md §7)."""

from __future__ import annotations

import argparse

from ..._core import DEFAULT_DOMAIN
from ._options import add_judge_server_options, add_pair_field_options, judge_from_args, pair_columns


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "sft-data",
        help="build the cold-start SFT corpus from a teacher judge's judgements",
        description="A teacher judge writes PaTaRM judgements of preference pairs (live: --judge-url/--model; or "
        "a file of teacher judgements: --judgements). Pointwise: keep pair-rounds whose chosen-minus-rejected "
        "score gap exceeds --min-gap (default 2, decided exactly); pairwise: keep verdicts that agree with the "
        "label (--intersect-pointwise: only for pairs the pointwise filter keeps). Writes chat rows "
        "{messages: [system?, user, assistant]} for TRL's SFTTrainer and verl's SFT trainer (.parquet or .jsonl). "
        "A live run appends every judgement to --save-judgements; --resume continues an interrupted run.",
    )
    parser.add_argument("input", help="pairs file (.jsonl, .json or .parquet), as `patarm prepare` reads")
    parser.add_argument("-o", "--output", required=True, help="SFT rows (.parquet or .jsonl)")
    teacher = parser.add_mutually_exclusive_group(required=True)
    teacher.add_argument("--judge-url", help="the teacher's OpenAI-compatible server, e.g. http://localhost:8000/v1")
    teacher.add_argument("--judgements", help="teacher judgements (JSON lines: pair_id, side, round, text)")
    parser.add_argument("--model", help="the teacher's model name on the server")
    parser.add_argument("--pairwise", action="store_true", help="pairwise (A/B) corpus instead of pointwise")
    parser.add_argument(
        "--intersect-pointwise",
        action="store_true",
        help="pairwise: keep only pairs the pointwise filter also keeps (as the paper does)",
    )
    parser.add_argument(
        "--min-gap", type=float, default=2.0, help="pointwise: the score gap must exceed this (default 2)"
    )
    parser.add_argument("-n", "--rounds", type=int, default=1, help="live: teacher judgements per prompt (default 1)")
    parser.add_argument("--save-judgements", help="live: the append-only teacher log (default OUTPUT.teacher.jsonl)")
    parser.add_argument("--resume", action="store_true", help="live: continue the run logged in --save-judgements")
    parser.add_argument("--seed", type=int, default=0, help="pairwise: seed for the A/B positions (default 0)")
    parser.add_argument("--system", help="a system message put before every judge prompt")
    add_judge_server_options(parser, "live teacher")
    parser.add_argument(
        "--domain", default=DEFAULT_DOMAIN, help=f"domain of pairs without one (default {DEFAULT_DOMAIN})"
    )
    parser.add_argument("--rubrics", help="a rubric file for every pair without its own 'rubrics' field")
    add_pair_field_options(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..data.sft import format_summary, sft_data

    if args.intersect_pointwise and not args.pairwise:
        raise ValueError(
            "--intersect-pointwise applies to --pairwise (pairwise verdicts of pairs the pointwise filter keeps)"
        )
    judge = None
    if args.judge_url:
        judge = judge_from_args(args, n=args.rounds)
    elif args.resume or args.save_judgements:
        raise ValueError("--resume and --save-judgements belong to a live teacher run (--judge-url)")
    columns = pair_columns(args)
    counts = sft_data(
        args.input,
        args.output,
        judge=judge,
        judgements_path=args.judgements,
        save_judgements=args.save_judgements,
        resume=args.resume,
        rounds=args.rounds,
        mode="pairwise" if args.pairwise else "pointwise",
        min_gap=args.min_gap,
        intersect_pointwise=args.intersect_pointwise,
        seed=args.seed,
        system=args.system,
        columns=columns,
        default_domain=args.domain,
        rubric_file=args.rubrics,
        show_progress=not args.quiet,
    )
    if not args.quiet:
        print(format_summary(counts))
    return 0
