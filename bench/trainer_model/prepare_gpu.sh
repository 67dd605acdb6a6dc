#!/usr/bin/env bash
# Prepares what the two device calls of gpu_run.sh carry (all in ignored folders): wheels, the GGUF split in
# xz-compressed parts, and the train/dev sets rendered here (the device has no tree-sitter).
set -euo pipefail
py=.venv/bin/python
grep -qx '/.gpu1/' .git/info/exclude 2>/dev/null || printf '/.gpu/\n/.gpu1/\n/.gpu2/\n' >> .git/info/exclude
mkdir -p .whl .gpu .gpu1 .gpu2
python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl \
  transformers==4.57.6 tokenizers==0.22.2 huggingface_hub==0.36.2 gguf==0.19.0 peft==0.21.2
gguf=$($py -c "from zeta2_trainer.smollm2 import find_gguf; print(find_gguf())")
sha256sum "$gguf" > .gpu2/gguf.sha256
xz -6 -T2 -c "$gguf" > .gpu/smollm2.gguf.xz
split -b $((43*1024*1024)) -a 1 .gpu/smollm2.gguf.xz .gpu/part_
mv .gpu/part_a .gpu1/part_a; mv .gpu/part_b .gpu2/part_b; mv .gpu/part_c .gpu2/part_c
$py - <<'PY'
from zeta2_trainer.dataset import render_file
from zeta2_trainer.smollm2 import extract_tokenizer
tj = extract_tokenizer(".cache/tests/smollm2-tokenizer")
render_file("../shared/data/train.jsonl", ".gpu2/train2048", tokenizer_json=tj, family="smollm2", max_prompt_tokens=2048)
render_file("../shared/data/dev.jsonl", ".gpu1/dev2048", tokenizer_json=tj, family="smollm2", max_prompt_tokens=2048, keep=48)
PY
gzip -c .gpu2/train2048/tokenizer.json > .gpu1/tokenizer.json.gz
rm .gpu2/train2048/tokenizer.json .gpu1/dev2048/tokenizer.json
du -sh .whl .gpu1 .gpu2
