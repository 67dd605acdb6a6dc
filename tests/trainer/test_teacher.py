"""Teacher clients against the loopback server speaking the real Anthropic and OpenAI wire formats."""

from __future__ import annotations

import argparse
import asyncio

import pytest
from loopback import API_KEY, LoopbackServer

from zeta2_trainer.teachers import Request, TeacherConfigError, TeacherError, add_teacher_args, make_teacher
from zeta2_trainer.teachers.anthropic import AnthropicTeacher
from zeta2_trainer.teachers.base import RetryPolicy, parse_retry_after
from zeta2_trainer.teachers.cache import ResponseCache
from zeta2_trainer.teachers.openai import OpenAITeacher


def echo(system: str, user: str) -> str:
    return f"answer to: {user}"


def anthropic(server: LoopbackServer, **kw) -> AnthropicTeacher:
    kw.setdefault("retry", RetryPolicy(attempts=4, backoff=0.01))
    return AnthropicTeacher("claude-sonnet-4-5", base_url=server.anthropic_url, api_key=API_KEY, **kw)


def openai(server: LoopbackServer, **kw) -> OpenAITeacher:
    kw.setdefault("retry", RetryPolicy(attempts=4, backoff=0.01))
    return OpenAITeacher("gpt-5", base_url=server.openai_url, api_key=API_KEY, **kw)


async def ask(teacher, *prompts: str):
    async with teacher:
        return await asyncio.gather(*(teacher.complete(Request("be brief", p, max_tokens=64)) for p in prompts))


def test_anthropic_wire_format_and_usage():
    with LoopbackServer(echo) as server:
        teacher = anthropic(server)
        (reply,) = asyncio.run(ask(teacher, "hello"))
        assert reply.text == "answer to: hello" and reply.stop_reason == "end_turn" and not reply.cached
        assert server.state.violations == []
        (got,) = server.requests_to("/v1/messages")
        assert got.headers["x-api-key"] == API_KEY and got.headers["anthropic-version"] == "2023-06-01"
        assert got.body["model"] == "claude-sonnet-4-5" and got.body["max_tokens"] == 64
        assert got.body["system"] == "be brief" and got.body["messages"] == [{"role": "user", "content": "hello"}]
        assert teacher.usage.input_tokens == reply.input_tokens > 0 and teacher.usage.output_tokens == reply.output_tokens > 0
        # claude-sonnet-4-5: $3 in, $15 out per million tokens
        assert teacher.usage.cost_usd == pytest.approx((reply.input_tokens * 3 + reply.output_tokens * 15) / 1e6)


def test_openai_wire_format():
    with LoopbackServer(echo) as server:
        (reply,) = asyncio.run(ask(openai(server), "hi"))
        assert reply.text == "answer to: hi" and reply.stop_reason == "stop"
        (got,) = server.requests_to("/v1/chat/completions")
        assert got.headers["authorization"] == f"Bearer {API_KEY}"
        assert got.body["messages"] == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
        assert server.state.violations == []


@pytest.mark.parametrize("fault", ["429", "500", "529", "malformed", "timeout"])
@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_retries_transient_failures(provider, fault):
    with LoopbackServer(echo, faults=[fault, fault]) as server:
        # The client gives up after 1 s; the scripted timeout answers after 3 s. Only the "timeout" fault
        # should ever hit the limit, even on a busy machine.
        server.state.timeout_sleep = 3.0
        make = anthropic if provider == "anthropic" else openai
        teacher = make(server, timeout=1.0 if fault == "timeout" else 10.0)
        (reply,) = asyncio.run(ask(teacher, "x"))
        assert reply.text == "answer to: x"
        assert teacher.usage.retries == 2 and teacher.usage.requests == 3
        assert server.state.violations == []


def test_retry_after_is_honoured_over_backoff():
    # A 10 s backoff would time the test out; the server's retry-after: 0 makes the retry immediate.
    with LoopbackServer(echo, faults=["429"]) as server:
        teacher = anthropic(server, retry=RetryPolicy(attempts=2, backoff=10.0))
        (reply,) = asyncio.run(asyncio.wait_for(ask(teacher, "x"), timeout=5))
        assert reply.text == "answer to: x" and teacher.usage.retries == 1
    assert teacher._wait(0, 7.0) == 7.0
    assert parse_retry_after("3") == 3.0 and parse_retry_after(None) is None and parse_retry_after("soon") is None


