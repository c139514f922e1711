"""``patarm evaluate``: RewardBench / RM-Bench accuracy of a judge, from saved or live judgements."""

from __future__ import annotations

import argparse

from ._options import add_judge_server_options, check_judge_server, judge_from_args


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="RewardBench / RM-Bench accuracy with mean and majority voting",
        description="Evaluate a judge on a RewardBench-format file (prompt, chosen, rejected, subset), an "
        "RM-Bench-format file (3 chosen x 3 rejected by style, domain), a RewardBench 2 or a JudgeBench file "
        "(pair_id, source, question, response_A, response_B, label). Judgements come from --judgements "
        "or from a live OpenAI-compatible server (--judge-url, --model). Ties count as wrong unless --ties half.",
    )
    parser.add_argument(
        "benchmark_file",
        help="benchmark file (.jsonl, .json or .parquet), or a published benchmark "
        "by name: allenai/reward-bench, THU-KEG/RM-Bench, allenai/reward-bench-2, "
        "ScalerLab/JudgeBench (needs patarm[eval])",
    )
    parser.add_argument(
        "--benchmark",
        choices=("auto", "rewardbench", "rmbench", "rewardbench2", "judgebench"),
        default="auto",
        help="benchmark format; auto (default) tells them apart by their fields",
    )
    parser.add_argument(
        "--dataset-path",
        help="a local copy of the named benchmark's dataset (repository directory "
        "or save_to_disk directory), read in place of the Hugging Face hub",
    )
    parser.add_argument(
        "--split", help="another split of the named benchmark: ScalerLab/JudgeBench has gpt (default) and claude"
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--judgements", help="judgements file: id, side, [style], judgements|text|scores")
    source.add_argument(
        "--judge-url", help="judge live on an OpenAI-compatible server, e.g. http://localhost:8000/v1 (needs httpx)"
    )
    parser.add_argument(
        "--model", help="live judging: the model name the judge server serves (needed with --judge-url)"
    )
    parser.add_argument("-n", type=int, default=8, help="live judging: judgements per response (default 8)")
    add_judge_server_options(parser, "live judging")
    parser.add_argument(
        "--save-judgements",
        help="live judging: append every reply to this judgements log (.jsonl) "
        "as it arrives; evaluate it again with --judgements",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="live judging: keep the judgements already in "
        "--save-judgements (same item and request) and ask only for the rest",
    )
    parser.add_argument(
        "--pairwise",
        action="store_true",
        help="a pairwise judge: the A/B prompt, every pair "
        "judged n times in both orders; reports position consistency (RewardBench format)",
    )
    parser.add_argument(
        "--think-in-prompt",
        action="store_true",
        help="the judge's chat template opened <think> in the prompt, so judgements start inside it",
    )
    parser.add_argument(
        "--template",
        choices=("patarm", "baseline"),
        default="patarm",
        help="the judge prompt: patarm (default, the PaTaRM template) or baseline (a general-purpose "
        "LLM rates 1-10 in <answer>; judgements, live or from --judgements, are parsed answer-only)",
    )
    parser.add_argument(
        "--ties",
        choices=("wrong", "half"),
        default="wrong",
        help="a tie (or a side without a valid score) counts as wrong (default, as the paper "
        "reports) or as half a win (as RewardBench's generative-judge script)",
    )
    parser.add_argument("--json", dest="json_out", help="write the full report as JSON")
    parser.add_argument(
        "--format",
        dest="json_format",
        choices=("patarm", "rewardbench"),
        default="patarm",
        help="--json layout: patarm's full report (default) or a rewardbench leaderboard result file "
        "(model, model_type, chat_template, per-subset accuracy of mean voting with all judgements)",
    )
    parser.add_argument("--plot", help="write a PNG: accuracy vs n and the score-gap distribution (needs matplotlib)")
    parser.add_argument(
        "--bias",
        action="store_true",
        help="add the judge's bias card (invalid share by kind, ties, score~length per domain, RM-Bench "
        "styles, RewardBench 2 cycles; pairwise: position consistency, A-share) to the table and --json",
    )
    parser.add_argument("--bias-plot", help="write the bias card as a PNG (implies --bias; needs matplotlib)")
    parser.add_argument("--quiet", action="store_true", help="no table on the terminal")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..._optional import require_matplotlib
    from ..data.io import write_json
    from ..evaluation.evaluate import evaluate_scores
    from ..evaluation.items import load_benchmark
    from ..evaluation.judgements import (
        details_from_rows,
        load_judgement_details,
        load_judgement_scores,
        scores_from_rows,
    )
    from ..evaluation.render import format_report, plot_report

    # Missing packages and options fail before the benchmark is read or a server is called.
    if args.judge_url:
        check_judge_server(args)
    if args.plot or args.bias_plot:
        require_matplotlib()
    bias = args.bias or bool(args.bias_plot)
    if args.resume and not args.save_judgements:
        raise ValueError("--resume continues the judgements log of --save-judgements PATH; add it")
    benchmark, items = load_benchmark(
        args.benchmark_file, args.benchmark, dataset_path=args.dataset_path, split=args.split
    )
    if args.json_format == "rewardbench" and (benchmark in ("rmbench", "judgebench") or not args.json_out):
        raise ValueError(
            "--format rewardbench writes --json PATH as a RewardBench or RewardBench 2 result file; "
            + (
                f"{ {'rmbench': 'RM-Bench', 'judgebench': 'JudgeBench'}[benchmark] } has no such file"
                if args.json_out
                else "add --json PATH"
            )
        )
    answer_only = args.template == "baseline"
    if args.pairwise:
        from ..evaluation.pairwise import check_pairwise_benchmark

        if args.template == "baseline":
            raise ValueError("--template baseline is a pointwise prompt (a 1-10 rating); drop it with --pairwise")

        check_pairwise_benchmark(benchmark)
    stats = None
    if args.judgements:
        rows = None
    else:
        from ..judge.log import JudgementLog

        judge = judge_from_args(args, n=args.n, think_in_prompt=args.think_in_prompt, template=args.template)
        log = JudgementLog(args.save_judgements, resume=args.resume) if args.save_judgements else None
        try:
            if args.pairwise:
                from ..evaluation.pairwise import judge_pairwise_benchmark

                rows, stats = judge_pairwise_benchmark(
                    items, judge, log=log, show_progress=not args.quiet, benchmark=benchmark
                )
            else:
                from ..evaluation.evaluate import judge_benchmark_logged

                rows, stats = judge_benchmark_logged(benchmark, items, judge, log=log, show_progress=not args.quiet)
        finally:
            if log is not None:
                log.close()
    if args.pairwise:
        from ..evaluation.pairwise import (
            evaluate_pairwise,
            format_pairwise_line,
            load_pairwise_texts,
            pairwise_texts,
            rows_as_records,
        )

        texts = load_pairwise_texts(args.judgements) if rows is None else pairwise_texts(rows_as_records(rows))
        report = evaluate_pairwise(
            items, texts, ties=args.ties, think_in_prompt=args.think_in_prompt, bias=bias, benchmark=benchmark
        )
    elif bias:
        from ..evaluation.bias import pointwise_bias

        details = (
            load_judgement_details(args.judgements, think_in_prompt=args.think_in_prompt, answer_only=answer_only)
            if rows is None
            else details_from_rows(rows, think_in_prompt=args.think_in_prompt, answer_only=answer_only)
        )
        report = evaluate_scores(benchmark, items, {key: d.scores for key, d in details.items()}, ties=args.ties)
        report["bias"] = pointwise_bias(report, benchmark, items, details)
    else:
        scores = (
            load_judgement_scores(args.judgements, think_in_prompt=args.think_in_prompt, answer_only=answer_only)
            if rows is None
            else scores_from_rows(rows, think_in_prompt=args.think_in_prompt, answer_only=answer_only)
        )
        report = evaluate_scores(benchmark, items, scores, ties=args.ties)
    if stats is not None:
        report["judging"] = stats.to_dict()
    if not args.quiet:
        print(format_report(report))
        if args.pairwise:
            print(format_pairwise_line(report))
        if stats is not None:
            print(stats.summary())
        if bias:
            from ..evaluation.bias import format_bias

            print(format_bias(report["bias"]))
    if args.json_out and args.json_format == "rewardbench":
        from ..evaluation.report import rewardbench_results, write_rewardbench_json

        write_rewardbench_json(rewardbench_results(report, model=args.model or "patarm-judge"), args.json_out)
    elif args.json_out:
        write_json(report, args.json_out)
    if args.plot:
        plot_report(report, args.plot)
    if args.bias_plot:
        from ..evaluation.bias import plot_bias

        plot_bias(report["bias"], args.bias_plot)
    return 0
