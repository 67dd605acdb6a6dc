"""Shipping captures to the trainer: resumable, idempotent batches to a directory or an HTTP endpoint.

    ship(store, destination, batch_size=200) -> ShipResult

Nothing leaves the machine unless the user names a destination (`ship_to` in the config, or
`zeta2-capture ship --to DEST`). Records go in order of their sequence number, in batches; the
store remembers, per destination, the last sequence number delivered, and moves it only after a
batch is delivered — so an interrupted ship resumes where it stopped, and a batch that was
delivered but not yet recorded is sent again *identically*:

- directory: `captures-<first seq>-<last seq>.jsonl`, written to a temporary name, fsynced, then
  renamed — a re-sent batch overwrites itself with the same bytes;
- http(s) URL: `POST` with `Content-Type: application/x-ndjson` and `Idempotency-Key: <sha256 of the
  batch>`; any 2xx is success; anything else stops shipping with `ShipError` naming the status.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from zeta2_capture.export import example_record
from zeta2_capture.schema import dumps

DEFAULT_BATCH = 200


class ShipError(RuntimeError):
    pass


@dataclass(frozen=True)
class ShipResult:
    destination: str
    batches: int
    records: int
    shipped_seq: int


def _batches(store, destination: str, batch_size: int):
    after = store.shipped_seq(destination)
    while True:
        rows = list(store.records(after_seq=after, limit=batch_size))
        if not rows:
            return
        body = "".join(dumps(example_record(store, ex)) + "\n" for _, ex in rows)
        yield rows[0][0], rows[-1][0], len(rows), body.encode("utf-8")
        after = rows[-1][0]


def _deliver_dir(folder: Path, first: int, last: int, body: bytes) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".incoming-", dir=folder)
        with os.fdopen(fd, "wb") as out:
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, folder / f"captures-{first:010d}-{last:010d}.jsonl")
    except OSError as exc:
        raise ShipError(f"{folder}: cannot write a batch ({exc.strerror})") from None


def _deliver_http(client, url: str, body: bytes) -> None:
    import httpx

    key = hashlib.sha256(body).hexdigest()
    try:
        response = client.post(
            url, content=body, headers={"Content-Type": "application/x-ndjson", "Idempotency-Key": key}
        )
    except httpx.HTTPError as exc:
        raise ShipError(f"{url}: {type(exc).__name__}: {exc}") from None
    if not 200 <= response.status_code < 300:
        raise ShipError(f"{url}: HTTP {response.status_code} {response.reason_phrase}; batch not shipped, will resume here")


def ship(store, destination: str, *, batch_size: int = DEFAULT_BATCH, timeout: float = 30.0) -> ShipResult:
    """Ships every record not yet delivered to `destination`; stops at the first failed batch."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    is_http = destination.startswith(("http://", "https://"))
    client = None
    if is_http:
        import httpx

        client = httpx.Client(timeout=timeout)
    batches = records = 0
    try:
        for first, last, n, body in _batches(store, destination, batch_size):
            if is_http:
                _deliver_http(client, destination, body)
            else:
                _deliver_dir(Path(destination).expanduser(), first, last, body)
            store.set_shipped_seq(destination, last)  # only after delivery: a crash re-sends this batch
            batches += 1
            records += n
    finally:
        if client is not None:
            client.close()
    return ShipResult(destination, batches, records, store.shipped_seq(destination))
