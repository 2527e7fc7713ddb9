"""REPORT lines: one CloudWatch-style ``REPORT`` record per invocation of a run.

Lambda writes a ``REPORT`` line at the end of every invocation
(https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html, "REPORT"): tab-separated
``Duration``, ``Billed Duration``, ``Memory Size``, and ``Init Duration`` on a cold start that
ran Init; a SnapStart cold start carries ``Restore Duration`` and ``Billed Restore Duration``
instead (https://docs.aws.amazon.com/lambda/latest/dg/snapstart-monitoring.html); failures
carry ``Status: error`` or ``Status: timeout``. lambdasim writes the same lines from its
attempt records (``report-<function>.log.gz`` beside ``requests.csv.gz`` when records are
kept), so ``lambdasim fit`` can read a run back and a simulated log can be compared with a
real one. Each line starts with the invocation's start time as an ISO timestamp counted from
:data:`LOG_ORIGIN` (simulated time 0). ``Max Memory Used`` is not modelled and not written.
Billed Duration follows the billing rules of :mod:`lambdasim.engine.billing`: Init is added
on on-demand cold starts when Init is billed, the Billed Restore Duration on SnapStart
restores.
"""
from __future__ import annotations

import datetime as _dt
from typing import Iterator

import numpy as np

from lambdasim.engine.billing import billed_ms
from lambdasim.engine.function import COLD, ERROR, PROVISIONED, RESTORE, TIMEOUT

__all__ = ["report_lines", "LOG_ORIGIN"]

#: Lines made at a time (their text only: the numbers are computed for the whole run).
_BLOCK = 65536

#: The wall-clock time written for simulated time 0.
LOG_ORIGIN = _dt.datetime(2026, 1, 1, tzinfo=_dt.timezone.utc)


def report_lines(model, name: str, bill_init: bool) -> Iterator[str]:
    """The REPORT lines of function ``name`` of a finished model, in invocation order.

    Parameters
    ----------
    model : lambdasim.engine.model.Model
        A finished run.
    name : str
        The function.
    bill_init : bool
        Whether on-demand Init is billed (the billing date is on or after 2025-08-01).

    Yields
    ------
    str
        ``<ISO time> REPORT RequestId: <id>\\tDuration: ... ms\\t...`` without a newline.
    """
    recorder = model.recorders[name]
    function = model.functions[name]
    memory = int(function.config["memory_mb"])
    attempts = recorder.table("attempts")
    t = np.asarray(attempts["t"], dtype=np.float64)
    init = np.asarray(attempts["init"], dtype=np.float64)
    duration = np.asarray(attempts["duration"], dtype=np.float64)
    code = np.asarray(attempts["code"]).astype(np.int64)
    n = len(t)
    restored = (code & RESTORE) != 0
    ran_init = ((code & COLD) != 0) & ((code & PROVISIONED) == 0) & ~restored
    # The Billed Restore Duration of each restore, in the order the restores ran (the
    # attempts are in start order too).
    restore_billed = np.zeros(n)
    restores = getattr(function, "restores", None)
    if restores is not None and restored.any():
        per_restore = np.frombuffer(restores, dtype=np.float64).reshape(-1, 6)[:, 3]
        restore_billed[restored] = per_restore[:int(restored.sum())]
    added = np.where(restored, restore_billed, init if bill_init else 0.0)
    added[~(restored | ran_init)] = 0.0
    # The billing engine's own rounding (lambdasim.engine.billing.billed_ms).
    billed = billed_ms(duration + added).astype(np.int64)
    # Start times as ISO timestamps: microseconds rounded as datetime.timedelta rounds them,
    # then truncated to the millisecond as isoformat(timespec="milliseconds") does.
    ms = np.floor_divide(np.round(t * 1e6).astype(np.int64), 1000)
    origin = np.datetime64(LOG_ORIGIN.replace(tzinfo=None), "ms")
    init_ms = init * 1000.0
    restore_ms = billed_ms(restore_billed).astype(np.int64)
    line = ("%s+00:00 REPORT RequestId: " + f"{function.index:08x}" + "-0000-4000-8000-%012x"
            "\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: " + str(memory)
            + " MB\t%s")
    # Text is made a block of lines at a time: memory stays flat however long the run.
    for lo in range(0, n, _BLOCK):
        hi = min(n, lo + _BLOCK)
        stamps = np.datetime_as_string(origin + ms[lo:hi].astype("timedelta64[ms]"), unit="ms")
        # What follows Memory Size: Init or Restore Duration on cold starts, then the status.
        tails = [""] * (hi - lo)
        for k in np.flatnonzero(ran_init[lo:hi]).tolist():
            tails[k] = f"Init Duration: {init_ms[lo + k]:.2f} ms\t"
        for k in np.flatnonzero(restored[lo:hi]).tolist():
            tails[k] = (f"Restore Duration: {init_ms[lo + k]:.2f} ms\t"
                        f"Billed Restore Duration: {restore_ms[lo + k]} ms\t")
        for k in np.flatnonzero(code[lo:hi] & (TIMEOUT | ERROR)).tolist():
            tails[k] += "Status: timeout\t" if code[lo + k] & TIMEOUT else "Status: error\t"
        for row in zip(stamps.tolist(), range(lo, hi), (duration[lo:hi] * 1000.0).tolist(),
                       billed[lo:hi].tolist(), tails):
            yield line % row
