"""Predictor: an Example in, the parsed next edit out, with where the time went.

The daemon and the trainer's `predict`/`eval`/`filter-settled` both call this, so offline numbers come
from the code users run. One Predictor holds one pack's session, renderer and prefix cache; calls are
serialised by a lock (one onnxruntime session, one cache).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zeta2_capture.grammar import AnswerGrammar
from zeta2_capture.prompt import FormatError, ParsedEdit, PromptConfig, PromptError, RenderedPrompt, Renderer
from zeta2_capture.schema import Example, Prediction

from .decoding import Constraint, DecodeStats, LoopGuard, greedy
from .kvcache import PrefixCache
from .pack import ModelPack, PackError, load_pack
from .runtime import Runtime
from .sampling import sample


@dataclass
class Timings:
    tokenize_ms: float = 0.0
    prefill_ms: float = 0.0
    decode_ms: float = 0.0
    parse_ms: float = 0.0
    total_ms: float = 0.0

    def to_json(self) -> dict[str, float]:
        return {k: round(v, 3) for k, v in self.__dict__.items()}


@dataclass
class PredictionResult:
    """One answer. `predicted` is the full text after the edit; None when timed out or unparseable."""

    example_id: str
    model: str
    predicted: str | None
    edit: ParsedEdit | None
    error: str | None  # why there is no edit: a FormatError or PromptError message, "deadline"
    timed_out: bool
    stop: str  # "stop" | "cap" | "loop" | "deadline" | "error"
    output_text: str
    output_tokens: list[int]
    timings: Timings
    prompt_tokens: int = 0
    prefix_tokens_reused: int = 0
    forwards: int = 0
    tokens_per_forward: float = 0.0
    drafted: int = 0
    accepted: int = 0
    rollbacks: int = 0
    prompt: RenderedPrompt | None = field(default=None, repr=False)
    logprob: float | None = None  # set for samples
    constrained: int = 0  # positions where the answer grammar or the no-edit rule overrode the argmax
    noop_probability: float | None = None  # the model's probability of "no edit" when that was its choice

    @property
    def is_noop(self) -> bool:
        return self.edit is not None and self.edit.is_noop

    def to_prediction(self, before: str | None = None) -> Prediction:
        """The JSONL prediction record; no edit (timeout, bad answer) predicts the text unchanged."""
        text = self.predicted
        if text is None:
            text = before if before is not None else (self.prompt.before if self.prompt else "")
        return Prediction(id=self.example_id, predicted=text, latency_ms=round(self.timings.total_ms, 3), model=self.model)

    def stats_json(self) -> dict[str, Any]:
        return {
            "timings": self.timings.to_json(),
            "prompt_tokens": self.prompt_tokens,
            "prefix_tokens_reused": self.prefix_tokens_reused,
            "output_tokens": len(self.output_tokens),
            "forwards": self.forwards,
            "tokens_per_forward": round(self.tokens_per_forward, 3),
            "drafted": self.drafted,
            "accepted": self.accepted,
            "rollbacks": self.rollbacks,
            "constrained": self.constrained,
            "noop_probability": None if self.noop_probability is None else round(self.noop_probability, 4),
            "stop": self.stop,
            "error": self.error,
        }


class Predictor:
    """Loads a pack (validated) and predicts next edits for Examples."""

    def __init__(
        self,
        pack_dir: str | Path,
        *,
        device: str = "auto",
        threads: int | None = None,
        speculate: bool = True,
        max_draft: int = 8,
        prefix_cache_bytes: int = 256 << 20,
        prompt_config: PromptConfig | None = None,
        max_output_tokens: int | None = None,
        verify_checksums: bool = False,
        constrain: bool = True,
        min_noop_probability: float | None = None,
        stop_loops: bool = True,
    ):
        self.pack: ModelPack = load_pack(pack_dir, verify_checksums=verify_checksums)
        self.runtime = Runtime(self.pack.model_path, device=device, threads=threads)
        self._check_runtime_matches_manifest()
        self.renderer = Renderer(self.pack.load_tokenizer(), self.pack.family, prompt_config)
        self.speculate = speculate
        self.max_draft = max_draft
        self.max_output_tokens = max_output_tokens or self.renderer.config.max_output_tokens()
        self.stop_ids = {self.renderer.end_token_id}
        if self.renderer.eos_token_id is not None:
            self.stop_ids.add(self.renderer.eos_token_id)
        self.cache = PrefixCache(prefix_cache_bytes)
        # Answers are decoded inside the format's grammar (every finished answer parses); "no edit" needs
        # at least `min_noop_probability` (default: the pack's tuned value; 0 is plain greedy's choice).
        if min_noop_probability is None:
            min_noop_probability = self.pack.min_noop_probability
        if not 0.0 <= min_noop_probability <= 1.0:
            raise ValueError(f"min_noop_probability must be in [0, 1], got {min_noop_probability}")
        self.constrain = constrain
        self.stop_loops = stop_loops  # end an answer caught repeating itself (decoding.LoopGuard)
        self.min_noop_probability = min_noop_probability
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return self.pack.label

    @property
    def device(self) -> str:
        return self.runtime.device

    def _check_runtime_matches_manifest(self) -> None:
        model = self.pack.model
        where = self.pack.model_path
        names = set(self.runtime.input_names) | set(self.runtime.output_names)
        missing = [n for n in [*model["inputs"], *model["outputs"]] if n not in names]
        if missing:
            raise PackError(f"{where}: lacks the inputs/outputs {missing} that manifest.json lists (model and manifest do not match)")
        if self.runtime.num_layers != model["num_layers"]:
            raise PackError(f"{where}: has {self.runtime.num_layers} layers, manifest.json says {model['num_layers']}")
        if self.runtime.vocab_size is not None and self.runtime.vocab_size != model["vocab_size"]:
            raise PackError(f"{where}: vocabulary of {self.runtime.vocab_size}, manifest.json says {model['vocab_size']}")

    # ------------------------------------------------------------------------------------------

    def render(self, example: Example) -> RenderedPrompt:
        return self.renderer.render_prompt(example)

    def constraint_for(self, prompt: RenderedPrompt) -> Constraint | None:
        if not self.constrain:
            return None
        return Constraint(AnswerGrammar.for_prompt(self.renderer, prompt), self.min_noop_probability)

    def predict(
        self,
        example: Example,
        deadline: float | None = None,
        *,
        document: str | None = None,
        speculate: bool | None = None,
        reuse_prefix: bool = True,
        max_output_tokens: int | None = None,
    ) -> PredictionResult:
        """The model's next edit for `example`.

        `deadline` is a time.perf_counter() value; past it the result is empty (timed_out=True), never late.
        `document` keys the prefix cache (default: the example's path).
        """
        with self._lock:
            t_start = time.perf_counter()
            timings = Timings()
            try:
                prompt = self.renderer.render_prompt(example)
            except PromptError as exc:
                timings.total_ms = (time.perf_counter() - t_start) * 1000
                return self._failed(example, str(exc), timings)
            timings.tokenize_ms = (time.perf_counter() - t_start) * 1000
            key = document or example.path
            reuse = None
            if reuse_prefix:
                reuse, _ = self.cache.lookup(key, prompt.token_ids)
            result = greedy(
                self.runtime,
                prompt.token_ids,
                max_new_tokens=self._answer_cap(prompt, max_output_tokens),
                stop_ids=self.stop_ids,
                deadline=deadline,
                reuse=reuse,
                speculate=self.speculate if speculate is None else speculate,
                max_draft=self.max_draft,
                constraint=self.constraint_for(prompt),
                loop_guard=self._loop_guard(prompt),
            )
            if reuse_prefix and result.prompt_cache is not None:
                self.cache.store(key, result.prompt_cache)
            return self._finish(example, prompt, result.tokens, result.stop, result.stats, timings, t_start)

    def sample(
        self,
        example: Example,
        n: int,
        temperature: float = 0.8,
        top_p: float = 0.95,
        seed: int = 0,
        *,
        max_output_tokens: int | None = None,
        deadline: float | None = None,
    ) -> list[PredictionResult]:
        """`n` sampled answers for one example (prefilled once), reproducible for a given seed."""
        with self._lock:
            t_start = time.perf_counter()
            timings = Timings()
            try:
                prompt = self.renderer.render_prompt(example)
            except PromptError as exc:
                timings.total_ms = (time.perf_counter() - t_start) * 1000
                return [self._failed(example, str(exc), timings)]
            timings.tokenize_ms = (time.perf_counter() - t_start) * 1000
            samples, stats = sample(
                self.runtime,
                prompt.token_ids,
                n=n,
                temperature=temperature,
                top_p=top_p,
                seed=seed,
                max_new_tokens=self._answer_cap(prompt, max_output_tokens),
                stop_ids=self.stop_ids,
                deadline=deadline,
                grammar=AnswerGrammar.for_prompt(self.renderer, prompt) if self.constrain else None,
                loop_guard=self._loop_guard(prompt),
            )
            results = []
            for s in samples:
                r = self._finish(example, prompt, s.tokens, s.stop, stats, Timings(**timings.__dict__), t_start)
                r.logprob = s.logprob
                results.append(r)
            return results

    # ------------------------------------------------------------------------------------------

    def _answer_cap(self, prompt: RenderedPrompt, requested: int | None) -> int:
        """The token cap for one answer: the caller's (or the pack's) cap, never past the prompt's own
        answer budget (an answer still open there is looping and would only burn time)."""
        return min(requested or self.max_output_tokens, prompt.answer_budget)

    def _loop_guard(self, prompt: RenderedPrompt) -> LoopGuard | None:
        return LoopGuard(prompt.token_ids) if self.stop_loops else None

    def _failed(self, example: Example, error: str, timings: Timings) -> PredictionResult:
        return PredictionResult(
            example_id=example.id, model=self.model_name, predicted=None, edit=None, error=error,
            timed_out=False, stop="error", output_text="", output_tokens=[], timings=timings,
        )

    def _finish(
        self,
        example: Example,
        prompt: RenderedPrompt,
        tokens: list[int],
        stop: str,
        stats: DecodeStats,
        timings: Timings,
        t_start: float,
    ) -> PredictionResult:
        timings.prefill_ms = stats.prefill_ms
        timings.decode_ms = stats.decode_ms
        t_parse = time.perf_counter()
        edit: ParsedEdit | None = None
        error: str | None = None
        text = ""
        if stop == "deadline":
            error = "deadline passed before the answer was complete"
            tokens = []
        elif stop == "loop":
            text = self.renderer.decode(tokens)
            error = f"the answer fell into a loop (it repeated itself) after {len(tokens)} tokens; stopped there"
        else:
            text = self.renderer.decode(tokens)
            parsed = self.renderer.parse_output(prompt, text)
            if isinstance(parsed, FormatError):
                error = str(parsed)
            else:
                edit = parsed
        timings.parse_ms = (time.perf_counter() - t_parse) * 1000
        timings.total_ms = (time.perf_counter() - t_start) * 1000
        return PredictionResult(
            example_id=example.id,
            model=self.model_name,
            predicted=edit.predicted if edit else None,
            edit=edit,
            error=error,
            timed_out=stop == "deadline",
            stop=stop,
            output_text=text,
            output_tokens=list(tokens),
            timings=timings,
            prompt_tokens=stats.prompt_tokens,
            prefix_tokens_reused=stats.prefix_reused,
            forwards=stats.forwards,
            tokens_per_forward=stats.tokens_per_forward,
            drafted=stats.drafted,
            accepted=stats.accepted,
            rollbacks=stats.rollbacks,
            constrained=stats.constrained,
            noop_probability=stats.noop_probability,
            prompt=prompt,
        )
