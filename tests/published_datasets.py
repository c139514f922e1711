"""Local copies of the published benchmark datasets, shaped as their Hugging Face repositories.

Tests cannot reach the hub, so they write small copies with ``datasets`` itself and read them
through the same ``load_dataset(name_or_path, config, split=...)`` call: the repository layout
(``README.md`` configs, ``data/<split>-00000-of-00001.parquet``) and the column names and
types of the published datasets (dataset cards of allenai/reward-bench, allenai/reward-bench-2,
THU-KEG/RM-Bench).
"""

import json
from pathlib import Path


def _readme(splits: list[str]) -> str:
    files = "".join(f"  - split: {split}\n    path: data/{split}-*\n" for split in splits)
    return f"---\nconfigs:\n- config_name: default\n  data_files:\n{files}---\n# local copy for tests\n"


def write_parquet_repo(root: Path, splits: dict[str, list[dict]], features=None) -> Path:
    """A dataset repository: README.md with the configs and one parquet file per split."""
    from datasets import Dataset

    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "README.md").write_text(_readme(list(splits)))
    for split, rows in splits.items():
        Dataset.from_list(rows, features=features).to_parquet(str(root / "data" / f"{split}-00000-of-00001.parquet"))
    return root


def rewardbench_features():
    from datasets import Features, Value

    return Features(
        {
            "prompt": Value("string"),
            "chosen": Value("string"),
            "chosen_model": Value("string"),
            "rejected": Value("string"),
            "rejected_model": Value("string"),
            "subset": Value("string"),
            "id": Value("int64"),
        }
    )


def rewardbench_row(id_: int, subset: str, prompt: str = "p", chosen: str = "c", rejected: str = "r") -> dict:
    return {
        "prompt": prompt,
        "chosen": chosen,
        "chosen_model": "gpt-4",
        "rejected": rejected,
        "rejected_model": "llama-2-7b-chat",
        "subset": subset,
        "id": id_,
    }


def write_rewardbench_repo(root: Path, filtered: list[dict], raw: list[dict]) -> Path:
    """allenai/reward-bench: splits ``raw`` (5123 pairs) and ``filtered`` (2985)."""
    return write_parquet_repo(root, {"raw": raw, "filtered": filtered}, rewardbench_features())


def rewardbench2_features():
    from datasets import Features, Sequence, Value

    metadata = Features(
        {
            "category": Value("string"),
            "correct": Value("string"),
            "index": Value("float64"),
            "instruction_id_list": Sequence(Value("string")),
            "label": Value("string"),
            "method": Value("string"),
            "models": Sequence(Value("string")),
            "prompt_norm": Value("string"),
            "subcategory": Value("string"),
            "valid": Value("float64"),
        }
    )
    return Features(
        {
            "id": Value("string"),
            "prompt": Value("string"),
            "chosen": Sequence(Value("string")),
            "rejected": Sequence(Value("string")),
            "num_correct": Value("int64"),
            "num_incorrect": Value("int64"),
            "total_completions": Value("int64"),
            "models": Sequence(Value("string")),
            "subset": Value("string"),
            "additional_metadata": metadata,
        }
    )


def rewardbench2_row(id_: str, subset: str, chosen: list[str], rejected: list[str], prompt: str = "p") -> dict:
    metadata = {
        "category": None,
        "correct": None,
        "index": None,
        "instruction_id_list": [],
        "label": None,
        "method": None,
        "models": [],
        "prompt_norm": None,
        "subcategory": None,
        "valid": None,
    }
    return {
        "id": id_,
        "prompt": prompt,
        "chosen": chosen,
        "rejected": rejected,
        "num_correct": len(chosen),
        "num_incorrect": len(rejected),
        "total_completions": len(chosen) + len(rejected),
        "models": ["m"] * (len(chosen) + len(rejected)),
        "subset": subset,
        "additional_metadata": metadata,
    }


def write_rewardbench2_repo(root: Path, rows: list[dict]) -> Path:
    """allenai/reward-bench-2: one split, ``test`` (1865 items)."""
    return write_parquet_repo(root, {"test": rows}, rewardbench2_features())


def write_rmbench_repo(root: Path, rows: list[dict]) -> Path:
    """THU-KEG/RM-Bench: one JSON file of items (loads as the ``train`` split)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "total_dataset.json").write_text(json.dumps(rows))
    return root
