"""What every teacher client shares: the request, the reply, retries, bounded concurrency, the cache,
token and cost accounting.

A provider module (anthropic.py, openai.py) only knows its wire format: how to build the HTTP request
and how to read a success or error body. `Teacher.complete` does the rest:

* at most `concurrency` requests in flight (an asyncio semaphore);
* retries on 429, 5xx (and Anthropic's 529), timeouts and connection errors, with exponential
  backoff (`backoff * 2**attempt`, capped), honouring `retry-after` when the server sends it; the wait
  pauses every request of the client (an outage or a rate limit is not per request), then all resume;
* a persistent cache keyed by (model, prompt): a hit costs no request;
* usage: requests, cache hits, retries, input/output tokens, and cost from per-million-token prices.
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from ..errors import UserError


class TeacherError(Exception):
    """A request failed for good (after retries, or with an error that retrying cannot fix)."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False):
        super().__init__(message)
        self.status = status
        self.retryable = retryable


class TeacherConfigError(UserError):
    """A missing API key, an unknown provider: the user must fix the setup."""


@dataclass(frozen=True)
class Request:
    system: str
    user: str
    max_tokens: int = 4096
    temperature: float = 0.0

    def cache_prompt(self) -> str:
        """The prompt as the cache sees it: everything that changes the answer except the model."""
        return json.dumps(
            {"system": self.system, "user": self.user, "max_tokens": self.max_tokens, "temperature": self.temperature},
            ensure_ascii=False,
            sort_keys=True,
        )


@dataclass(frozen=True)
class Reply:
    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    stop_reason: str = ""
    cached: bool = False


@dataclass
class Usage:
    """Token and cost accounting for one run (cache hits cost nothing)."""

    requests: int = 0
    cache_hits: int = 0
    retries: int = 0
    failures: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    price_in: float = 0.0  # USD per million input tokens
    price_out: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def cost_usd(self) -> float:
        return (self.input_tokens * self.price_in + self.output_tokens * self.price_out) / 1e6

    def line(self) -> str:
        return (
            f"requests {self.requests}, cache hits {self.cache_hits}, retries {self.retries}, "
            f"tokens in {self.input_tokens} out {self.output_tokens}, cost ${self.cost_usd:.4f}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "cache_hits": self.cache_hits,
            "retries": self.retries,
            "failures": self.failures,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": round(self.cost_usd, 6),
        }


# Prices (USD per million tokens, input/output) of some models, for the cost line; override with
# --price-in/--price-out. Unknown models cost 0 (local servers).
KNOWN_PRICES: dict[str, tuple[float, float]] = {
    "claude-sonnet-4-5": (3.0, 15.0),
    "claude-opus-4-1": (15.0, 75.0),
    "claude-haiku-4-5": (1.0, 5.0),
    "gpt-5": (1.25, 10.0),
    "gpt-5-mini": (0.25, 2.0),
    "gpt-4.1": (2.0, 8.0),
}

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


@dataclass
class RetryPolicy:
    attempts: int = 6  # total tries per request
    backoff: float = 1.0  # first wait, seconds; doubles each retry
    max_wait: float = 60.0
    jitter: float = 0.1  # +- fraction, so parallel retries do not stampede


