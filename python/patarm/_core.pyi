"""Type stubs for the native core, ``patarm._core`` (hand-written; keep in step with src/python/).

Checked against the built extension by ``python -m mypy.stubtest patarm._core`` (scripts/test.sh).
The classes are PyO3 classes: final, built by ``__new__``, their fields read-only properties."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from os import PathLike
from typing import Any, ClassVar, final

import numpy as np
import numpy.typing as npt

__all__ = [
    "__version__",
    "DEFAULT_DOMAIN",
    "ERROR_KINDS",
    "VERDICT_LABELS",
    "Judgement",
    "Graded",
    "Constant",
    "SideRewards",
    "PairRewards",
    "parse_judgement",
    "parse_judgements",
    "par_rewards",
    "score_batch",
    "pair_permutation",
    "resolve_pair_num_samples",
    "random_pair_indices",
    "distributed_pair_indices",
    "distributed_pair_len",
    "check_pair_batch_size",
    "read_int64",
    "read_seed",
    "read_epoch",
    "group_par_arrays",
    "mean_vote_rows",
    "majority_vote_counts",
    "mean_vote_gaps",
    "majority_vote_verdict_counts",
    "RubricError",
    "TemplateError",
    "RUBRICS_PATH_ENV",
    "Rubrics",
    "PromptTemplate",
    "load_rubrics",
    "rubric_domains",
    "build_prompt",
    "build_pairwise_prompt",
    "build_prompts",
    "build_pairwise_prompts",
    "TokenDecoder",
    "decode_and_score",
]

__version__: str

# --- sampling (src/python/sampler.rs); the sampler classes are in patarm/sampling.py ---

def pair_permutation(num_rows: int, seed: int, epoch: int) -> npt.NDArray[np.int64]: ...
def resolve_pair_num_samples(num_rows: int, num_samples: int | None = None) -> int: ...
def random_pair_indices(
    num_rows: int, seed: int, epoch: int, num_samples: int | None = None, replacement: bool = False
) -> npt.NDArray[np.int64]: ...
def distributed_pair_indices(
    num_rows: int, num_replicas: int, rank: int, seed: int, epoch: int, shuffle: bool = True, drop_last: bool = False
) -> npt.NDArray[np.int64]: ...
def distributed_pair_len(num_rows: int, num_replicas: int, rank: int, drop_last: bool = False) -> int: ...
def check_pair_batch_size(
    batch_size: int,
    *,
    name: str | None = None,
    repeats: int | None = None,  # None: "batch_size", 1
) -> None: ...
def read_int64(value: int, name: str) -> int: ...
def read_seed(value: int, name: str = "seed") -> int: ...
def read_epoch(value: int, name: str = "epoch") -> int: ...

# --- group-relative PAR for policy groups (src/python/group_par.rs); typed API: patarm/rewards.py ---
def group_par_arrays(
    scores: npt.NDArray[np.float64],
    groups: npt.NDArray[np.int64],
    *,
    f: Any = None,
    float32_safe: bool = False,
    num_threads: int | None = None,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...

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

VERDICT_LABELS: tuple[str, ...]

# --- prompts and rubrics (src/python/prompt.rs) ---------------------------------------------
_Prompt = str | Sequence[Mapping[str, Any]]
_PerRow = str | Sequence[str | None] | None

RUBRICS_PATH_ENV: str

class RubricError(ValueError): ...
class TemplateError(ValueError): ...

@final
class Rubrics:
    def __new__(
        cls,
        domain: str,
        criteria: Sequence[Mapping[str, Any]],
        aliases: Sequence[str] | None = None,
        task: str | None = None,
        source: str | None = None,
    ) -> Rubrics: ...
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
    def __eq__(self, other: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]
    def __reduce__(self) -> tuple[Any, ...]: ...

@final
class PromptTemplate:
    def __new__(cls, text: str, answer_only: bool = False) -> PromptTemplate: ...
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
    def __eq__(self, other: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]
    def __reduce__(self) -> tuple[Any, ...]: ...

_RubricsArg = Rubrics | str | PathLike[str] | None
_TemplateArg = str | PromptTemplate | None

def load_rubrics(domain_or_path: str | PathLike[str], *, rubrics_dir: list[str] | None = None) -> Rubrics: ...
def rubric_domains(*, rubrics_dir: list[str] | None = None) -> list[str]: ...
def build_prompt(
    prompt: _Prompt,
    response: str,
    *,
    domain: str | None = None,  # None: DEFAULT_DOMAIN
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
    domain: str | None = None,  # None: DEFAULT_DOMAIN
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

# ---- core: parsing, shapes, PAR, batches (src/python/{parse,shapes,pair,scores}.rs) ----------------------------
DEFAULT_DOMAIN: str
ERROR_KINDS: tuple[str | None, ...]

@final
class Judgement:
    def __new__(
        cls,
        score: float | None,
        choice: str | None,
        format_reward: float,
        error: str | None,
        think: str | None,
        rubrics: list[str],
        eval: str | None,
        answer: str | None,
    ) -> Judgement: ...
    @property
    def score(self) -> float | None: ...
    @property
    def choice(self) -> str | None: ...
    @property
    def format_reward(self) -> float: ...
    @property
    def error(self) -> str | None: ...
    @property
    def think(self) -> str | None: ...
    @property
    def rubrics(self) -> list[str]: ...
    @property
    def eval(self) -> str | None: ...
    @property
    def answer(self) -> str | None: ...
    @property
    def ok(self) -> bool: ...
    def __eq__(self, other: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]
    def __reduce__(self) -> tuple[Any, ...]: ...
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

@final
class Graded:
    def __new__(cls, thresholds: Sequence[float] = ..., values: Sequence[float] = ...) -> Graded: ...
    @property
    def thresholds(self) -> tuple[float, ...]: ...
    @property
    def values(self) -> tuple[float, ...]: ...
    def __call__(self, delta: float) -> float: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, ...]: ...

@final
class Constant:
    def __new__(cls, value: float = ...) -> Constant: ...
    @property
    def value(self) -> float: ...
    def __call__(self, delta: float) -> float: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, ...]: ...

@final
class SideRewards:
    def __new__(
        cls,
        reward: Sequence[float],
        par: Sequence[float],
        format_reward: Sequence[float],
        score: Sequence[float],
        error_code: Sequence[int],
        mean: float | None,
    ) -> SideRewards: ...
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
    def __reduce__(self) -> tuple[Any, ...]: ...

@final
class PairRewards:
    def __new__(cls, chosen: SideRewards, rejected: SideRewards) -> PairRewards: ...
    @property
    def chosen(self) -> SideRewards: ...
    @property
    def rejected(self) -> SideRewards: ...
    def __reduce__(self) -> tuple[Any, ...]: ...
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

# ---- end core ---------------------------------------------------------------------------------

# --- decoding (verl helper) ------------------------------------------------------------------

@final
class TokenDecoder:
    """A byte-level BPE decoding table (token id -> bytes), built from a tokenizer's JSON."""

    @staticmethod
    def from_tokenizer_json(json: str) -> TokenDecoder: ...
    @staticmethod
    def from_pieces(pieces: Sequence[bytes | None], special_ids: Sequence[int]) -> TokenDecoder: ...
    @property
    def vocab_size(self) -> int: ...
    def __reduce__(self) -> tuple[Any, ...]: ...
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
    sources: None | str | Sequence[str],
    *,
    f: Graded | Constant | None = ...,
    pairwise: bool = ...,
    think_in_prompt: bool = ...,
    num_threads: int | None = ...,
    float32_safe: bool = ...,
) -> dict[str, np.ndarray]: ...
