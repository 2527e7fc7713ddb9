"""Where the runs of replications and sweeps execute: in process, a process pool, or Dask.

A run is one task, ``(resolved config, replication)``: plain data from which any worker, in
any process or on any machine, rebuilds the model (:func:`run_replication`); it returns the
plain summary dict, not a ``Result``, so nothing unpicklable or global crosses processes.
:func:`execute` runs a list of tasks in this process (one worker), on a local
``ProcessPoolExecutor`` (the default, one worker per usable core) or on any
``concurrent.futures.Executor`` given, such as a Dask cluster's (:func:`dask_executor`), and
returns the summaries in task order, whatever finished first, so the numbers never depend on
the executor. A :class:`ProgressBar` (rich.progress) on stderr counts finished runs.
"""
from __future__ import annotations

import contextlib
import copy
import os
import sys
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from typing import Any, Iterator, Mapping, Sequence

from lambdasim.results.progress import RunsBar
from lambdasim.scenario import Scenario

__all__ = ["run_replication", "run_replication_charted", "execute", "usable_cores", "ProgressBar", "dask_executor",
           "SchedulerUnreachable"]


def run_replication(task: tuple[Mapping[str, Any], int]) -> dict[str, Any]:
    """Run replication ``replication`` of a resolved config; return its summary without config.

    The task is plain data, ``(config, replication)``, so it pickles to any process or
    machine; the model is rebuilt there from the resolved config alone.
    """
    from lambdasim.engine.model import Model
    from lambdasim.results.result import build_result

    config, replication = task
    scenario = Scenario(config["name"], None, copy.deepcopy(dict(config)))
    summary = build_result(Model(scenario, replication=replication).run(),
                           timeline=False).summary
    del summary["config"]
    return summary


def run_replication_charted(task: tuple[Mapping[str, Any], int]) -> dict[str, Any]:
    """:func:`run_replication` plus the run's chart data: ``{"summary", "chart"}``.

    ``chart`` is :func:`lambdasim.results.timeline.digest` of the run on the bins every
    replication of the config shares (:func:`~lambdasim.results.timeline.replication_width`):
    a few hundred numbers per function and figure, plain data for any process.
    """
    from lambdasim.engine.model import Model
    from lambdasim.results.result import build_result
    from lambdasim.results.timeline import digest, replication_width

    config, replication = task
    scenario = Scenario(config["name"], None, copy.deepcopy(dict(config)))
    width = replication_width(float(config["duration"]), float(config["period"]))
    result = build_result(Model(scenario, replication=replication).run(),
                          timeline_width_s=width)
    summary = result.summary
    del summary["config"]
    return {"summary": summary,
            "chart": digest(result.timeline, getattr(result, "dependency_series", None))}


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the platform tells)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


#: Finished runs on stderr (rich.progress), when stderr is a terminal.
ProgressBar = RunsBar


def execute(tasks: Sequence[tuple], *, executor: Executor | None, workers: int | None,
            progress: bool | None, runner: Any = None) -> list[dict[str, Any]]:
    """Run every task; return their summaries in task order, whatever finished first.

    ``runner``: the function run for each task (default :func:`run_replication`; a
    module-level function, so that it pickles to worker processes).
    """
    runner = run_replication if runner is None else runner
    if progress is None:
        progress = sys.stderr.isatty()
    bar = ProgressBar(len(tasks), enabled=bool(progress))
    try:
        if executor is None:
            count = min(len(tasks), workers if workers else usable_cores())
            if count <= 1:
                out = []
                for task in tasks:
                    out.append(runner(task))
                    bar.update()
                return out
            pool = ProcessPoolExecutor(max_workers=count)
            try:
                out = _gather(pool, tasks, bar, runner)
            except BaseException:  # an error or Ctrl-C: do not wait for the runs in progress
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            pool.shutdown(wait=True)
            return out
        return _gather(executor, tasks, bar, runner)
    finally:
        bar.close()


def _gather(executor: Executor, tasks: Sequence[tuple], bar: ProgressBar,
            runner: Any) -> list[dict[str, Any]]:
    futures = {executor.submit(runner, task): index for index, task in enumerate(tasks)}
    out: list[Any] = [None] * len(tasks)
    try:
        for future in as_completed(futures):
            out[futures[future]] = future.result()
            bar.update()
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    return out


class SchedulerUnreachable(ConnectionError):
    """A Dask scheduler could not be reached (or Dask is not installed)."""


@contextlib.contextmanager
def dask_executor(address: str = "local", *, workers: int | None = None,
                  connect_timeout_s: float = 5.0) -> Iterator[Executor]:
    """A ``concurrent.futures.Executor`` running on Dask distributed, closed on exit.

    Parameters
    ----------
    address : str
        ``"local"`` starts a ``LocalCluster`` of ``workers`` single-threaded worker
        processes on this machine (default: one per usable core); otherwise the address of a
        running scheduler, e.g. ``tcp://10.0.0.5:8786``. Its workers need lambdasim installed.
    connect_timeout_s : float
        How long to try reaching a scheduler before giving up.

    Raises
    ------
    SchedulerUnreachable
        Dask distributed is not installed, or the scheduler does not answer in time.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise SchedulerUnreachable(
            "Dask is not installed; install the extra: pip install '.[dask]' in the "
            "repository (or 'lambdasim-des[dask]')") from None
    cluster = None
    try:
        if address == "local":
            cluster = LocalCluster(n_workers=workers or usable_cores(), threads_per_worker=1,
                                   processes=True, dashboard_address=None)
            client = Client(cluster)
        else:
            client = Client(address, timeout=connect_timeout_s)
    except Exception as exc:
        if cluster is not None:
            cluster.close()
        if isinstance(exc, (OSError, TimeoutError)) and str(exc):
            detail = str(exc).splitlines()[0]
        else:  # something answered, but not as a Dask scheduler
            detail = f"no Dask scheduler answered ({type(exc).__name__})"
        raise SchedulerUnreachable(
            f"cannot reach the Dask scheduler at {address} within {connect_timeout_s:g} s: "
            f"{detail}") from None
    try:
        yield client.get_executor()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
