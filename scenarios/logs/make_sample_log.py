"""Write checkout-report.log: a small CloudWatch Logs export of a checkout function to try
``python -m lambdasim fit`` on (run from this folder: ``python make_sample_log.py``).

600 invocations over 20 minutes in the Lambda text log format (START, END and REPORT lines,
tab-separated, each with its timestamp): handler Duration lognormal with median 120 ms and
p99 900 ms, 5 % cold starts with an Init Duration lognormal around 350 ms, 1024 MB of memory.
The seed is fixed, so the file is the same every time.
"""
import datetime as dt
import math
import uuid

import numpy as np

rng = np.random.default_rng(2026)
n = 600
sigma = math.log(900 / 120) / 2.3263478740408408  # p99 at 900 ms, median 120 ms
durations = np.exp(rng.normal(math.log(120.0), sigma, n))
cold = rng.random(n) < 0.05
cold[0] = True  # the first invocation of a function is always a cold start
inits = np.exp(rng.normal(math.log(350.0), 0.5, n))
starts = np.sort(rng.uniform(0.0, 1200.0, n))
t0 = dt.datetime(2026, 3, 2, 9, 0, 0, tzinfo=dt.timezone.utc)


def stamp(seconds: float) -> str:
    return (t0 + dt.timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


lines = []
for i in range(n):
    rid = str(uuid.UUID(int=int(rng.integers(0, 2**63)) << 64 | i, version=4))
    d = float(durations[i])
    init = float(inits[i]) if cold[i] else None
    end = starts[i] + (d + (init or 0.0)) / 1000.0
    lines.append(f"{stamp(starts[i])}\tSTART RequestId: {rid} Version: $LATEST")
    lines.append(f"{stamp(end)}\tEND RequestId: {rid}")
    fields = [f"REPORT RequestId: {rid}", f"Duration: {d:.2f} ms",
              f"Billed Duration: {math.ceil(d + (init or 0.0))} ms", "Memory Size: 1024 MB",
              f"Max Memory Used: {int(90 + 40 * rng.random())} MB"]
    if init is not None:
        fields.append(f"Init Duration: {init:.2f} ms")
    lines.append(f"{stamp(end)}\t" + "\t".join(fields) + "\t")
with open("checkout-report.log", "w", encoding="utf-8") as f:
    f.write("\n".join(lines) + "\n")
