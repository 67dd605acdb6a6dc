"""`zeta2-trainer train`: supervised fine-tuning of a causal LM on rendered zeta2 examples.

Prompts and targets come from the shared format module (via `dataset.py`); the loss is taken on the target
tokens only. The format's special tokens are added to the tokenizer, the embedding matrix is resized, and
the new rows are trained: with LoRA (default) through peft's `trainable_token_indices`, so the adapter holds
only those rows; with `--full` every weight trains.

Runs under `accelerate` (`accelerate launch ... -m zeta2_trainer.cli train ...` scales it to several GPUs or
processes); each process takes its own slice of a seeded, resumable sample order, so a run resumed from a
checkpoint sees exactly the batches the uninterrupted run would have seen.

Run folder:
    dataset/                 the rendered training set (see dataset.py); dev_dataset/ likewise
    checkpoints/step-N/      trainable weights, optimizer, scheduler, step (the last two kept)
    adapter/                 the LoRA adapter (peft format) -- with --full, absent
    merged/                  a plain Hugging Face folder (+ tokenizer) for `zeta2-trainer export`
    train_log.jsonl          one line per step: loss, learning rate, tokens; dev loss / dev delta chrF lines
    run.json                 provenance: arguments, base model, data sha256, counts, final numbers
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

from .errors import UserError

DEFAULT_LORA_TARGETS = "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj"
SMOLLM2 = "smollm2"


def make_parser(parser: argparse.ArgumentParser) -> None:
    data = parser.add_argument_group("data")
    data.add_argument("-i", "--input", help="training examples, schema JSONL ('-' for stdin)")
    data.add_argument("--dataset", help="a rendered dataset folder (a run's dataset/) instead of --input")
    data.add_argument("--dev", help="dev examples (schema JSONL) for dev loss and dev delta chrF")
    data.add_argument("--dev-dataset", help="a rendered dev dataset folder (a run's dev_dataset/) instead of --dev")
    data.add_argument("--limit", type=int, default=None, help="use only the first N training examples")
    data.add_argument("--dev-limit", type=int, default=32, help="dev samples for dev loss (default 32)")
    data.add_argument("--family", default="smollm2", help="token-map family of the base model (default smollm2)")
    data.add_argument("--max-prompt-tokens", type=int, default=1024, help="prompt budget (default 1024)")
    model = parser.add_argument_group("model")
    model.add_argument("--base", default=SMOLLM2, help="Hugging Face model folder, a .gguf file (a plain copy is made beside it), or 'smollm2' (default): the plain copy of the installed SmolLM2-135M")
    model.add_argument("-o", "--output", required=True, help="run folder (created)")
    model.add_argument("--full", action="store_true", help="full fine-tuning instead of LoRA")
    model.add_argument("--lora-r", type=int, default=16)
    model.add_argument("--lora-alpha", type=int, default=32)
    model.add_argument("--lora-dropout", type=float, default=0.05)
    model.add_argument("--lora-targets", default=DEFAULT_LORA_TARGETS, help=f"comma-separated module names (default {DEFAULT_LORA_TARGETS})")
    model.add_argument("--no-merge", action="store_true", help="skip writing merged/ (the adapter is still written)")
    opt = parser.add_argument_group("optimisation")
    opt.add_argument("--steps", type=int, default=200, help="optimizer steps (default 200)")
    opt.add_argument("--epochs", type=float, default=None, help="train this many epochs instead of --steps")
    opt.add_argument("--batch-size", type=int, default=1, help="sequences per micro-batch per process (default 1)")
    opt.add_argument("--grad-accum", type=int, default=4, help="micro-batches per optimizer step (default 4)")
    opt.add_argument("--lr", type=float, default=5e-4, help="peak learning rate (default 5e-4)")
    opt.add_argument("--warmup-steps", type=int, default=10)
    opt.add_argument("--weight-decay", type=float, default=0.0)
    opt.add_argument("--max-grad-norm", type=float, default=1.0)
    opt.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"), default="auto", help="auto: bf16 (or fp16) on a GPU that supports it, fp32 on CPU")
    opt.add_argument("--seed", type=int, default=0)
    opt.add_argument("--cpu", action="store_true", help="train on the CPU even when a GPU is present")
    run = parser.add_argument_group("checkpoints and evaluation")
    run.add_argument("--save-every", type=int, default=50, help="checkpoint every N steps (0: only at the end)")
    run.add_argument("--eval-every", type=int, default=50, help="dev loss every N steps (0: only at the end)")
    run.add_argument("--dev-chrf-examples", type=int, default=0, help="also greedy-decode N dev examples at each evaluation and report delta chrF (default 0)")
    run.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in the run folder (same --steps: the schedule depends on it)")
    run.add_argument("--stop-after", type=int, default=None, metavar="STEP", help="checkpoint and stop at this step of the schedule (continue later with --resume)")
    run.add_argument("--log-every", type=int, default=1)


# ---------------------------------------------------------------------------------------------------
# base model


def cache_dir() -> Path:
    root = os.environ.get("ZETA2_CACHE")
    if root:
        return Path(root)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("zeta2"))


def smollm2_plain_copy(out_dir: Path | None = None, gguf: Path | None = None) -> Path:
    """A plain Hugging Face folder of the installed SmolLM2-135M GGUF (made once, then reused)."""
    from .smollm2 import ModelNotInstalled, load_plain

    out = Path(out_dir) if out_dir else cache_dir() / "smollm2-135m-plain"
    if (out / "config.json").exists() and (out / "model.safetensors").exists():
        return out
    try:
        plain, tokenizer = load_plain(gguf)
    except ModelNotInstalled as exc:
        raise UserError(str(exc)) from None
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    plain.save_pretrained(str(tmp), safe_serialization=True)
    tokenizer.save_pretrained(str(tmp))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


def resolve_base(base: str) -> Path:
    if base == SMOLLM2:
        return smollm2_plain_copy()
    path = Path(base)
    if path.suffix == ".gguf":
        if not path.is_file():
            raise UserError(f"--base {base}: no such GGUF file")
        return smollm2_plain_copy(path.with_name(path.stem + "-plain"), gguf=path)
    if not (path / "config.json").exists():
        raise UserError(f"--base {base}: not a Hugging Face model folder (no config.json)")
    if not (path / "tokenizer.json").exists():
        raise UserError(f"--base {base}: no tokenizer.json in the model folder")
    return path


# ---------------------------------------------------------------------------------------------------
# sample order and batches


def sample_order(n_samples: int, total: int, seed: int) -> list[int]:
    """`total` sample indices: seeded permutations of 0..n-1, one per epoch, concatenated."""
    import numpy as np

    order: list[int] = []
    epoch = 0
    while len(order) < total:
        order.extend(np.random.default_rng([seed, epoch]).permutation(n_samples).tolist())
        epoch += 1
    return order[:total]


def collate(samples, pad_id: int):
    """Right-padded batch; labels are -100 on the prompt and on padding (loss on the target only)."""
    import torch

    width = max(len(s) for s in samples)
    ids = torch.full((len(samples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(samples), width), -100, dtype=torch.long)
    mask = torch.zeros((len(samples), width), dtype=torch.long)
    for row, s in enumerate(samples):
        seq = s.prompt_ids + s.target_ids
        ids[row, : len(seq)] = torch.tensor(seq)
        mask[row, : len(seq)] = 1
        labels[row, len(s.prompt_ids) : len(seq)] = torch.tensor(s.target_ids)
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


# ---------------------------------------------------------------------------------------------------
# model setup


def build_model(base: Path, vocab_size: int, new_token_ids: list[int], args, dtype):
    """Loads the base, resizes the embeddings for the format's tokens and wraps it for LoRA unless --full."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(base), dtype=dtype)
    if model.get_input_embeddings().weight.shape[0] < vocab_size:
        # New rows start at the mean embedding (transformers' mean resizing), not at random.
        model.resize_token_embeddings(vocab_size)
    model.config.use_cache = False
    if args.full:
        return model
    from peft import LoraConfig, get_peft_model

    targets = [t.strip() for t in args.lora_targets.split(",") if t.strip()]
    present = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    missing = [t for t in targets if t not in present]
    if missing:
        raise UserError(f"--lora-targets: the base model has no modules named {', '.join(missing)}")
    embed_name = _embedding_module_name(model)
    config = LoraConfig(
        r=args.lora_r,
        lora_alpha=args.lora_alpha,
        lora_dropout=args.lora_dropout,
        target_modules=targets,
        trainable_token_indices={embed_name: sorted(new_token_ids)},
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def _embedding_module_name(model) -> str:
    embedding = model.get_input_embeddings()
    for name, module in model.named_modules():
        if module is embedding:
            return name.rsplit(".", 1)[-1]
    raise UserError("the base model's input embedding module could not be found")


def trainable_state(model) -> dict:
    return {name: p.detach().cpu().clone() for name, p in model.named_parameters() if p.requires_grad}


# ---------------------------------------------------------------------------------------------------
# checkpoints


def latest_checkpoint(run_dir: Path) -> Path | None:
    found = [p for p in (run_dir / "checkpoints").glob("step-*") if p.name[5:].isdigit() and (p / "state.json").exists()]
    found.sort(key=lambda p: int(p.name[5:]))
    return found[-1] if found else None


def save_checkpoint(run_dir: Path, step: int, model, optimizer, scheduler, keep: int = 2) -> Path:
    import torch
    from safetensors.torch import save_file

    folder = run_dir / "checkpoints" / f"step-{step:06d}"
    tmp = folder.with_name(folder.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in trainable_state(model).items()}, str(tmp / "trainable.safetensors"))
    torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
    (tmp / "state.json").write_text(json.dumps({"step": step}) + "\n")
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    old = sorted(p for p in (run_dir / "checkpoints").glob("step-*") if p.name[5:].isdigit())
    for stale in old[:-keep]:
        shutil.rmtree(stale, ignore_errors=True)
    return folder


