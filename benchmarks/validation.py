"""How close lambdasim comes to queueing theory, in figures.

Prints, for synchronous throttling with zero Init and Poisson arrivals (an M/G/c/c loss system,
https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html: a request over the
concurrency limit is throttled, not queued), the simulated throttled fraction with its 95 %
confidence interval over replications against Erlang B, and the relative error; then mean
concurrency against Little's law (lambda x E[busy time]).

Run: ``python benchmarks/validation.py [--replications N]``. The test suite checks the same
identities with pass/fail tolerances (tests/test_theory.py); this script reports the numbers.
"""
from __future__ import annotations

import argparse
import time

import lambdasim
from lambdasim.theory import erlang_b, mean_ci

MEAN_SERVICE_S = 0.1
CASES = [(5, 4.0), (10, 8.0), (20, 20.0), (50, 40.0), (100, 90.0)]
DURATIONS = {
    "exponential": {"dist": "exponential", "mean": MEAN_SERVICE_S},
    "lognormal cv 1.5": {"dist": "lognormal", "mean": MEAN_SERVICE_S, "sd": 1.5 * MEAN_SERVICE_S},
    "constant": {"dist": "constant", "value": MEAN_SERVICE_S},
}


def loss_scenario(c: int, load: float, duration: dict, arrivals: int) -> dict:
    rate = load / MEAN_SERVICE_S
    return {
        "name": f"erlang-b-{c}",
        "duration": 2.0 + arrivals / rate,
        "warmup": 2.0,
        "seed": 7,
        "account": {"request_rate_limit": {"enabled": False}},
        "functions": {"f": {
            "init": "0s", "timeout": "900s", "reserved_concurrency": c, "duration": duration,
            "triggers": [{"type": "sync", "arrivals": {"process": "poisson", "rate": rate}}],
        }},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=30)
    parser.add_argument("--arrivals", type=int, default=20000, help="per replication")
    args = parser.parse_args()
    started = time.perf_counter()

    print("Erlang B: throttled fraction of sync requests, reserved concurrency c, zero Init")
    print(f"{'c':>4} {'load':>6} {'duration':>17} {'simulated':>10} {'95% CI +-':>10} "
          f"{'Erlang B':>9} {'rel. err':>9} {'t':>6}")
    worst = 0.0
    for c, load in CASES:
        for label, duration in DURATIONS.items():
            scenario = lambdasim.load_scenario(loss_scenario(c, load, duration, args.arrivals))
            fractions = []
            for replication in range(args.replications):
                requests = lambdasim.simulate(
                    scenario, replication=replication).summary["functions"]["f"]["requests"]
                fractions.append(requests["throttled"] / requests["arrived"])
            mean, low, high = mean_ci(fractions, 0.95)
            expected = erlang_b(c, load)
            half = (high - low) / 2.0
            error = (mean - expected) / expected
            worst = max(worst, abs(error))
            t = (mean - expected) / (half / 1.96) if half else float("inf")
            print(f"{c:>4} {load:>6.1f} {label:>17} {mean:>10.5f} {half:>10.5f} "
                  f"{expected:>9.5f} {error:>+9.2%} {t:>6.2f}")
    print(f"largest relative error: {worst:.2%}")

    print()
    print("Little's law: mean concurrency = lambda x E[Init x cold + Duration], no binding limit")
    rate, mean_s = 200.0, 0.25
    scenario = lambdasim.load_scenario({
        "name": "little", "duration": "10m", "warmup": "1m", "seed": 3,
        "functions": {"f": {
            "timeout": "900s", "keep_alive": "2s",
            "init": {"dist": "lognormal", "median": "300ms", "p99": "1s"},
            "duration": {"dist": "lognormal", "mean": mean_s, "sd": 0.3},
            "triggers": [{"type": "sync", "arrivals": {"process": "poisson", "rate": rate}}],
        }},
    })
    diffs, means = [], []
    for replication in range(args.replications):
        block = lambdasim.simulate(scenario, replication=replication).summary["functions"]["f"]
        busy_s = (block["invocations"] * block["duration_ms"]["mean"]
                  + block["cold_starts"] * (block["init_duration_ms"]["mean"] or 0.0)) / 1000.0
        window = 540.0
        means.append(block["concurrency"]["mean"])
        diffs.append(block["concurrency"]["mean"] - busy_s / window)
    mean, low, high = mean_ci(means, 0.95)
    dmean, dlow, dhigh = mean_ci(diffs, 0.95)
    print(f"mean concurrency {mean:.4f} (95% CI +-{(high - low) / 2:.4f}); "
          f"lambda x E[busy] from the same runs differs by {dmean:+.5f} "
          f"(95% CI [{dlow:+.5f}, {dhigh:+.5f}]); offered load without Init {rate * mean_s:.2f}")
    print(f"wall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
