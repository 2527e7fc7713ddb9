"""Unit tests of the engine's building blocks.

TokenBucket (GCRA) and RegionalBurstScaling (account.py), the warm pools and EnvironmentPool
(environments.py), StepLevel and time_stats_ms (metrics.py), duration_factor (function.py) and
the client Backoff (invoke/sync.py).
"""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdasim.engine.account import RegionalBurstScaling, TokenBucket
from lambdasim.engine.environments import (BUSY, DEAD, IDLE, EnvironmentPool, ExecutionEnvironment,
                                    LruPool, MruPool, NewestPool, RandomPool, make_warm_pool)
from lambdasim.engine.function import duration_factor
from lambdasim.engine.invoke.sync import Backoff
from lambdasim.engine.metrics import PERCENTILES, StepLevel, time_stats_ms


def take_all(bucket, now):
    n = 0
    while bucket.take(now):
        n += 1
        assert n <= 10 * bucket.capacity + 10, "bucket never empties"
    return n


# ======================================================================================
# TokenBucket (GCRA)
# ======================================================================================
def test_token_bucket_burst_then_refill():
    # https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html: 1,000 per 10 s.
    bucket = TokenBucket(1000, 100)
    assert bucket.available(0.0) == 1000
    assert take_all(bucket, 0.0) == 1000
    assert bucket.available(0.0) == pytest.approx(0.0, abs=1e-6)
    assert not bucket.take(0.0)
    # 0.01 s later exactly one more token
    assert take_all(bucket, 0.01) == 1
    assert take_all(bucket, 0.01) == 0
    # then 100 per second
    assert take_all(bucket, 0.51) == 50
    assert take_all(bucket, 1.51) == 100
    assert take_all(bucket, 2.01) == 50
    assert bucket.available(3.01) == pytest.approx(100.0)
    # Unused capacity is not accrued beyond the capacity.
    assert bucket.available(100.0) == 1000
    assert take_all(bucket, 100.0) == 1000


def test_token_bucket_counts_over_time_match_formula():
    # Taking greedily every 10 ms from a full bucket: 1,000 + 100 t tokens by time t.
    bucket = TokenBucket(1000, 100)
    total = 0
    for k in range(0, 2001):
        now = k * 0.01
        total += take_all(bucket, now)
        if k in (0, 100, 500, 1000, 2000):
            assert abs(total - (1000 + 100 * now)) <= 1, now
    # Steady state: exactly one token per 10 ms step.
    assert take_all(bucket, 20.01) == 1


def test_token_bucket_partial_refill_and_available():
    bucket = TokenBucket(10, 5)  # 10 tokens, 5 per second
    assert take_all(bucket, 0.0) == 10
    assert bucket.available(1.0) == pytest.approx(5.0)
    assert take_all(bucket, 1.0) == 5
    assert bucket.available(1.1) == pytest.approx(0.5)
    assert not bucket.take(1.1)
    assert bucket.take(1.2)
    # Spending part of the bucket leaves the rest available at once.
    fresh = TokenBucket(10, 5)
    for _ in range(4):
        assert fresh.take(0.0)
    assert fresh.available(0.0) == pytest.approx(6.0)
    assert take_all(fresh, 0.0) == 6


@settings(max_examples=60, deadline=None, database=None)
@given(capacity=st.integers(1, 50), rate=st.sampled_from([0.5, 1.0, 5.0, 10.0, 100.0]),
       gaps=st.lists(st.floats(0.0, 3.0), min_size=1, max_size=40))
def test_token_bucket_equals_counting_bucket(capacity, rate, gaps):
    # GCRA must admit exactly what a bucket of tokens refilled continuously would.
    bucket = TokenBucket(capacity, rate)
    tokens, last, now = float(capacity), 0.0, 0.0
    for gap in gaps:
        now += round(gap, 3)
        tokens = min(float(capacity), tokens + (now - last) * rate)
        last = now
        want = int(math.floor(tokens + 1e-7))
        got = take_all(bucket, now)
        assert got == want, (now, tokens)
        tokens -= got


