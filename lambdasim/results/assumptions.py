"""The assumptions a run relied on: figures AWS does not publish, listed once per run.

lambdasim follows the AWS documentation where it gives a figure and makes an *assumption*
(LAMBDA_MODEL.md, README "What the model does") where it does not: how long idle environments
live, which warm environment is reused, how a duration stretches with memory, how fast an
asynchronous backlog drains, and so on. A planner needs to know which of these a given answer
rests on, to know which inputs deserve a measurement. :func:`used_assumptions` lists, for one
finished run, every assumption that the scenario actually used -- a default the scenario did
not override, on a feature the scenario exercises -- once, with the functions it applies to
and how to replace it by a measurement. The summary carries the list (``assumptions``) and the
table prints it after the account block.
"""
from __future__ import annotations

import textwrap
from typing import Any, Callable, Mapping

__all__ = ["used_assumptions", "format_assumptions"]


def used_assumptions(model) -> list[dict[str, Any]]:
    """The assumptions a finished run relied on, in a fixed order.

    Parameters
    ----------
    model : lambdasim.engine.model.Model
        A model that has run (its scenario says which keys the user stated).

    Returns
    -------
    list of dict
        ``{"topic", "assumption", "functions", "replace_with"}`` per assumption used;
        ``functions`` lists the functions it applies to (empty for account-wide ones).
    """
    # Imported here: the table (and so quick commands like validate) imports this module for
    # format_assumptions and must not load the engine.
    import numpy as np

    from lambdasim.engine.billing import load_prices
    from lambdasim.engine.function import THROTTLE_REQUEST_SCALING

    scenario = model.scenario
    config = scenario.config
    stated: Callable[[str], bool] = scenario.states
    found: dict[str, dict[str, Any]] = {}
    listed: dict[str, set[str]] = {}  # each topic's functions, for the membership test

    def use(topic: str, text: str, replace_with: str, function: str | None = None) -> None:
        entry = found.get(topic)
        if entry is None:  # the first use of the topic (most uses repeat one, per function)
            entry = found[topic] = {"topic": topic, "assumption": text, "functions": [],
                                    "replace_with": replace_with}
            listed[topic] = set()
        names = listed[topic]
        if function is not None and function not in names:
            names.add(function)
            entry["functions"].append(function)

    for name, f in config["functions"].items():
        key = f"functions.{name}"
        recorder = model.recorders[name]
        if not recorder.attempt_count():  # never ran
            continue
        if not stated(f"{key}.keep_alive"):
            use("keep_alive", "idle environments are reclaimed after a keep-alive drawn uniformly "
                "from 5-7 min (Shilkov, 2021; AWS: 'non-deterministic')",
                "functions.NAME.keep_alive from your own cold-start intervals", name)
        if not stated(f"{key}.max_lifetime"):
            use("max_lifetime", "environments are retired after a lifetime drawn uniformly from "
                "2-6 h (AWS: 'every few hours')", "functions.NAME.max_lifetime", name)
        if not stated(f"{key}.reuse"):
            use("reuse", "the most recently used idle environment takes the next request "
                "(AWS does not document the choice)", "functions.NAME.reuse (lru, random, "
                "newest) to see whether it matters", name)
        if not stated(f"{key}.init"):
            use("init", "Init Duration is the runtime's hello-world default (lambda-perf 2026 "
                "medians; images about 2x)", "lambdasim fit LOGFILE (REPORT Init Duration)", name)
        scaling = f["memory_scaling"]
        if scaling["cpu_bound"] > 0 and f["memory_mb"] != f["reference_mb"]:
            use("memory_scaling", "handler time measured at reference_mb is stretched to "
                "memory_mb by the CPU share (1,769 MB = 1 vCPU) and the CPU-bound fraction "
                "(d_ref x ((1 - f) + f x s(ref)/s(m)))",
                "durations measured at the memory you run (reference_mb = memory_mb)", name)
        if (f["architecture"] != f["reference_architecture"]
                and not stated(f"{key}.arm64_duration_factor")):
            use("arm64_duration_factor", "arm64 and x86_64 run the handler at the same speed "
                "(arm64_duration_factor 1.0; AWS: 'up to 19 % better performance', "
                "workload-dependent)", "lambdasim fit X86.log --arch x86_64 --other-arch "
                "ARM64.log", name)
        if any(t["type"] == "async" for t in f["triggers"]) or name in model.async_queues:
            queue = model.async_queues.get(name)
            if queue is not None and queue.fifo:
                use("async_fifo", "throttle_backoff none: after a scale-out or request-rate "
                    "throttle the pollers look again 10 ms later", "-", name)
            elif queue is not None:
                use("async_backlog", "an asynchronous backlog drains with every throttled "
                    "event on its own backoff (1 s doubling to 5 min, jitter uniform in "
                    "[cap/2, cap)); AWS documents no drain rate (see async.backlog.idle_share)",
                    "compare with throttle_backoff: none (the optimistic bound) and a "
                    "backlog_slowdown; measure a drain on AWS", name)
        prov = f["provisioned_concurrency"]
        if prov["capacity"] or prov["schedule"] or prov["target_tracking"] is not None:
            if not stated(f"{key}.provisioned_concurrency.preparation"):
                use("provisioned_preparation", "provisioned capacity becomes usable 90 s after "
                    "it is requested, then at 6,000 per minute (AWS: 1-2 minutes)",
                    "functions.NAME.provisioned_concurrency.preparation", name)
            use("provisioned_recycle", "provisioned environments are recycled after "
                "max_lifetime with a background Init, billed at the provisioned execution rate, "
                "and the replacement is ready before the old one leaves", "-", name)
            if prov["target_tracking"] is not None:
                use("target_tracking_scale_in", "target tracking scales in half-way towards "
                    "the target value (AWS: 'gradually')", "-", name)
        if recorder.throttles and np.any(  # (most functions are never throttled)
                recorder.table("throttles")["reason"].astype(np.int64)
                == THROTTLE_REQUEST_SCALING):
            use("request_scaling_window", "a request rate a function reached stays granted for "
                "10 s (the request-rate dimension of the scale-out rate; AWS gives the growth, "
                "10,000 requests/s per 10 s, not how long a granted rate lasts)",
                "account.scaling.request_burst: null to see the run without it", name)
        recurring = config["recurs"] in ("daily", "weekly")
        if recurring and (prov["capacity"] or prov["schedule"]
                          or prov["target_tracking"] is not None):
            use("provisioned_all_month", "per_30_days keeps the lowest provisioned concurrency "
                "configured in the window all month (always on); what the window's schedule or "
                "target tracking adds above it recurs with the window",
                "recurs: continuous, or a window that covers the whole day's schedule", name)
        for trigger in f["triggers"]:
            if trigger["type"] == "sqs" and trigger.get("provisioned_pollers") is not None:
                rate = load_prices(config["billing"]["prices"])[
                    "event_poller_unit_usd_per_hour"]["sqs"]
                use("sqs_epu_price", f"provisioned-mode SQS pollers are billed at ${rate} per "
                    "EPU-hour, Kafka's rate: AWS publishes no SQS event poller unit price in "
                    "the pages searched (Lambda pricing, services-sqs-scaling.html, the "
                    "2025-11-14 launch post; 2026-11-29)",
                    "billing.prices: a price file with the rate from your bill", name)
            if trigger["type"] == "sqs":
                use("sqs_pollers", "SQS pollers retire at their ramp's pace down to 5 when the "
                    "queue is empty, back off after throttles (doubling up to 60 s), and a "
                    "failed batch is visible again at the front of the queue",
                    "-", name)
            elif trigger["type"] in ("kinesis", "dynamodb"):
                use("stream_pollers", "stream pollers back off 1 s doubling to 30 s after a "
                    "throttle; a failed batch is retried at the lane's next poll; a "
                    "parallelization factor splits a shard into equal key ranges", "-", name)
    if config["account"]["scaling"]["model"] == "regional-burst":
        use("regional_burst", "legacy scale-out: once the account reaches the burst, its "
            "ceiling grows linearly by per_minute from the burst", "-")
    return list(found.values())


def format_assumptions(assumptions: list[Mapping[str, Any]]) -> list[str]:
    """Table lines: each assumption once, with the functions it applies to, wrapped at 100
    columns (continuation lines indented)."""
    if not assumptions:
        return []
    lines = ["assumptions (AWS publishes no figure; measure what matters to your answer):"]
    for entry in assumptions:
        where = f" [{', '.join(entry['functions'])}]" if entry["functions"] else ""
        hint = (f"; to measure: {entry['replace_with']}"
                if entry["replace_with"] and entry["replace_with"] != "-" else "")
        lines.extend(textwrap.wrap(f"- {entry['topic']}: {entry['assumption']}{where}{hint}",
                                   width=100, subsequent_indent="  ", break_on_hyphens=False))
    return lines
