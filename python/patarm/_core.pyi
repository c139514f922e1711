"""Type stubs for the native core, ``patarm._core`` (hand-written; keep in step with src/python/)."""
from __future__ import annotations

__version__: str

# --- sampling (src/python/sampler.rs); the sampler classes are in patarm/sampling.py ---
import numpy as np
import numpy.typing as npt

def pair_permutation(num_rows: int, seed: int, epoch: int = 0) -> npt.NDArray[np.int64]: ...
def resolve_pair_num_samples(num_rows: int, num_samples: int | None = None) -> int: ...
def random_pair_indices(
    num_rows: int, seed: int, epoch: int, num_samples: int | None = None, replacement: bool = False
) -> npt.NDArray[np.int64]: ...
def distributed_pair_indices(
    num_rows: int, num_replicas: int, rank: int, seed: int, epoch: int, shuffle: bool = True, drop_last: bool = False
) -> npt.NDArray[np.int64]: ...
def distributed_pair_len(num_rows: int, num_replicas: int, rank: int, drop_last: bool = False) -> int: ...
def check_pair_batch_size(batch_size: int, *, name: str = "batch_size") -> None: ...

# --- voting (src/python/vote.rs); the typed API is patarm/voting.py ---
def mean_vote_rows(
    scores: npt.NDArray[np.float64], rounds: int | None = None, num_threads: int | None = None
) -> npt.NDArray[np.float64]: ...
def majority_vote_counts(
    chosen_scores: npt.NDArray[np.float64],
    rejected_scores: npt.NDArray[np.float64],
    rounds: int | None = None,
    num_threads: int | None = None,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64], npt.NDArray[np.int64]]: ...
def majority_vote_verdict_counts(
    choices: npt.NDArray[np.int8],
    correct: npt.NDArray[np.int8],
    rounds: int | None = None,
    num_threads: int | None = None,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64], npt.NDArray[np.int64]]: ...
