"""``patarm score [FILE]``: score JSON-lines rollouts with PAR and print a per-pair table.

Each line is an object with ``pair_id`` (str or int), ``side`` ("chosen"/"rejected", or the
correct verdict "A"/"B" with ``--pairwise``), ``text`` (the judgement) and optional
``source``. Without FILE the example rollouts bundled with patarm are scored; the header
prints where that file is, to copy as a template.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Iterable, Sequence
from importlib import resources
from typing import Any

EXAMPLE = "example_rollouts.jsonl"


# What each column of the table means; printed by --help and under the table's header.
COLUMNS = """\
columns (one line per side of a pair):
  source    the rollout's source field ("-" when absent); pairs are matched within a source
  pair_id   the pair; side: chosen / rejected (or the correct verdict A / B with --pairwise)
  n         judgements of this side
  scores    each judgement's 0-10 score ("-": no valid score; "-" throughout with --pairwise)
  opp_mean  mean valid score of the other side, which this side's scores are compared with
  par       each judgement's preference-aware reward: f(gap) when it ranks its side right
            against opp_mean, else 0; 0 too when the other side has no valid score
  fmt_err   judgements with a format error (format reward -1.5 for tags, -1.0 for the verdict)
  reward    total reward of this side's judgements: PAR + format reward, summed
  note      "other side missing": the pair has one side only, so PAR is 0"""


def bundled_example_path() -> str:
    """Where the bundled example rollouts are installed (a template for your own file)."""
    return str(resources.files("patarm.workflow") / "data" / EXAMPLE)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "score",
        help="score JSON-lines rollouts (PAR) and print a per-pair table",
        description=__doc__.replace("``", "") + f"\nBundled example: {bundled_example_path()}",
        epilog=COLUMNS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "file",
        nargs="?",
        metavar="FILE",
        help="rollouts .jsonl, or - for standard input (default: the bundled example)",
    )
    parser.add_argument("--output", "-o", metavar="FILE.jsonl", help="also write one scored JSON line per rollout")
    parser.add_argument("--pairwise", action="store_true", help="judgements answer A/B; sides hold the correct verdict")
    parser.add_argument(
        "--f",
        dest="shape",
        choices=("graded", "constant"),
        default="graded",
        help="shape of PAR: graded (1.2 / 1.4 above a gap of 2, default) or constant (1.3)",
    )
    parser.add_argument("--think-in-prompt", action="store_true", help="the chat template opened <think> in the prompt")
    parser.add_argument(
        "--num-threads", type=int, default=None, help="threads (default: PATARM_NUM_THREADS or all CPUs)"
    )
    parser.set_defaults(func=run)


def read_rollouts(stream: Iterable[str | bytes], name: str) -> list[dict[str, Any]]:
    """Parse JSON lines (text or bytes); a bad line is a ValueError naming the file, line and fix."""
    from ..data.io import check_id, parse_json_line

    rows = []
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        row = parse_json_line(line, where)
        if not isinstance(row, dict):
            raise ValueError(f"{where}: expected a JSON object with pair_id, side and text")
        missing = [key for key in ("pair_id", "side", "text") if key not in row]
        if missing:
            raise ValueError(f"{where}: missing {', '.join(missing)}; each line needs pair_id, side and text")
        if not isinstance(row["pair_id"], (str, int)) or isinstance(row["pair_id"], bool):
            raise ValueError(f"{where}: pair_id must be a string or an integer")
        check_id(row["pair_id"], where, "pair_id")
        for key in ("side", "text"):
            if not isinstance(row[key], str):
                raise ValueError(f"{where}: {key} must be a string")
        if "source" in row and row["source"] is not None and not isinstance(row["source"], str):
            raise ValueError(f"{where}: source must be a string")
        row["_line"] = number
        rows.append(row)
    return rows


_ROW_IN_MESSAGE = re.compile(r"\b(texts|pair_ids|sides|sources)\[(\d+)\]")
_FIELD_OF_ARGUMENT = {"texts": "text", "pair_ids": "pair_id", "sides": "side", "sources": "source"}


def _located(exc: Exception, rows: list[dict[str, Any]], name: str) -> ValueError:
    """The core's error about row i, told in the file's terms: FILE:LINE, the line's field
    (``side``, not ``sides[3]``) and the CLI option (``--pairwise``, not ``pairwise=True``)."""
    message = str(exc)
    found = _ROW_IN_MESSAGE.search(message)
    location = name
    if found and int(found.group(2)) < len(rows):
        location = f"{name}:{rows[int(found.group(2))]['_line']}"
        message = _ROW_IN_MESSAGE.sub(lambda m: _FIELD_OF_ARGUMENT[m.group(1)], message)
    message = message.replace("pairwise=True", "--pairwise").replace("pairwise=False", "no --pairwise")
    return ValueError(f"{location}: {message}")


def check_sides(rows: list[dict[str, Any]], sides: list[str], name: str, pairwise: bool) -> None:
    """Every side is one the scoring mode accepts; the first that is not is reported with
    its FILE:LINE and the option that fixes a mode mix-up."""
    allowed = ("A", "B") if pairwise else ("chosen", "rejected")
    for row, side in zip(rows, sides, strict=True):
        if side in allowed:
            continue
        where = f"{name}:{row['_line']}"
        if pairwise:
            hint = (
                ' ("chosen"/"rejected" are pointwise sides: drop --pairwise)' if side in ("chosen", "rejected") else ""
            )
            raise ValueError(
                f"{where}: side is {json.dumps(side)}, but with --pairwise each side must be the correct "
                f'verdict "A" or "B"{hint}'
            )
        hint = ' ("A"/"B" are pairwise verdicts: add --pairwise)' if side.strip() in ("A", "B") else ""
        raise ValueError(f'{where}: side is {json.dumps(side)}, but each side must be "chosen" or "rejected"{hint}')


def _read_input(file: Any) -> tuple[str, list[dict[str, Any]]]:
    """(name shown in the header and errors, rows) of FILE, standard input or the example.
    Read as bytes, decoded line by line, so that invalid UTF-8 is reported with its line."""
    if file is None:
        path = bundled_example_path()
        with (resources.files("patarm.workflow") / "data" / EXAMPLE).open("rb") as stream:
            return f"{path} (the bundled example)", read_rollouts(stream, EXAMPLE)
    if file == "-":
        return "<stdin>", read_rollouts(sys.stdin.buffer, "<stdin>")
    with open(file, "rb") as stream:
        if stream.read(4) == b"PAR1":  # parquet's magic number
            raise ValueError(f"{file}: a parquet file; patarm score reads JSON lines (pair_id, side, text per line)")
        stream.seek(0)
        return file, read_rollouts(stream, file)


def _fmt(value: float) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:g}"


def _table(header: Sequence[str], lines: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *lines, strict=True)]
    render = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([render(header), render(["-" * w for w in widths])] + [render(line) for line in lines])


def run(args: argparse.Namespace) -> int:
    from ...parsing import ERROR_KINDS
    from ...rewards import Constant, Graded, score_batch

    name, rows = _read_input(args.file)
    if not rows:
        raise ValueError(f"{name}: no rollouts in the file (it is empty); each line needs pair_id, side and text")
    sides = [row["side"].strip() if args.pairwise else row["side"] for row in rows]
    check_sides(rows, sides, name, args.pairwise)

    shape = Constant() if args.shape == "constant" else Graded()
    try:
        result = score_batch(
            [row["text"] for row in rows],
            [row["pair_id"] for row in rows],
            sides,
            sources=[row.get("source") or "" for row in rows],
            f=shape,
            pairwise=args.pairwise,
            think_in_prompt=args.think_in_prompt,
            num_threads=args.num_threads,
        )
    except (ValueError, TypeError) as exc:
        raise _located(exc, rows, name) from None

    groups: dict[tuple[str, Any, str], list[int]] = {}
    for index, row in enumerate(rows):
        groups.setdefault((row.get("source") or "", row["pair_id"], sides[index]), []).append(index)

    lines = []
    for (source, pair_id, side), indices in groups.items():
        errors = sum(int(result["error_code"][i]) != 0 for i in indices)
        lines.append(
            [
                source or "-",
                str(pair_id),
                side,
                str(len(indices)),
                " ".join(_fmt(float(result["score"][i])) for i in indices) if not args.pairwise else "-",
                _fmt(float(result["opposite_mean"][indices[0]])) if not args.pairwise else "-",
                " ".join(_fmt(float(result["par"][i])) for i in indices),
                str(errors),
                _fmt(round(float(sum(result["reward"][i] for i in indices)), 6)),
                "" if bool(result["partner_found"][indices[0]]) else "other side missing",
            ]
        )
    header = ["source", "pair_id", "side", "n", "scores", "opp_mean", "par", "fmt_err", "reward", "note"]
    print(f"patarm score: {name}  ({len(rows)} judgements, f={shape!r}{', pairwise' if args.pairwise else ''})\n")
    print(COLUMNS + "\n")
    print(_table(header, lines))

    codes = result["error_code"]
    kinds = ERROR_KINDS
    by_kind = ", ".join(f"{kinds[k]} {int((codes == k).sum())}" for k in range(1, len(kinds)))
    pairs = {(row.get("source") or "", row["pair_id"]) for row in rows}
    total = float(result["reward"].sum()) if len(rows) else 0.0
    mean = total / len(rows) if rows else math.nan
    print(
        f"\ntotals: {len(rows)} judgements in {len(pairs)} pairs; format errors {int((codes != 0).sum())} "
        f"({by_kind}); PAR {float(result['par'].sum()):g}; reward {total:g} (mean {_fmt(round(mean, 6))})"
    )

    if args.output:
        from ..data.io import write_jsonl

        records = []
        for index, row in enumerate(rows):
            record = {key: value for key, value in row.items() if key != "_line"}
            for key in ("reward", "par", "format_reward", "score", "opposite_mean"):
                value = float(result[key][index])
                record[key] = None if math.isnan(value) else value
            record["error"] = kinds[int(codes[index])]
            record["partner_found"] = bool(result["partner_found"][index])
            records.append(record)
        # Atomic: a kill, Ctrl-C or error mid-write leaves the old file, never a partial one.
        write_jsonl(records, args.output)
        print(f"wrote {len(rows)} lines to {args.output}")
    return 0
