"""The model packs the daemon serves (one, or several for A/B), loaded lazily, used from one worker thread.

`ModelSlot` wraps the runtime's `Predictor` for one pack and turns every way it can fail — a pack
missing or deleted while running, a format mismatch, an onnxruntime error, a deadline — into a
`PredictionFailure` with a reason for `zeta2/status`, never an exception that reaches the server.
All model work runs on a single worker thread: the prediction itself saturates the CPU, and the
asyncio loop must stay free to handle didChange while it runs.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import Variant

log = logging.getLogger(__name__)


class PackMissing(RuntimeError):
    pass


def bootstrap_hint(pack_dir: Path | str | None) -> str:
    where = f" at {pack_dir}" if pack_dir else ""
    return f"no model pack{where}: run `zeta2-trainer bootstrap` to build the default pack (or pass --model PACK_DIR)"


def resolve_default_pack() -> Path:
    """The bootstrapped default pack's folder (it may not exist yet)."""
    from .pack import default_pack_dir

    return Path(default_pack_dir())


@dataclass
class Outcome:
    """What one prediction gave: the full predicted text or a failure reason, and timings in ms."""

    predicted: str | None
    failure: str = ""
    timing_ms: dict[str, float] = field(default_factory=dict)
    model: str = ""
    region: tuple[int, int] | None = None  # the prompt's editable region in code points (for settling)

    @property
    def ok(self) -> bool:
        return self.predicted is not None


class ModelSlot:
    """One pack: loaded on first use, reloaded after a failure once the pack is back."""

    def __init__(self, variant: Variant, device: str = "auto", max_output_tokens: int | None = None):
        self.variant = variant
        self.device = device
        self.max_output_tokens = max_output_tokens
        self.predictor: Any | None = None
        self.info: dict[str, Any] = {"model": variant.label, "device": None, "trained": None}
        self.load_error: str = ""

    @property
    def pack_dir(self) -> Path:
        return Path(self.variant.pack).expanduser()

    def load(self) -> Any:
        if self.predictor is not None:
            return self.predictor
        if not (self.pack_dir / "manifest.json").exists():
            raise PackMissing(bootstrap_hint(self.pack_dir))
        from .predictor import Predictor

        predictor = Predictor(self.pack_dir, device=self.device, max_output_tokens=self.max_output_tokens)
        self.predictor = predictor
        self.info = {"model": predictor.model_name, "device": predictor.device, "trained": predictor.pack.trained}
        self.load_error = ""
        return predictor

    def predict(self, example: Any, deadline_s: float, document: str | None = None) -> Outcome:
        """Runs on the worker thread. Never raises."""
        started = time.perf_counter()
        try:
            predictor = self.load()
        except Exception as exc:  # a broken pack must not take the daemon down
            self.load_error = f"cannot load pack {self.pack_dir}: {exc}"
            log.error("%s", self.load_error)
            return Outcome(None, self.load_error, model=self.variant.label)
        load_ms = (time.perf_counter() - started) * 1000
        try:
            result = predictor.predict(example, deadline=time.perf_counter() + deadline_s, document=document)
        except Exception as exc:
            # The session may be unusable after an onnxruntime error or a deleted pack: reload next time.
            self.predictor = None
            reason = f"prediction failed ({type(exc).__name__}: {exc})"
            if not self.pack_dir.exists():
                reason = f"pack {self.pack_dir} was deleted while running; {bootstrap_hint(None)}"
            log.error("%s", reason)
            return Outcome(None, reason, model=self.variant.label)
        timing = {k.removesuffix("_ms"): v for k, v in result.timings.to_json().items()}
        if load_ms > 1:
            timing["load"] = round(load_ms, 3)
        timing["tokens_per_forward"] = round(result.tokens_per_forward, 3)
        timing["prefix_reused"] = result.prefix_tokens_reused
        model = self.info.get("model") or self.variant.label
        layout = result.prompt.layout if result.prompt is not None else None
        region = (layout.start, layout.end) if layout is not None else None
        if result.predicted is None:
            reason = "deadline passed" if result.timed_out else f"no edit: {result.error}"
            return Outcome(None, reason, timing, model, region)
        return Outcome(result.predicted, "", timing, model, region)


class Models:
    """The slots by variant label, and the single worker thread they run on."""

    def __init__(self, variants: list[Variant], device: str = "auto", max_output_tokens: int | None = None):
        self.slots = {v.label: ModelSlot(v, device, max_output_tokens) for v in variants}
        self.variants = list(variants)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zeta2-model")

    def slot(self, label: str) -> ModelSlot:
        return self.slots[label]

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
