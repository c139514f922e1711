"""Judge prompts and task rubrics (docs/method.md §2).

The rubrics of a domain are JSON data files: five are built in (chat, math, code, safety,
instruction_following); your own domains live in files you pass by path, or in directories
named by ``rubrics_dir=`` or the ``PATARM_RUBRICS_PATH`` environment variable (searched before
the built-ins). The file format is described in ``rubrics/README.md``.

Prompts are built in Rust; the batch forms run in parallel with the GIL released.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from . import _core
from ._core import DEFAULT_DOMAIN, PromptTemplate, RubricError, Rubrics, TemplateError

__all__ = [
    "Rubrics",
    "PromptTemplate",
    "RubricError",
    "TemplateError",
    "RUBRICS_PATH_ENV",
    "load_rubrics",
    "rubric_domains",
    "build_prompt",
    "build_pairwise_prompt",
    "build_messages",
    "build_prompts",
    "build_pairwise_prompts",
    "TEMPLATE_NAMES",
    "resolve_template",
]

#: Environment variable listing rubric directories (separated like PATH), searched before the built-ins.
RUBRICS_PATH_ENV: str = _core.RUBRICS_PATH_ENV

PathLike = str | os.PathLike[str]
#: A prompt: plain text, or a conversation as chat messages ``{"role": ..., "content": ...}``.
PromptLike = str | Sequence[Mapping[str, Any]]
RubricsLike = Rubrics | PathLike
TemplateLike = str | PromptTemplate
RubricsDir = PathLike | Sequence[PathLike]


def _dirs(rubrics_dir: RubricsDir | None) -> list[str] | None:
    if rubrics_dir is None:
        return None
    if isinstance(rubrics_dir, (str, os.PathLike)):
        return [os.fspath(rubrics_dir)]
    return [os.fspath(d) for d in rubrics_dir]


def _rubrics(rubrics: RubricsLike | None) -> Rubrics | str | None:
    if isinstance(rubrics, os.PathLike):
        return os.fspath(rubrics)
    return rubrics


#: The built-in templates by name: ``"patarm"`` (the PaTaRM judge prompt, docs/method.md §2) and
#: ``"baseline"`` (general-purpose LLM judges, docs/method.md §6: parsed answer-only).
TEMPLATE_NAMES = ("patarm", "baseline")


def resolve_template(template: TemplateLike | None) -> PromptTemplate | None:
    """A ``PromptTemplate`` for ``template``: a built-in name (``"patarm"``, ``"baseline"``),
    template text, or a ``PromptTemplate``; ``None`` and ``"patarm"`` give ``None`` (the
    PaTaRM default of each kind). Template text is validated here (``TemplateError``)."""
    if template is None or isinstance(template, PromptTemplate):
        return template
    if not isinstance(template, str):
        raise TypeError(
            f"template must be one of {TEMPLATE_NAMES}, template text or a patarm.PromptTemplate, "
            f"not {type(template).__name__}"
        )
    if template == "patarm":
        return None
    if template == "baseline":
        return PromptTemplate.baseline()
    return PromptTemplate(template)


def _core_options(rubrics: RubricsLike | None, rubrics_dir: RubricsDir | None, **rest: Any) -> dict[str, Any]:
    """The keyword arguments of the core's prompt builders, with paths as plain strings and a
    built-in template name replaced by its template."""
    template = rest.get("template")
    if isinstance(template, str) and template in TEMPLATE_NAMES:
        rest["template"] = resolve_template(template)
    return dict(rest, rubrics=_rubrics(rubrics), rubrics_dir=_dirs(rubrics_dir))


def load_rubrics(domain_or_path: PathLike, *, rubrics_dir: RubricsDir | None = None) -> Rubrics:
    """The rubrics of a domain (name in any spelling, or an alias such as ``"if"``) or of a rubric file.

    Raises ``RubricError`` (a ``ValueError``) for an unknown domain, listing the known ones,
    or for an unreadable or invalid file, naming the file and the problem.
    """
    return _core.load_rubrics(os.fspath(domain_or_path), rubrics_dir=_dirs(rubrics_dir))


def rubric_domains(*, rubrics_dir: RubricsDir | None = None) -> list[str]:
    """Every known domain, sorted: the built-ins plus those in the user rubric directories."""
    return _core.rubric_domains(rubrics_dir=_dirs(rubrics_dir))


def build_prompt(
    prompt: PromptLike,
    response: str,
    *,
    domain: str | None = DEFAULT_DOMAIN,
    rubrics: RubricsLike | None = None,
    task: str | None = None,
    template: TemplateLike | None = None,
    rubrics_dir: RubricsDir | None = None,
) -> str:
    """The pointwise judge prompt for one response (the judge answers a score from 0 to 10).

    ``domain=None`` is ``DEFAULT_DOMAIN``, as in the batch forms. ``rubrics`` (a ``Rubrics``,
    domain name or file path) overrides ``domain``; ``task`` overrides the domain's task
    description; ``template`` is a ``PromptTemplate``, a template string with the slots
    ``{task} {rubrics} {domain} {prompt} {response}``, or a built-in name: ``"patarm"`` (the
    default) or ``"baseline"`` (the baseline-judge prompt of docs/method.md §6, whose
    judgements are parsed with ``answer_only=True``).
    """
    options = _core_options(rubrics, rubrics_dir, domain=domain, task=task, template=template)
    return _core.build_prompt(prompt, response, **options)


def build_pairwise_prompt(
    prompt: PromptLike,
    response_a: str,
    response_b: str,
    *,
    domain: str | None = DEFAULT_DOMAIN,
    rubrics: RubricsLike | None = None,
    task: str | None = None,
    template: TemplateLike | None = None,
    rubrics_dir: RubricsDir | None = None,
) -> str:
    """The pairwise judge prompt for responses A and B (the judge answers ``A`` or ``B``).

    A user template uses ``{response_a}`` and ``{response_b}`` instead of ``{response}``.
    """
    options = _core_options(rubrics, rubrics_dir, domain=domain, task=task, template=template)
    return _core.build_pairwise_prompt(prompt, response_a, response_b, **options)


def build_messages(
    prompt: PromptLike,
    response: str,
    *,
    response_b: str | None = None,
    domain: str | None = DEFAULT_DOMAIN,
    rubrics: RubricsLike | None = None,
    task: str | None = None,
    template: TemplateLike | None = None,
    system: str | None = None,
    rubrics_dir: RubricsDir | None = None,
) -> list[dict[str, str]]:
    """The judge prompt as the chat-message list verl datasets store in their ``prompt`` column.

    ``[{"role": "user", "content": <judge prompt>}]``, preceded by a system message when
    ``system`` is given. With ``response_b`` the prompt is pairwise (``response`` is A).
    """
    if response_b is None:
        content = build_prompt(
            prompt, response, domain=domain, rubrics=rubrics, task=task, template=template, rubrics_dir=rubrics_dir
        )
    else:
        content = build_pairwise_prompt(
            prompt,
            response,
            response_b,
            domain=domain,
            rubrics=rubrics,
            task=task,
            template=template,
            rubrics_dir=rubrics_dir,
        )
    messages: list[dict[str, str]] = []
    if system is not None:
        if not isinstance(system, str):
            raise TypeError(f"system must be a str or None, not {type(system).__name__}")
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": content})
    return messages


def build_prompts(
    prompts: Sequence[PromptLike],
    responses: Sequence[str],
    domains: str | Sequence[str | None] | None = DEFAULT_DOMAIN,
    *,
    rubrics: RubricsLike | None = None,
    tasks: str | Sequence[str | None] | None = None,
    template: TemplateLike | None = None,
    rubrics_dir: RubricsDir | None = None,
    num_threads: int | None = None,
) -> list[str]:
    """Pointwise judge prompts for a batch, built in parallel in Rust with the GIL released.

    ``domains`` and ``tasks`` are one value for all rows or one per row (``None`` entries take
    the default). Each distinct domain's rubrics are loaded once. ``num_threads`` (or
    ``PATARM_NUM_THREADS``) bounds the threads.
    """
    options = _core_options(rubrics, rubrics_dir, tasks=tasks, template=template, num_threads=num_threads)
    return _core.build_prompts(prompts, responses, domains, **options)


def build_pairwise_prompts(
    prompts: Sequence[PromptLike],
    responses_a: Sequence[str],
    responses_b: Sequence[str],
    domains: str | Sequence[str | None] | None = DEFAULT_DOMAIN,
    *,
    rubrics: RubricsLike | None = None,
    tasks: str | Sequence[str | None] | None = None,
    template: TemplateLike | None = None,
    rubrics_dir: RubricsDir | None = None,
    num_threads: int | None = None,
) -> list[str]:
    """Pairwise judge prompts for a batch (the batch form of ``build_pairwise_prompt``)."""
    options = _core_options(rubrics, rubrics_dir, tasks=tasks, template=template, num_threads=num_threads)
    return _core.build_pairwise_prompts(prompts, responses_a, responses_b, domains, **options)
