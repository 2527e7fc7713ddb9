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
import math
from typing import Iterator

import numpy as np

from lambdasim.engine.function import COLD, ERROR, PROVISIONED, RESTORE, TIMEOUT

__all__ = ["report_lines", "LOG_ORIGIN"]

#: The wall-clock time written for simulated time 0.
LOG_ORIGIN = _dt.datetime(2026, 1, 1, tzinfo=_dt.timezone.utc)


def _ceil_ms(seconds: float) -> int:
    return int(math.ceil(round(seconds * 1000.0, 6)))


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
    restores = getattr(function, "restores", None)
    billed_restore = (np.frombuffer(restores, dtype=np.float64).reshape(-1, 6)[:, 3]
                      if restores is not None else np.empty(0))
    r = 0
    index = function.index
    for k, (t, init, duration, code) in enumerate(zip(
            attempts["t"].tolist(), attempts["init"].tolist(), attempts["duration"].tolist(),
            attempts["code"].astype(np.int64).tolist())):
        stamp = (LOG_ORIGIN + _dt.timedelta(seconds=t)).isoformat(timespec="milliseconds")
        request = f"{index:08x}-0000-4000-8000-{k:012x}"
        fields = [f"REPORT RequestId: {request}", f"Duration: {duration * 1000.0:.2f} ms"]
        extra = ""
        if code & RESTORE:
            restore_billed = float(billed_restore[r])
            r += 1
            billed = _ceil_ms(duration + restore_billed)
            extra = (f"Restore Duration: {init * 1000.0:.2f} ms\t"
                     f"Billed Restore Duration: {_ceil_ms(restore_billed)} ms")
        elif code & COLD and not code & PROVISIONED:
            billed = _ceil_ms(duration + init) if bill_init else _ceil_ms(duration)
            extra = f"Init Duration: {init * 1000.0:.2f} ms"
        else:
            billed = _ceil_ms(duration)
        fields.append(f"Billed Duration: {billed} ms")
        fields.append(f"Memory Size: {memory} MB")
        if extra:
            fields.append(extra)
        if code & TIMEOUT:
            fields.append("Status: timeout")
        elif code & ERROR:
            fields.append("Status: error")
        yield f"{stamp} " + "\t".join(fields) + "\t"