def test_gives_up_after_the_attempts_and_refuses_bad_keys():
    with LoopbackServer(echo, faults=["500"] * 3) as server:
        with pytest.raises(TeacherError, match=r"anthropic HTTP 500: api_error: Internal server error \(gave up after 3 attempts\)"):
            asyncio.run(ask(anthropic(server, retry=RetryPolicy(attempts=3, backoff=0.01)), "x"))
    with LoopbackServer(echo) as server:
        teacher = AnthropicTeacher("m", base_url=server.anthropic_url, api_key="wrong", retry=RetryPolicy(attempts=3, backoff=0.01))
        with pytest.raises(TeacherError, match="anthropic HTTP 401: authentication_error: invalid x-api-key") as info:
            asyncio.run(ask(teacher, "x"))
        assert info.value.status == 401 and teacher.usage.requests == 1  # not retried
        assert server.state.violations == ["anthropic: missing or wrong x-api-key"]


def test_cache_hits_cost_no_requests_across_runs(tmp_path):
    path = tmp_path / "cache.sqlite"
    with LoopbackServer(echo) as server:
        first = anthropic(server, cache=ResponseCache(path))
        asyncio.run(ask(first, "a", "b"))
        assert len(server.state.received) == 2
        again = anthropic(server, cache=ResponseCache(path))
        replies = asyncio.run(ask(again, "a", "b"))
        assert len(server.state.received) == 2  # nothing new asked
        assert [r.cached for r in replies] == [True, True] and [r.text for r in replies] == ["answer to: a", "answer to: b"]
        assert again.usage.cache_hits == 2 and again.usage.requests == 0 and again.usage.cost_usd == 0
        # another model is another key
        other = AnthropicTeacher("claude-haiku-4-5", base_url=server.anthropic_url, api_key=API_KEY, cache=ResponseCache(path))
        asyncio.run(ask(other, "a"))
        assert len(server.state.received) == 3


def test_concurrency_is_bounded():
    with LoopbackServer(echo, latency=0.05) as server:
        teacher = openai(server, concurrency=4)
        replies = asyncio.run(ask(teacher, *[f"p{i}" for i in range(24)]))
        assert len(replies) == 24
        assert 2 <= server.state.max_in_flight <= 4


def test_keys_come_from_the_environment(monkeypatch, tmp_path):
    parser = argparse.ArgumentParser()
    add_teacher_args(parser)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(TeacherConfigError, match="the anthropic teacher needs an API key in the environment variable ANTHROPIC_API_KEY"):
        make_teacher(parser.parse_args(["--no-cache"]))
    with pytest.raises(TeacherConfigError, match="OPENAI_API_KEY"):
        make_teacher(parser.parse_args(["--provider", "openai", "--no-cache"]))
    # a local OpenAI-compatible server (Ollama, vLLM) needs no key
    local = make_teacher(parser.parse_args(["--provider", "openai", "--base-url", "http://localhost:11434/v1", "--model", "qwen", "--no-cache"]))
    assert local.api_key is None and local.concurrency == 16
    monkeypatch.setenv("MY_KEY", "k")
    keyed = make_teacher(parser.parse_args(["--api-key-env", "MY_KEY", "--cache", str(tmp_path / "c.sqlite")]))
    assert keyed.api_key == "k" and keyed.model == "claude-sonnet-4-5" and keyed.cache is not None


def test_a_rate_limit_pauses_every_request():
    """A 429 with retry-after: 0.6 holds back every request of the client, not only the one that got it."""
    with LoopbackServer(echo, faults=["429:0.6"]) as server:
        teacher = anthropic(server, concurrency=2, retry=RetryPolicy(attempts=3, backoff=0.01))
        replies = asyncio.run(ask(teacher, *"abcdefgh"))
        assert [r.text for r in replies] == [f"answer to: {p}" for p in "abcdefgh"]
        (limited,) = [r for r in server.state.received if r.fault]
        during = [r for r in server.state.received if limited.at < r.at < limited.at + 0.5]
        # the request in flight beside it, and at most one more that left before the client read the 429;
        # without the pause all six others would arrive in this window
        assert len(during) <= 2, [r.body["messages"][0]["content"] for r in during]
        assert teacher.usage.retries == 1


def test_openai_payload_for_the_hosted_api_and_local_servers():
    request = Request("s", "u", max_tokens=100)
    hosted = OpenAITeacher("gpt-5-mini", base_url="https://api.openai.com/v1", api_key="k").payload(request)
    assert hosted["max_completion_tokens"] == 100 and "max_tokens" not in hosted and "temperature" not in hosted
    older = OpenAITeacher("gpt-4.1", base_url="https://api.openai.com/v1", api_key="k").payload(request)
    assert older["max_completion_tokens"] == 100 and older["temperature"] == 0.0
    local = OpenAITeacher("gpt-5", base_url="http://localhost:8000/v1", api_key=None).payload(request)
    assert local["max_tokens"] == 100 and local["temperature"] == 0.0
