"""`zeta2-trainer train` on a tiny model and real examples: loss falls, checkpoints resume exactly, the
adapter merges, and the exported pack loads and predicts in the daemon's runtime."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from itertools import islice
from pathlib import Path

import pytest

from zeta2_trainer import cli

BUDGET = 512  # prompt tokens: small, to keep CPU steps short


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory, smollm2_tokenizer_json) -> Path:
    """A randomly initialised 2-layer Llama with SmolLM2's real tokenizer (tied embeddings like SmolLM2)."""
    import torch
    from tokenizers import Tokenizer
    from transformers import LlamaConfig, LlamaForCausalLM

    out = tmp_path_factory.mktemp("tiny-base")
    vocab = Tokenizer.from_file(str(smollm2_tokenizer_json)).get_vocab_size()
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=2048, tie_word_embeddings=True,
        # Wider than the default 0.02 init so the frozen (tied) output layer lets LoRA move the logits.
        initializer_range=0.2,
    )
    LlamaForCausalLM(config).save_pretrained(out)
    shutil.copy(smollm2_tokenizer_json, out / "tokenizer.json")
    return out


@pytest.fixture(scope="session")
def real_examples(tmp_path_factory, train_jsonl, smollm2_tokenizer_json) -> Path:
    """Six real training examples whose edit lies inside the editable region at a 512-token budget."""
    from zeta2_capture.prompt import OutOfRegion
    from zeta2_capture.schema import read_examples, write_jsonl
    from zeta2_trainer.dataset import make_renderer

    renderer, _ = make_renderer(smollm2_tokenizer_json, "smollm2", BUDGET)
    chosen = []
    for example in islice(read_examples(train_jsonl), 0, 400, 7):  # several repositories and kinds
        pair = renderer.render_training_pair(example)
        if not isinstance(pair, OutOfRegion) and len(pair[1].token_ids) <= 120:
            chosen.append(example)
        if len(chosen) == 6:
            break
    assert len(chosen) == 6
    path = tmp_path_factory.mktemp("examples") / "six.jsonl"
    write_jsonl(path, chosen)
    return path


def train(tmp: Path, base: Path, examples: Path, out: str, *extra: str) -> Path:
    run = tmp / out
    code = cli.main([
        "train", "-i", str(examples), "--base", str(base), "-o", str(run), "--max-prompt-tokens", str(BUDGET),
        "--grad-accum", "2", "--eval-every", "0", "--seed", "3", *extra,
    ])
    assert code == 0
    return run


def losses(run: Path) -> list[float]:
    lines = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    return [entry["loss"] for entry in lines if "loss" in entry]


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, tiny_base, real_examples) -> Path:
    tmp = tmp_path_factory.mktemp("runs")
    return train(tmp, tiny_base, real_examples, "lora", "--steps", "12", "--lr", "2e-2", "--dev", str(real_examples), "--dev-limit", "3", "--save-every", "5", "--dev-chrf-examples", "2")


def test_lora_loss_falls_on_real_examples(trained_run):
    values = losses(trained_run)
    assert len(values) == 12
    first, last = sum(values[:3]) / 3, sum(values[-3:]) / 3
    assert last < first - 0.5, f"loss did not fall: first steps {values[:3]}, last steps {values[-3:]}"
    run = json.loads((trained_run / "run.json").read_text())
    assert run["method"] == "lora" and run["samples"] == 6 and run["format"] == "zeta2-markers"
    assert run["data"]["counts"]["kept"] == 6
    # Dev loss was measured at the end, and it is a finite per-token loss; two dev examples were decoded
    # greedily and scored with the shared delta chrF.
    final = run["final_eval"]
    assert 0 < final["dev_loss"] < 20
    assert final["dev_chrf_examples"] == 2 and 0 <= final["dev_delta_chrf"] <= 100 and 0 <= final["dev_parse_rate"] <= 1


def test_adapter_is_small_and_holds_only_the_format_token_rows(trained_run):
    from safetensors import safe_open

    adapter = trained_run / "adapter" / "adapter_model.safetensors"
    with safe_open(str(adapter), "pt") as f:
        shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    from zeta2_capture.tokenmap import token_map_for

    token_rows = [s for k, s in shapes.items() if "trainable_tokens_delta" in k]
    n_format_tokens = len(token_map_for("smollm2").special_tokens)  # markers + section/cursor/end tokens
    assert token_rows and all(s[0] == n_format_tokens for s in token_rows)
    assert not any(len(s) == 2 and s[0] > 40_000 for s in shapes.values()), "the whole embedding matrix was saved"
    assert all("lora_" in k or "trainable_tokens_delta" in k for k in shapes)


def test_merged_model_equals_base_plus_adapter(trained_run, tiny_base):
    import torch
    from transformers import AutoModelForCausalLM

    from zeta2_trainer.adapters import load_with_adapter

    merged = AutoModelForCausalLM.from_pretrained(trained_run / "merged").eval()
    peft_model = load_with_adapter(tiny_base, trained_run / "adapter", merge=False).eval()
    ids = torch.tensor([[1, 2, 3, 49152, 49170, 4, 5, 49160]])  # plain tokens and format tokens (ids >= 49152)
    with torch.no_grad():
        a = merged(input_ids=ids).logits
        b = peft_model(input_ids=ids).logits
    assert torch.allclose(a, b, atol=1e-4)
    # ... and training changed the model: the format tokens' rows differ from the base's mean initialisation.
    base = AutoModelForCausalLM.from_pretrained(tiny_base)
    from zeta2_capture.tokenmap import token_map_for

    assert base.get_input_embeddings().weight.shape[0] == 49152
    assert merged.get_input_embeddings().weight.shape[0] == 49152 + len(token_map_for("smollm2").special_tokens)