def load_checkpoint(folder: Path, model, optimizer, scheduler) -> int:
    import torch
    from safetensors.torch import load_file

    weights = load_file(str(folder / "trainable.safetensors"))
    params = dict(model.named_parameters())
    unknown = [k for k in weights if k not in params]
    if unknown:
        raise UserError(f"{folder}: checkpoint has weights this model lacks ({unknown[0]}, ...); was it made with other options?")
    with torch.no_grad():
        for name, value in weights.items():
            params[name].copy_(value)
    optimizer.load_state_dict(torch.load(folder / "optimizer.pt", weights_only=True))
    scheduler.load_state_dict(torch.load(folder / "scheduler.pt", weights_only=True))
    return int(json.loads((folder / "state.json").read_text())["step"])


# ---------------------------------------------------------------------------------------------------
# evaluation during training


def dev_loss(model, samples, pad_id: int, device) -> float:
    """Mean per-token loss of the targets over `samples` (token-weighted)."""
    import torch

    total, tokens = 0.0, 0
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for s in samples:
            batch = {k: v.to(device) for k, v in collate([s], pad_id).items()}
            out = model(**batch)
            n = len(s.target_ids)
            total += float(out.loss) * n
            tokens += n
    model.train(was_training)
    return total / max(tokens, 1)