# ======================================================================================
# RegionalBurstScaling (the pre-2023 rule)
# ======================================================================================
def test_regional_burst_ceiling():
    # scaling-behavior.html (2022): burst 3,000 then +500 per minute.
    account = SimpleNamespace(in_use=0)
    rule = RegionalBurstScaling(3000, 500)
    assert rule.for_function(account) is rule
    assert rule.for_function(account) is rule  # one account-wide ceiling
    admitted = 0
    for _ in range(10000):
        if rule.take(0.0):
            admitted += 1
            account.in_use += 1
    assert admitted == 3000
    assert rule.episode_start == 0.0
    # at 30 s the ceiling is 3,250; at 60 s, 3,500
    account.in_use = 3249
    assert rule.take(30.0)
    account.in_use = 3250
    assert not rule.take(30.0)
    account.in_use = 3499
    assert rule.take(60.0)
    account.in_use = 3500
    assert not rule.take(60.0)
    # Falling below the burst ends the episode; a new one starts from the burst again.
    account.in_use = 2999
    assert rule.take(100.0)
    assert rule.episode_start is None
    account.in_use = 3000
    assert not rule.take(100.0)
    assert rule.episode_start == 100.0
    account.in_use = 3499
    assert rule.take(160.0)


# ======================================================================================
# StepLevel
# ======================================================================================
def brute_level(starts, ends, t):
    return int(np.count_nonzero((starts <= t) & (t < ends)))


def brute_max(starts, ends, a, b):
    points = [a] + [p for p in np.concatenate([starts, ends]) if a <= p < b]
    return max(brute_level(starts, ends, p) for p in points)


def brute_mean(starts, ends, a, b):
    overlap = np.clip(np.minimum(ends, b) - np.maximum(starts, a), 0.0, None)
    return float(overlap.sum()) / (b - a)


def random_intervals(rng, n, grid):
    starts = rng.integers(0, 100, n) * grid if grid else rng.uniform(0, 100, n)
    lengths = (rng.integers(1, 20, n) * grid) if grid else rng.exponential(5.0, n) + 1e-3
    return starts, starts + lengths


@pytest.mark.parametrize("seed", range(8))
def test_step_level_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    # On a coarse grid many starts and ends coincide.
    starts, ends = random_intervals(rng, 200, 1.0 if seed % 2 == 0 else 0.0)
    sorted_input = seed % 4 < 2
    if sorted_input:
        order = np.argsort(starts, kind="stable")
        starts, ends = starts[order], ends[order]
    level = StepLevel(starts, ends)
    probes = np.concatenate([rng.uniform(-5, 130, 50), starts[:30], ends[:30]])
    for t in probes:
        assert int(level.value_at(t)) == brute_level(starts, ends, t), t
    np.testing.assert_array_equal(level.value_at(probes),
                                  [brute_level(starts, ends, t) for t in probes])
    windows = [(0.0, 120.0), (10.0, 20.0), (float(starts[3]), float(ends[7]) + 1.0),
               (-5.0, 2.0)] + [tuple(sorted(rng.uniform(0, 120, 2))) for _ in range(20)]
    for a, b in windows:
        if b <= a:
            continue
        assert level.max(a, b) == brute_max(starts, ends, a, b), (a, b)
        assert level.mean(a, b) == pytest.approx(brute_mean(starts, ends, a, b), abs=1e-9)
    for period in (1.0, 7.0, 30.0):
        edges = np.arange(0.0, 130.0 + period, period)
        want = [brute_max(starts, ends, edges[k], edges[k + 1]) for k in range(len(edges) - 1)]
        np.testing.assert_array_equal(level.period_maxima(edges), want)


@settings(max_examples=80, deadline=None, database=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 10)), min_size=0, max_size=30),
       st.integers(0, 35), st.integers(1, 40))
def test_step_level_property(intervals, a, width):
    # On whole seconds: starts, ends and period edges coincide; some intervals are empty.
    starts = np.array([s for s, _ in intervals], dtype=float)
    ends = np.array([s + d for s, d in intervals], dtype=float)
    level = StepLevel(starts, ends)
    b = a + width
    if intervals:
        assert level.max(a, b) == brute_max(starts, ends, a, b)
    assert level.mean(a, b) == pytest.approx(
        brute_mean(starts, ends, a, b) if intervals else 0.0, abs=1e-12)
    edges = np.arange(0.0, 45.0, 5.0)
    want = [brute_max(starts, ends, edges[k], edges[k + 1]) if intervals else 0
            for k in range(len(edges) - 1)]
    np.testing.assert_array_equal(level.period_maxima(edges), want)


