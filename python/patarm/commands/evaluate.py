"""``patarm evaluate``: RewardBench / RM-Bench accuracy of a judge, from saved or live judgements."""
from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="RewardBench / RM-Bench accuracy with mean and majority voting",
        description="Evaluate a judge on a RewardBench-format file (prompt, chosen, rejected, subset) or an "
        "RM-Bench-format file (3 chosen x 3 rejected by style, domain). Judgements come from --judgements "
        "or from a live OpenAI-compatible server (--judge-url, --model). Ties count as wrong unless --ties half.",
    )
    parser.add_argument("benchmark_file", help="benchmark file (.jsonl, .json or .parquet), or a published benchmark "
                        "by name: allenai/reward-bench, THU-KEG/RM-Bench, allenai/reward-bench-2 (needs patarm[eval])")
    parser.add_argument("--benchmark", choices=("auto", "rewardbench", "rmbench", "rewardbench2"), default="auto",
                        help="benchmark format; auto (default) tells them apart by their fields")
    parser.add_argument("--dataset-path", help="a local copy of the named benchmark's dataset (repository directory "
                        "or save_to_disk directory), read in place of the Hugging Face hub")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--judgements", help="judgements file: id, side, [style], judgements|text|scores")
    source.add_argument("--judge-url", help="judge live on an OpenAI-compatible server, e.g. http://localhost:8000/v1 "
                        "(needs httpx)")
    parser.add_argument("--model", help="live judging: the model name the judge server serves (needed with --judge-url)")
    parser.add_argument("-n", type=int, default=8, help="live judging: judgements per response (default 8)")
    parser.add_argument("--temperature", type=float, default=1.0,
                        help="live judging: sampling temperature of the judge (default 1.0: n varied judgements to vote over)")
    parser.add_argument("--max-tokens", type=int, default=4096,
                        help="live judging: most tokens per judgement (default 4096, the paper's response "
                        "length); a judgement cut off by it has no valid score")
    parser.add_argument("--max-concurrency", type=int, default=32,
                        help="live judging: most requests in flight at once (default 32)")
    parser.add_argument("--timeout", type=float, default=600.0, help="live judging: seconds per request (default 600)")
    parser.add_argument("--max-retries", type=int, default=4,
                        help="live judging: retries per request on errors and timeouts (default 4)")
    parser.add_argument("--save-judgements", help="live judging: write the judgements here (.jsonl)")
    parser.add_argument("--think-in-prompt", action="store_true",
                        help="the judge's chat template opened <think> in the prompt, so judgements start inside it")
    parser.add_argument("--template", choices=("patarm", "baseline"), default="patarm",
                        help="the judge prompt: patarm (default, the PaTaRM template) or baseline (a general-purpose "
                        "LLM rates 1-10 in <answer>; judgements, live or from --judgements, are parsed answer-only)")
    parser.add_argument("--ties", choices=("wrong", "half"), default="wrong",
                        help="a tie (or a side without a valid score) counts as wrong (default, as the paper "
                        "reports) or as half a win (as RewardBench's generative-judge script)")
    parser.add_argument("--json", dest="json_out", help="write the full report as JSON")
    parser.add_argument("--format", dest="json_format", choices=("patarm", "rewardbench"), default="patarm",
                        help="--json layout: patarm's full report (default) or a rewardbench leaderboard result file "
                        "(model, model_type, chat_template, per-subset accuracy of mean voting with all judgements)")
    parser.add_argument("--plot", help="write a PNG: accuracy vs n and the score-gap distribution (needs matplotlib)")
    parser.add_argument("--quiet", action="store_true", help="no table on the terminal")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .._optional import require_httpx, require_matplotlib
    from ..data.io import write_json, write_jsonl
    from ..evaluate import (
        evaluate_scores,
        format_report,
        judge_benchmark,
        load_benchmark,
        load_judgement_scores,
        plot_report,
        scores_from_rows,
    )

    # Missing packages and options fail before the benchmark is read or a server is called.
    if args.judge_url:
        if not args.model:
            raise ValueError("--judge-url needs --model (the model name the server serves)")
        require_httpx()
    if args.plot:
        require_matplotlib()
    benchmark, items = load_benchmark(args.benchmark_file, args.benchmark, dataset_path=args.dataset_path)
    if args.json_format == "rewardbench" and (benchmark == "rmbench" or not args.json_out):
        raise ValueError("--format rewardbench writes --json PATH as a RewardBench or RewardBench 2 result file; "
                         + ("RM-Bench has no such file" if args.json_out else "add --json PATH"))
    answer_only = args.template == "baseline"
    if args.judgements:
        scores = load_judgement_scores(args.judgements, think_in_prompt=args.think_in_prompt, answer_only=answer_only)
    else:
        from ..judge import Judge

        judge = Judge(args.judge_url, args.model, n=args.n, temperature=args.temperature,
                      max_tokens=args.max_tokens, max_concurrency=args.max_concurrency, timeout=args.timeout, max_retries=args.max_retries,
                      think_in_prompt=args.think_in_prompt, template=args.template)
        rows = judge_benchmark(benchmark, items, judge, show_progress=not args.quiet)
        if args.save_judgements:
            write_jsonl(rows, args.save_judgements)
        scores = scores_from_rows(rows, think_in_prompt=args.think_in_prompt, answer_only=judge.answer_only)
    report = evaluate_scores(benchmark, items, scores, ties=args.ties)
    if not args.quiet:
        print(format_report(report))
    if args.json_out and args.json_format == "rewardbench":
        from ..eval_report import rewardbench_results, write_rewardbench_json

        write_rewardbench_json(rewardbench_results(report, model=args.model or "patarm-judge"), args.json_out)
    elif args.json_out:
        write_json(report, args.json_out)
    if args.plot:
        plot_report(report, args.plot)
    return 0
