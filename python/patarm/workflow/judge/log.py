"""Judging runs that survive a crash, and what a user sees while they run.

A :class:`JudgementLog` is an append-only JSON-lines file. Every chat-completions reply is
appended as one line the moment it arrives::

    {"id": "12", "side": "chosen", "style": 1, "rounds": [0, 1, 2, 3], "request": "9f2c...",
     "judgements": ["<think>...", ...]}

keyed by the item (``id``), the side (``side``, plus ``style`` / ``index`` / ``order`` where the
benchmark has several responses per side), the rounds the reply's judgements fill, and the
request hash (:func:`request_hash`: model, messages and sampling parameters, not ``n``). A
resumed run reuses the rounds whose key and hash match and asks the server only for the rest.

Each line goes out in one ``write`` on a file opened with ``O_APPEND``, so a killed process
leaves at most its last line torn. Opening a log detects a torn last line (no final newline,
or not JSON), drops it and truncates the file back to the last whole line before appending.

Rows of a log are also a judgements file: ``patarm evaluate --judgements LOG`` reads them
(rounds placed by ``rounds``, the last reply for a round wins).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
import time
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

PathLike = Union[str, "os.PathLike[str]"]
SlotKey = tuple[str, str, str]  # (id, side, position within the side: style / index / order)
POSITION_FIELDS = ("style", "index", "order")


def request_hash(payload: Mapping[str, Any]) -> str:
    """A short hash of a chat-completions request without ``n``: the same model, messages and
    sampling parameters give the same judgements distribution, whatever n was asked."""
    body = {k: v for k, v in payload.items() if k != "n"}
    blob = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:20]


def slot_key(record: Mapping[str, Any]) -> SlotKey:
    position = next((record[f] for f in POSITION_FIELDS if record.get(f) is not None), "")
    return str(record.get("id")), str(record.get("side", "")), str(position)


class JudgementLog:
    """An append-only, crash-safe judgements log (see the module doc).

    ``resume=True`` keeps the judgements already in the file (a torn last line is dropped and
    cut off); ``resume=False`` starts the file afresh."""

    def __init__(self, path: PathLike, *, resume: bool = True) -> None:
        self.path = os.fspath(path)
        self.resume = resume
        self.dropped_lines = 0  # torn or unreadable lines found on opening
        self._done: dict[tuple[SlotKey, str], dict[int, str]] = {}
        parent = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(parent):
            raise FileNotFoundError(f"cannot write the judgements log {self.path}: no folder {parent}")
        if resume and os.path.exists(self.path):
            self._recover()
        else:
            with open(self.path, "wb"):
                pass
        self._fd: int | None = None

    def __repr__(self) -> str:
        return f"JudgementLog({self.path!r}, done={self.num_done})"

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_fd"] = None  # file descriptors do not travel; reopened on the next append
        return state

    @property
    def num_done(self) -> int:
        """Judgements in the log (each round counted once)."""
        return sum(len(rounds) for rounds in self._done.values())

    def _recover(self) -> None:
        from ..data.io import DataError

        with open(self.path, "rb") as handle:
            data = handle.read()
        end = data.rfind(b"\n") + 1  # bytes after the last newline: a torn write
        good_end = 0  # the end of the last readable line
        lines = list(_lines(data[:end]))
        for number, (start, line) in enumerate(lines, 1):
            try:
                record = json.loads(line)
            except (ValueError, RecursionError):
                if number < len(lines):
                    # Only the last write can be torn by a kill: garbage before it is another file.
                    raise DataError(
                        f"{self.path}:{number}: unreadable line inside the judgements log (only "
                        "the last line can be torn by a crash); pass a new path"
                    ) from None
                self.dropped_lines += 1  # torn last line: its judgements are requested again
                continue
            try:
                self._remember(record)
            except (KeyError, TypeError, ValueError, AttributeError):
                # Whole JSON that is no log record: the wrong file; never cut it.
                raise DataError(
                    f"{self.path}:{number}: not a judgements log line (needs id, side, rounds, "
                    "request, judgements); pass a new path or a log written by patarm"
                ) from None
            good_end = start + len(line) + 1
        if good_end < len(data):
            # Cut off the torn tail so that appending starts on a fresh line.
            self.dropped_lines += end < len(data)
            with open(self.path, "r+b") as handle:
                handle.truncate(good_end)
        if self.dropped_lines:
            warnings.warn(
                f"{self.path}: dropped {self.dropped_lines} torn or unreadable line(s); "
                "their judgements are requested again",
                RuntimeWarning,
                stacklevel=3,
            )

    def _remember(self, record: dict[str, Any]) -> None:
        rounds, texts = record["rounds"], record["judgements"]
        if not isinstance(rounds, list) or len(rounds) != len(texts) or not all(isinstance(t, str) for t in texts):
            raise ValueError("rounds and judgements differ")
        bucket = self._done.setdefault((slot_key(record), str(record["request"])), {})
        for round_index, text in zip(rounds, texts, strict=True):
            bucket[int(round_index)] = text

    def done(self, slot: Mapping[str, Any], request: str) -> dict[int, str]:
        """The judgements already logged for a slot and request hash, by round."""
        return dict(self._done.get((slot_key(slot), request), {}))

    def append(self, slot: Mapping[str, Any], request: str, rounds: Sequence[int], texts: Sequence[str]) -> None:
        """Log one reply: one JSON line, written with a single ``write`` (``O_APPEND``)."""
        record = dict(slot)
        record.update(rounds=list(rounds), request=request, judgements=list(texts))
        data = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        self._remember(record)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


def _lines(data: bytes):
    start = 0
    while start < len(data):
        stop = data.index(b"\n", start)
        yield start, data[start:stop]
        start = stop + 1


def open_log(cache: None | PathLike | JudgementLog) -> JudgementLog | None:
    """A ``cache=`` argument as a log: a path is opened (resuming), a log is used as it is."""
    if cache is None or isinstance(cache, JudgementLog):
        return cache
    if not isinstance(cache, (str, os.PathLike)):
        raise TypeError(
            f"cache must be a file path (a .jsonl judgements log) or a JudgementLog, not {type(cache).__name__}"
        )
    return JudgementLog(cache, resume=True)


# --------------------------------------------------------------------------------------------
# Progress and statistics


@dataclass
class JudgingStats:
    """What a judging run did: requests sent, judgements received and reused from a log,
    seconds, and (after parsing) the invalid judgements by error kind."""

    judgements: int = 0  # judgements used in the results (received + reused)
    received: int = 0
    reused: int = 0
    requests: int = 0
    seconds: float = 0.0
    invalid: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    failed: int = 0  # responses whose requests failed for good (``failures="mask"``)

    @property
    def judgements_per_second(self) -> float:
        return self.received / self.seconds if self.seconds > 0 else float("nan")

    @property
    def invalid_share(self) -> float:
        return self.invalid / self.judgements if self.judgements else float("nan")

    def count_errors(self, error_kinds: Sequence[str | None]) -> None:
        kinds = Counter(kind for kind in error_kinds if kind is not None)
        self.invalid = sum(kinds.values())
        self.error_kinds = dict(kinds.most_common())

    def to_dict(self) -> dict[str, Any]:
        rate = self.judgements_per_second
        return {
            "judgements": self.judgements,
            "received": self.received,
            "reused_from_log": self.reused,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "judgements_per_second": None if rate != rate else round(rate, 3),
            "invalid": self.invalid,
            "invalid_share": None if not self.judgements else self.invalid / self.judgements,
            "error_kinds": dict(self.error_kinds),
            "failed_responses": self.failed,
        }

    def summary(self) -> str:
        """One line for the terminal."""
        rate = self.judgements_per_second
        line = f"judged {self.received} judgements in {self.requests} requests, {self.seconds:.1f} s" + (
            f" ({rate:.1f} judgements/s)" if self.received and rate == rate else ""
        )
        if self.reused:
            line += f"; {self.reused} reused from the log"
        if self.judgements:
            line += f"; invalid {self.invalid}/{self.judgements} ({100 * self.invalid / self.judgements:.1f}%)"
            if self.error_kinds:
                line += ": " + ", ".join(f"{kind} {count}" for kind, count in self.error_kinds.items())
        return line


class LineProgress:
    """The progress bar's fallback without tqdm: a line on stderr every ``interval`` seconds."""

    def __init__(
        self, total: int, *, initial: int = 0, desc: str = "judging", interval: float = 10.0, stream=None
    ) -> None:
        self.total, self.n, self.start_n = total, initial, initial
        self.desc, self.interval = desc, interval
        self.stream = stream if stream is not None else sys.stderr
        self.started = self.last = time.monotonic()

    def update(self, count: int = 1) -> None:
        self.n += count
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.last = now
            self._line(now)

    def _line(self, now: float) -> None:
        elapsed = max(now - self.started, 1e-9)
        rate = (self.n - self.start_n) / elapsed
        eta = f"{(self.total - self.n) / rate:.0f}s" if rate > 0 else "?"
        print(f"{self.desc}: {self.n}/{self.total} judgements ({rate:.1f}/s, ETA {eta})", file=self.stream, flush=True)

    def close(self) -> None:
        self._line(time.monotonic())


