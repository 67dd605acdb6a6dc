"""The committed default adapter: small, fp16, only LoRA weights and the format tokens' rows, with provenance;
merged onto the plain SmolLM2-135M copy it answers a real dev example in the prompt format."""

from __future__ import annotations

import json
from itertools import islice

import pytest

from zeta2_trainer.adapters import DEFAULT_ADAPTER, default_adapter_dir, default_provenance


def test_default_adapter_is_small_fp16_and_documented():
    from safetensors import safe_open

    from zeta2_capture.prompt import FORMAT_NAME, FORMAT_VERSION
    from zeta2_capture.tokenmap import token_map_for

    assert default_adapter_dir() == DEFAULT_ADAPTER
    weights = DEFAULT_ADAPTER / "adapter_model.safetensors"
    assert weights.stat().st_size < 6_000_000
    n_tokens = len(token_map_for("smollm2").special_tokens)
    with safe_open(str(weights), "pt") as f:
        for key in f.keys():
            tensor = f.get_tensor(key)
            assert str(tensor.dtype) == "torch.float16", key
            assert "lora_" in key or "trainable_tokens_delta" in key, key
            if "trainable_tokens_delta" in key:
                assert tensor.shape == (n_tokens, 576)
    config = json.loads((DEFAULT_ADAPTER / "adapter_config.json").read_text())
    assert sorted(config["trainable_token_indices"]["embed_tokens"]) == list(range(49152, 49152 + n_tokens))
    provenance = default_provenance()
    assert (provenance["format"], provenance["format_version"]) == (FORMAT_NAME, FORMAT_VERSION)
    assert provenance["data"]["sha256"] == "0edab1c41a4b37f09addb619ae7977cd59da585455c01101eacb0e4e3719e5b4"
    assert provenance["device"] and provenance["steps"] > 0


@pytest.fixture(scope="module")
def merged_default(tmp_path_factory):
    from zeta2_trainer.adapters import merge_default_adapter
    from zeta2_trainer.train import smollm2_plain_copy

    return merge_default_adapter(smollm2_plain_copy(), tmp_path_factory.mktemp("default") / "merged")


def target_loss(model, prompt_ids, target_ids):
    """Mean loss per target token (teacher forcing) and the model's first answer token."""
    import torch

    ids = torch.tensor([prompt_ids + target_ids])
    labels = torch.tensor([[-100] * len(prompt_ids) + target_ids])
    with torch.no_grad():
        out = model(input_ids=ids, labels=labels)
    first = int(out.logits[0, len(prompt_ids) - 1].argmax())
    return float(out.loss), first


def test_merged_default_has_learned_the_format_on_held_out_dev_examples(merged_default, dev_jsonl):
    """On dev examples (repositories the adapter never saw) the merged default predicts the answer's tokens
    far better than the untrained base, and starts its answer with a marker token."""
    from transformers import AutoModelForCausalLM

    from zeta2_capture.prompt import OutOfRegion, Renderer
    from zeta2_capture.schema import read_examples
    from zeta2_trainer.adapters import load_with_adapter

    model = AutoModelForCausalLM.from_pretrained(merged_default).eval()
    renderer = Renderer.from_file(merged_default / "tokenizer.json", "smollm2")
    pairs = []
    for example in islice(read_examples(dev_jsonl), 0, 400, 50):
        pair = renderer.render_training_pair(example)
        if not isinstance(pair, OutOfRegion) and pair[0].n_tokens < 1200:
            pairs.append(pair)
        if len(pairs) == 2:
            break
    assert len(pairs) == 2
    import torch

    from zeta2_trainer.train import smollm2_plain_copy

    torch.manual_seed(0)  # the base's format rows start random (no adapter to overwrite them once disabled)
    base = load_with_adapter(smollm2_plain_copy(), DEFAULT_ADAPTER, merge=False).eval()
    trained, untrained = [], []
    for prompt, target in pairs:
        trained_loss, first = target_loss(model, prompt.token_ids, target.token_ids)
        with base.disable_adapter():  # the same model without the adapter: the untrained base
            base_loss, base_first = target_loss(base, prompt.token_ids, target.token_ids)
        assert first in renderer.marker_ids and base_first not in renderer.marker_ids
        trained.append(trained_loss)
        untrained.append(base_loss)
    # Most answer tokens copy the region, which the base already does fairly well; the gap is the format.
    assert sum(trained) < sum(untrained) - 0.5, (trained, untrained)
    assert json.loads((merged_default / "zeta2_training.json").read_text())["format"] == "zeta2-markers"
