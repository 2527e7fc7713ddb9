"""A Lambda function: admission, cold starts, warm reuse, timeouts and errors.

``LambdaFunction.invoke`` is the one entry point every invocation model uses (synchronous
calls here; asynchronous pollers and event source mappings call it the same way, since they
invoke synchronously -- they share the function's and the account's limits). An attempt is
either throttled at once (``invoke`` returns False and the caller decides what a throttle
means for it) or admitted, and then its caller's ``done(payload, code, now)`` runs when the
invocation ends.

Admission, in the order Lambda applies its limits
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html):

1. the request-rate limit (10 x concurrency requests/s, account and reserved function);
2. concurrency: the function's reservation, or the account's unreserved pool;
3. the request-rate dimension of the scale-out rate: at most 10,000 more requests per second
   every 10 s per function (:class:`lambdasim.engine.account.RequestScaling`);
4. an idle environment of the function is reused (no token needed), else a new one needs a
   scale-out token (https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html)
   and starts with Init.

Timing of an admitted attempt: ``Init`` (cold starts only) then ``Duration`` (handler time,
scaled by memory). On-demand Init is limited to 10 s; past that it is retried inside the
first invoke under the function timeout
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html). An invocation
that reaches the timeout ends as an error with ``Status: timeout``, billed for the full timeout;
the environment is reset and its next invocation re-runs Init inside its Duration
("suppressed init"). A function error (``error_rate``) ends the invocation as an error after
its duration. "If the function crashes or times out ... Lambda resets the execution
environment" (lambda-runtime-environment.html): a share ``crash_share`` of the errors (default
0) are runtime crashes, which reset the environment like a timeout (the next invocation on it
re-runs Init inside its Duration); the other errors are handled (the handler returns an error)
and keep the environment warm. One uniform draw decides both: ``u < error_rate`` is an error,
``u < error_rate x crash_share`` a crash, so a crash share adds no draw and shifts no stream.

The whole attempt is a single SimPy event (a :class:`~lambdasim.engine.events.Wakeup`) whose value
carries its state; the function's concurrency counts initializing and busy environments alike, so nothing
happens at the end of Init that needs an event of its own.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping


from lambdasim.engine.environments import BUSY, EnvironmentPool
from lambdasim.engine.events import URGENT, Wakeup
from lambdasim.engine.rng import BlockSampler

__all__ = [
    "LambdaFunction",
    "duration_factor",
    "architecture_factor",
    "handler_factor",
    "COLD",
    "ERROR",
    "TIMEOUT",
    "SUPPRESSED_INIT",
    "PROVISIONED",
    "CRASH",
    "RESTORE",
    "THROTTLE_RATE",
    "THROTTLE_CONCURRENCY",
    "THROTTLE_SCALING",
    "THROTTLE_REQUEST_SCALING",
    "INIT_LIMIT_S",
    "VCPU_MB",
]

# Attempt codes (bit flags) written to the attempt records.
COLD = 1
ERROR = 2
TIMEOUT = 4
SUPPRESSED_INIT = 8
#: Served by a provisioned environment (lambdasim.engine.provisioned).
PROVISIONED = 16
#: A function error that crashed the runtime: the environment is reset
#: (lambda-runtime-environment.html).
CRASH = 32
#: A SnapStart cold start: the environment restored from the snapshot instead of running Init
#: (lambdasim.engine.snapstart); the attempt's init field holds the Restore Duration.
RESTORE = 64

# Throttle reasons written to the throttle records.
THROTTLE_RATE = 1
THROTTLE_CONCURRENCY = 2
THROTTLE_SCALING = 3
#: The request-rate dimension of the scale-out rate (scaling-behavior.html).
THROTTLE_REQUEST_SCALING = 4

#: On-demand Init is limited to 10 s (lambda-runtime-environment.html).
INIT_LIMIT_S = 10.0
#: "At 1,769 MB, a function has the equivalent of one vCPU"
#: (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
VCPU_MB = 1769.0
MAX_VCPUS = 6.0


def duration_factor(memory_mb: float, reference_mb: float, cpu_bound: float,
                    threads: int = 1) -> float:
    """How much the handler duration measured at ``reference_mb`` stretches at ``memory_mb``.

    CPU share ``s(m) = min(m / 1769, threads, 6)``; a fraction ``cpu_bound`` of the time scales
    with ``1 / s``, the rest (waiting on I/O) does not [assumption, LAMBDA_MODEL.md section 3]:
    ``d(m) = d_ref * ((1 - f) + f * s(ref) / s(m))``.
    """
    cap = min(float(threads), MAX_VCPUS)
    share_ref = min(reference_mb / VCPU_MB, cap)
    share = min(memory_mb / VCPU_MB, cap)
    return (1.0 - cpu_bound) + cpu_bound * share_ref / share


def architecture_factor(architecture: str, reference_architecture: str,
                        arm64_factor: float) -> float:
    """How much the handler duration measured on ``reference_architecture`` stretches on
    ``architecture``: ``arm64_factor`` (arm64 time / x86_64 time) one way, its inverse the other.

    AWS states that Graviton2 (arm64) functions give "up to 19 percent better performance at
    20 percent lower cost", workload-dependent (AWS News Blog, 2021-09-29,
    https://aws.amazon.com/blogs/aws/aws-lambda-functions-powered-by-aws-graviton2-processor-run-your-functions-on-arm-and-get-up-to-34-better-price-performance/);
    the factor is the user's measurement, 1.0 by default [assumption: same speed].
    """
    if architecture == reference_architecture:
        return 1.0
    return arm64_factor if architecture == "arm64" else 1.0 / arm64_factor


def handler_factor(config: Mapping[str, Any]) -> float:
    """The factor applied to a function's measured handler times: memory x architecture."""
    scaling = config["memory_scaling"]
    return (duration_factor(config["memory_mb"], config["reference_mb"], scaling["cpu_bound"],
                            scaling["threads"])
            * architecture_factor(config["architecture"], config["reference_architecture"],
                                  config["arm64_duration_factor"]))