def make_progress(show: bool, total: int, initial: int, desc: str):
    """A tqdm bar (judgements, with rate and ETA) or, without tqdm, periodic stderr lines."""
    if not show:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return LineProgress(total, initial=initial, desc=desc)
    return tqdm(total=total, initial=initial, desc=desc, unit="judgement", leave=False, smoothing=0.1)


# --------------------------------------------------------------------------------------------
# Logged sampling


async def sample_logged(
    judge,
    messages_list: Sequence[list[dict[str, str]]],
    slots: Sequence[Mapping[str, Any]] | None,
    log: JudgementLog | None,
    *,
    show_progress: bool = False,
    desc: str = "judging",
    failures: str = "raise",
) -> tuple[list[list[str] | None], JudgingStats]:
    """``judge.n`` judgements per prompt, in round order. Rounds already in ``log`` (same slot,
    same request hash) are reused; every reply is appended to the log as it arrives. ``slots``
    name each prompt's item in the log (None: :func:`occurrence_slots`). A request that fails
    after its retries raises :class:`JudgeError` (``failures="raise"``) or, with
    ``failures="mask"``, makes its prompt's entry None (counted in ``stats.failed``) while the
    other prompts go on."""
    if failures not in ("raise", "mask"):
        raise ValueError(f"failures={failures!r}; use 'raise' or 'mask'")
    n = judge.n
    stats = JudgingStats(judgements=n * len(messages_list))
    payloads = [judge._payload(messages, 1) for messages in messages_list]
    have: list[dict[int, str]] = [{} for _ in payloads]
    hashes: list[str] = []
    log_slots: Sequence[Mapping[str, Any]] = ()
    if log is not None:  # hashing only when there is a log to key
        hashes = [request_hash(p) for p in payloads]
        log_slots = occurrence_slots(hashes) if slots is None else slots
        if len(log_slots) != len(payloads):
            raise ValueError(f"got {len(log_slots)} log slots for {len(payloads)} prompts")
        for bucket, slot, digest in zip(have, log_slots, hashes, strict=True):
            bucket.update((r, t) for r, t in log.done(slot, digest).items() if r < n)
    stats.reused = sum(len(h) for h in have)
    bar = make_progress(show_progress, n * len(messages_list), stats.reused, desc)
    started = time.monotonic()

    async def post(index: int, rounds: list[int]) -> list[int]:
        """One request for ``rounds``; returns the rounds it did not fill (capped n)."""
        payload = dict(payloads[index], n=len(rounds))
        texts = (await judge._post(payload))[: len(rounds)]
        stats.requests += 1
        filled = rounds[: len(texts)]
        if log is not None and texts:
            log.append(log_slots[index], hashes[index], filled, texts)
        have[index].update(zip(filled, texts, strict=True))
        stats.received += len(texts)
        if bar is not None:
            bar.update(len(texts))
        return rounds[len(texts) :]

    async def one(index: int) -> list[str] | None:
        if failures == "raise":
            return await rounds_of(index)
        from .client import JudgeError

        try:
            return await rounds_of(index)
        except JudgeError:
            stats.failed += 1
            return None

    async def rounds_of(index: int) -> list[str]:
        missing = [r for r in range(n) if r not in have[index]]
        if missing and judge.use_n:
            missing = await post(index, missing)
        while missing:  # single-sample requests (use_n=False, or the server ignored/capped n)
            left = await asyncio.gather(*(post(index, [r]) for r in missing))
            missing = [r for rest in left for r in rest]
        return [have[index][r] for r in range(n)]

    tasks = [asyncio.ensure_future(one(i)) for i in range(len(messages_list))]
    try:
        lists = await asyncio.gather(*tasks)
    except BaseException:
        # A request that failed for good (or a cancel) stops the others: what arrived is logged.
        for task in tasks:
            task.cancel()
        raise
    finally:
        stats.seconds = time.monotonic() - started
        if bar is not None:
            bar.close()
    return list(lists), stats


def occurrence_slots(payload_keys: Sequence[str]) -> list[dict[str, Any]]:
    """Slots for a cache without item ids: the k-th identical request of a call is occurrence
    k, so a cache hit never depends on the position in the input lists."""
    seen: dict[str, int] = {}
    slots = []
    for key in payload_keys:
        k = seen.get(key, 0)
        seen[key] = k + 1
        slots.append({"id": k, "side": "cache"})
    return slots


__all__ = ["JudgementLog", "JudgingStats", "open_log", "request_hash", "sample_logged"]
