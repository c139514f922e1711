"""Plot the learning demonstration's results: reward per step and held-out accuracy per variant.

    python examples/learning/plot_results.py examples/learning/results.json -o docs/images/par_learning.png

Needs matplotlib (``pip install 'patarm[plot]'``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

COLORS = {"graded": "tab:blue", "constant": "tab:green", "shuffled": "tab:red"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("-o", "--output", type=Path, default=Path("par_learning.png"))
    args = parser.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = json.loads(args.results.read_text())
    seeds = data["seeds"]
    fig, (curves, bars) = plt.subplots(1, 2, figsize=(11, 4))
    for result in seeds:
        for variant, curve in result["reward_curve"].items():
            curves.plot(
                [point["step"] for point in curve],
                [point["reward"] for point in curve],
                color=COLORS.get(variant),
                alpha=0.7,
                label=f"{variant} (seed {result['seed']})",
            )
    curves.set_xlabel("GRPO step")
    curves.set_ylabel("mean reward (PAR + format)")
    curves.set_title("Reward per step")
    curves.legend(fontsize=7)

    variants = sorted({v for result in seeds for v in result["after"]}, key=list(COLORS).index)
    labels = ["before"] + variants
    width = 0.8 / len(seeds)
    for index, result in enumerate(seeds):
        values = [result["before"]["accuracy"]] + [result["after"][v]["accuracy"] for v in variants]
        positions = [k + index * width for k in range(len(labels))]
        bars.bar(positions, values, width=width, label=f"seed {result['seed']}")
        # A judge without a preference whose scores collapse ties often: ties as half a win shows it.
        half = [result["before"]["accuracy_ties_half"]] + [result["after"][v]["accuracy_ties_half"] for v in variants]
        bars.scatter(positions, half, marker="_", s=150, color="black", label="ties as half" if index == 0 else None)
    bars.axhline(0.5, color="grey", linestyle="--", linewidth=1)
    bars.set_xticks([k + width * (len(seeds) - 1) / 2 for k in range(len(labels))], labels)
    bars.set_ylim(0, 1)
    bars.set_ylabel("held-out pairwise accuracy")
    bars.set_title("Before and after GRPO (mean of 4 judgements; bars: ties wrong)")
    bars.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(args.output, dpi=120)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
