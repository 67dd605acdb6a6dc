"""The 100 dev examples every trainer-model benchmark uses: a seeded random sample of ../shared/data/dev.jsonl,
kept in file order (dev is sorted by repository and kind, so the first 100 would be one repository)."""

import random
import sys

source, target = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 100
with open(source, encoding="utf-8") as f:
    lines = f.readlines()
chosen = sorted(random.Random(0).sample(range(len(lines)), n))
with open(target, "w", encoding="utf-8") as f:
    f.writelines(lines[i] for i in chosen)
print(f"{n} of {len(lines)} examples from {source} -> {target}")