def test_step_level_end_applies_before_coinciding_start():
    # An environment released and reused at the same instant is counted once.
    level = StepLevel(np.array([0.0, 1.0, 1.0]), np.array([1.0, 2.0, 3.0]))
    assert level.max(0.0, 3.0) == 2
    assert level.value_at(1.0) == 2
    assert level.value_at(0.5) == 1
    back_to_back = StepLevel(np.array([0.0, 1.0, 2.0]), np.array([1.0, 2.0, 3.0]))
    assert back_to_back.max(0.0, 3.0) == 1
    assert back_to_back.value_at(1.0) == 1
    assert back_to_back.value_at(3.0) == 0
    assert back_to_back.mean(0.0, 3.0) == pytest.approx(1.0)
    np.testing.assert_array_equal(back_to_back.period_maxima(np.array([0.0, 1.0, 2.0, 3.0, 4.0])),
                                  [1, 1, 1, 0])


@pytest.mark.parametrize("size", [0, 1, 7, 1000, 8193, 50_000])
def test_step_level_mean_is_the_clipped_sum_to_the_last_bit(size):
    # The mean skips clipping when no start or end lies outside the window; the sum must be
    # the very float of the clipped copy's, strided (general path) or contiguous starts alike.
    rng = np.random.default_rng(size)
    starts = np.sort(rng.uniform(1.0, 1000.0, size))
    ends = starts + rng.exponential(3.0, size)
    rows = np.zeros((size, 5))
    rows[:, 0] = starts
    for given_starts in (starts, rows[:, 0]):
        level = StepLevel(given_starts, ends)
        last = float(ends.max()) if size else 5.0
        for a, b in ((0.0, 2000.0), (0.5, 1010.0), (10.0, 500.0), (1.0, last)):
            want = (float(np.clip(level.ends, a, b).sum())
                    - float(np.clip(level.starts, a, b).sum())) / (b - a)
            assert level.mean(a, b) == want, (a, b)


def test_step_level_window_edges_and_merge():
    level = StepLevel(np.array([0.0, 2.0]), np.array([4.0, 6.0]))
    assert level.max(4.0, 5.0) == 1          # the first interval ended at 4
    assert level.max(1.9, 2.0) == 1          # the start at 2 is outside [1.9, 2)
    assert level.max(2.0, 2.1) == 2
    assert level.mean(0.0, 6.0) == pytest.approx(8.0 / 6.0)
    assert level.mean(3.0, 3.0) == 0.0
    other = StepLevel(np.array([1.0]), np.array([3.0]))
    merged = StepLevel.merge([level, other])
    assert merged.max(0.0, 10.0) == 3
    assert merged.mean(0.0, 6.0) == pytest.approx(10.0 / 6.0)
    assert StepLevel.merge([level]) is level
    empty = StepLevel.merge([])
    assert empty.max(0.0, 1.0) == 0
    np.testing.assert_array_equal(empty.period_maxima(np.array([0.0, 1.0, 2.0])), [0, 0])


# ======================================================================================
# time_stats_ms
# ======================================================================================
@pytest.mark.parametrize("seed, n", [(0, 1), (1, 2), (2, 17), (3, 1000), (4, 12345)])
def test_time_stats_ms_matches_numpy(seed, n):
    values = np.random.default_rng(seed).lognormal(-3.0, 1.0, n)
    stats = time_stats_ms(values)
    assert set(stats) == {"mean", "max", *(key for key, _ in PERCENTILES)}
    assert stats["mean"] == pytest.approx(values.mean() * 1000.0, abs=1e-6)
    assert stats["max"] == pytest.approx(values.max() * 1000.0, abs=1e-6)
    for key, q in PERCENTILES:
        assert stats[key] == pytest.approx(np.percentile(values, q) * 1000.0, abs=1e-6), key
    assert all(isinstance(v, float) for v in stats.values())