class Teacher:
    """A frontier model behind an HTTP API. Subclasses implement `_send` for their wire format."""

    provider = "base"

    def __init__(
        self,
        model: str,
        *,
        base_url: str,
        api_key: str | None,
        concurrency: int = 16,
        timeout: float = 120.0,
        retry: RetryPolicy | None = None,
        cache: Any = None,
        usage: Usage | None = None,
    ):
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.concurrency = concurrency
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.cache = cache
        prices = KNOWN_PRICES.get(model, (0.0, 0.0))
        self.usage = usage or Usage(price_in=prices[0], price_out=prices[1])
        self._semaphore: asyncio.Semaphore | None = None
        self._client = None
        self._clients: list[Any] = []
        self._rng = random.Random(0)
        # An outage or a rate limit pauses every request of this client, not just the one that saw it.
        self._paused_until = 0.0

    # -- the provider's part ----------------------------------------------------------------------

    async def _send(self, client: Any, request: Request) -> Reply:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- shared machinery --------------------------------------------------------------------------

    async def __aenter__(self) -> Teacher:
        import ssl

        import certifi
        import httpx

        # One client (one keep-alive connection) per request slot rather than one pool of `concurrency`
        # connections: httpcore's pool scans every connection (quadratically) each time a request
        # starts or ends, which cost more CPU per example than the whole prompt rendering. The slots
        # share one TLS context (loading the CA bundle is ~50 ms each).
        tls = ssl.create_default_context(cafile=certifi.where())
        self._clients = [
            httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout),
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                verify=tls,
            )
            for _ in range(self.concurrency)
        ]
        self._client = self._clients[0]  # kept for callers that only check the teacher is open
        self._semaphore = asyncio.Semaphore(self.concurrency)
        return self

    async def __aexit__(self, *exc: object) -> None:
        clients, self._clients, self._client = self._clients, [], None
        for client in clients:
            await client.aclose()

    async def complete(self, request: Request) -> Reply:
        """The teacher's answer to `request`, from the cache when it has it."""
        key_prompt = request.cache_prompt()
        if self.cache is not None:
            hit = self.cache.get(self.model, key_prompt)
            if hit is not None:
                self.usage.cache_hits += 1
                return hit
        assert self._semaphore is not None and self._client is not None, "use `async with teacher:`"
        async with self._semaphore:
            client = self._clients.pop()  # the semaphore guarantees a free one
            try:
                reply = await self._with_retries(request, client)
            finally:
                self._clients.append(client)
        self.usage.input_tokens += reply.input_tokens
        self.usage.output_tokens += reply.output_tokens
        if self.cache is not None:
            self.cache.put(self.model, key_prompt, reply)
        return reply

    async def _with_retries(self, request: Request, client: Any) -> Reply:
        import httpx

        last: TeacherError | None = None
        for attempt in range(self.retry.attempts):
            if attempt:
                self.usage.retries += 1
            self.usage.requests += 1
            retry_after: float | None = None
            pause = self._paused_until - asyncio.get_running_loop().time()
            if pause > 0:
                await asyncio.sleep(pause)
            try:
                return await self._send(client, request)
            except RetryAfter as exc:
                last, retry_after = exc.error, exc.seconds
            except TeacherError as exc:
                if not exc.retryable:
                    self.usage.failures += 1
                    raise
                last = exc
            except httpx.TimeoutException as exc:
                last = TeacherError(f"{self.provider} request timed out after {self.timeout:g}s ({type(exc).__name__})", retryable=True)
            except httpx.TransportError as exc:
                last = TeacherError(f"{self.provider} connection failed: {exc}", retryable=True)
            self.usage.errors[str(last)] = self.usage.errors.get(str(last), 0) + 1
            if attempt + 1 < self.retry.attempts:
                wait = self._wait(attempt, retry_after)
                loop_time = asyncio.get_running_loop().time()
                self._paused_until = max(self._paused_until, loop_time + wait)
                await asyncio.sleep(max(0.0, self._paused_until - loop_time))
        self.usage.failures += 1
        assert last is not None
        raise TeacherError(f"{last} (gave up after {self.retry.attempts} attempts)", status=last.status)

    def _wait(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry.max_wait)
        wait = min(self.retry.backoff * (2**attempt), self.retry.max_wait)
        return wait * (1 + self._rng.uniform(-self.retry.jitter, self.retry.jitter))


class RetryAfter(Exception):
    """A retryable HTTP error whose response said how long to wait."""

    def __init__(self, error: TeacherError, seconds: float | None):
        super().__init__(str(error))
        self.error = error
        self.seconds = seconds


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a `retry-after` header (seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    from datetime import datetime
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def check_status(provider: str, response: Any, error_message: str) -> None:
    """Raises the right error for a non-2xx response: retryable (with retry-after) or final."""
    status = response.status_code
    if 200 <= status < 300:
        return
    message = f"{provider} HTTP {status}: {error_message}"
    if status in RETRY_STATUSES:
        seconds = parse_retry_after(response.headers.get("retry-after"))
        # OpenAI also sends retry-after-ms on some endpoints
        ms = response.headers.get("retry-after-ms")
        if seconds is None and ms:
            try:
                seconds = float(ms) / 1000
            except ValueError:
                seconds = None
        raise RetryAfter(TeacherError(message, status=status, retryable=True), seconds)
    raise TeacherError(message, status=status, retryable=False)


def json_body(provider: str, response: Any) -> Any:
    """The response's JSON; a malformed body is a retryable error (a proxy hiccup, a cut stream)."""
    try:
        return response.json()
    except ValueError:
        snippet = response.text[:80].replace("\n", " ")
        raise TeacherError(f"{provider} sent malformed JSON (HTTP {response.status_code}): {snippet!r}", status=response.status_code, retryable=True) from None
