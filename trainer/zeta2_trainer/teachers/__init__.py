"""Teacher clients: frontier models behind the Anthropic Messages API or OpenAI-compatible Chat
Completions, with retries, bounded concurrency, a persistent cache and cost accounting.

    teacher = make_teacher(args)          # from the options `add_teacher_args` adds
    async with teacher:
        reply = await teacher.complete(Request(system, user))
"""

from __future__ import annotations

import argparse
import os

from .base import Reply, Request, RetryPolicy, Teacher, TeacherConfigError, TeacherError, Usage

PROVIDERS = ("anthropic", "openai")


def default_cache_path() -> str:
    import platformdirs

    return os.path.join(platformdirs.user_cache_dir("zeta2"), "teacher-cache.sqlite")


def add_teacher_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("teacher")
    group.add_argument("--provider", choices=PROVIDERS, default="anthropic", help="wire format (openai also covers vLLM, llama.cpp server, Ollama)")
    group.add_argument("--model", default=None, help="model name (default: claude-sonnet-4-5 / gpt-5)")
    group.add_argument("--base-url", default=None, help="API base URL (default: the provider's; e.g. http://localhost:11434/v1 for Ollama)")
    group.add_argument("--api-key-env", default=None, help="environment variable holding the key (default ANTHROPIC_API_KEY / OPENAI_API_KEY)")
    group.add_argument("--concurrency", type=int, default=16, help="requests in flight at most (default 16)")
    group.add_argument("--timeout", type=float, default=120.0, help="seconds per request before it is retried (default 120)")
    group.add_argument("--retries", type=int, default=6, help="tries per request on 429/5xx/timeouts (default 6)")
    group.add_argument("--backoff", type=float, default=1.0, help="first retry wait in seconds, doubled each retry (default 1)")
    group.add_argument("--max-tokens", type=int, default=4096, help="answer length limit in tokens (default 4096)")
    group.add_argument("--cache", default=None, help="SQLite response cache (default: the user cache folder's zeta2/teacher-cache.sqlite)")
    group.add_argument("--no-cache", action="store_true", help="always ask the teacher")
    group.add_argument("--price-in", type=float, default=None, help="USD per million input tokens, for the cost line")
    group.add_argument("--price-out", type=float, default=None, help="USD per million output tokens")


def make_teacher(args: argparse.Namespace) -> Teacher:
    """A teacher from the parsed options; TeacherConfigError names what is missing."""
    from . import anthropic, openai
    from .cache import ResponseCache

    if args.concurrency < 1:
        raise TeacherConfigError(f"--concurrency must be at least 1, got {args.concurrency}")
    module = anthropic if args.provider == "anthropic" else openai
    cls = anthropic.AnthropicTeacher if args.provider == "anthropic" else openai.OpenAITeacher
    model = args.model or ("claude-sonnet-4-5" if args.provider == "anthropic" else "gpt-5")
    base_url = args.base_url or module.DEFAULT_BASE_URL
    key_env = args.api_key_env or module.KEY_ENV
    api_key = os.environ.get(key_env) or None
    # Local OpenAI-compatible servers usually need no key; the hosted APIs always do.
    if api_key is None and (args.provider == "anthropic" or base_url == module.DEFAULT_BASE_URL):
        raise TeacherConfigError(f"the {args.provider} teacher needs an API key in the environment variable {key_env}")
    cache = None if args.no_cache else ResponseCache(args.cache or default_cache_path())
    teacher = cls(
        model,
        base_url=base_url,
        api_key=api_key,
        concurrency=args.concurrency,
        timeout=args.timeout,
        retry=RetryPolicy(attempts=max(1, args.retries), backoff=args.backoff),
        cache=cache,
    )
    if args.price_in is not None:
        teacher.usage.price_in = args.price_in
    if args.price_out is not None:
        teacher.usage.price_out = args.price_out
    return teacher


__all__ = [
    "PROVIDERS",
    "Reply",
    "Request",
    "RetryPolicy",
    "Teacher",
    "TeacherConfigError",
    "TeacherError",
    "Usage",
    "add_teacher_args",
    "make_teacher",
]
