"""Data stages of `zeta2-trainer`: each reads and writes schema JSONL, streams, resumes by id, shards."""