def dev_delta_chrf(model, renderer, examples, device, max_new_tokens: int) -> dict:
    """Greedy-decodes a few dev examples in PyTorch and scores them with the shared metric."""
    import torch

    from zeta2_capture import metrics
    from zeta2_capture.prompt import FormatError

    scores, parsed = [], 0
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for example in examples:
            prompt = renderer.render_prompt(example)
            ids = torch.tensor([prompt.token_ids], device=device)
            out = model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=min(max_new_tokens, prompt.answer_budget),
                do_sample=False,
                eos_token_id=[renderer.end_token_id] + ([renderer.eos_token_id] if renderer.eos_token_id is not None else []),
                pad_token_id=renderer.end_token_id,
                use_cache=True,
            )
            text = renderer.decode(out[0, ids.shape[1] :].tolist())
            answer = renderer.parse_output(prompt, text)
            predicted = example.before if isinstance(answer, FormatError) else answer.predicted
            parsed += not isinstance(answer, FormatError)
            scores.append(metrics.delta_chrf(example.before, example.expected, predicted))
    model.train(was_training)
    return {"dev_delta_chrf": sum(scores) / max(len(scores), 1), "dev_parse_rate": parsed / max(len(scores), 1), "dev_chrf_examples": len(scores)}


# ---------------------------------------------------------------------------------------------------
# outputs


