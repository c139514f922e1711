"""The judge client's HTTP transport: connection pools per event loop, which replies to retry,
and the judgement texts of a chat-completions body. httpx is passed in (imported on first use
by the client)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

# Replies worth another try (after a backoff): timeouts, conflicts, rate limits, server errors.
RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})

# Connections per httpx client. httpcore's pool scans all its connections on every request
# start and end (and, for each idle one, all of them again), so one pool of 256 connections
# costs far more CPU per request than 32 pools of 8: the judge spreads its connections over
# several clients (benches/bench_judge_client.py measures it).
POOL_SHARD_CONNECTIONS = 8


@dataclass
class LoopState:
    """One event loop's HTTP clients and the slots that bound the requests in flight."""

    clients: list[Any]
    semaphore: asyncio.Semaphore
    free_slots: list[int]  # one per request allowed in flight, naming its client
    requests: int = 0

    @property
    def client(self) -> Any:
        return self.clients[0]


def open_pools(httpx: Any, url: str, *, api_key: str | None, timeout: float, max_concurrency: int) -> LoopState:
    """One event loop's HTTP clients: ``max_concurrency`` connections spread over clients of
    ``POOL_SHARD_CONNECTIONS``, one slot per request allowed in flight."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    shards = -(-max_concurrency // POOL_SHARD_CONNECTIONS)
    slots = [i % shards for i in range(max_concurrency)]
    tls = shared_tls(httpx, url)
    clients = [
        httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            headers=headers,
            limits=httpx.Limits(max_connections=slots.count(shard)),
            verify=tls,
        )
        for shard in range(shards)
    ]
    # Slots are taken last-in first-out: a lightly loaded judge keeps reusing one client's
    # warm connections instead of opening one per client.
    return LoopState(clients=clients, semaphore=asyncio.Semaphore(max_concurrency), free_slots=slots[::-1])


def shared_tls(httpx: Any, url: str) -> Any:
    """One TLS setting for all of a judge's pools: loading the CA bundle costs ~50 ms per
    client, so an https judge builds one context; plain HTTP never uses TLS (nothing to load)."""
    if url.startswith("http://"):
        return False
    make = getattr(httpx, "create_ssl_context", None)
    return make() if make is not None else True


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (None when absent or not a number of seconds)."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to exponential backoff


def choice_texts(body: dict[str, Any]) -> list[str]:
    """The texts of a chat-completions body. A reasoning parser (vLLM ``--reasoning-parser``)
    moves the think block into ``reasoning_content``; it is put back so the judgement parses."""
    choices = body["choices"]
    if not isinstance(choices, list) or not choices:
        raise ValueError("no choices")
    texts = []
    for choice in sorted(choices, key=lambda c: c.get("index", 0)):
        message = choice["message"]
        content = message.get("content") or ""
        reasoning = message.get("reasoning_content") or message.get("reasoning")
        if reasoning and "<think>" not in content:
            content = f"<think>{reasoning}</think>{content}"
        texts.append(content)
    return texts


__all__ = [
    "POOL_SHARD_CONNECTIONS",
    "RETRY_STATUS",
    "LoopState",
    "choice_texts",
    "open_pools",
    "retry_after_seconds",
    "shared_tls",
]
