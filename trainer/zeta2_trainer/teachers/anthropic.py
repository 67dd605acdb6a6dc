"""Anthropic Messages API: POST {base}/v1/messages with `x-api-key` and `anthropic-version`.

Success: {"type": "message", "content": [{"type": "text", "text": ...}], "stop_reason": ..., "usage":
{"input_tokens": n, "output_tokens": m}}. Errors: {"type": "error", "error": {"type": ..., "message": ...}}
with 429 (rate limit, `retry-after`), 500, 529 (overloaded).
"""

from __future__ import annotations

from typing import Any

from .base import Reply, Request, Teacher, TeacherError, check_status, json_body

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
KEY_ENV = "ANTHROPIC_API_KEY"


def error_message(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        return f"{err.get('type', 'error')}: {err.get('message', '')}"
    return str(body)[:200]


class AnthropicTeacher(Teacher):
    provider = "anthropic"

    def payload(self, request: Request) -> dict[str, Any]:
        return {
            "model": self.model,
            "max_tokens": request.max_tokens,
            "system": request.system,
            "messages": [{"role": "user", "content": request.user}],
            "temperature": request.temperature,
        }

    async def _send(self, client: Any, request: Request) -> Reply:
        response = await client.post(
            f"{self.base_url}/v1/messages",
            json=self.payload(request),
            headers={
                "x-api-key": self.api_key or "",
                "anthropic-version": API_VERSION,
                "content-type": "application/json",
            },
        )
        if not 200 <= response.status_code < 300:
            try:
                message = error_message(response.json())
            except ValueError:
                message = response.text[:200]
            check_status(self.provider, response, message)
        body = json_body(self.provider, response)
        try:
            text = "".join(block["text"] for block in body["content"] if block.get("type") == "text")
            usage = body.get("usage") or {}
            return Reply(
                text=text,
                input_tokens=int(usage.get("input_tokens", 0)),
                output_tokens=int(usage.get("output_tokens", 0)),
                stop_reason=str(body.get("stop_reason") or ""),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise TeacherError(f"anthropic reply lacks {exc}: {str(body)[:120]}", retryable=True) from None
