"""Preference pairs read from user files, validated with errors that name the exact spot.

A pair file has one record per pair: ``prompt``, ``chosen``, ``rejected`` and optionally
``domain``, ``source``, ``id`` and ``rubrics`` (a rubric file for this row). Column names are
mapped with :class:`Columns`. A prompt may be a string or a chat-message list; ``chosen`` and
``rejected`` may be strings or whole conversations (Skywork style, where the prompt is the
conversation minus its last assistant turn).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..._core import DEFAULT_DOMAIN
from .io import DataError, PathLike, Record, progress, read_records

MAX_REPORTED_ERRORS = 20


@dataclass(frozen=True)
class Columns:
    """Which input field holds what (``--prompt-key`` etc. on the command line)."""

    prompt: str = "prompt"
    chosen: str = "chosen"
    rejected: str = "rejected"
    domain: str = "domain"
    source: str = "source"
    id: str = "id"
    rubrics: str = "rubrics"


@dataclass(frozen=True)
class PreferencePair:
    """One validated preference pair, with the prompt rendered as text."""

    pair_id: str
    prompt: str
    chosen: str
    rejected: str
    domain: str
    source: str | None = None
    rubrics: str | None = None  # a rubric file for this row, else the domain's rubrics
    where: str = ""

    def __repr__(self) -> str:
        return f"PreferencePair(pair_id={self.pair_id!r}, domain={self.domain!r}, where={self.where!r})"


def render_messages(messages: Sequence[Any], where: str, key: str) -> str:
    """A chat-message list as the judge sees it: a lone user turn is its text; longer
    conversations keep their roles so the judge can follow who said what."""
    turns: list[tuple[str, str]] = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or "content" not in message:
            raise DataError(f"{where}: field {key!r} message {index} must be an object with 'role' and 'content'")
        content = message["content"]
        if not isinstance(content, str):
            raise DataError(f"{where}: field {key!r} message {index} content must be a string")
        turns.append((str(message.get("role", "user")), content))
    if not turns:
        raise DataError(f"{where}: field {key!r} is an empty message list")
    if len(turns) == 1 and turns[0][0] == "user":
        return turns[0][1]
    return "\n\n".join(f"[{role}]\n{content}" for role, content in turns)


def _as_text(value: Any, where: str, key: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return render_messages(value, where, key)
    raise DataError(f"{where}: field {key!r} must be a string or a list of chat messages, got {type(value).__name__}")


def _split_conversation(value: Any, where: str, key: str) -> tuple[list[Any] | None, str]:
    """A response given as a conversation: (the turns before the last, the last turn's text)."""
    if not value or not isinstance(value[-1], dict) or not isinstance(value[-1].get("content"), str):
        raise DataError(f"{where}: field {key!r}: the last message must have string 'content'")
    if value[-1].get("role", "assistant") != "assistant":
        raise DataError(f"{where}: field {key!r}: the last message must be the assistant's response")
    return list(value[:-1]), value[-1]["content"]


def pair_from_record(
    record: Record,
    where: str,
    index: int,
    *,
    columns: Columns = Columns(),
    default_domain: str = DEFAULT_DOMAIN,
    base_dir: Path | None = None,
) -> PreferencePair:
    """Validate one input record and turn it into a :class:`PreferencePair`."""
    texts: dict[str, str] = {}
    context: list[Any] | None = None
    for role, key in (("chosen", columns.chosen), ("rejected", columns.rejected)):
        if key not in record or record[key] is None:
            raise DataError(f"{where}: missing field {key!r} (the {role} response; map it with --{role}-key)")
        value = record[key]
        if isinstance(value, (list, tuple)):
            turns, value = _split_conversation(value, where, key)
            context = context or turns
        if not isinstance(value, str):
            raise DataError(f"{where}: field {key!r} must be a string, got {type(value).__name__}")
        if not value.strip():
            raise DataError(f"{where}: field {key!r} is an empty response")
        texts[role] = value
    if texts["chosen"].strip() == texts["rejected"].strip():
        raise DataError(
            f"{where}: fields {columns.chosen!r} and {columns.rejected!r} are identical; "
            "a preference pair needs two different responses"
        )

    if record.get(columns.prompt) is not None:
        prompt = _as_text(record[columns.prompt], where, columns.prompt)
    elif context:
        prompt = render_messages(context, where, columns.chosen)
    else:
        raise DataError(f"{where}: missing field {columns.prompt!r} (the prompt; map it with --prompt-key)")
    if not prompt.strip():
        raise DataError(f"{where}: field {columns.prompt!r} is empty")

    domain = record.get(columns.domain)
    if domain is None or domain == "":
        domain = default_domain
    if not isinstance(domain, str):
        raise DataError(f"{where}: field {columns.domain!r} must be a string, got {type(domain).__name__}")
    source = record.get(columns.source)
    source = None if source is None else str(source)

    rubrics = record.get(columns.rubrics)
    if rubrics is not None:
        if not isinstance(rubrics, str) or not rubrics.strip():
            raise DataError(f"{where}: field {columns.rubrics!r} must be a rubric file path")
        path = Path(rubrics)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        rubrics = str(path)

    pair_id = record.get(columns.id)
    pair_id = str(index) if pair_id is None else str(pair_id)
    return PreferencePair(
        pair_id=pair_id,
        prompt=prompt,
        chosen=texts["chosen"],
        rejected=texts["rejected"],
        domain=domain,
        source=source,
        rubrics=rubrics,
        where=where,
    )


@dataclass
class _ErrorLog:
    messages: list[str] = field(default_factory=list)
    count: int = 0

    def add(self, message: str) -> None:
        self.count += 1
        if len(self.messages) < MAX_REPORTED_ERRORS:
            self.messages.append(message)

    def raise_if_any(self, path: PathLike) -> None:
        if not self.count:
            return
        more = self.count - len(self.messages)
        tail = f"\n  ... and {more} more" if more > 0 else ""
        noun = "problem" if self.count == 1 else "problems"
        raise DataError(f"{path}: {self.count} {noun}; nothing was written:\n  " + "\n  ".join(self.messages) + tail)


def load_pairs(
    path: PathLike,
    *,
    columns: Columns = Columns(),
    default_domain: str = DEFAULT_DOMAIN,
    check_domain=None,
    show_progress: bool = True,
) -> list[PreferencePair]:
    """Read and validate every pair of a file. All problems are reported together (up to
    20) in one :class:`DataError`; ``check_domain(pair)`` may raise ``ValueError`` to reject a
    pair whose domain or rubric file is unusable."""
    path = Path(path)
    records = read_records(path)
    errors = _ErrorLog()
    pairs: list[PreferencePair] = []
    seen: dict[str, str] = {}
    iterable = progress(records, desc="reading pairs") if show_progress else records
    for index, (where, record) in enumerate(iterable):
        try:
            pair = pair_from_record(
                record, where, index, columns=columns, default_domain=default_domain, base_dir=path.parent
            )
            if check_domain is not None:
                try:
                    check_domain(pair)
                except DataError:
                    raise
                except (ValueError, OSError) as exc:
                    blamed = columns.rubrics if pair.rubrics else columns.domain
                    raise DataError(f"{where}: field {blamed!r}: {exc}") from None
            key = f"{pair.source}\x00{pair.pair_id}"
            if key in seen:
                raise DataError(
                    f"{where}: field {columns.id!r}: pair id {pair.pair_id!r} repeats {seen[key]}; ids must be unique"
                )
            seen[key] = where
            pairs.append(pair)
        except DataError as exc:
            errors.add(str(exc))
    errors.raise_if_any(path)
    if not pairs:
        raise DataError(f"{path}: no preference pairs found")
    return pairs


__all__ = ["Columns", "PreferencePair", "load_pairs", "pair_from_record", "render_messages"]