def test_time_stats_ms_small_and_empty():
    assert time_stats_ms([]) == {key: None for key in ("mean", "p50", "p90", "p95", "p99",
                                                       "p999", "max")}
    stats = time_stats_ms([0.1, 0.2, 0.3, 0.4])
    assert stats["p50"] == pytest.approx(250.0)
    assert stats["p90"] == pytest.approx(370.0)
    assert stats["max"] == pytest.approx(400.0)
    assert stats["mean"] == pytest.approx(250.0)


# ======================================================================================
# Warm pools
# ======================================================================================
def make_envs(n):
    envs = [ExecutionEnvironment(i, float(i), 1e9, 300.0) for i in range(n)]
    for env in envs:
        env.state = IDLE
    return envs


def pop_all(pool):
    out = []
    while True:
        env = pool.pop()
        if env is None:
            return out
        env.state = BUSY
        out.append(env.id)


def reclaim(pool, env):
    """What EnvironmentPool does when an idle environment's keep-alive lapses."""
    pool.discard(env)
    env.state = DEAD


@pytest.mark.parametrize("cls, order", [
    (MruPool, [4, 3, 2, 1, 0]),
    (LruPool, [0, 1, 2, 3, 4]),
])
def test_stack_and_queue_pools(cls, order):
    pool = cls()
    assert pool.pop() is None and len(pool) == 0
    envs = make_envs(5)
    for env in envs:
        pool.push(env)
    assert len(pool) == 5
    assert pop_all(pool) == order
    assert len(pool) == 0


def test_newest_pool_orders_by_creation_not_release():
    pool = NewestPool()
    envs = make_envs(5)
    for i in (2, 0, 4, 1, 3):
        pool.push(envs[i])
    assert pop_all(pool) == [4, 3, 2, 1, 0]


def test_mru_and_lru_follow_release_order():
    envs = make_envs(3)
    mru, lru = MruPool(), LruPool()
    for i in (1, 2, 0):
        mru.push(envs[i])
        lru.push(envs[i])
    assert mru.pop().id == 0
    assert lru.pop().id == 1


@pytest.mark.parametrize("cls", [MruPool, LruPool, NewestPool])
def test_lazy_discard(cls):
    pool = cls()
    envs = make_envs(6)
    for env in envs:
        pool.push(env)
    reclaim(pool, envs[5])
    reclaim(pool, envs[0])
    reclaim(pool, envs[3])
    assert len(pool) == 3
    assert sorted(pop_all(pool)) == [1, 2, 4]
    assert len(pool) == 0
    assert pool._stale == 0


@pytest.mark.parametrize("cls", [MruPool, LruPool, NewestPool])
def test_compaction_with_many_stale_entries(cls):
    pool = cls()
    envs = make_envs(3000)
    for env in envs:
        pool.push(env)
    # Reclaim 2,000 of them (every environment whose id is not a multiple of 3).
    gone = [env for env in envs if env.id % 3]
    for env in gone:
        reclaim(pool, env)
    survivors = [env.id for env in envs if env.id % 3 == 0]
    assert len(pool) == len(survivors)
    # Compaction ran (more than 1,024 stale entries outnumbering the idle ones) ...
    assert len(pool._items) < 3000
    # ... and the bookkeeping is exact: every stale entry left is counted as stale.
    stale_left = sum(1 for item in pool._items
                     if (item[1] if isinstance(item, tuple) else item).state != IDLE)
    assert pool._stale == stale_left
    assert sorted(pop_all(pool)) == survivors
    assert pool._stale == 0


@pytest.mark.parametrize("policy", ["mru", "lru", "newest"])
def test_environment_pool_reaping_compacts_warm_pool(policy):
    # The same through EnvironmentPool's keep-alive timers: 3,000 idle environments, the
    # 2,000 whose id is not a multiple of 3 are reclaimed at 1 s, the rest live 100 s.
    keep_alives = iter([100.0 if i % 3 == 0 else 1.0 for i in range(3000)])
    sim = simpy.Environment()
    created, ended = [], []
    warm = make_warm_pool(policy, None)
    pool = EnvironmentPool(sim, warm, keep_alives.__next__, lambda: 1e9, created, ended)
    envs = [pool.create(0.0) for _ in range(3000)]
    for env in envs:
        pool.release(env, 0.0)
    sim.run(until=50.0)
    assert pool.live == 1000 and len(warm) == 1000
    assert len(warm._items) < 3000
    stale_left = sum(1 for item in warm._items
                     if (item[1] if isinstance(item, tuple) else item).state != IDLE)
    assert warm._stale == stale_left
    reused = [pool.acquire(sim.now) for _ in range(1001)]
    assert reused[-1] is None
    assert sorted(env.id for env in reused[:-1]) == list(range(0, 3000, 3))
    assert warm._stale == 0


