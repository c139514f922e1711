"""Option groups that several commands share, so that each option is spelt, explained and
turned into objects in one place."""

from __future__ import annotations

import argparse
from typing import Any

from ..data.pairs import Columns

#: The fields of a preference pair that ``--FIELD-key`` renames (``patarm prepare``, ``sft-data``).
PAIR_FIELDS = ("prompt", "chosen", "rejected", "domain", "source", "id", "rubrics")


def add_pair_field_options(parser: argparse.ArgumentParser) -> None:
    for field in PAIR_FIELDS:
        parser.add_argument(f"--{field}-key", default=field, help=f"input field holding the {field} (default {field})")


def pair_columns(args: argparse.Namespace) -> Columns:
    return Columns(**{field: getattr(args, f"{field}_key") for field in PAIR_FIELDS})


def add_judge_server_options(parser: argparse.ArgumentParser, who: str) -> None:
    """Sampling and transport settings of a live judge; ``who`` starts each help text
    ("live judging", "live teacher")."""
    parser.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        help=f"{who}: sampling temperature (default 1.0: varied judgements to vote over)",
    )
    parser.add_argument(
        "--max-tokens",
        type=int,
        default=4096,
        help=f"{who}: most tokens per judgement (default 4096, the paper's response length); "
        "a judgement cut off by it has no valid score",
    )
    parser.add_argument(
        "--max-concurrency", type=int, default=32, help=f"{who}: most requests in flight at once (default 32)"
    )
    parser.add_argument("--timeout", type=float, default=600.0, help=f"{who}: seconds per request (default 600)")
    parser.add_argument(
        "--max-retries", type=int, default=4, help=f"{who}: retries per request on errors and timeouts (default 4)"
    )


def check_judge_server(args: argparse.Namespace) -> None:
    """Fails before any input is read: ``--judge-url`` without ``--model``, or no httpx."""
    from ..._optional import require_httpx

    if not args.model:
        raise ValueError("--judge-url needs --model (the model name the judge server serves)")
    require_httpx()


def judge_from_args(args: argparse.Namespace, n: int, **settings: Any) -> Any:
    """The :class:`patarm.Judge` that ``--judge-url`` and the options above describe."""
    from ..judge.client import Judge

    check_judge_server(args)
    return Judge(
        args.judge_url,
        args.model,
        n=n,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
        max_concurrency=args.max_concurrency,
        timeout=args.timeout,
        max_retries=args.max_retries,
        **settings,
    )
