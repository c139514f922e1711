"""Build verl training/validation files for PaTaRM judge training from preference pairs.

Input: JSON Lines with one pair per line: {"prompt": str, "chosen": str, "rejected": str,
"domain": "chat"|"math"|"code"|"safety"|"instruction_following" (optional), "id": ... (optional)}.
Without --input, a few built-in demo pairs are used (to try the pipeline end to end).

Output (METHOD section 1): two rows per pair, the chosen row then the rejected row, each with
  data_source  "patarm/<domain>"
  prompt       the judge prompt as chat messages (patarm.build_messages, METHOD section 2)
  ability      "judge"
  reward_model {"style": "rule", "ground_truth": "chosen"|"rejected"}     (pairwise: "A"|"B")
  extra_info   {"pair_id", "side", "domain", "index"}
Pairs are written in a random pair order (patarm.pair_permutation), so the files also suit a
plain sequential read (data.shuffle=False) without patarm's dataset class.

    python examples/verl/prepare_data.py --input pairs.jsonl --out data/patarm [--val-fraction 0.05] [--pairwise]
"""
from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import patarm

DEMO = [
    {"prompt": "What is 17 * 24?", "chosen": "17 * 24 = 408.", "rejected": "17 * 24 = 418.", "domain": "math"},
    {"prompt": "Write a Python function that reverses a string.", "chosen": "def rev(s):\n    return s[::-1]", "rejected": "def rev(s):\n    return s.reverse()", "domain": "code"},
    {"prompt": "How do I pick a lock to get into my neighbour's house?", "chosen": "I can't help with entering someone else's home. If you are locked out of your own home, a licensed locksmith can help.", "rejected": "Insert a tension wrench and rake the pins...", "domain": "safety"},
    {"prompt": "Give me three tips for better sleep.", "chosen": "1. Keep a fixed schedule. 2. Avoid screens an hour before bed. 3. Keep the room cool and dark.", "rejected": "Sleep more.", "domain": "chat"},
]


def rows_for_pair(pair: dict, pair_id, pairwise: bool, rng: random.Random) -> list[dict]:
    domain = pair.get("domain", "chat")
    source = f"patarm/{domain}"
    if pairwise:  # METHOD 5: one row, chosen and rejected at random positions
        chosen_first = rng.random() < 0.5
        a, b = (pair["chosen"], pair["rejected"]) if chosen_first else (pair["rejected"], pair["chosen"])
        verdict = "A" if chosen_first else "B"
        return [
            {
                "data_source": source,
                "prompt": patarm.build_messages(pair["prompt"], a, response_b=b, domain=domain),
                "ability": "judge",
                "reward_model": {"style": "rule", "ground_truth": verdict},
                "extra_info": {"pair_id": pair_id, "side": verdict, "domain": domain},
            }
        ]
    return [
        {
            "data_source": source,
            "prompt": patarm.build_messages(pair["prompt"], pair[side], domain=domain),
            "ability": "judge",
            "reward_model": {"style": "rule", "ground_truth": side},
            "extra_info": {"pair_id": pair_id, "side": side, "domain": domain},
        }
        for side in ("chosen", "rejected")
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description="PaTaRM verl data: two judge rows per preference pair")
    parser.add_argument("--input", type=Path, help="JSON Lines of {prompt, chosen, rejected, domain?, id?}")
    parser.add_argument("--out", type=Path, required=True, help="output folder (train.parquet, val.parquet)")
    parser.add_argument("--val-fraction", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pairwise", action="store_true", help="METHOD 5 pairwise rows (one per pair)")
    args = parser.parse_args()

    import pyarrow as pa
    import pyarrow.parquet as pq

    pairs = [json.loads(line) for line in args.input.open()] if args.input else DEMO
    rng = random.Random(args.seed)
    # a random pair order (METHOD 8): chosen row then rejected row of each pair
    order = patarm.pair_permutation(2 * len(pairs), args.seed)[::2] // 2
    num_val = max(1, int(round(len(pairs) * args.val_fraction))) if len(pairs) > 1 else 0
    splits = {"val": order[:num_val], "train": order[num_val:]}
    args.out.mkdir(parents=True, exist_ok=True)
    for split, indices in splits.items():
        rows = []
        for k in indices.tolist():
            pair = pairs[k]
            for row in rows_for_pair(pair, pair.get("id", k), args.pairwise, rng):
                row["extra_info"]["index"] = len(rows)
                rows.append(row)
        pq.write_table(pa.Table.from_pylist(rows), args.out / f"{split}.parquet")
        print(f"{split}: {len(indices)} pairs, {len(rows)} rows -> {args.out / f'{split}.parquet'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
