"""Type stubs for the native core, ``patarm._core`` (hand-written; keep in step with src/python/)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from os import PathLike
from typing import Any

import numpy as np
import numpy.typing as npt

__version__: str

# --- sampling (src/python/sampler.rs); the sampler classes are in patarm/sampling.py ---

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
def mean_vote_gaps(
    chosen_scores: npt.NDArray[np.float64],
    rejected_scores: npt.NDArray[np.float64],
    margin: float = 0.0,
    rounds: int | None = None,
    num_threads: int | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int8]]: ...
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

# --- prompts and rubrics (src/python/prompt.rs) ---------------------------------------------
_Prompt = str | Sequence[Mapping[str, Any]]
_PerRow = str | Sequence[str | None] | None

RUBRICS_PATH_ENV: str

class RubricError(ValueError): ...
class TemplateError(ValueError): ...

class Rubrics:
    def __init__(
        self,
        domain: str,
        criteria: Sequence[Mapping[str, Any]],
        aliases: Sequence[str] | None = None,
        task: str | None = None,
        source: str | None = None,
    ) -> None: ...
    @staticmethod
    def from_json(text: str, source: str = "<json>") -> Rubrics: ...
    def to_json(self) -> str: ...
    def render(self) -> str: ...
    @property
    def domain(self) -> str: ...
    @property
    def aliases(self) -> tuple[str, ...]: ...
    @property
    def task(self) -> str: ...
    @property
    def criteria(self) -> list[dict[str, Any]]: ...
    @property
    def source(self) -> str: ...
    def __eq__(self, other: object) -> bool: ...
    def __reduce__(self) -> tuple[Any, ...]: ...

class PromptTemplate:
    def __init__(self, text: str, answer_only: bool = False) -> None: ...
    @staticmethod
    def default(pairwise: bool = False) -> PromptTemplate: ...
    @staticmethod
    def baseline() -> PromptTemplate: ...
    @property
    def answer_only(self) -> bool: ...
    @property
    def text(self) -> str: ...
    @property
    def pairwise(self) -> bool: ...
    @property
    def slots(self) -> tuple[str, ...]: ...
    def __eq__(self, other: object) -> bool: ...
    def __reduce__(self) -> tuple[Any, ...]: ...

_RubricsArg = Rubrics | str | PathLike[str] | None
_TemplateArg = str | PromptTemplate | None

def load_rubrics(domain_or_path: str | PathLike[str], *, rubrics_dir: list[str] | None = None) -> Rubrics: ...
def rubric_domains(*, rubrics_dir: list[str] | None = None) -> list[str]: ...
def build_prompt(
    prompt: _Prompt,
    response: str,
    *,
    domain: str = "chat",
    rubrics: _RubricsArg = None,
    task: str | None = None,
    template: _TemplateArg = None,
    rubrics_dir: list[str] | None = None,
) -> str: ...
def build_pairwise_prompt(
    prompt: _Prompt,
    response_a: str,
    response_b: str,
    *,
    domain: str = "chat",
    rubrics: _RubricsArg = None,
    task: str | None = None,
    template: _TemplateArg = None,
    rubrics_dir: list[str] | None = None,
) -> str: ...
def build_prompts(
    prompts: Sequence[_Prompt],
    responses: Sequence[str],
    domains: _PerRow = None,
    *,
    rubrics: _RubricsArg = None,
    tasks: _PerRow = None,
    template: _TemplateArg = None,
    rubrics_dir: list[str] | None = None,
    num_threads: int | None = None,
) -> list[str]: ...
def build_pairwise_prompts(
    prompts: Sequence[_Prompt],
    responses_a: Sequence[str],
    responses_b: Sequence[str],
    domains: _PerRow = None,
    *,
    rubrics: _RubricsArg = None,
    tasks: _PerRow = None,
    template: _TemplateArg = None,
    rubrics_dir: list[str] | None = None,
    num_threads: int | None = None,
) -> list[str]: ...

# ---- core: parsing, shapes, PAR, batches (src/python/reward.rs) ----------------------------
ERROR_KINDS: tuple[str | None, ...]

class Judgement:
    score: float | None
    choice: str | None
    format_reward: float
    error: str | None
    think: str | None
    rubrics: list[str]
    eval: str | None
    answer: str | None
    def __init__(
        self,
        score: float | None,
        choice: str | None,
        format_reward: float,
        error: str | None,
        think: str | None,
        rubrics: list[str],
        eval: str | None,
        answer: str | None,
    ) -> None: ...
    @property
    def ok(self) -> bool: ...
    def _repr_html_(self) -> str: ...

def parse_judgement(
    text: str, *, pairwise: bool = ..., think_in_prompt: bool = ..., answer_only: bool = ...
) -> Judgement: ...
def parse_judgements(
    texts: Sequence[str],
    *,
    pairwise: bool = ...,
    think_in_prompt: bool = ...,
    num_threads: int | None = ...,
    answer_only: bool = ...,
) -> dict[str, np.ndarray]: ...

class Graded:
    def __init__(self, thresholds: Sequence[float] = ..., values: Sequence[float] = ...) -> None: ...
    @property
    def thresholds(self) -> tuple[float, ...]: ...
    @property
    def values(self) -> tuple[float, ...]: ...
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
        mean: float | None,
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
    def mean(self) -> float | None: ...
    def __len__(self) -> int: ...

class PairRewards:
    chosen: SideRewards
    rejected: SideRewards
    def __init__(self, chosen: SideRewards, rejected: SideRewards) -> None: ...
    @property
    def chosen_mean(self) -> float | None: ...
    @property
    def rejected_mean(self) -> float | None: ...

_Shape = Graded | Constant | Callable[[float], float]

def par_rewards(
    chosen: Sequence[str],
    rejected: Sequence[str],
    *,
    f: _Shape | None = ...,
    think_in_prompt: bool = ...,
    num_threads: int | None = ...,
    float32_safe: bool = ...,
) -> PairRewards: ...
def score_batch(
    texts: Sequence[str],
    pair_ids: Sequence[str | int],
    sides: Sequence[str],
    *,
    sources: None | str | Sequence[str] = ...,
    f: _Shape | None = ...,
    pairwise: bool = ...,
    think_in_prompt: bool = ...,
    num_threads: int | None = ...,
    correct_reward: float = ...,
    wrong_reward: float = ...,
    float32_safe: bool = ...,
    answer_only: bool = ...,
) -> dict[str, np.ndarray]: ...
def _memchr_count(texts: Sequence[str], *, num_threads: int | None = ...) -> int: ...

# ---- end core ---------------------------------------------------------------------------------

# --- decoding (verl helper) ------------------------------------------------------------------

class TokenDecoder:
    """A byte-level BPE decoding table (token id -> bytes), built from a tokenizer's JSON."""

    @staticmethod
    def from_tokenizer_json(json: str) -> TokenDecoder: ...
    @staticmethod
    def from_pieces(pieces: Sequence[bytes | None], special_ids: Sequence[int]) -> TokenDecoder: ...
    @property
    def vocab_size(self) -> int: ...
    def decode(self, ids: np.ndarray, *, skip_special_tokens: bool = ...) -> str: ...
    def decode_rows(
        self,
        ids: np.ndarray,
        lengths: np.ndarray,
        *,
        skip_special_tokens: bool = ...,
        num_threads: int | None = ...,
    ) -> list[str]: ...

def decode_and_score(
    decoder: TokenDecoder,
    ids: np.ndarray,
    lengths: np.ndarray,
    pair_ids: Sequence[object],
    sides: Sequence[str],
    sources: Sequence[str],
    shape: tuple,
    *,
    pairwise: bool = ...,
    think_in_prompt: bool = ...,
    num_threads: int | None = ...,
    float32_safe: bool = ...,
) -> dict[str, np.ndarray]: ...
