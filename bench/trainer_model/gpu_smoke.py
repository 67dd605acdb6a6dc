"""GPU smoke test of train.py before the real run: a tiny random Llama, 3 LoRA steps in bf16 on a rendered set."""

import argparse
import shutil
import sys
from pathlib import Path

import torch
from transformers import LlamaConfig, LlamaForCausalLM

from zeta2_trainer import train

dataset, work = Path(sys.argv[1]), Path(sys.argv[2])
shutil.rmtree(work, ignore_errors=True)
base = work / "tiny"
config = LlamaConfig(vocab_size=49152, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                     num_key_value_heads=2, max_position_embeddings=4096, tie_word_embeddings=True)
LlamaForCausalLM(config).save_pretrained(base)
shutil.copy(dataset / "tokenizer.json", base / "tokenizer.json")
parser = argparse.ArgumentParser()
train.make_parser(parser)
args = parser.parse_args(["--dataset", str(dataset), "--dev-dataset", str(dataset), "--dev-limit", "4", "--base", str(base),
                          "-o", str(work / "run"), "--steps", "3", "--batch-size", "4", "--grad-accum", "1", "--eval-every", "0"])
assert train.main(args) == 0
print("smoke OK on", torch.cuda.get_device_name())
