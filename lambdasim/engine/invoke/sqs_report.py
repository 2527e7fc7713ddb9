"""The ``functions.<name>.sqs`` summary block and the SQS columns of metrics.csv.

:class:`SqsReporter` gathers the blocks of a function's SQS triggers
(:class:`~lambdasim.engine.invoke.sqs.SqsTrigger`, read by their ``summary`` and ``series``
methods) after a run; it imports nothing of the trigger's module.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from lambdasim.engine.online_levels import regroup_max
from lambdasim.engine.pollers import (step_min, step_period_maxima, unit_seconds,
                                      window_unit_seconds)

__all__ = ["SqsReporter"]


_COUNT_KEYS = ("messages_received", "messages_deleted", "messages_to_dlq", "messages_expired",
               "messages_remaining", "receives", "batches", "batches_failed",
               "batches_throttled")


class SqsReporter:
    """The ``sqs`` summary block and series columns of one function's SQS triggers.

    One trigger: its block. Several: counts and time-weighted means are summed (the mean depth
    of all the function's queues together), maxima are the largest of the triggers' maxima,
    the mean batch size is weighted by batches, and ``by_trigger`` holds each trigger's own
    block. Series columns: depth and pollers are summed over the triggers' per-period maxima,
    the oldest-message age is their maximum.
    """

    summary_key = "sqs"

    def __init__(self) -> None:
        self.triggers: list[Any] = []  # SqsTrigger

    def usage(self, model, usage) -> None:
        """Event poller units of the provisioned-mode triggers in the measured window: each
        poller billed per second with a 1-minute minimum (https://aws.amazon.com/lambda/pricing/)."""
        for trigger in self.triggers:
            if trigger.provisioned is not None:
                usage.sqs_epu_s += unit_seconds(trigger.provisioned.changes, model.warmup_s,
                                                model.duration_s, usage.epu_minimum_s)
                # The minimum pollers, held from the start, are always on
                # (lambdasim.engine.billing.ALWAYS_ON).
                usage.always_on_sqs_epu_s += step_min(
                    trigger.provisioned.changes, model.warmup_s, model.duration_s) * max(
                    0.0, model.duration_s - model.warmup_s)

    def cost_weights(self, model, edges, prices) -> dict[str, Any]:
        """Where the ``event_poller_units`` item was used: EPU-hours of the provisioned-mode
        triggers in each bin of ``edges`` within ``[warmup, duration)``, in USD at the price
        file's SQS rate."""
        rate = float(prices["event_poller_unit_usd_per_hour"]["sqs"]) / 3600.0
        out = np.zeros(len(edges) - 1)
        for trigger in self.triggers:
            if trigger.provisioned is not None:
                out += window_unit_seconds(trigger.provisioned.changes, edges, model.warmup_s,
                                           model.duration_s) * rate
        return {"event_poller_units": out}

    def summary(self, model) -> dict[str, Any]:
        blocks = [trigger.summary(model.end_s) for trigger in self.triggers]
        if len(blocks) == 1:
            return blocks[0]
        out: dict[str, Any] = {key: sum(b[key] for b in blocks) for key in _COUNT_KEYS}
        out["queue_depth"] = {"max": max(b["queue_depth"]["max"] for b in blocks),
                              "mean": round(sum(b["queue_depth"]["mean"] for b in blocks), 6)}
        out["oldest_message_age_s"] = {"max": max(b["oldest_message_age_s"]["max"]
                                                  for b in blocks)}
        out["pollers"] = {"max": max(b["pollers"]["max"] for b in blocks),
                          "mean": round(sum(b["pollers"]["mean"] for b in blocks), 6)}
        batches = sum(t.batches for t in self.triggers)
        out["batch_size"] = {"mean": round(sum(t.batch_messages for t in self.triggers)
                                           / batches, 6) if batches else None}
        out["by_trigger"] = {t.name: b for t, b in zip(self.triggers, blocks)}
        return out

    def series(self, model, edges) -> dict[str, list]:
        """Per bin of ``edges`` (the metrics periods, or chart bins that are whole groups of
        the tracked period): each trigger's maxima, then depth and pollers summed over the
        triggers and the oldest-message age their maximum.

        Raises ValueError when the bins are not groups of the tracked period.
        """
        count = len(edges) - 1
        depth = [0] * count
        pollers = [0] * count
        age = [0.0] * count
        for trigger in self.triggers:
            trigger.depth.finish(model.end_s)
            trigger.pollers.finish(model.end_s)
            trigger.age.finish(model.end_s)
            track = trigger.depth.period_s
            fine = max(count, int(math.ceil(float(edges[-1]) / track - 1e-9)))
            columns = [regroup_max(level.per_period(fine), track, edges)
                       for level in (trigger.depth, trigger.pollers, trigger.age)]
            if any(column is None for column in columns):
                raise ValueError(f"bins of {edges[1] - edges[0]:g} s are not whole groups of "
                                 f"the SQS levels' {track:g} s")
            for k, (d, p, a) in enumerate(zip(*columns)):
                depth[k] += d
                pollers[k] += p
                if a > age[k]:
                    age[k] = a
        out = {"ApproximateNumberOfMessagesVisible": depth,
               "ApproximateAgeOfOldestMessage_s": age,
               "SQSPollers": pollers}
        provisioned = [t.provisioned for t in self.triggers if t.provisioned is not None]
        if provisioned:
            # ProvisionedPollers (CloudWatch, provisioned mode): the maximum in each period.
            # The function's ProvisionedPollers column also adds its provisioned-mode Kafka
            # mappings' (lambdasim.results.periods.merge_series); SQSProvisionedPollers keeps
            # the SQS share.
            per = [step_period_maxima(p.changes, edges) for p in provisioned]
            out["ProvisionedPollers"] = [sum(values) for values in zip(*per)]
            out["SQSProvisionedPollers"] = list(out["ProvisionedPollers"])
        return out