def write_outputs(run_dir: Path, model, tokenizer_json: Path, args, is_lora: bool) -> dict:
    """adapter/ (LoRA) and merged/ (plain HF folder with the tokenizer)."""
    written = {}
    if is_lora:
        adapter = run_dir / "adapter"
        # The resized embedding matrix is not saved: the format's rows live in trainable_tokens_delta.
        model.save_pretrained(str(adapter), save_embedding_layers=False)
        shutil.copy(tokenizer_json, adapter / "tokenizer.json")
        written["adapter"] = str(adapter)
    if not args.no_merge:
        merged_dir = run_dir / "merged"
        merged = model.merge_and_unload() if is_lora else model
        merged.config.use_cache = True
        save_hf_folder(merged, tokenizer_json, merged_dir)
        written["merged"] = str(merged_dir)
    return written


def save_hf_folder(model, tokenizer, out_dir: Path) -> None:
    """Weights + tokenizer (a tokenizer.json path or a `tokenizers.Tokenizer`) as a plain HF folder."""
    from transformers import PreTrainedTokenizerFast

    shutil.rmtree(out_dir, ignore_errors=True)
    model.save_pretrained(str(out_dir), safe_serialization=True)
    if isinstance(tokenizer, (str, Path)):
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(tokenizer))
    # tokenizer.json keeps the format's special tokens; tokenizer_config.json lets transformers load it too.
    PreTrainedTokenizerFast(tokenizer_object=tokenizer).save_pretrained(str(out_dir))
    tokenizer.save(str(out_dir / "tokenizer.json"))


# ---------------------------------------------------------------------------------------------------


def _precision(requested: str, use_cpu: bool) -> str:
    import torch

    if requested != "auto":
        return {"fp32": "no"}.get(requested, requested)
    if use_cpu or not torch.cuda.is_available():
        return "no"
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


def prepare_data(args, run_dir: Path, accelerator, base: Path):
    """Renders (once, on the main process) or loads the training and dev sets."""
    from .dataset import load_dataset, render_file

    train_dir = run_dir / "dataset"
    dev_dir = run_dir / "dev_dataset"
    if accelerator.is_main_process:
        if args.dataset:
            pass
        elif args.resume and (train_dir / "dataset.json").exists():
            pass
        else:
            if not args.input:
                raise UserError("give the training examples with -i/--input (or a rendered --dataset folder)")
            _, counts = render_file(
                args.input, train_dir, tokenizer_json=base / "tokenizer.json", family=args.family,
                max_prompt_tokens=args.max_prompt_tokens, limit=args.limit,
            )
            print(f"train: {counts.summary()}", file=sys.stderr)
        if args.dev and not (args.resume and (dev_dir / "dataset.json").exists()):
            _, counts = render_file(
                args.dev, dev_dir, tokenizer_json=base / "tokenizer.json", family=args.family,
                max_prompt_tokens=args.max_prompt_tokens, keep=args.dev_limit,
            )
            print(f"dev: {counts.summary()}", file=sys.stderr)
    accelerator.wait_for_everyone()
    train = load_dataset(args.dataset or train_dir)
    dev = load_dataset(args.dev_dataset) if args.dev_dataset else load_dataset(dev_dir) if args.dev else None
    return train, dev


