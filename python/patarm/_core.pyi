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
    def __init__(self, text: str) -> None: ...
    @staticmethod
    def default(pairwise: bool = False) -> PromptTemplate: ...
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
