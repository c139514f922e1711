"""score_batch (Rust) side by side with a plain-Python implementation of the same rules.

16,384 judgements of about 3.5 KB, 8 per side of 1,024 pairs, in shuffled row order, about 5%
malformed. The plain-Python version (tests/par_reference.py) is honest: compiled regexes and
straightforward code, with exact arithmetic (fractions.Fraction) as docs/method.md §4 requires.
Both must give identical results, checked before timing. The same plain Python with float
arithmetic is timed too (it is faster, and gets some rewards wrong: the count is printed). Throughput is
compared with CPython's `bytes.count(b"<")` on the pre-encoded bytes (one thread), a floor for
any scan of the same bytes; the Rust bench (`cargo bench --bench parse_par`) sets the parser
beside a memchr scan with no Python in between.

Run with a release build:  maturin develop --release && python benches/bench_score_batch.py
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import numpy as np  # noqa: E402

import par_reference  # noqa: E402
import patarm  # noqa: E402

WORDS = (
    "the response answers question clearly correct step reasoning because however detail "
    "rubric usefulness structure example missing accurate relevant claim evidence user "
    "asked explains formula result check final answer value so if then a < b holds"
).split()


def prose(rng: random.Random, size: int) -> str:
    words, length = [], 0
    while length < size:
        word = rng.choice(WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)


def judgement(rng: random.Random, score: float) -> str:
    kind = rng.random()
    answer = f"{score:g}"
    if kind < 0.03:
        answer = f"{score:g}/10"  # invalid verdict
    rubrics = "".join(f"<generate_rubrics>\n{prose(rng, 160)}\n</generate_rubrics>\n" for _ in range(rng.randint(1, 3)))
    text = (
        f"<think>\n{prose(rng, 2600)}\n</think>\n{rubrics}<eval>\n{prose(rng, 450)}\n</eval>\n<answer>{answer}</answer>"
    )
    if 0.03 <= kind < 0.05:
        text = text.replace("<eval>", "", 1)  # missing tag
    return text


def build(pairs: int, per_side: int, seed: int):
    rng = random.Random(seed)
    rows = []
    for pair in range(pairs):
        centre = rng.uniform(3, 8)
        for side, shift in (("chosen", 1.0), ("rejected", -1.0)):
            for _ in range(per_side):
                score = min(10.0, max(0.0, round(centre + shift + rng.gauss(0, 1.5), 1)))
                rows.append((judgement(rng, score), f"pair-{pair}", side, "patarm/chat"))
    rng.shuffle(rows)  # frameworks reorder batches: grouping must not rely on position
    texts, ids, sides, sources = (list(column) for column in zip(*rows, strict=True))
    return texts, ids, sides, sources


def best_of(repeats: int, call):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return min(times), result


def same(a, b) -> bool:
    for key in par_reference_keys:
        x, y = np.asarray(a[key], dtype=float), np.asarray(b[key], dtype=float)
        if x.shape != y.shape or not np.array_equal(x, y, equal_nan=True):
            print(f"MISMATCH in {key}", file=sys.stderr)
            return False
    return True


par_reference_keys = ("reward", "par", "format_reward", "score", "opposite_mean", "error_code", "partner_found")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=1024)
    parser.add_argument("--per-side", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=9, help="interleaved rounds; each candidate keeps its best")
    parser.add_argument("--threads", type=int, default=None, help="score_batch threads (default: all CPUs)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    texts, ids, sides, sources = build(args.pairs, args.per_side, args.seed)
    encoded = [t.encode() for t in texts]
    total_bytes = sum(len(b) for b in encoded)
    joined = b"".join(encoded)
    n = len(texts)
    threads = args.threads

    rust = lambda: patarm.score_batch(texts, ids, sides, sources=sources, num_threads=threads)  # noqa: E731
    plain = lambda: par_reference.score_batch(texts, ids, sides, sources=sources)  # noqa: E731
    plain_float = lambda: par_reference.score_batch(texts, ids, sides, sources=sources, number=float)  # noqa: E731
    if not same(rust(), plain()):
        print("score_batch and the plain-Python implementation disagree", file=sys.stderr)
        return 1
    errors = int((rust()["error_code"] != 0).sum())
    float_wrong = int((np.asarray(plain_float()["reward"]) != rust()["reward"]).sum())

    # Interleaved rounds: every candidate runs once per round, so load from other processes
    # on this shared machine hits all of them alike; each keeps its best round.
    candidates = {
        "plain": plain,
        "plain_float": plain_float,
        "rust": rust,
        "rust1": lambda: patarm.score_batch(texts, ids, sides, sources=sources, num_threads=1),
        "count": lambda: joined.count(b"<"),
    }
    best = {name: math.inf for name in candidates}
    for _ in range(args.repeats):
        for name, call in candidates.items():
            elapsed, _ = best_of(1, call)
            best[name] = min(best[name], elapsed)
    t_plain, t_float, t_rust, t_rust1, t_count = (best[k] for k in ("plain", "plain_float", "rust", "rust1", "count"))

    gbps = lambda t: total_bytes / t / 1e9  # noqa: E731
    cores = os.cpu_count()
    print(
        f"score_batch benchmark: {n:,} judgements ({args.pairs:,} pairs x {args.per_side} per side), "
        f"{total_bytes / n / 1024:.2f} KiB mean, {total_bytes / 1e6:.1f} MB, {errors} malformed; "
        f"identical results: yes"
    )
    print(
        f"machine: {cpu_model()}, {cores} cores; Python {platform.python_version()}; "
        f"patarm {patarm.__version__}; best of {args.repeats} interleaved rounds\n"
    )
    rows = [
        ("plain Python (re, same rules, Fraction)", t_plain, "1.0x"),
        (f"plain Python, floats ({float_wrong} rewards wrong)", t_float, f"{t_plain / t_float:.1f}x"),
        (
            f"patarm.score_batch ({cores} threads)" if threads is None else f"patarm.score_batch ({threads} threads)",
            t_rust,
            f"{t_plain / t_rust:.1f}x",
        ),
        ("patarm.score_batch (1 thread)", t_rust1, f"{t_plain / t_rust1:.1f}x"),
        ("bytes.count(b'<'), pre-encoded, 1 thread", t_count, f"{t_plain / t_count:.1f}x"),
    ]
    header = ("implementation", "time (ms)", "judgements/s", "GB/s", "vs Python")
    table = [header] + [(name, f"{t * 1e3:.1f}", f"{n / t:,.0f}", f"{gbps(t):.2f}", speed) for name, t, speed in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for i, row in enumerate(table):
        print(
            "| "
            + " | ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(row, widths, strict=True)))
            + " |"
        )
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    print(
        f"\nspeed-up of score_batch over plain Python: {t_plain / t_rust:.1f}x "
        f"(goal >= 8x; {t_float / t_rust:.1f}x over its inexact float version)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
