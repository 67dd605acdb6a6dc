#!/usr/bin/env bash
# The default adapter (GPU run) vs the untrained base pack vs complete-at-cursor, on runs/dev100.jsonl.
# Usage: bash bench/trainer_model/eval.sh [ADAPTER_DIR]   (default: the committed default adapter)
set -euo pipefail
adapter=${1:-trainer/zeta2_trainer/adapters/default}
r=runs; mkdir -p $r/eval
.venv/bin/python -c "
from zeta2_trainer.adapters import merge_adapter
from zeta2_trainer.train import smollm2_plain_copy
merge_adapter(smollm2_plain_copy(), '$adapter', '$r/merged')"
.venv/bin/zeta2-trainer export $r/merged -o $r/packs/trained --force
.venv/bin/zeta2-trainer bootstrap -o $r/packs/base
# One cap (256 tokens) for every system; the untrained base is decoded for 4 tokens first and only again
# in full when its answer could still be a format answer (see predict_untrained.py).
.venv/bin/zeta2-trainer predict --model $r/packs/trained -i $r/dev100.jsonl -o $r/eval/pred-gpu.jsonl --max-output-tokens 256 --quiet &
.venv/bin/python bench/trainer_model/predict_untrained.py $r/packs/base $r/dev100.jsonl $r/eval/pred-base.jsonl 256 &
.venv/bin/zeta2-trainer predict --model $r/packs/base --baseline complete-at-cursor -i $r/dev100.jsonl -o $r/eval/pred-cursor.jsonl --quiet &
wait
.venv/bin/zeta2-trainer eval -i $r/dev100.jsonl --predictions $r/eval/pred-base.jsonl --predictions $r/eval/pred-cursor.jsonl \
  --predictions $r/eval/pred-gpu.jsonl -o $r/eval/report --resamples 10000 --seed 0
