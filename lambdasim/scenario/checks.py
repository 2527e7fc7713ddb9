"""Cross-field checks on a resolved scenario: what no single field can check alone.

Warm-up shorter than the horizon, reserved concurrency within the account, provisioned
concurrency within reserved concurrency, unique trigger names, expectations naming known
functions, and the asynchronous options that only make sense together.
"""
from __future__ import annotations



from lambdasim.scenario.around import check_around
from lambdasim.scenario.expectations import check_targets
from lambdasim.scenario.units import SpecError
from lambdasim.scenario.format import _provisioned_peak, _check_sqs_trigger, ASYNC_FUNCTION_KEYS
from lambdasim.scenario.runtimes import default_restore, snap_start_supported

__all__ = ["cross_checks", "effective_unreserved_minimum"]


def effective_unreserved_minimum(account) -> int:
    """Units that must stay unreserved: ``unreserved_minimum``, or the whole limit when smaller.

    "You can reserve up to the Unreserved account concurrency value that is shown, minus 100
    for functions that don't have reserved concurrency"
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html). New accounts
    may start with a limit of 10 or 50 (LAMBDA_MODEL.md section 1, [measured]); such an account
    cannot reserve anything or configure provisioned concurrency: every unit it has is needed
    towards the 100 that must stay unreserved (AWS answers "decreases account's
    UnreservedConcurrentExecution below its minimum value of [50]" on a 50-unit account).
    """
    return min(int(account["unreserved_minimum"]), int(account["concurrency_limit"]))


def _small_account_note(limit: int, minimum: int) -> str:
    if limit > minimum:
        return ""
    return (f" (account.concurrency_limit {limit} is at most the unreserved minimum: Lambda "
            f"allows no reserved or provisioned concurrency on such an account)")


_RECURRENCE_SPAN_S = {"daily": 86400.0, "weekly": 7 * 86400.0}


def _check_recurrence(config: dict) -> None:
    """A window that repeats daily (weekly) is at most a day (a week) long."""
    span = _RECURRENCE_SPAN_S.get(config["recurs"])
    window = config["duration"] - config["warmup"]
    if span is not None and window > span + 1e-9:
        raise SpecError(
            f"a window of {window:g}s (duration - warmup) cannot repeat {config['recurs']}: "
            f"it is longer than {span:g}s; use continuous or once",
            "recurs",
        )


def _cross_checks(config: dict) -> None:
    if not config["warmup"] < config["duration"]:
        raise SpecError(
            f"must be shorter than duration ({config['duration']:g}s), got {config['warmup']:g}s",
            "warmup",
        )
    _check_recurrence(config)
    account = config["account"]
    limit, minimum = account["concurrency_limit"], effective_unreserved_minimum(account)
    # Reserved 0 takes no unit from the account (it only throttles the function).
    reserved = [(n, f["reserved_concurrency"]) for n, f in config["functions"].items()
                if f["reserved_concurrency"]]
    total = 0
    for name, units in reserved:
        total += units
        if limit - total < minimum:
            # LAMBDA_MODEL.md section 1; docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html
            detail = ", ".join(f"{n} {u}" for n, u in reserved)
            raise SpecError(
                f"reserved concurrency totals {sum(u for _, u in reserved)} ({detail}), leaving "
                f"{limit - sum(u for _, u in reserved)} of account.concurrency_limit {limit} "
                f"unreserved; at least {minimum} must stay unreserved"
                + _small_account_note(limit, account["unreserved_minimum"]),
                f"functions.{name}.reserved_concurrency",
            )
    _check_provisioned_limits(config)
    for fname, function in config["functions"].items():
        _check_snap_start(function, f"functions.{fname}")
        seen: dict[str, int] = {}
        for index, trigger in enumerate(function["triggers"]):
            if trigger["name"] in seen:
                raise SpecError(
                    f"duplicate trigger name {trigger['name']!r} (also trigger {seen[trigger['name']]})",
                    f"functions.{fname}.triggers.{index}.name",
                )
            seen[trigger["name"]] = index
            if trigger["type"] == "sqs":
                _check_sqs_trigger(trigger, f"functions.{fname}.triggers.{index}", function["timeout"])
    _async_checks(config)
    check_around(config)
    check_targets(config["expect"], config["functions"])


