"""The onnxruntime session of a model pack: one forward pass over new tokens with a KV cache.

CUDA is used only when the CUDA provider really loaded (onnxruntime falls back to the CPU with no more
than a log line, so `get_providers()` is checked, not assumed). On CUDA the KV cache stays on the device
through I/O binding and only the next-token ids (an ArgMax the exporter adds to the graph) come back.

The KV cache is a `KVState`: per layer a key and a value tensor [1, kv_heads, positions, head_dim]. On the
CPU, rolling back past rejected draft tokens slices the arrays (a view, no copy). On CUDA, tensors cannot
be sliced in place from Python, so rejected positions are masked out instead (attention_mask = 0: they
get exactly zero attention weight) and the positions stay logical through position_ids.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

_ORT_TO_NUMPY = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(bfloat16)": np.float32}


class ModelLoadError(RuntimeError):
    """The model cannot be loaded or run; the message names the file or the provider."""


def default_threads() -> int:
    """Leaves a core to the editor the daemon shares the machine with; never more than 8 (diminishing returns)."""
    cpus = os.cpu_count() or 1
    return max(1, min(8, cpus - 1))


@dataclass
class KVState:
    """A KV cache: `arrays` (key, value per layer; numpy on CPU, OrtValue on CUDA) holding `length` tokens.

    `valid` is None when every physical position is a kept token; on CUDA after a rollback it is the
    0/1 attention mask over the physical positions.
    """

    arrays: list[Any]
    length: int
    physical: int
    valid: np.ndarray | None = None
    tokens: list[int] = field(default_factory=list)

    def nbytes(self) -> int:
        total = 0
        for a in self.arrays:
            if isinstance(a, np.ndarray):
                total += a.nbytes
            else:  # OrtValue
                shape = a.shape()
                total += int(np.prod(shape)) * (2 if "float16" in a.data_type() else 4)
        return total


@dataclass
class ForwardResult:
    """Logits (or only next-token ids on CUDA greedy) for the kept positions, and the grown cache."""

    logits: np.ndarray | None  # [k, vocab] float32
    next_ids: np.ndarray  # [k] int64: argmax of each kept position
    cache: KVState


class Runtime:
    """An onnxruntime session over an exported decoder-with-past (optimum layout)."""

    def __init__(
        self,
        model_path: str | Path,
        *,
        device: str = "auto",
        threads: int | None = None,
        allow_spinning: bool = False,
    ):
        import onnxruntime as ort

        self.model_path = Path(model_path)
        if device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda, got {device!r}")
        self.threads = threads or default_threads()
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Spinning threads burn a core between requests; the editor needs it more than we need 50 us.
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if allow_spinning else "0")
        options.log_severity_level = 3

        want_cuda = device in ("auto", "cuda") and "CUDAExecutionProvider" in ort.get_available_providers()
        if device == "cuda" and not want_cuda:
            raise ModelLoadError(
                f"CUDA was asked for, but this onnxruntime has no CUDA provider "
                f"(available: {', '.join(ort.get_available_providers())}); install onnxruntime-gpu"
            )
        providers: list[Any] = ["CPUExecutionProvider"]
        if want_cuda:
            if hasattr(ort, "preload_dlls"):
                try:
                    ort.preload_dlls()
                except Exception as exc:  # missing NVIDIA pip libraries: the CUDA provider will not load
                    log.info("onnxruntime.preload_dlls failed: %s", exc)
            providers = [("CUDAExecutionProvider", {"device_id": 0}), "CPUExecutionProvider"]
        if not self.model_path.exists():
            raise ModelLoadError(f"{self.model_path}: missing")
        try:
            self.session = ort.InferenceSession(str(self.model_path), options, providers=providers)
        except Exception as exc:
            raise ModelLoadError(f"{self.model_path}: onnxruntime cannot load it: {str(exc).strip()[:400]}") from None
        loaded = self.session.get_providers()
        self.device = "cuda" if loaded and loaded[0] == "CUDAExecutionProvider" else "cpu"
        if device == "cuda" and self.device != "cuda":
            raise ModelLoadError(f"CUDA was asked for, but the CUDA provider did not load (providers: {loaded})")
        if want_cuda and self.device != "cuda":
            log.warning("CUDA provider did not load; running on the CPU (providers: %s)", loaded)
        self._ort = ort
        self._inspect()

    # ------------------------------------------------------------------------------------------

    def _inspect(self) -> None:
        inputs = {i.name: i for i in self.session.get_inputs()}
        outputs = [o.name for o in self.session.get_outputs()]
        for required in ("input_ids", "attention_mask"):
            if required not in inputs:
                raise ModelLoadError(f"{self.model_path}: input {required!r} is missing; not a decoder-with-past export")
        self.past_names = sorted(
            (n for n in inputs if n.startswith("past_key_values.")),
            key=lambda n: (int(n.split(".")[1]), n.split(".")[2] != "key"),
        )
        if not self.past_names or len(self.past_names) % 2:
            raise ModelLoadError(f"{self.model_path}: no past_key_values.N.key/value inputs; export with past (text-generation-with-past)")
        self.present_names = [n.replace("past_key_values.", "present.") for n in self.past_names]
        missing = [n for n in ["logits", *self.present_names] if n not in outputs]
        if missing:
            raise ModelLoadError(f"{self.model_path}: outputs {missing} are missing")
        first = inputs[self.past_names[0]]
        self.num_layers = len(self.past_names) // 2
        self.num_kv_heads = int(first.shape[1])
        self.head_dim = int(first.shape[3])
        self.kv_dtype = _ORT_TO_NUMPY.get(first.type, np.float32)
        self.has_position_ids = "position_ids" in inputs
        self.has_logits_to_keep = "logits_to_keep" in inputs
        self.has_argmax = "next_token_ids" in outputs
        logits_shape = next(o.shape for o in self.session.get_outputs() if o.name == "logits")
        self.vocab_size = int(logits_shape[-1]) if isinstance(logits_shape[-1], int) else None
        self.input_names = list(inputs)
        self.output_names = outputs

    def empty_cache(self) -> KVState:
        shape = (1, self.num_kv_heads, 0, self.head_dim)
        arrays = [np.zeros(shape, dtype=self.kv_dtype) for _ in self.past_names]
        return KVState(arrays=arrays, length=0, physical=0)

    def describe(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "providers": self.session.get_providers(),
            "threads": self.threads,
            "layers": self.num_layers,
            "kv_heads": self.num_kv_heads,
            "head_dim": self.head_dim,
        }

    # ------------------------------------------------------------------------------------------

    def forward(self, tokens: Sequence[int], cache: KVState, *, keep: int | None = None, want_logits: bool = True) -> ForwardResult:
        """Runs `tokens` after `cache`; returns logits for the last `keep` positions (all when None)."""
        n = len(tokens)
        if n == 0:
            raise ValueError("forward needs at least one token")
        keep = n if keep is None else max(1, min(keep, n))
        ids = np.asarray(tokens, dtype=np.int64)[None, :]
        if cache.valid is None:
            mask = np.ones((1, cache.physical + n), dtype=np.int64)
        else:
            mask = np.concatenate([cache.valid, np.ones(n, dtype=np.int64)])[None, :]
        feeds: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
        if self.has_position_ids:
            feeds["position_ids"] = np.arange(cache.length, cache.length + n, dtype=np.int64)[None, :]
        if self.has_logits_to_keep:
            feeds["logits_to_keep"] = np.array([keep], dtype=np.int64)
        if self.device == "cuda":
            return self._forward_cuda(feeds, cache, tokens, keep, want_logits)
        for name, array in zip(self.past_names, cache.arrays, strict=True):
            feeds[name] = array
        wanted = ["logits", *self.present_names]
        outs = self.session.run(wanted, feeds)
        logits = outs[0][0, -keep:].astype(np.float32, copy=False)
        grown = KVState(
            arrays=outs[1:], length=cache.length + n, physical=cache.physical + n, tokens=[*cache.tokens, *tokens]
        )
        return ForwardResult(logits=logits, next_ids=logits.argmax(-1), cache=grown)

    def _forward_cuda(self, feeds: dict[str, Any], cache: KVState, tokens: Sequence[int], keep: int, want_logits: bool) -> ForwardResult:
        binding = self.session.io_binding()
        for name, value in feeds.items():
            binding.bind_cpu_input(name, value)
        for name, value in zip(self.past_names, cache.arrays, strict=True):
            if isinstance(value, np.ndarray):
                binding.bind_cpu_input(name, value)
            else:
                binding.bind_ortvalue_input(name, value)
        read_logits = want_logits or not self.has_argmax
        binding.bind_output("logits", "cpu" if read_logits else "cuda")
        if self.has_argmax:
            binding.bind_output("next_token_ids", "cpu")
        for name in self.present_names:
            binding.bind_output(name, "cuda")
        self.session.run_with_iobinding(binding)
        outs = dict(zip(self.output_names_bound(), binding.get_outputs(), strict=True))
        n = len(tokens)
        logits = outs["logits"].numpy()[0, -keep:].astype(np.float32, copy=False) if read_logits else None
        if self.has_argmax:
            next_ids = outs["next_token_ids"].numpy()[0, -keep:]
        else:
            next_ids = logits.argmax(-1)
        valid = None if cache.valid is None else np.concatenate([cache.valid, np.ones(n, dtype=np.int64)])
        grown = KVState(
            arrays=[outs[name] for name in self.present_names],
            length=cache.length + n,
            physical=cache.physical + n,
            valid=valid,
            tokens=[*cache.tokens, *tokens],
        )
        return ForwardResult(logits=logits, next_ids=next_ids, cache=grown)

    def output_names_bound(self) -> list[str]:
        names = ["logits"]
        if self.has_argmax:
            names.append("next_token_ids")
        return [*names, *self.present_names]

    def truncate(self, cache: KVState, length: int) -> KVState:
        """The cache holding only its first `length` tokens (rolls back rejected draft tokens)."""
        if length >= cache.length:
            return cache
        if length < 0:
            raise ValueError(f"cannot truncate a cache to {length} tokens")
        if self.device != "cuda" and cache.valid is None:
            arrays = [a[:, :, :length, :] for a in cache.arrays]
            return KVState(arrays=arrays, length=length, physical=length, tokens=cache.tokens[:length])
        # CUDA: mask out every physical position past the `length`-th kept one.
        valid = np.ones(cache.physical, dtype=np.int64) if cache.valid is None else cache.valid.copy()
        kept = np.flatnonzero(valid)
        if length < len(kept):
            valid[kept[length]:] = 0
        return KVState(arrays=cache.arrays, length=length, physical=cache.physical, valid=valid, tokens=cache.tokens[:length])
