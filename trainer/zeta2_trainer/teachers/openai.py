"""OpenAI-compatible Chat Completions: POST {base}/chat/completions with `Authorization: Bearer`.

Also what vLLM, llama.cpp's server and Ollama (`http://localhost:11434/v1`) speak. Success:
{"choices": [{"message": {"role": "assistant", "content": ...}, "finish_reason": ...}], "usage":
{"prompt_tokens": n, "completion_tokens": m}}. Errors: {"error": {"message": ..., "type": ..., "code": ...}}.
"""

from __future__ import annotations

from typing import Any

from .base import Reply, Request, Teacher, TeacherError, check_status, json_body

DEFAULT_BASE_URL = "https://api.openai.com/v1"
KEY_ENV = "OPENAI_API_KEY"
# OpenAI's reasoning models take only the default temperature and `max_completion_tokens`, which
# api.openai.com accepts for every model; vLLM, llama.cpp and Ollama know `max_tokens`.
REASONING_PREFIXES = ("gpt-5", "o1", "o3", "o4")


def error_message(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        return f"{err.get('type') or err.get('code') or 'error'}: {err.get('message', '')}"
    return str(body)[:200]


class OpenAITeacher(Teacher):
    provider = "openai"

    def payload(self, request: Request) -> dict[str, Any]:
        hosted = self.base_url == DEFAULT_BASE_URL
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": request.system},
                {"role": "user", "content": request.user},
            ],
            ("max_completion_tokens" if hosted else "max_tokens"): request.max_tokens,
        }
        if not (hosted and self.model.startswith(REASONING_PREFIXES)):
            body["temperature"] = request.temperature
        return body

    async def _send(self, client: Any, request: Request) -> Reply:
        headers = {"content-type": "application/json"}
        if self.api_key:
            # Local servers (vLLM, Ollama) may need no key; api.openai.com always does.
            headers["authorization"] = f"Bearer {self.api_key}"
        response = await client.post(f"{self.base_url}/chat/completions", json=self.payload(request), headers=headers)
        if not 200 <= response.status_code < 300:
            try:
                message = error_message(response.json())
            except ValueError:
                message = response.text[:200]
            check_status(self.provider, response, message)
        body = json_body(self.provider, response)
        try:
            choice = body["choices"][0]
            text = choice["message"].get("content") or ""
            usage = body.get("usage") or {}
            return Reply(
                text=text,
                input_tokens=int(usage.get("prompt_tokens", 0)),
                output_tokens=int(usage.get("completion_tokens", 0)),
                stop_reason=str(choice.get("finish_reason") or ""),
            )
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise TeacherError(f"openai reply lacks {exc}: {str(body)[:120]}", retryable=True) from None