def test_random_pool_push_pop_discard():
    draws = iter([0.0, 0.99, 0.5, 0.0, 0.0])
    pool = RandomPool(lambda: next(draws))
    envs = make_envs(4)
    for env in envs:
        pool.push(env)
    assert len(pool) == 4
    assert pool.pop().id == 0           # index 0 -> env 0, env 3 moves to slot 0
    assert pool.pop().id == 2           # [3, 1, 2] -> index 2
    pool.discard(envs[3])               # [3, 1] -> [1]
    assert envs[3].slot == -1
    assert len(pool) == 1
    assert pool.pop().id == 1
    assert pool.pop() is None
    for env in pool._items:
        assert pool._items[env.slot] is env


def test_random_pool_is_uniform():
    rng = np.random.default_rng(5)
    pool = RandomPool(rng.random)
    envs = make_envs(10)
    counts = np.zeros(10, dtype=int)
    for env in envs:
        pool.push(env)
    for _ in range(5000):
        env = pool.pop()
        counts[env.id] += 1
        pool.push(env)
    assert counts.min() > 400 and counts.max() < 600


def test_make_warm_pool():
    assert isinstance(make_warm_pool("mru", None), MruPool)
    assert isinstance(make_warm_pool("lru", None), LruPool)
    assert isinstance(make_warm_pool("newest", None), NewestPool)
    assert isinstance(make_warm_pool("random", lambda: 0.0), RandomPool)
    with pytest.raises(ValueError):
        make_warm_pool("fifo", None)


# ======================================================================================
# EnvironmentPool with a real simpy.Environment
# ======================================================================================
def environment_pool(keep_alive=5.0, lifetime=100.0, warm=None):
    sim = simpy.Environment()
    created, ended = [], []
    pool = EnvironmentPool(sim, warm or MruPool(), lambda: keep_alive, lambda: lifetime,
                           created, ended)
    return sim, pool, created, ended


def at(sim, t, fn):
    def proc():
        yield sim.timeout(t - sim.now)
        fn()
    sim.process(proc())


def test_environment_pool_keep_alive_reaping():
    sim, pool, created, ended = environment_pool(keep_alive=5.0)
    env = pool.create(0.0)
    assert pool.live == 1 and pool.created == 1 and env.state == BUSY
    at(sim, 1.0, lambda: pool.release(env, sim.now))           # timer due at 6
    at(sim, 3.0, lambda: pool.acquire(sim.now))                  # busy 3 .. 4
    at(sim, 4.0, lambda: pool.release(env, sim.now))             # idle since 4: due at 9
    sim.run(until=8.9)
    assert env.state == IDLE and pool.live == 1 and math.isnan(ended[0])
    sim.run(until=20.0)
    assert env.state == DEAD
    assert ended[0] == pytest.approx(9.0)
    assert pool.live == 0 and len(pool.warm) == 0
    assert pool.acquire(sim.now) is None


def test_environment_pool_reuses_and_reaps_each_separately():
    sim, pool, created, ended = environment_pool(keep_alive=2.0)
    a = pool.create(0.0)
    b = pool.create(0.0)
    at(sim, 1.0, lambda: pool.release(a, sim.now))
    at(sim, 1.5, lambda: pool.release(b, sim.now))
    got = []
    at(sim, 2.0, lambda: got.append(pool.acquire(sim.now)))    # mru: b
    at(sim, 2.5, lambda: pool.release(b, sim.now))
    sim.run(until=10.0)
    assert got == [b]
    assert created == [0.0, 0.0]
    assert ended == pytest.approx([3.0, 4.5])
    assert pool.live == 0 and len(pool.warm) == 0