class LambdaFunction:
    """One function of the scenario: its limits, its environments and its random draws."""

    __slots__ = ("name", "index", "config", "sim", "account", "pool", "timeout_s",
                 "error_rate", "reserved", "environments", "_request_rate", "_scaling",
                 "request_scaling", "crash_below",
                 "_duration", "_duration_pop", "_init", "_uniform", "_complete_cb", "_warm_pop",
                 "_release", "_record_attempt", "_record_throttle", "release_listener",
                 "gate")

    def __init__(self, name: str, index: int, config: Mapping[str, Any], sim, account,
                 recorder, *, duration: BlockSampler, init: Callable[[], float],
                 uniform: Callable[[], float], keep_alive: Callable[[], float],
                 lifetime: Callable[[], float], warm_pool) -> None:
        self.name = name
        self.index = index
        self.config = config
        self.sim = sim
        self.account = account
        self.reserved = config["reserved_concurrency"]
        self.pool = account.pool_for(name, self.reserved)
        self.timeout_s = float(config["timeout"])
        self.error_rate = float(config["error_rate"])
        #: Uniform draws below this are crashes (error_rate x crash_share; 0.0: none).
        self.crash_below = self.error_rate * float(config["crash_share"])
        self.environments = EnvironmentPool(
            sim, warm_pool, keep_alive, lifetime, recorder.env_created, recorder.env_ended)
        # Request-rate limits on this function's path: the account's, and the function's own
        # when it has reserved concurrency (lambda-concurrency.html).
        self._request_rate = account.request_rate_for(self.reserved).take
        self._scaling = account.scaling.for_function(account).take
        #: The request-rate dimension of the scale-out rate; with the rule off its ``room``
        #: and ``bin_end`` are infinite, so the check below always takes the fast path.
        self.request_scaling = account.scaling.requests_for_function()
        self._duration = duration
        self._duration_pop = duration.pop
        self._init = init
        self._uniform = uniform
        self._complete_cb = self._complete
        self._warm_pop = warm_pool.pop
        self._release = self.environments.release
        # One record per attempt: (start, origin, init, duration, code).
        self._record_attempt = recorder.attempts.extend
        # One record per throttle: (time, origin, reason).
        self._record_throttle = recorder.throttles.extend
        #: Called with no argument when an invocation frees a unit of this function's pool;
        #: set at build time only where a work-conserving async queue waits on that pool
        #: (lambdasim.engine.invoke.async_), so the common path pays one test of None.
        self.release_listener: Callable[[], None] | None = None
        #: The handler phase through shared dependencies (lambdasim.engine.dependencies), set
        #: at build time for functions that use some; None keeps the single-event invocation.
        self.gate = None

    @property
    def in_use(self) -> int:
        """Busy and initializing environments of this function."""
        return self.environments.live - len(self.environments.warm)

    def invoke(self, origin: float, payload: Any, done: Callable[[Any, int, float], None],
               extra_s: float = 0.0, fails: bool = False) -> bool:
        """Start one invocation attempt now, or throttle it.

        Parameters
        ----------
        origin : float
            Arrival time of the request this attempt serves (statistics are kept for requests
            that arrive in the measured window).
        payload : object
            Passed back to ``done`` untouched.
        done : callable
            ``done(payload, code, now)`` when an admitted attempt ends; ``code`` holds the
            ``COLD``/``ERROR``/``TIMEOUT``/``SUPPRESSED_INIT`` flags.
        extra_s : float
            Handler time added to the drawn duration (e.g. per-record work of a batch from an
            event source mapping); it counts towards the timeout.
        fails : bool
            The handler returns an error whatever ``error_rate`` draws (a batch that holds a
            record the handler cannot process); a timeout still takes precedence.

        Returns
        -------
        bool
            False when the attempt was throttled (recorded here), True when admitted.
        """
        now = self.sim._now
        if not self._request_rate(now):
            self._record_throttle((now, origin, THROTTLE_RATE))
            return False
        pool = self.pool
        if pool.in_use >= pool.limit:
            self._record_throttle((now, origin, THROTTLE_CONCURRENCY))
            return False
        scaling = self.request_scaling
        room = scaling.room
        if room > 0 and now < scaling.bin_end:
            scaling.room = room - 1
        elif not scaling.admit(now):
            self._record_throttle((now, origin, THROTTLE_REQUEST_SCALING))
            return False
        env = self._warm_pop()
        if env is not None and now >= env.retire_at:
            env = self.environments.acquire_past(env, now)
        if env is None:
            if not self._scaling(now):
                scaling.unadmit()
                self._record_throttle((now, origin, THROTTLE_SCALING))
                return False
            env = self.environments.create(now)
            init, run, code = self._cold_start(env, now, origin)
        else:
            env.state = BUSY
            init = 0.0
            if env.needs_init:
                env.needs_init = False
                run = self._init() + self._duration()
                code = SUPPRESSED_INIT
            else:
                # The warm path, by far the most common: no Python-level call for the draw.
                try:
                    run = self._duration_pop()
                except IndexError:
                    run = self._duration.refill_pop()
                code = 0
        run += extra_s  # exact no-op when 0.0
        if run >= self.timeout_s:
            run = self.timeout_s
            code |= TIMEOUT
            env.needs_init = True
        elif fails:
            code |= ERROR
        elif self.error_rate:
            draw = self._uniform()
            if draw < self.error_rate:
                code |= ERROR
                if draw < self.crash_below:
                    code |= CRASH
                    env.needs_init = True  # the runtime crashed: the environment is reset
        pool.in_use += 1
        self.account.in_use += 1
        if self.gate is not None:
            self.gate.start(now, origin, init, run, code, env, payload, done, self._complete_cb)
            return True
        self._record_attempt((now, origin, init, run, code))
        # URGENT: what ends at t is released before anything else happens at t.
        Wakeup(self.sim, init + run, (env, payload, done, code), self._complete_cb, URGENT)
        return True

    def _cold_start(self, env, now: float, origin: float) -> tuple[float, float, int]:
        """A new environment's Init and its first handler run: ``(init_s, run_s, code)``.

        On-demand Init is limited to 10 s; past that it times out and runs again inside the
        first invoke (lambda-runtime-environment.html). Only the cold path calls this; SnapStart
        functions override it to restore instead (lambdasim.engine.snapstart).
        """
        init = self._init()
        if init > INIT_LIMIT_S:
            return INIT_LIMIT_S, init + self._duration(), COLD | SUPPRESSED_INIT
        return init, self._duration(), COLD

    def _complete(self, event) -> None:
        env, payload, done, code = event._value
        now = self.sim._now
        self.pool.in_use -= 1
        self.account.in_use -= 1
        self._release(env, now)
        listener = self.release_listener
        if listener is not None:
            listener()
        done(payload, code, now)
