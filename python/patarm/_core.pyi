"""Type stubs for the native core, ``patarm._core`` (hand-written; keep in step with src/python/)."""
from __future__ import annotations

__version__: str

# ---- core: parsing, shapes, PAR, batches (src/python/reward.rs) ----------------------------
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

ERROR_KINDS: Tuple[Optional[str], ...]

class Judgement:
    score: Optional[float]
    choice: Optional[str]
    format_reward: float
    error: Optional[str]
    think: Optional[str]
    rubrics: List[str]
    eval: Optional[str]
    answer: Optional[str]
    def __init__(
        self,
        score: Optional[float],
        choice: Optional[str],
        format_reward: float,
        error: Optional[str],
        think: Optional[str],
        rubrics: List[str],
        eval: Optional[str],
        answer: Optional[str],
    ) -> None: ...
    @property
    def ok(self) -> bool: ...

def parse_judgement(text: str, *, pairwise: bool = ..., think_in_prompt: bool = ...) -> Judgement: ...
def parse_judgements(
    texts: Sequence[str], *, pairwise: bool = ..., think_in_prompt: bool = ..., num_threads: Optional[int] = ...
) -> Dict[str, np.ndarray]: ...

class Graded:
    def __init__(self, thresholds: Sequence[float] = ..., values: Sequence[float] = ...) -> None: ...
    @property
    def thresholds(self) -> Tuple[float, ...]: ...
    @property
    def values(self) -> Tuple[float, ...]: ...
    def __call__(self, delta: float) -> float: ...

class Constant:
    value: float
    def __init__(self, value: float = ...) -> None: ...
    def __call__(self, delta: float) -> float: ...

class SideRewards:
    def __init__(
        self,
        reward: Sequence[float],
        par: Sequence[float],
        format_reward: Sequence[float],
        score: Sequence[float],
        error_code: Sequence[int],
        mean: Optional[float],
    ) -> None: ...
    @property
    def reward(self) -> np.ndarray: ...
    @property
    def par(self) -> np.ndarray: ...
    @property
    def format_reward(self) -> np.ndarray: ...
    @property
    def score(self) -> np.ndarray: ...
    @property
    def error_code(self) -> np.ndarray: ...
    @property
    def mean(self) -> Optional[float]: ...
    def __len__(self) -> int: ...

class PairRewards:
    chosen: SideRewards
    rejected: SideRewards
    def __init__(self, chosen: SideRewards, rejected: SideRewards) -> None: ...
    @property
    def chosen_mean(self) -> Optional[float]: ...
    @property
    def rejected_mean(self) -> Optional[float]: ...

_Shape = Union[Graded, Constant, Callable[[float], float]]

def par_rewards(
    chosen: Sequence[str],
    rejected: Sequence[str],
    *,
    f: Optional[_Shape] = ...,
    think_in_prompt: bool = ...,
    num_threads: Optional[int] = ...,
) -> PairRewards: ...
def score_batch(
    texts: Sequence[str],
    pair_ids: Sequence[Union[str, int]],
    sides: Sequence[str],
    *,
    sources: Union[None, str, Sequence[str]] = ...,
    f: Optional[_Shape] = ...,
    pairwise: bool = ...,
    think_in_prompt: bool = ...,
    num_threads: Optional[int] = ...,
    correct_reward: float = ...,
    wrong_reward: float = ...,
) -> Dict[str, np.ndarray]: ...
def _memchr_count(texts: Sequence[str], *, num_threads: Optional[int] = ...) -> int: ...

# ---- end core ---------------------------------------------------------------------------------
