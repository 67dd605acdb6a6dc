#!/usr/bin/env bash
# The GPU LoRA run of the default adapter, in two device calls (the device tool carries at most 64 MiB a
# call, and the SmolLM2 GGUF alone is 94 MiB, 86 MiB xz-compressed). Prepared here by prepare_gpu.sh:
#   .whl/                 transformers 4.57.6, tokenizers 0.22.2, huggingface_hub 0.36.2, gguf 0.19.0, peft 0.21.2
#   .gpu1/part_a          first half of SmolLM2-135M-Instruct.Q4_1.gguf.xz      (call 1)
#   .gpu1/dev2048/        rendered dev set (48 samples, 2,048-token budget), tokenizer.json.gz
#   .gpu2/part_b          second half                                            (call 2)
#   .gpu2/train2048/      rendered train set (all of ../shared/data/train.jsonl at 2,048 tokens)
# Phase 1 installs the wheels and smoke-tests train.py on the GPU with a tiny random model; phase 2 rebuilds
# the GGUF, makes the plain HF copy and trains; the adapter and logs come back through $OUT.
set -euo pipefail
phase=$1
export PYTHONPATH=/root/site:$PWD/trainer:$PWD/capture:$PWD/daemon PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
if [ "$phase" = 1 ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /root/site .whl/*.whl
  mkdir -p /root/z && cp .gpu1/part_a /root/z/part_a && cp -r .gpu1/dev2048 /root/z/dev2048
  gunzip -c .gpu1/tokenizer.json.gz > /root/z/tokenizer.json && cp /root/z/tokenizer.json /root/z/dev2048/tokenizer.json
  nvidia-smi -L
  python3 -c "import torch, transformers, peft, accelerate; print('torch', torch.__version__, 'transformers', transformers.__version__, 'peft', peft.__version__, 'accelerate', accelerate.__version__, torch.cuda.get_device_name())"
  python3 bench/trainer_model/gpu_smoke.py /root/z/dev2048 /root/z/smoke
elif [ "$phase" = 2 ]; then
  cat /root/z/part_a .gpu2/part_b .gpu2/part_c | python3 -c "import lzma, sys; sys.stdout.buffer.write(lzma.decompress(sys.stdin.buffer.read()))" > /root/z/smollm2.gguf
  echo "$(cat .gpu2/gguf.sha256 | cut -d' ' -f1)  /root/z/smollm2.gguf" | sha256sum -c
  cp -r .gpu2/train2048 /root/z/train2048 && cp /root/z/tokenizer.json /root/z/train2048/tokenizer.json
  shift
  python3 bench/trainer_model/train_entry.py --dataset /root/z/train2048 --dev-dataset /root/z/dev2048 \
    --base /root/z/smollm2.gguf -o /root/z/run --no-merge --save-every 0 "$@" 2>&1 | tee $OUT/train.log
  cp /root/z/run/adapter/adapter_model.safetensors /root/z/run/adapter/adapter_config.json $OUT/
  cp /root/z/run/run.json /root/z/run/train_log.jsonl $OUT/
  python3 -c "
from safetensors.torch import load_file; w = load_file('/root/z/smollm2-plain/model.safetensors')
print('plain-copy checksum', sum(float(v.double().sum()) for v in w.values()))"
fi
