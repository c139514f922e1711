"""The independent plain-Python implementation of the reward rules, shipped with the benchmark
(benches/bench_trl_reward.py): tests compare the Rust-backed reward against it."""

from __future__ import annotations

import importlib.util
import pathlib

_PATH = pathlib.Path(__file__).resolve().parents[2] / "benches" / "bench_trl_reward.py"
_spec = importlib.util.spec_from_file_location("bench_trl_reward", _PATH)
plain = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(plain)

plain_score_batch = plain.plain_score_batch
