"""Redaction of secret-looking strings before anything is written.

    redact(text) -> str                      # every secret replaced by "<redacted:KIND>"
    find_secrets(text) -> list[(start, end, kind)]
    redact_example(example) -> Example       # before, expected, events, related, meta; cursor moved along

Patterns (real formats): AWS access key ids and secret keys, GitHub/GitLab/Slack/npm/PyPI/Hugging
Face/Stripe/OpenAI/Anthropic/Google API tokens, JWTs, PEM/OpenSSH/PGP private key blocks,
passwords in URLs (`scheme://user:password@host`), and `password = "…"`-style assignments of
secret-named variables. False positives cost a little training signal; false negatives leak a
secret, so the patterns err on the side of redacting.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from zeta2_capture.schema import Event, Example, Related

# (kind, pattern, group whose span is redacted — 0 for the whole match)
_PATTERNS: list[tuple[str, re.Pattern[str], int]] = [
    ("private-key", re.compile(
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)",
        re.DOTALL), 0),
    ("aws-access-key-id", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b"), 0),
    ("aws-secret-access-key", re.compile(
        r"(?i)aws.{0,20}?(?:secret|private)?.{0,20}?[\"'=:\s]\s*[\"']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"), 1),
    ("github-token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b"), 0),
    ("gitlab-token", re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}\b"), 0),
    ("slack-token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"), 0),
    ("slack-webhook", re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+"), 0),
    ("npm-token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"), 0),
    ("pypi-token", re.compile(r"\bpypi-[A-Za-z0-9_\-]{50,}\b"), 0),
    ("huggingface-token", re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"), 0),
    ("stripe-key", re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{16,}\b"), 0),
    ("anthropic-key", re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{20,}"), 0),
    ("openai-key", re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}"), 0),
    ("google-api-key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"), 0),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"), 0),
    ("url-password", re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]{1,20}://[^\s:/@\"'<>]+:([^\s@/\"'<>]+)@"), 1),
    ("assigned-secret", re.compile(
        r"(?i)\b[A-Za-z_]*(?:password|passwd|pwd|secret|api_?key|apikey|access_?token|auth_?token|private_?key|client_?secret)[A-Za-z_]*"
        r"[\"']?\s*(?::=|=|:)\s*[\"']([^\"'\s]{6,})[\"']"), 1),
]


def find_secrets(text: str) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, kind) spans of secrets in `text`, in order."""
    spans: list[tuple[int, int, str]] = []
    for kind, pattern, group in _PATTERNS:
        for m in pattern.finditer(text):
            start, end = m.span(group)
            if end > start:
                spans.append((start, end, kind))
    spans.sort(key=lambda s: (s[0], -s[1]))
    merged: list[tuple[int, int, str]] = []
    for start, end, kind in spans:
        if merged and start < merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end, merged[-1][2])
            continue
        merged.append((start, end, kind))
    return merged


def _redact_spans(text: str, spans: list[tuple[int, int, str]], cursor: int | None = None) -> tuple[str, int | None]:
    out, last = [], 0
    moved = cursor  # the cursor in the redacted text
    for start, end, kind in spans:
        out.append(text[last:start])
        token = f"<redacted:{kind}>"
        out.append(token)
        if cursor is not None and moved is not None:
            if end <= cursor:
                moved += len(token) - (end - start)
            elif start < cursor:
                moved -= cursor - start  # inside a secret: move to where its token starts
        last = end
    out.append(text[last:])
    return "".join(out), moved


def redact(text: str) -> str:
    spans = find_secrets(text)
    return _redact_spans(text, spans)[0] if spans else text


def _redact_any(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_any(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_any(v) for v in value]
    return value


def redact_example(example: Example) -> Example:
    """Every text field of an example redacted; the cursor stays on the same code."""
    spans = find_secrets(example.before)
    before, cursor = _redact_spans(example.before, spans, example.cursor) if spans else (example.before, example.cursor)
    return replace(
        example,
        before=before,
        cursor=cursor if cursor is not None else example.cursor,
        expected=redact(example.expected) if example.expected is not None else None,
        events=tuple(Event(e.path, redact(e.diff), e.predicted) for e in example.events),
        related=tuple(Related(r.path, r.start_line, redact(r.text), r.source) for r in example.related),
        meta=_redact_any(example.meta),
    )
