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
from os import PathLike
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

_Prompt = Union[str, Sequence[Mapping[str, Any]]]
_RubricsArg = Union["Rubrics", str, "PathLike[str]", None]
_TemplateArg = Union[str, "PromptTemplate", None]
_PerRow = Union[str, Sequence[Optional[str]], None]

RUBRICS_PATH_ENV: str

class RubricError(ValueError): ...
class TemplateError(ValueError): ...

class Rubrics:
    def __init__(
        self,
        domain: str,
        criteria: Sequence[Mapping[str, Any]],
        aliases: Optional[Sequence[str]] = None,
        task: Optional[str] = None,
        source: Optional[str] = None,
    ) -> None: ...
    @staticmethod
    def from_json(text: str, source: str = "<json>") -> Rubrics: ...
    def to_json(self) -> str: ...
    def render(self) -> str: ...
    @property
    def domain(self) -> str: ...
    @property
    def aliases(self) -> Tuple[str, ...]: ...
    @property
    def task(self) -> str: ...
    @property
    def criteria(self) -> List[Dict[str, Any]]: ...
    @property
    def source(self) -> str: ...
    def __eq__(self, other: object) -> bool: ...
    def __reduce__(self) -> Tuple[Any, ...]: ...

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
    def slots(self) -> Tuple[str, ...]: ...
    def __eq__(self, other: object) -> bool: ...
    def __reduce__(self) -> Tuple[Any, ...]: ...

def load_rubrics(domain_or_path: Union[str, "PathLike[str]"], *, rubrics_dir: Optional[List[str]] = None) -> Rubrics: ...
def rubric_domains(*, rubrics_dir: Optional[List[str]] = None) -> List[str]: ...
def build_prompt(
    prompt: _Prompt,
    response: str,
    *,
    domain: str = "chat",
    rubrics: _RubricsArg = None,
    task: Optional[str] = None,
    template: _TemplateArg = None,
    rubrics_dir: Optional[List[str]] = None,
) -> str: ...
def build_pairwise_prompt(
    prompt: _Prompt,
    response_a: str,
    response_b: str,
    *,
    domain: str = "chat",
    rubrics: _RubricsArg = None,
    task: Optional[str] = None,
    template: _TemplateArg = None,
    rubrics_dir: Optional[List[str]] = None,
) -> str: ...
def build_prompts(
    prompts: Sequence[_Prompt],
    responses: Sequence[str],
    domains: _PerRow = None,
    *,
    rubrics: _RubricsArg = None,
    tasks: _PerRow = None,
    template: _TemplateArg = None,
    rubrics_dir: Optional[List[str]] = None,
    num_threads: Optional[int] = None,
) -> List[str]: ...
def build_pairwise_prompts(
    prompts: Sequence[_Prompt],
    responses_a: Sequence[str],
    responses_b: Sequence[str],
    domains: _PerRow = None,
    *,
    rubrics: _RubricsArg = None,
    tasks: _PerRow = None,
    template: _TemplateArg = None,
    rubrics_dir: Optional[List[str]] = None,
    num_threads: Optional[int] = None,
) -> List[str]: ...
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
    def _repr_html_(self) -> str: ...

def parse_judgement(
    text: str, *, pairwise: bool = ..., think_in_prompt: bool = ..., answer_only: bool = ...
) -> Judgement: ...
def parse_judgements(
    texts: Sequence[str],
    *,
    pairwise: bool = ...,
    think_in_prompt: bool = ...,
    num_threads: Optional[int] = ...,
    answer_only: bool = ...,
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
    float32_safe: bool = ...,
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
    float32_safe: bool = ...,
    answer_only: bool = ...,
) -> Dict[str, np.ndarray]: ...
def _memchr_count(texts: Sequence[str], *, num_threads: Optional[int] = ...) -> int: ...

# ---- end core ---------------------------------------------------------------------------------

# --- decoding (verl helper) ------------------------------------------------------------------
import numpy as _np
from typing import Optional as _Optional, Sequence as _Sequence

class TokenDecoder:
    """A byte-level BPE decoding table (token id -> bytes), built from a tokenizer's JSON."""

    @staticmethod
    def from_tokenizer_json(json: str) -> TokenDecoder: ...
    @staticmethod
    def from_pieces(pieces: _Sequence[_Optional[bytes]], special_ids: _Sequence[int]) -> TokenDecoder: ...
    @property
    def vocab_size(self) -> int: ...
    def decode(self, ids: _np.ndarray, *, skip_special_tokens: bool = ...) -> str: ...
    def decode_rows(
        self,
        ids: _np.ndarray,
        lengths: _np.ndarray,
        *,
        skip_special_tokens: bool = ...,
        num_threads: _Optional[int] = ...,
    ) -> list[str]: ...

def decode_and_score(
    decoder: TokenDecoder,
    ids: _np.ndarray,
    lengths: _np.ndarray,
    pair_ids: _Sequence[object],
    sides: _Sequence[str],
    sources: _Sequence[str],
    shape: tuple,
    *,
    pairwise: bool = ...,
    think_in_prompt: bool = ...,
    num_threads: _Optional[int] = ...,
    float32_safe: bool = ...,
) -> dict[str, _np.ndarray]: ...
