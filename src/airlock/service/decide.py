"""One admission decision: the allowlist first, then what the scan queue knows. Never downloads.

* allowlisted, unrevoked, unexpired, OMS signature good: `allowed`;
* revoked, expired, unpinned, not a reference the service decides on: `denied`;
* not in the allowlist: `pending` with a scan queued (or `denied` with `unknown="deny"`), and once
  that scan has run, `denied` when it failed, still `pending` when it passed (a passing scan is not
  an admission: a signer must add the model to the allowlist).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from airlock.service.db import Database, Scan
from airlock.service.references import BadReference, ModelRef, parse
from airlock.service.view import AllowlistView

Decision = Literal["allowed", "denied", "pending"]
Unknown = Literal["pending", "deny"]


@dataclass(frozen=True)
class Admission:
    decision: Decision
    reason: str
    reference: str
    counter: int
    digest: str | None = None
    record: int | None = None
    scan: str | None = None  # scan id, when the queue has one for this model
    unpinned: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "reason": self.reason,
            "reference": self.reference,
            "digest": self.digest,
            "counter": self.counter,
            "record": self.record,
            "scan": self.scan,
            "report": None if self.scan is None else f"/v1/scans/{self.scan}",
        }


def admit(
    raw: str,
    view: AllowlistView,
    db: Database,
    now: datetime,
    *,
    unknown: Unknown = "pending",
    queue: bool = True,
    enqueued: Callable[[], None] | None = None,
) -> Admission:
    """Decide on `raw`; `queue=False` (dry runs) never adds a scan. `enqueued` is called when one was added."""
    try:
        ref = parse(raw)
    except BadReference as exc:
        return Admission("denied", str(exc), raw, view.counter, unpinned=exc.unpinned)
    found = view.lookup(ref, now)
    if found.outcome != "unknown":
        scan = db.scan_for(ref.canonical) if found.outcome == "denied" else None
        return Admission(
            found.outcome,
            found.reason,
            raw,
            view.counter,
            found.digest,
            found.record,
            scan.id if scan else None,
        )
    return _unknown(raw, ref, view, db, unknown=unknown, queue=queue, enqueued=enqueued)


def _unknown(
    raw: str,
    ref: ModelRef,
    view: AllowlistView,
    db: Database,
    *,
    unknown: Unknown,
    queue: bool,
    enqueued: Callable[[], None] | None,
) -> Admission:
    counter = view.counter
    if ref.kind == "digest":
        return Admission(
            "denied",
            f"not in the allowlist (counter {counter}): a digest alone names no place to fetch the model "
            "from, so it cannot be scanned; ask with hf://ORG/NAME@<sha>",
            raw,
            counter,
            ref.digest,
        )
    scan: Scan | None = db.scan_for(ref.canonical)
    if scan is None and queue:
        scan, created = db.enqueue(ref.canonical)
        if created and enqueued is not None:
            enqueued()
    base = f"not in the allowlist (counter {counter})"
    if scan is None:
        return Admission(
            "denied" if unknown == "deny" else "pending", f"{base}; dry run: no scan queued", raw, counter
        )
    if scan.status == "done" and scan.verdict == "fail":
        return Admission(
            "denied", f"{base}; its scan failed the policy", raw, counter, scan.digest, scan=scan.id
        )
    if scan.status == "done":
        why = f"{base}; its scan passed: waiting for a signer to add it (`airlock sign`)"
    elif scan.status == "error":
        why = f"{base}; its scan could not run: {scan.error}"
    else:
        why = f"{base}; scan {scan.status}"
    return Admission(
        "denied" if unknown == "deny" else "pending", why, raw, counter, scan.digest, scan=scan.id
    )