def main(args: argparse.Namespace) -> int:
    import torch
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from transformers import get_cosine_schedule_with_warmup

    run_dir = Path(args.output)
    if args.input and args.dataset:
        raise UserError("give either -i/--input or --dataset, not both")
    if args.dev and args.dev_dataset:
        raise UserError("give either --dev or --dev-dataset, not both")
    for name in ("steps", "batch_size", "grad_accum"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if run_dir.exists() and any(run_dir.iterdir()) and not args.resume:
        raise UserError(f"{run_dir}: run folder is not empty (use --resume to continue it, or another -o)")
    if args.resume and latest_checkpoint(run_dir) is None:
        raise UserError(f"{run_dir}: --resume, but there is no checkpoint in {run_dir / 'checkpoints'}")

    use_cpu = args.cpu or not torch.cuda.is_available()
    accelerator = Accelerator(
        mixed_precision=_precision(args.precision, use_cpu), cpu=use_cpu, gradient_accumulation_steps=1
    )
    set_seed(args.seed)
    if accelerator.is_main_process:
        run_dir.mkdir(parents=True, exist_ok=True)

    base = resolve_base(args.base) if accelerator.is_main_process else None
    if accelerator.num_processes > 1:
        from accelerate.utils import broadcast_object_list

        holder = [str(base) if base else None]
        broadcast_object_list(holder)
        base = Path(holder[0])
    train, dev = prepare_data(args, run_dir, accelerator, base)
    meta = train.meta
    world = accelerator.num_processes
    per_step = args.batch_size * args.grad_accum * world
    steps = math.ceil(args.epochs * len(train.samples) / per_step) if args.epochs else args.steps

    model = build_model(base, meta["vocab_size"], meta["special_token_ids"], args, torch.float32)
    is_lora = not args.full
    params = [p for p in model.parameters() if p.requires_grad]
    n_trainable = sum(p.numel() for p in params)
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)
    scheduler = get_cosine_schedule_with_warmup(optimizer, min(args.warmup_steps, steps // 4), steps)

    start_step = 0
    if args.resume:
        checkpoint = latest_checkpoint(run_dir)
        if checkpoint is None:
            raise UserError(f"{run_dir}: --resume, but there is no checkpoint in {run_dir / 'checkpoints'}")
        start_step = load_checkpoint(checkpoint, model, optimizer, scheduler)
        accelerator.print(f"resumed from {checkpoint} at step {start_step}")
    model, optimizer = accelerator.prepare(model, optimizer)
    pad_id = meta["end_token_id"]
    order = sample_order(len(train.samples), steps * per_step, args.seed)
    device = accelerator.device

    dev_samples = dev.samples[: args.dev_limit] if dev else []
    renderer = dev_examples = None
    if args.dev and args.dev_chrf_examples > 0:
        from itertools import islice

        from zeta2_capture.schema import read_examples

        from .dataset import make_renderer

        renderer, _ = make_renderer(train.tokenizer_json, args.family, args.max_prompt_tokens)
        dev_examples = [e for e in islice(read_examples(args.dev), args.dev_chrf_examples * 4) if e.expected is not None]
        dev_examples = dev_examples[: args.dev_chrf_examples]

    log_path = run_dir / "train_log.jsonl"
    log = open(log_path, "a", encoding="utf-8") if accelerator.is_main_process else None

    def record(entry: dict) -> None:
        if log:
            log.write(json.dumps(entry) + "\n")
            log.flush()

    def evaluate(step: int) -> dict:
        result = {}
        unwrapped = accelerator.unwrap_model(model)
        if dev_samples:
            result["dev_loss"] = dev_loss(unwrapped, dev_samples, pad_id, device)
        if renderer is not None and accelerator.is_main_process:
            result.update(dev_delta_chrf(unwrapped, renderer, dev_examples, device, renderer.config.max_output_tokens()))
        if result:
            record({"step": step, **result})
            accelerator.print(f"step {step}: " + ", ".join(f"{k} {v:.4f}" for k, v in result.items()))
        return result

    accelerator.print(
        f"training {'LoRA' if is_lora else 'full'} on {len(train.samples)} samples, {steps} steps of "
        f"{per_step} sequences ({world} process(es), {accelerator.mixed_precision} precision), {n_trainable:,} trainable parameters"
    )
    started = time.time()
    first_losses, last_losses = [], []
    final_eval = {}
    model.train()
    stop_at = min(steps, args.stop_after) if args.stop_after else steps
    for step in range(start_step, stop_at):
        # Per-step seeding: dropout masks depend only on (seed, step, rank), so a resumed run matches.
        torch.manual_seed(args.seed * 1_000_003 + step * world + accelerator.process_index)
        step_loss, step_tokens = 0.0, 0
        for micro in range(args.grad_accum):
            first = ((step * args.grad_accum + micro) * world + accelerator.process_index) * args.batch_size
            batch = collate([train.samples[i] for i in order[first : first + args.batch_size]], pad_id)
            batch = {k: v.to(device) for k, v in batch.items()}
            sync = micro == args.grad_accum - 1
            context = accelerator.no_sync(model) if not sync and world > 1 else _null()
            with context:
                with accelerator.autocast():
                    loss = model(**batch).loss
                accelerator.backward(loss / args.grad_accum)
            step_loss += float(loss.detach()) / args.grad_accum
            step_tokens += int((batch["labels"] != -100).sum())
        if args.max_grad_norm > 0:
            accelerator.clip_grad_norm_(params, args.max_grad_norm)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        mean_loss = float(accelerator.reduce(torch.tensor(step_loss, device=device), reduction="mean"))
        done = step + 1
        (first_losses if done - start_step <= 10 else last_losses).append(mean_loss)
        last_losses[:] = last_losses[-10:]
        if done % args.log_every == 0 or done == steps:
            record({"step": done, "loss": mean_loss, "lr": scheduler.get_last_lr()[0], "target_tokens": step_tokens, "elapsed_s": round(time.time() - started, 2)})
            accelerator.print(f"step {done}/{steps} loss {mean_loss:.4f}")
        if args.eval_every and done % args.eval_every == 0 and done != steps:
            evaluate(done)
        if accelerator.is_main_process and ((args.save_every and done % args.save_every == 0) or done in (steps, stop_at)):
            save_checkpoint(run_dir, done, accelerator.unwrap_model(model), optimizer, scheduler)
        accelerator.wait_for_everyone()
    if stop_at < steps:
        accelerator.print(f"stopped at step {stop_at} of {steps}; continue with --resume")
        if log:
            log.close()
        accelerator.end_training()
        return 0
    final_eval = evaluate(steps)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        unwrapped = accelerator.unwrap_model(model)
        written = write_outputs(run_dir, unwrapped, train.tokenizer_json, args, is_lora)
        provenance = {
            "command": "zeta2-trainer train",
            "arguments": {k: v for k, v in vars(args).items() if not k.startswith("_") and k != "command"},
            "base": str(base),
            "base_name": SMOLLM2 + "-135m" if args.base == SMOLLM2 else Path(args.base).name,
            "method": "lora" if is_lora else "full",
            "trainable_parameters": n_trainable,
            "format": meta.get("format"),
            "format_version": meta.get("format_version"),
            "family": meta.get("family"),
            "data": {k: meta.get(k) for k in ("source", "source_sha256", "counts", "max_prompt_tokens")},
            "samples": len(train.samples),
            "steps": steps,
            "sequences_per_step": per_step,
            "processes": world,
            "precision": accelerator.mixed_precision,
            "device": torch.cuda.get_device_name(device) if device.type == "cuda" else device.type,
            "seconds": round(time.time() - started, 1),
            "first_losses": first_losses,
            "last_losses": last_losses,
            "final_eval": final_eval,
            "outputs": written,
        }
        (run_dir / "run.json").write_text(json.dumps(provenance, indent=2) + "\n")
        if "merged" in written:
            # Travels with the weights so `export` can stamp the training provenance into the pack.
            shutil.copy(run_dir / "run.json", Path(written["merged"]) / "zeta2_training.json")
        print(json.dumps({"run": str(run_dir), **written, "final_eval": final_eval}))
    if log:
        log.close()
    accelerator.end_training()
    return 0


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