def _check_provisioned_limits(config: dict) -> None:
    """Provisioned concurrency fits the reservation and leaves the unreserved minimum.

    "Provisioned concurrency counts towards a function's reserved concurrency and Regional
    quotas" and at most ``limit - unreserved_minimum`` can be provisioned in total
    (https://docs.aws.amazon.com/lambda/latest/dg/provisioned-concurrency.html,
    https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html).
    """
    account = config["account"]
    limit, minimum = account["concurrency_limit"], effective_unreserved_minimum(account)
    note = _small_account_note(limit, account["unreserved_minimum"])
    claimed = sum(f["reserved_concurrency"] or 0 for f in config["functions"].values())
    for fname, function in config["functions"].items():
        peak, where = _provisioned_peak(function["provisioned_concurrency"])
        key = f"functions.{fname}.provisioned_concurrency.{where}"
        reserved = function["reserved_concurrency"]
        if reserved is not None and peak > reserved:
            raise SpecError(
                f"provisioned concurrency {peak} exceeds the function's reserved_concurrency "
                f"{reserved}; provisioned environments count against the reservation", key)
        if peak > limit - minimum:
            raise SpecError(
                f"provisioned concurrency {peak} exceeds account.concurrency_limit {limit} minus "
                f"the unreserved minimum {minimum} = {limit - minimum}" + note, key)
        if reserved is None and peak:
            claimed += peak
            if limit - claimed < minimum:
                raise SpecError(
                    f"reserved plus provisioned concurrency of functions without a reservation "
                    f"reach {claimed}, leaving less than the unreserved minimum {minimum} "
                    f"of account.concurrency_limit {limit} unreserved" + note, key)


def _check_snap_start(function: dict, key: str) -> None:
    """SnapStart's limits (snapstart.html), then the runtime's default restore times.

    "SnapStart supports Java 11 and later, Python 3.12 and later, .NET 8 and later" managed
    runtimes, and "does not support provisioned concurrency, Amazon EFS, or ephemeral storage
    greater than 512 MB"; container images are not supported
    (https://docs.aws.amazon.com/lambda/latest/dg/snapstart.html).
    """
    snap = function["snap_start"]
    if snap is None or not snap["enabled"]:
        return
    where = f"{key}.snap_start"
    why = snap_start_supported(function["runtime"], function["package_type"])
    if why is not None:
        raise SpecError(why, where)
    peak, _ = _provisioned_peak(function["provisioned_concurrency"])
    if peak:
        raise SpecError("SnapStart cannot be combined with provisioned concurrency on the same "
                        f"version (snapstart.html); remove {key}.provisioned_concurrency or "
                        "snap_start", where)
    if function["ephemeral_storage_mb"] > 512:
        raise SpecError("SnapStart does not support ephemeral storage above 512 MB "
                        f"(snapstart.html), got {key}.ephemeral_storage_mb = "
                        f"{function['ephemeral_storage_mb']}", where)
    restore, after_restore = default_restore(function["runtime"])
    if snap["restore"] is None:
        snap["restore"] = restore
    if snap["after_restore"] is None:
        snap["after_restore"] = after_restore


def _async_checks(config: dict) -> None:
    """One asynchronous configuration per function; function destinations exist, no loops."""
    functions = config["functions"]
    edges: dict[str, list[str]] = {}
    for fname, function in functions.items():
        first = None
        for index, trigger in enumerate(function["triggers"]):
            if trigger["type"] != "async":
                continue
            if first is None:
                first = index
                for kind in ("on_success", "on_failure", "dead_letter"):
                    target = trigger[kind]
                    if target is None or target["type"] != "function":
                        continue
                    if target["name"] not in functions:
                        known = ", ".join(functions)
                        raise SpecError(f"no function {target['name']!r} in this scenario (functions: {known})",
                                        f"functions.{fname}.triggers.{index}.{kind}.name")
                    edges.setdefault(fname, []).append(target["name"])
                continue
            for key in ASYNC_FUNCTION_KEYS:
                mine, theirs = trigger[key], function["triggers"][first][key]
                if mine != theirs:
                    raise SpecError(
                        f"async triggers of a function share its one asynchronous configuration "
                        f"(Lambda keeps one per function); trigger {first} has {theirs!r}, this one {mine!r}",
                        f"functions.{fname}.triggers.{index}.{key}",
                    )
    # Destinations that invoke functions must not loop back (an endless chain of invocations).
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in edges.get(name, []):
            if state.get(target) == 1:
                cycle = " -> ".join(path[path.index(target):] + [target]) if target in path else f"{name} -> {target}"
                first = next(i for i, t in enumerate(functions[name]["triggers"]) if t["type"] == "async")
                kind = next(k for k in ("on_success", "on_failure")
                            if (functions[name]["triggers"][first][k] or {}).get("name") == target
                            and functions[name]["triggers"][first][k]["type"] == "function")
                raise SpecError(f"function destinations form a loop ({cycle}); lambdasim does not model "
                                f"recursive invocation loops", f"functions.{name}.triggers.{first}.{kind}.name")
            if state.get(target) is None:
                visit(target, path + [target])
        state[name] = 2

    for name in edges:
        if state.get(name) is None:
            visit(name, [name])



cross_checks = _cross_checks
