"""Predictions of the untrained base pack, cheaply and with the same outcome as a full-length run.

A format answer must start with a marker token (after optional whitespace); an answer that starts otherwise
is a format error -- no edit -- however long it runs. So each example is first decoded for 4 tokens, and
only answers that start with a marker or with whitespace alone are decoded again with the full cap.
Latencies are those of the short runs, so they are not comparable with other systems.

    python bench/trainer_model/predict_untrained.py PACK examples.jsonl predictions.jsonl [CAP]
"""

import json
import sys

from zeta2_capture.schema import read_examples
from zeta2_trainer.predict import load_predictor

pack, source, target = sys.argv[1:4]
cap = int(sys.argv[4]) if len(sys.argv) > 4 else 256
predictor = load_predictor(pack)
marker = "<|marker_"
rerun = 0
with open(target, "w", encoding="utf-8") as out:
    for example in read_examples(source):
        result = predictor.predict(example, max_output_tokens=4, reuse_prefix=False)
        head = result.output_text.lstrip(" \t\r\n")
        if result.error is None or head == "" or head.startswith(marker):
            rerun += 1
            result = predictor.predict(example, max_output_tokens=cap, reuse_prefix=False)
        record = result.to_prediction(example.before).to_json()
        record.update(error=result.error, stats=result.stats_json(), first_tokens=result.output_text[:40])
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()
print(f"{rerun} answers decoded again with the full cap of {cap} tokens", file=sys.stderr)
