"""Per-request records of a run (``requests.csv.gz``, ``Result.records``), read from the
recorded buffers on demand."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from lambdasim.engine.function import COLD
from lambdasim.engine.invoke.sync import DROPPED, FAILED, SUCCEEDED, THROTTLED
from lambdasim.engine.metrics import unpack_requests
from lambdasim.results.report_log import report_lines

if TYPE_CHECKING:  # pragma: no cover
    from lambdasim.engine.model import Model

__all__ = ["RequestRecords", "RECORD_COLUMNS", "OUTCOME_NAMES"]

RECORD_COLUMNS = ("request", "function", "trigger", "arrived_s", "ended_s", "outcome",
                  "attempts", "latency_ms", "cold_start")
OUTCOME_NAMES = {SUCCEEDED: "succeeded", FAILED: "failed", THROTTLED: "throttled",
                 DROPPED: "dropped"}


class RequestRecords:
    """Per-request records of a run, read from the recorded buffers on demand.

    Nothing is copied until asked for: :meth:`chunks` yields the columns
    (:data:`RECORD_COLUMNS`) a slice at a time, which is how ``requests.csv.gz`` is written;
    :meth:`columns` materialises them all (for a notebook).
    """

    def __init__(self, model: "Model", bill_init: bool = True) -> None:
        self._model = model
        self._bill_init = bill_init
        self._parts = []
        for name, recorder in model.recorders.items():
            triggers = np.array([t.name for t in model.triggers[name]] or [""], dtype=object)
            self._parts.append((name, triggers, recorder.table("requests")))

    def __len__(self) -> int:
        return sum(len(table["arrived"]) for _, _, table in self._parts)

    def report_lines(self, function: str):
        """CloudWatch-style REPORT lines of one function, one per invocation (with ``Init
        Duration`` or SnapStart's ``Restore Duration`` on cold starts); see
        :mod:`lambdasim.results.report_log`."""
        return report_lines(self._model, function, self._bill_init)

    @property
    def functions(self) -> list[str]:
        """The functions whose records these are."""
        return [name for name, _, _ in self._parts]

    def chunks(self, size: int = 65536):
        """Yield dicts of equal-length column arrays, at most ``size`` rows each."""
        outcome_names = np.array([OUTCOME_NAMES[k] for k in range(4)], dtype=object)
        first = 0
        for name, triggers, table in self._parts:
            n = len(table["arrived"])
            for lo in range(0, n, size):
                hi = min(n, lo + size)
                packed = unpack_requests(table["packed"][lo:hi])
                arrived = table["arrived"][lo:hi]
                ended = table["ended"][lo:hi]
                outcome = packed["outcome"]
                answered = (outcome == SUCCEEDED) | (outcome == FAILED)
                yield {
                    "request": np.arange(first + lo, first + hi, dtype=np.int64),
                    "function": np.full(hi - lo, name, dtype=object),
                    "trigger": triggers[packed["trigger"]],
                    "arrived_s": arrived.copy(),
                    "ended_s": ended.copy(),
                    "outcome": outcome_names[outcome],
                    "attempts": packed["attempts"],
                    "latency_ms": np.where(answered, (ended - arrived) * 1000.0, np.nan),
                    "cold_start": (packed["code"] & COLD) != 0,
                }
            first += n

    def columns(self) -> dict[str, np.ndarray]:
        """All records as one dict of column arrays."""
        chunks = list(self.chunks())
        if not chunks:
            return {key: np.empty(0) for key in RECORD_COLUMNS}
        return {key: np.concatenate([chunk[key] for chunk in chunks]) for key in RECORD_COLUMNS}

    def to_pandas(self):
        """The records as a pandas DataFrame (requires pandas)."""
        import pandas as pd  # optional dependency

        return pd.DataFrame(self.columns())
