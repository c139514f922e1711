"""A trained PaTaRM judge behind an OpenAI-compatible chat-completions server (vLLM, SGLang).

``Judge`` builds the pointwise judge prompt (domain rubrics), samples ``n`` judgements per
response, and parses and votes in the Rust core: mean voting for single responses, mean and
majority voting for pairs (docs/method.md §6). Requests run concurrently (bounded by
``max_concurrency``) and are retried with exponential backoff on connection errors, timeouts,
HTTP 429 and 5xx. Servers that ignore ``n`` (or cap it) are topped up with more requests.

Pairwise judges (the A/B prompt, both orders) use ``acompare_pairwise_many``
(:mod:`patarm.workflow.judge.pairwise`). ``cache=`` makes any ``*_many`` call resumable: replies go to an
append-only judgements log as they arrive (:mod:`patarm.workflow.judge.log`).

The API is async (``ascore``, ``acompare``, ``ascore_many``, ``acompare_many``) with sync
wrappers (``score``, ``compare``, ...) that also work inside Jupyter's running event loop.
Results keep the raw judgement texts; ``Results.to_pandas()`` gives a DataFrame
(:mod:`patarm.workflow.judge.results`). The connection pools and the reading of replies are in
:mod:`patarm.workflow.judge.transport`.

Needs ``httpx`` (``pip install 'patarm[judge]'``), imported lazily.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import random
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

from ..._core import DEFAULT_DOMAIN
from ..._optional import require_httpx
from .results import PairResult, Results, ScoreResult, pair_results, score_results
from .transport import RETRY_STATUS, LoopState, choice_texts, open_pools, retry_after_seconds

T = TypeVar("T")


class JudgeError(ConnectionError):
    """The judge server could not be reached, refused a request, or kept failing after all
    retries (a ``ConnectionError``, so the CLI reports it as one clear line)."""


# --------------------------------------------------------------------------------------------
# Running coroutines from sync code


def run_sync(awaitable_factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from sync code. Inside a running event loop (Jupyter,
    an async framework) it runs on a fresh loop in a worker thread instead of failing."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(awaitable_factory())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(awaitable_factory())).result()


# --------------------------------------------------------------------------------------------
# The client


class Judge:
    """A PaTaRM judge served over an OpenAI-compatible ``/v1/chat/completions`` endpoint.

    ``base_url`` is the server root with or without ``/v1`` (``http://host:8000/v1``).
    ``n`` judgements are sampled per response. ``use_n=False`` sends ``n`` single-sample
    requests instead of one request with ``n``; with ``use_n=True`` a server that returns fewer
    choices than asked is topped up with further requests.

    ``template`` picks the judge prompt: ``"patarm"`` (default, the PaTaRM template with the
    domain rubrics), ``"baseline"`` (a general-purpose LLM as judge, docs/method.md §6: it
    rates 1 to 10 in ``<answer>`` and its judgements are parsed answer-only), template text, or
    a ``PromptTemplate`` (parsed answer-only when its ``answer_only`` is set). Voting and
    results are the same for every template, so baselines and PaTaRM judges compare directly.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        n: int = 8,
        domain: str = DEFAULT_DOMAIN,
        rubrics: Any = None,
        temperature: float = 1.0,
        top_p: float | None = None,
        max_tokens: int | None = 4096,
        max_concurrency: int = 32,
        timeout: float = 600.0,
        max_retries: int = 4,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        api_key: str | None = None,
        use_n: bool = True,
        think_in_prompt: bool = False,
        extra_body: dict[str, Any] | None = None,
        template: Any = None,
    ) -> None:
        from ...prompts import resolve_template

        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        if not _is_int(n) or n < 1:
            raise ValueError(f"n must be a positive int (judgements per response), got {n!r}")
        if not _is_int(max_concurrency) or max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1 (an int: requests in flight), got {max_concurrency!r}")
        if max_retries < 0 or backoff < 0 or timeout <= 0:
            raise ValueError("max_retries and backoff must be >= 0 and timeout > 0")
        root = base_url.rstrip("/")
        self.base_url = root
        self.url = root + ("/chat/completions" if root.endswith("/v1") else "/v1/chat/completions")
        self.model = model
        self.n = n
        self.domain = domain
        self.rubrics = rubrics
        self.temperature = temperature
        self.top_p = top_p
        self.max_tokens = max_tokens
        self.max_concurrency = max_concurrency
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.api_key = api_key
        self.use_n = use_n
        self.think_in_prompt = think_in_prompt
        self.extra_body = dict(extra_body or {})
        self.template = resolve_template(template)
        if self.template is not None and self.template.pairwise:
            raise ValueError(
                "template must be a pointwise template ({response} slot): Judge scores one response at a time"
            )
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopState] = weakref.WeakKeyDictionary()

    # -- pickling: the HTTP clients belong to event loops and are rebuilt on first use.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_states", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._states = weakref.WeakKeyDictionary()

    @property
    def answer_only(self) -> bool:
        """Judgements are parsed answer-only (a baseline-judge template)."""
        return self.template is not None and self.template.answer_only

    def __repr__(self) -> str:
        template = (
            ", template='baseline'"
            if self.template == _baseline_template()
            else (", template=custom" if self.template is not None else "")
        )
        return f"Judge(model={self.model!r}, url={self.url!r}, n={self.n}, domain={self.domain!r}{template})"

    # -- transport ---------------------------------------------------------------------------

    def _state(self) -> LoopState:
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None:
            state = open_pools(
                require_httpx(),
                self.url,
                api_key=self.api_key,
                timeout=self.timeout,
                max_concurrency=self.max_concurrency,
            )
            self._states[loop] = state
        return state

    async def aclose(self) -> None:
        """Close this event loop's HTTP connections (the sync API does this itself)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        state = self._states.pop(loop, None)
        if state is not None:
            await asyncio.gather(*(client.aclose() for client in state.clients))

    async def __aenter__(self) -> Judge:
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.aclose()

    def _payload(self, messages: list[dict[str, str]], n: int) -> dict[str, Any]:
        payload: dict[str, Any] = {"model": self.model, "messages": messages, "n": n, "temperature": self.temperature}
        if self.top_p is not None:
            payload["top_p"] = self.top_p
        if self.max_tokens is not None:
            payload["max_tokens"] = self.max_tokens
        payload.update(self.extra_body)
        return payload

    async def _post(self, payload: dict[str, Any]) -> list[str]:
        """One chat-completions request, retried with backoff; returns the choices' texts."""
        httpx = require_httpx()
        state = self._state()
        last_problem = "no attempt made"
        retry_after: float | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)
                if retry_after is not None:  # the server said when to come back (429 / 503)
                    delay = min(self.max_backoff, max(delay, retry_after))
                await asyncio.sleep(delay)
                retry_after = None
            try:
                async with state.semaphore:
                    slot = state.free_slots.pop()
                    try:
                        state.requests += 1
                        response = await state.clients[slot].post(self.url, json=payload)
                    finally:
                        state.free_slots.append(slot)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                last_problem = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code in RETRY_STATUS:
                last_problem = f"HTTP {response.status_code}: {response.text[:200]}"
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
                continue
            if response.status_code >= 400:
                raise JudgeError(
                    f"{self.url} answered HTTP {response.status_code} (not retried): {response.text[:500]}"
                )
            try:
                return choice_texts(response.json())
            except (ValueError, KeyError, TypeError) as exc:
                last_problem = f"malformed chat-completions body ({exc}): {response.text[:200]}"
                continue
        raise JudgeError(f"{self.url} failed after {self.max_retries + 1} attempts; last: {last_problem}")

    async def sample(self, messages: list[dict[str, str]], n: int | None = None) -> list[str]:
        """``n`` judgement texts for one judge prompt (raw, unparsed)."""
        n = self.n if n is None else n
        if not self.use_n:
            batches = await asyncio.gather(*(self._post(self._payload(messages, 1)) for _ in range(n)))
            return [text for batch in batches for text in batch[:1]]
        texts = await self._post(self._payload(messages, n))
        while len(texts) < n:
            # The server ignored or capped n: ask for the rest with single-sample requests.
            missing = n - len(texts)
            batches = await asyncio.gather(*(self._post(self._payload(messages, 1)) for _ in range(missing)))
            texts.extend(text for batch in batches for text in batch[:1])
        return texts[:n]

    # -- scoring -----------------------------------------------------------------------------

    async def ascore_many(
        self,
        prompts: Sequence[str],
        responses: Sequence[str],
        *,
        domains: Sequence[str] | None = None,
        rubrics: Any = None,
        show_progress: bool = False,
        cache: Any = None,
        failures: str = "raise",
        _slots: Sequence[dict[str, Any]] | None = None,
    ) -> Results:
        """Score many responses concurrently; one ``ScoreResult`` each, in input order.

        ``failures``: a request that fails after its retries raises :class:`JudgeError`
        (``"raise"``, the default) or, with ``"mask"``, gives its response a result with no
        judgements and ``failed=True`` (counted in ``Results.stats.failed``).

        ``cache``: a judgements log path (``.jsonl``): every reply is appended as it arrives and
        judgements already there for the same request are reused, so an interrupted call costs
        only what was left (see :mod:`patarm.workflow.judge.log`). ``show_progress``: a progress bar
        (tqdm; periodic stderr lines without it). ``Results.stats`` tells requests, judgements
        per second and the invalid judgements by error kind."""
        prompts, responses = list(prompts), list(responses)
        if len(prompts) != len(responses):
            raise ValueError(f"got {len(prompts)} prompts but {len(responses)} responses; pass one prompt per response")
        domains = [self.domain] * len(prompts) if domains is None else list(domains)
        if len(domains) != len(prompts):
            raise ValueError(f"got {len(domains)} domains for {len(prompts)} responses; pass one per response or none")
        rubrics = self.rubrics if rubrics is None else rubrics
        from ..data.prepare import judge_prompt_texts

        texts = judge_prompt_texts(
            prompts, responses, domains, rubrics=rubrics, template=self.template
        )  # one Rust batch
        messages = [[{"role": "user", "content": text}] for text in texts]
        from .log import JudgementLog, open_log, sample_logged

        log = open_log(cache)
        try:
            judgement_lists, stats = await sample_logged(
                self, messages, _slots, log, show_progress=show_progress, failures=failures
            )
        finally:
            if log is not None and not isinstance(cache, JudgementLog):
                log.close()
        results = Results(
            score_results(
                prompts,
                responses,
                domains,
                judgement_lists,
                think_in_prompt=self.think_in_prompt,
                answer_only=self.answer_only,
            )
        )
        stats.count_errors([kind for result in results for kind in result.errors])
        results.stats = stats
        return results

    async def ascore(
        self, prompt: str, response: str, *, domain: str | None = None, rubrics: Any = None
    ) -> ScoreResult:
        """Score one response: ``n`` judgements, mean-voted."""
        results = await self.ascore_many([prompt], [response], domains=[domain or self.domain], rubrics=rubrics)
        return results[0]

    async def acompare_many(
        self,
        prompts: Sequence[str],
        chosen: Sequence[str],
        rejected: Sequence[str],
        *,
        domains: Sequence[str] | None = None,
        rubrics: Any = None,
        show_progress: bool = False,
        cache: Any = None,
    ) -> Results:
        """Judge many (chosen, rejected) pairs; one ``PairResult`` each with mean and majority votes.
        ``cache``: a judgements log, as :meth:`ascore_many`."""
        prompts, chosen, rejected = list(prompts), list(chosen), list(rejected)
        if not (len(prompts) == len(chosen) == len(rejected)):
            raise ValueError(
                f"prompts, chosen and rejected differ in length ({len(prompts)}, {len(chosen)}, {len(rejected)})"
            )
        domains = None if domains is None else list(domains) * 2
        scored = await self.ascore_many(
            prompts * 2, chosen + rejected, domains=domains, rubrics=rubrics, show_progress=show_progress, cache=cache
        )
        results = Results(pair_results(scored[: len(prompts)], scored[len(prompts) :]))
        results.stats = scored.stats
        return results

    async def acompare(
        self, prompt: str, chosen: str, rejected: str, *, domain: str | None = None, rubrics: Any = None
    ) -> PairResult:
        """Judge one pair."""
        results = await self.acompare_many(
            [prompt], [chosen], [rejected], domains=[domain or self.domain], rubrics=rubrics
        )
        return results[0]

    # -- pairwise ----------------------------------------------------------------------------

    async def acompare_pairwise_many(
        self,
        prompts: Sequence[str],
        chosen: Sequence[str],
        rejected: Sequence[str],
        *,
        domains: Sequence[str] | None = None,
        rubrics: Any = None,
        show_progress: bool = False,
        cache: Any = None,
        _slots: Sequence[dict[str, Any]] | None = None,
    ):
        """A pairwise judge on many (chosen, rejected) pairs: the A/B prompt, ``n`` judgements in
        both orders (position swap), mean and majority votes and position consistency
        (:mod:`patarm.workflow.judge.pairwise`). ``cache``: a judgements log, as :meth:`ascore_many`."""
        from .pairwise import acompare_pairwise_many

        return await acompare_pairwise_many(
            self,
            prompts,
            chosen,
            rejected,
            domains=domains,
            rubrics=rubrics,
            show_progress=show_progress,
            cache=cache,
            _slots=_slots,
        )

    async def acompare_pairwise(
        self, prompt: str, chosen: str, rejected: str, *, domain: str | None = None, rubrics: Any = None
    ):
        """Judge one pair with the pairwise prompt, in both orders."""
        results = await self.acompare_pairwise_many(
            [prompt], [chosen], [rejected], domains=[domain or self.domain], rubrics=rubrics
        )
        return results[0]

    # -- sync wrappers -----------------------------------------------------------------------

    def _sync(self, factory: Callable[[], Awaitable[T]]) -> T:
        async def main() -> T:
            try:
                return await factory()
            finally:
                await self.aclose()

        return run_sync(main)

    def score(self, prompt: str, response: str, **kwargs) -> ScoreResult:
        """Sync form of :meth:`ascore`."""
        return self._sync(lambda: self.ascore(prompt, response, **kwargs))

    def score_many(self, prompts: Sequence[str], responses: Sequence[str], **kwargs) -> Results:
        """Sync form of :meth:`ascore_many`."""
        return self._sync(lambda: self.ascore_many(prompts, responses, **kwargs))

    def compare(self, prompt: str, chosen: str, rejected: str, **kwargs) -> PairResult:
        """Sync form of :meth:`acompare`."""
        return self._sync(lambda: self.acompare(prompt, chosen, rejected, **kwargs))

    def compare_many(self, prompts: Sequence[str], chosen: Sequence[str], rejected: Sequence[str], **kwargs) -> Results:
        """Sync form of :meth:`acompare_many`."""
        return self._sync(lambda: self.acompare_many(prompts, chosen, rejected, **kwargs))

    def compare_pairwise(self, prompt: str, chosen: str, rejected: str, **kwargs):
        """Sync form of :meth:`acompare_pairwise`."""
        return self._sync(lambda: self.acompare_pairwise(prompt, chosen, rejected, **kwargs))

    def compare_pairwise_many(self, prompts: Sequence[str], chosen: Sequence[str], rejected: Sequence[str], **kwargs):
        """Sync form of :meth:`acompare_pairwise_many`."""
        return self._sync(lambda: self.acompare_pairwise_many(prompts, chosen, rejected, **kwargs))


def _baseline_template():
    from ...prompts import PromptTemplate

    return PromptTemplate.baseline()


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


__all__ = ["Judge", "JudgeError", "run_sync"]