def test_environment_pool_lifetime():
    sim, pool, created, ended = environment_pool(keep_alive=50.0, lifetime=7.0)
    env = pool.create(0.0)
    at(sim, 1.0, lambda: pool.release(env, sim.now))
    sim.run(until=30.0)
    assert ended[0] == pytest.approx(7.0)     # idle at its lifetime: retired then
    # busy across its lifetime: retired on release
    env2 = pool.create(sim.now)                # lifetime ends at 37
    at(sim, 40.0, lambda: pool.release(env2, sim.now))
    sim.run(until=60.0)
    assert ended[1] == pytest.approx(40.0)
    # popped from the pool past its lifetime (before its timer fired): retired, next one used
    env3 = pool.create(sim.now)                # 60 -> retire at 67
    env4 = pool.create(sim.now)
    pool.release(env4, 60.0)
    pool.release(env3, 60.0)                   # mru: env3 on top
    env3.retire_at = 61.0
    got = pool.acquire(62.0)
    assert got is env4 and env3.state == DEAD and ended[2] == 62.0


# ======================================================================================
# duration_factor
# ======================================================================================
@pytest.mark.parametrize("memory, reference, cpu_bound, threads, expected", [
    (1769, 884.5, 1.0, 1, 0.5),
    (884.5, 1769, 1.0, 1, 2.0),
    (1024, 1024, 1.0, 1, 1.0),
    (2048, 1024, 1.0, 2, 0.5),
    (2048, 1024, 1.0, 1, 1024 / 1769),
    (10240, 1024, 1.0, 1, 1024 / 1769),
    (10240, 1769, 1.0, 6, 1769 / 10240),
    (1024, 2048, 1.0, 1, 1769 / 1024),
    (2048, 1024, 0.0, 1, 1.0),
    (128, 10240, 0.0, 6, 1.0),
    (1769, 884.5, 0.5, 1, 0.75),
    (3538, 1769, 0.25, 2, 0.875),
])
def test_duration_factor(memory, reference, cpu_bound, threads, expected):
    # https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
    assert duration_factor(memory, reference, cpu_bound, threads) == pytest.approx(
        expected, rel=1e-12)


def test_duration_factor_caps_at_six_vcpus():
    # 10,240 MB is 5.79 vCPUs: the 6 vCPU cap never binds below it.
    assert duration_factor(10240, 1769, 1.0, threads=6) < duration_factor(8192, 1769, 1.0, 6)


# ======================================================================================
# Backoff
# ======================================================================================
@pytest.mark.parametrize("jitter", ["full", "equal", "none", "decorrelated"])
def test_backoff_bounds(jitter):
    rng = np.random.default_rng(11)
    base, cap = 0.1, 2.0
    backoff = Backoff(base, cap, jitter, rng.random)
    previous = 0.0
    for retry in range(1, 12):
        ceiling = min(cap, base * 2.0 ** (retry - 1))
        for _ in range(200):
            d = backoff.delay(retry, previous)
            if jitter == "full":
                assert 0.0 <= d < ceiling
            elif jitter == "equal":
                assert ceiling / 2.0 <= d < ceiling
            elif jitter == "none":
                assert d == ceiling
            else:
                assert base <= d <= min(cap, max(base, 3.0 * (previous or base)))
        previous = d


def test_backoff_extremes_of_the_draw():
    for u, want in ((0.0, (0.0, 0.2, 0.4, 0.1)), (0.999999, (0.4, 0.4, 0.4, 0.9))):
        results = []
        for jitter in ("full", "equal", "none", "decorrelated"):
            b = Backoff(0.1, 20.0, jitter, lambda: u)
            results.append(b.delay(3, 0.3))
        assert results == pytest.approx(want, abs=1e-5)
    # capped
    assert Backoff(0.1, 1.0, "none", lambda: 0.5).delay(10, 0.0) == 1.0
    assert Backoff(0.1, 1.0, "decorrelated", lambda: 0.999).delay(5, 5.0) == 1.0
    with pytest.raises(ValueError):
        Backoff(0.1, 1.0, "gaussian", lambda: 0.5)
