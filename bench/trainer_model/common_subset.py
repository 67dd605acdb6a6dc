"""Examples that every given predictions file covers (file order kept): the paired set for `eval`."""

import json
import sys

examples, out, *predictions = sys.argv[1:]
ids = None
for path in predictions:
    with open(path, encoding="utf-8") as f:
        have = {json.loads(line)["id"] for line in f if line.strip()}
    ids = have if ids is None else ids & have
with open(examples, encoding="utf-8") as f, open(out, "w", encoding="utf-8") as w:
    kept = [line for line in f if json.loads(line)["id"] in ids]
    w.writelines(kept)
print(f"{len(kept)} examples predicted by all of {len(predictions)} systems -> {out}")