def test_exported_pack_loads_and_predicts_in_the_runtime(trained_run, real_examples, tmp_path):
    from zeta2_capture.schema import read_examples
    from zeta2_daemon.predictor import Predictor

    pack = tmp_path / "pack"
    assert cli.main(["export", str(trained_run / "merged"), "-o", str(pack)]) == 0
    predictor = Predictor(pack)
    example = next(iter(read_examples(real_examples)))
    result = predictor.predict(example, max_output_tokens=8)
    assert result.prompt_tokens > 100 and len(result.output_tokens) >= 1
    # The predict command writes one brief-format record per example, with the error (if any) and stats.
    out = tmp_path / "predictions.jsonl"
    assert cli.main(["predict", "--model", str(pack), "-i", str(real_examples), "-o", str(out), "--limit", "2", "--max-output-tokens", "8", "--quiet"]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in records] == [e.id for e in islice(read_examples(real_examples), 2)]
    for r in records:
        assert isinstance(r["predicted"], str) and r["latency_ms"] > 0 and r["model"] == predictor.model_name
        assert "timings" in r["stats"] and ("error" in r)


def test_resume_continues_exactly_where_the_run_stopped(tmp_path, tiny_base, real_examples):
    whole = train(tmp_path, tiny_base, real_examples, "whole", "--steps", "4", "--lr", "5e-3", "--no-merge")
    part = train(tmp_path, tiny_base, real_examples, "part", "--steps", "4", "--stop-after", "2", "--lr", "5e-3", "--no-merge")
    assert len(losses(part)) == 2 and not (part / "run.json").exists()
    # Resuming needs the same schedule: the continued run is told the full length.
    code = cli.main(["train", "--base", str(tiny_base), "-o", str(part), "--max-prompt-tokens", str(BUDGET), "--grad-accum", "2",
                     "--eval-every", "0", "--seed", "3", "--steps", "4", "--lr", "5e-3", "--no-merge", "--resume"])
    assert code == 0
    assert losses(part) == pytest.approx(losses(whole), rel=1e-5)
    from safetensors.torch import load_file

    a = load_file(str(whole / "checkpoints" / "step-000004" / "trainable.safetensors"))
    b = load_file(str(part / "checkpoints" / "step-000004" / "trainable.safetensors"))
    assert a.keys() == b.keys() and all((a[k] - b[k]).abs().max() < 1e-5 for k in a)


def test_same_seed_same_run(tmp_path, tiny_base, real_examples):
    a = train(tmp_path, tiny_base, real_examples, "a", "--steps", "2", "--no-merge", "--full")
    b = train(tmp_path, tiny_base, real_examples, "b", "--steps", "2", "--no-merge", "--full")
    assert losses(a) == losses(b)
    assert json.loads((a / "run.json").read_text())["method"] == "full"
    assert not (a / "adapter").exists()


def test_user_errors_are_one_line(tmp_path, tiny_base, real_examples, capsys):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("")
    assert cli.main(["train", "-i", str(real_examples), "--base", str(tiny_base), "-o", str(tmp_path / "busy")]) == 2
    assert f"{tmp_path / 'busy'}: run folder is not empty (use --resume to continue it, or another -o)" in capsys.readouterr().err
    assert cli.main(["train", "-i", str(real_examples), "--base", str(tmp_path), "-o", str(tmp_path / "new")]) == 2
    assert f"--base {tmp_path}: not a Hugging Face model folder (no config.json)" in capsys.readouterr().err
    assert cli.main(["train", "--base", str(tiny_base), "-o", str(tmp_path / "new2"), "--resume"]) == 2
    assert "--resume, but there is no checkpoint" in capsys.readouterr().err


def test_accelerate_launch_two_cpu_processes(tmp_path, tiny_base, trained_run):
    """The same command under `accelerate launch` with 2 processes (gloo DDP on the CPU) trains one run.

    accelerate 1.15's `--cpu` launcher starts a single process unless an MPI hostfile is given; its torchrun
    launcher (`--multi_gpu`) starts the two processes, and `train --cpu` keeps them on the CPU."""
    accelerate = Path(sys.executable).with_name("accelerate")
    run = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.run(
        [str(accelerate), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
         "--dynamo_backend", "no", "--main_process_port", "0", "-m", "zeta2_trainer.cli", "train", "--cpu",
         "--dataset", str(trained_run / "dataset"), "--base", str(tiny_base), "-o", str(run), "--steps", "2",
         "--grad-accum", "1", "--eval-every", "0", "--no-merge"],
        capture_output=True, text=True, timeout=240, env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    info = json.loads((run / "run.json").read_text())
    assert info["processes"] == 2 and info["sequences_per_step"] == 2 and info["device"] == "cpu"
    assert len(losses(run)) == 2 and (run / "adapter" / "adapter_model.safetensors").exists()
