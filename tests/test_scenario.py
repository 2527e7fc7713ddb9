"""Tests of lambdasim.scenario: loading, overrides, defaults, validation, JSON Schema."""

import json
import math
import re
import textwrap

import pytest

from lambdasim.scenario import ScenarioError, json_schema, load_scenario, parse_set_option

GOOD = """\
name: peak
description: Checkout API at the sale peak
duration: 1h
warmup: 5m
seed: 42
account:
  concurrency_limit: 1000
  unreserved_minimum: 100
  scaling: {burst: 1000, per: 10s}
functions:
  checkout:
    memory_mb: 1024
    timeout: 30s
    reserved_concurrency: 400
    duration: {dist: lognormal, median: 120ms, p99: 900ms}
    memory_scaling: {cpu_bound: 0.8}
    init: {dist: lognormal, median: 350ms, p99: 1.2s}
    keep_alive: {dist: uniform, low: 5m, high: 7m}
    error_rate: 0.001
    triggers:
      - type: sync
        arrivals: {process: poisson, rate: 300/s}
        client_retries: {max_attempts: 3, base_delay: 100ms, max_delay: 2s, jitter: full}
      - type: sync
        arrivals:
          - {process: poisson, rate: [[0s, 5/s], [20m, 80/s, ramp], [40m, 5/s]]}
          - {process: burst, count: 1000, at: 10m}
  search:
    runtime: nodejs20.x
    package_type: image
    duration: 50ms
"""


def write(tmp_path, text, name="peak.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def good(tmp_path):
    return write(tmp_path, GOOD)


def test_good_scenario_resolves_with_defaults(good):
    s = load_scenario(good)
    c = s.config
    assert s.name == "peak" and s.path == str(good)
    assert (s.seed, s.duration_s, s.warmup_s, s.period_s) == (42, 3600.0, 300.0, 60.0)
    assert c["billing"] == {"prices": "us-east-1-2025-08", "date": "2025-08-01", "free_tier": False}
    assert c["account"]["scaling"] == {"model": "token-bucket", "burst": 1000, "per": 10.0,
                                       "request_burst": 10000}
    assert c["account"]["request_rate_limit"] == {"enabled": True, "per_concurrency": 10}
    f = s.functions["checkout"]
    assert f["architecture"] == "x86_64" and f["runtime"] == "python3.12" and f["reuse"] == "mru"
    assert f["timeout"] == 30.0 and f["reference_mb"] == 1024
    assert f["provisioned_concurrency"] == {"capacity": 0, "preparation": 90.0, "schedule": [],
                                            "target_tracking": None}
    assert f["memory_scaling"] == {"cpu_bound": 0.8, "threads": 1}
    assert f["max_lifetime"] == {"dist": "uniform", "low": 7200.0, "high": 21600.0}
    assert f["duration"]["dist"] == "lognormal" and math.exp(f["duration"]["mu"]) == pytest.approx(0.12)
    t0, t1 = f["triggers"]
    assert t0["name"] == "sync-0" and t1["name"] == "sync-1"
    assert t0["client_retries"]["retry_on"] == ["throttle"]
    assert t1["client_retries"] == {"max_attempts": 1, "base_delay": 0.1, "max_delay": 20.0,
                                    "jitter": "full", "retry_on": ["throttle"]}
    assert [a["process"] for a in t1["arrivals"]] == ["poisson", "burst"]
    search = s.functions["search"]
    assert search["memory_mb"] == 128 and search["reference_mb"] == 128 and search["triggers"] == []
    assert search["duration"] == {"dist": "constant", "value": 0.05}
    # Node default init 135 ms, doubled for an image; p99 = 3 x median
    assert math.exp(search["init"]["mu"]) == pytest.approx(0.270)
    assert search["init"]["sigma"] == pytest.approx(math.log(3) / 2.3263478740408408)
    json.dumps(c)  # JSON-serialisable


def test_defaults_for_minimal_dict_scenario():
    s = load_scenario({"duration": 60, "functions": {"f": {"duration": "10ms"}}})
    assert s.name == "scenario" and s.path is None and s.seed == 1 and s.warmup_s == 0.0
    f = s.functions["f"]
    assert f["keep_alive"] == {"dist": "uniform", "low": 300.0, "high": 420.0}
    assert math.exp(f["init"]["mu"]) == pytest.approx(0.085)
    assert f["reserved_concurrency"] is None and f["ephemeral_storage_mb"] == 512


def test_resolved_config_reloads_to_itself(good):
    c = load_scenario(good).config
    assert load_scenario(json.loads(json.dumps(c))).config == c


def test_name_defaults_to_file_stem(tmp_path):
    path = write(tmp_path, "duration: 1m\nfunctions: {f: {duration: 1ms}}\n", "sale-day.yaml")
    assert load_scenario(path).name == "sale-day"


def test_mapping_and_cli_overrides(good):
    s = load_scenario(good, overrides={"seed": 7, "functions.checkout.memory_mb": 2048})
    assert s.seed == 7 and s.functions["checkout"]["memory_mb"] == 2048
    s2 = load_scenario(good, overrides=["seed=9", "functions.checkout.timeout=45s",
                                        "functions.checkout.triggers.0.client_retries.jitter=none",
                                        "account.request_rate_limit.enabled=false"])
    assert s2.seed == 9 and s2.functions["checkout"]["timeout"] == 45.0
    assert s2.functions["checkout"]["triggers"][0]["client_retries"]["jitter"] == "none"
    assert s2.config["account"]["request_rate_limit"]["enabled"] is False


def test_override_creates_missing_mappings(good):
    s = load_scenario(good, overrides=["functions.search.memory_scaling.threads=2", "billing.free_tier=true"])
    assert s.functions["search"]["memory_scaling"] == {"cpu_bound": 0.0, "threads": 2}
    assert s.config["billing"]["free_tier"] is True


def test_reference_mb_is_memory_as_written_before_overrides(good):
    s = load_scenario(good, overrides=["functions.checkout.memory_mb=2048"])
    assert s.functions["checkout"]["memory_mb"] == 2048
    assert s.functions["checkout"]["reference_mb"] == 1024
    s2 = load_scenario(good).with_overrides({"functions.search.memory_mb": 512})
    assert s2.functions["search"]["reference_mb"] == 128  # not written: the default memory
    s3 = load_scenario(good, overrides=["functions.checkout.reference_mb=512"])
    assert s3.functions["checkout"]["reference_mb"] == 512


def test_with_overrides_accumulates(good):
    s = load_scenario(good, overrides=["seed=3"]).with_overrides(["warmup=1m"])
    assert (s.seed, s.warmup_s) == (3, 60.0)
    assert load_scenario(good).with_overrides({"seed": 5}).seed == 5


def test_parse_set_option():
    assert parse_set_option("functions.checkout.memory_mb=2048") == ("functions.checkout.memory_mb", 2048)
    assert parse_set_option("duration=2h") == ("duration", "2h")
    assert parse_set_option("a.b=[1, 2]") == ("a.b", [1, 2])
    assert parse_set_option("x=true") == ("x", True)
    for bad in ("memory_mb", "=3", "a..b=1", "a b=1"):
        with pytest.raises(ScenarioError, match="KEY=VALUE"):
            parse_set_option(bad)


def test_malformed_set_string_is_scenario_error(good):
    with pytest.raises(ScenarioError, match="KEY=VALUE"):
        load_scenario(good, overrides=["seed"])


@pytest.mark.parametrize(
    "override, key, text",
    [
        ("functions.checkout.memory_mb=99999", "functions.checkout.memory_mb", "must be between 128 and 10240, got 99999"),
        ("functions.checkout.memroy_mb=1024", "functions.checkout.memroy_mb", "did you mean 'memory_mb'?"),
        ("seeed=3", "seeed", "did you mean 'seed'?"),
        ("functions.checkout.triggers.5.type=sync", "functions.checkout.triggers.5.type", "out of range"),
        ("functions.checkout.duration.median.x=1", "functions.checkout.duration.median.x", "not a mapping"),
    ],
)
def test_override_errors_name_the_set_option(good, override, key, text):
    with pytest.raises(ScenarioError) as info:
        load_scenario(good, overrides=[override])
    err = info.value
    assert err.key == key and text in err.message
    assert str(err).startswith(f"--set {key}: ")


def test_error_string_format(tmp_path):
    path = write(tmp_path, GOOD.replace("memory_mb: 1024", "memory_mb: 99999"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == f"{path}:12: functions.checkout.memory_mb: must be between 128 and 10240, got 99999"
    assert (info.value.file, info.value.line) == (str(path), 12)


# Each case: the YAML text, the dotted key and the line that the error must name, and a fragment
# of the message.
MALFORMED = [
    ("duration: 1h\nfunctions:\n  f:\n    duration: 1ms\n    memroy_mb: 512\n",
     "functions.f.memroy_mb", 5, "did you mean 'memory_mb'?"),
    ("duration: soon\nfunctions: {f: {duration: 1ms}}\n", "duration", 1, "expected a time"),
    ("duration: 1h\nwarmup: 2h\nfunctions: {f: {duration: 1ms}}\n", "warmup", 2, "shorter than duration"),
    ("duration: 1h\nseed: -1\nfunctions: {f: {duration: 1ms}}\n", "seed", 2, "must be >= 0"),
    ("duration: 1h\nseed: true\nfunctions: {f: {duration: 1ms}}\n", "seed", 2, "expected an integer"),
    ("duration: 1h\nfunctions:\n  f:\n    memory_mb: 1024\n", "functions.f.duration", 3, "missing required key 'duration'"),
    ("duration: 1h\nfunctions: {}\n", "functions", 2, "at least one"),
    ("duration: 1h\nfunctions:\n  bad name:\n    duration: 1ms\n", "functions.bad name", 3, "invalid name"),
    ("duration: 1h\nfunctions:\n  f:\n    duration: {dist: lognormal, median: 1s, p99: 0.5s}\n",
     "functions.f.duration.p99", 4, "greater than median"),
    ("duration: 1h\nfunctions:\n  f:\n    duration:\n      dist: lognormal\n      median: 1s\n      p99: 0.5s\n",
     "functions.f.duration.p99", 7, "greater than median"),
    ("duration: 1h\nfunctions:\n  f:\n    duration: 1ms\n    runtime: cobol85\n",
     "functions.f.runtime", 5, "python, nodejs, java"),
    ("duration: 1h\nfunctions:\n  f:\n    duration: 1ms\n    architecture: arm\n",
     "functions.f.architecture", 5, "did you mean 'arm64'?"),
    ("duration: 1h\nfunctions:\n  f:\n    duration: 1ms\n    timeout: 20m\n", "functions.f.timeout", 5, "between 0 and 900"),
    ("duration: 1h\nfunctions:\n  f:\n    duration: 1ms\n    reserved_concurrency: 10\n"
     "    provisioned_concurrency: 50\n",
     "functions.f.provisioned_concurrency.capacity", 6, "exceeds the function's reserved_concurrency"),
    ("duration: 1h\nfunctions:\n  f:\n    duration: 1ms\n    triggers:\n      - type: sync\n"
     "        arrivals: {process: poisson, rate: 5/s}\n      - type: dynamodb\n        arrivals: {process: poisson, rate: 1}\n"
     "        retention: 48h\n",
     "functions.f.triggers.1.retention", 10, "unknown key 'retention'"),
    ("duration: 1h\nfunctions:\n  f:\n    duration: 1ms\n    triggers:\n      - type: webhook\n        arrivals: {process: poisson, rate: 1}\n",
     "functions.f.triggers.0.type", 6, "unknown trigger type 'webhook'"),
    ("duration: 1h\nfunctions:\n  f:\n    duration: 1ms\n    triggers:\n      - type: sync\n",
     "functions.f.triggers.0.arrivals", 6, "missing required key 'arrivals'"),
    ("duration: 1h\nfunctions:\n  f:\n    duration: 1ms\n    triggers:\n      - type: sync\n        arrivals:\n"
     "          - {process: poisson, rate: 1}\n          - {process: poisson, rate: [[0, 1], [0, 2]]}\n",
     "functions.f.triggers.0.arrivals.1.rate.1.0", 9, "increasing time"),
    ("duration: 1h\nfunctions:\n  f:\n    duration: 1ms\n    triggers:\n      - type: sync\n"
     "        arrivals: {process: poisson, rate: 1}\n        client_retries: {max_attempts: 50}\n",
     "functions.f.triggers.0.client_retries.max_attempts", 8, "between 1 and 20"),
    ("duration: 1h\nfunctions:\n  f:\n    duration: 1ms\n    triggers:\n      - type: sync\n"
     "        arrivals: {process: poisson, rate: 1}\n        client_retries:\n          retry_on: [throttle, timeout]\n",
     "functions.f.triggers.0.client_retries.retry_on.1", 9, "throttle, error"),
    ("duration: 1h\naccount: {concurrency_limit: 1000}\nfunctions:\n  a: {duration: 1ms, reserved_concurrency: 500}\n"
     "  b: {duration: 1ms, reserved_concurrency: 450}\n",
     "functions.b.reserved_concurrency", 5, "a 500, b 450"),
    ("duration: 1h\naccount:\n  scaling: {model: regional-burst, burst: 100}\nfunctions: {f: {duration: 1ms}}\n",
     "account.scaling.burst", 3, "between 500 and 3000"),
    ("duration: 1h\naccount:\n  scaling: {model: bucket}\nfunctions: {f: {duration: 1ms}}\n",
     "account.scaling.model", 3, "token-bucket"),
    ("duration: 1h\nbilling: {prices: eu-mars-1}\nfunctions: {f: {duration: 1ms}}\n",
     "billing.prices", 2, "us-east-1-2025-08"),
    ("duration: 1h\nbilling: {date: yesterday}\nfunctions: {f: {duration: 1ms}}\n", "billing.date", 2, "ISO date"),
    ("duration: 1h\nfunctions:\n  f:\n    duration: 1ms\n    keep_alive: {dist: uniform, low: 7m, high: 5m}\n",
     "functions.f.keep_alive.high", 5, "high must be >= low"),
    ("duration: 1h\nfunctions:\n  f:\n    duration: 1ms\n    error_rate: 1.5\n", "functions.f.error_rate", 5, "between 0 and 1"),
    ("duration: 1h\nfunctions:\n  f:\n    duration: 1ms\n    memory_mb: 1024\n    reference_mb: 64\n",
     "functions.f.reference_mb", 6, "between 128 and 10240"),
    ("duration: 1h\nfunctions:\n  f:\n    duration: 1ms\n    memory_mb: 1024\n    memory_mb: 2048\n",
     "functions.f.memory_mb", 6, "duplicate key 'memory_mb' (first defined on line 5)"),
    ("duration: 1h\nfunctions:\n  f:\n    duration: 1ms\n    triggers:\n      - type: sync\n        name: api\n"
     "        arrivals: {process: poisson, rate: 1}\n      - type: sync\n        name: api\n        arrivals: {process: constant, rate: 1}\n",
     "functions.f.triggers.1.name", 10, "duplicate trigger name"),
]


@pytest.mark.parametrize("text, key, line, fragment", MALFORMED, ids=[m[1] + f"@{m[2]}" for m in MALFORMED])
def test_malformed_inputs_name_key_and_line(tmp_path, text, key, line, fragment):
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    err = info.value
    assert err.key == key, str(err)
    assert err.line == line, str(err)
    assert fragment in err.message, str(err)
    assert str(err).startswith(f"{path}:{line}: {key}: ")


def test_file_level_errors(tmp_path):
    cases = [
        (tmp_path / "missing.yaml", "file not found", None),
        (write(tmp_path, "", "empty.yaml"), "empty", None),
        (write(tmp_path, "- a\n- b\n", "list.yaml"), "top level must be a mapping", 1),
        (write(tmp_path, "duration: 1h\nfunctions: {f: {duration: 1ms}\n", "syntax.yaml"), "YAML syntax error", 3),
        (write(tmp_path, "duration: 1h\n  bad: indent\n", "indent.yaml"), "YAML syntax error", 2),
    ]
    for path, fragment, line in cases:
        with pytest.raises(ScenarioError) as info:
            load_scenario(path)
        assert fragment in info.value.message, str(info.value)
        assert info.value.file == str(path)
        assert info.value.line == line, str(info.value)


def test_dict_source_errors_have_no_file_or_line():
    with pytest.raises(ScenarioError) as info:
        load_scenario({"duration": 60, "functions": {"f": {"duration": "1ms", "memory_mb": 1}}})
    assert (info.value.file, info.value.line, info.value.key) == (None, None, "functions.f.memory_mb")
    assert str(info.value) == "functions.f.memory_mb: must be between 128 and 10240, got 1"


def test_line_numbers_recorded_for_list_items_and_nested_keys(tmp_path):
    path = write(tmp_path, GOOD.replace("{process: burst, count: 1000, at: 10m}", "{process: burst, count: lots, at: 10m}"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.key == "functions.checkout.triggers.1.arrivals.1.count"
    assert info.value.line == 27


def test_scientific_notation_strings_are_numbers(tmp_path):
    path = write(tmp_path, "duration: 1h\nfunctions:\n  f: {duration: 1ms, error_rate: 1e-3}\n")
    assert load_scenario(path).functions["f"]["error_rate"] == 0.001


def test_empirical_file_relative_to_scenario_folder(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "d.txt").write_text("10ms\n30ms\n20ms\n")
    path = write(tmp_path, "duration: 1h\nfunctions:\n  f: {duration: {dist: empirical, file: data/d.txt}}\n")
    assert load_scenario(path).functions["f"]["duration"] == {"dist": "empirical", "values": [0.01, 0.02, 0.03]}


def test_legacy_regional_burst_scaling():
    s = load_scenario({"duration": 60, "account": {"scaling": {"model": "regional-burst"}},
                       "functions": {"f": {"duration": 0.01}}})
    assert s.config["account"]["scaling"] == {"model": "regional-burst", "burst": 3000, "per_minute": 500}


def test_runtime_families_and_image_doubling():
    fns = {n: {"duration": 0.01, "runtime": r} for n, r in
           [("p", "python3.12"), ("n", "nodejs20.x"), ("j", "java21"), ("d", "dotnet8"), ("g", "go1.x"),
            ("r", "provided.al2023"), ("rb", "ruby3.3")]}
    fns["pi"] = {"duration": 0.01, "runtime": "python3.12", "package_type": "image"}
    s = load_scenario({"duration": 60, "functions": fns})
    medians = {n: math.exp(f["init"]["mu"]) for n, f in s.functions.items()}
    expected = {"p": 0.085, "n": 0.135, "j": 0.225, "d": 0.225, "g": 0.05, "r": 0.015, "rb": 0.1, "pi": 0.17}
    assert medians == pytest.approx(expected)


# --- JSON Schema -------------------------------------------------------------------------
def _validate(instance, schema, path="$"):
    """Minimal draft 2020-12 validator for the keywords json_schema() uses (jsonschema absent)."""
    def fail(msg):
        raise AssertionError(f"{path}: {msg}")

    types = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
    t = schema.get("type")
    if t == "integer":
        if isinstance(instance, bool) or not isinstance(instance, int):
            fail(f"not an integer: {instance!r}")
    elif t == "number":
        if isinstance(instance, bool) or not isinstance(instance, (int, float)):
            fail(f"not a number: {instance!r}")
    elif t is not None and not isinstance(instance, types[t]):
        fail(f"not {t}: {instance!r}")
    if "const" in schema and instance != schema["const"]:
        fail(f"{instance!r} != {schema['const']!r}")
    if "enum" in schema and instance not in schema["enum"]:
        fail(f"{instance!r} not in {schema['enum']}")
    if isinstance(instance, (int, float)) and not isinstance(instance, bool):
        if "minimum" in schema and instance < schema["minimum"]:
            fail("below minimum")
        if "exclusiveMinimum" in schema and instance <= schema["exclusiveMinimum"]:
            fail("not above exclusiveMinimum")
        if "maximum" in schema and instance > schema["maximum"]:
            fail("above maximum")
    if isinstance(instance, str) and "pattern" in schema and not re.search(schema["pattern"], instance):
        fail(f"{instance!r} does not match {schema['pattern']}")
    if isinstance(instance, dict):
        for key in schema.get("required", []):
            if key not in instance:
                fail(f"missing {key}")
        if len(instance) < schema.get("minProperties", 0):
            fail("too few properties")
        props = schema.get("properties", {})
        for key, value in instance.items():
            matched = False
            if key in props:
                _validate(value, props[key], f"{path}.{key}")
                matched = True
            for pattern, sub in schema.get("patternProperties", {}).items():
                if re.search(pattern, key):
                    _validate(value, sub, f"{path}.{key}")
                    matched = True
            if not matched and schema.get("additionalProperties") is False:
                fail(f"unexpected key {key}")
    if isinstance(instance, list):
        if len(instance) < schema.get("minItems", 0) or len(instance) > schema.get("maxItems", 10**9):
            fail("wrong length")
        prefix = schema.get("prefixItems", [])
        for i, item in enumerate(instance):
            if i < len(prefix):
                _validate(item, prefix[i], f"{path}[{i}]")
            elif "items" in schema:
                _validate(item, schema["items"], f"{path}[{i}]")
    for keyword, needed in (("anyOf", (1, None)), ("oneOf", (1, 1))):
        if keyword in schema:
            ok = 0
            for sub in schema[keyword]:
                try:
                    _validate(instance, sub, path)
                    ok += 1
                except AssertionError:
                    pass
            if ok < needed[0] or (needed[1] is not None and ok > needed[1]):
                fail(f"{keyword}: {ok} alternatives matched {instance!r}")


def _check_with_schema(instance, schema):
    try:
        import jsonschema
    except ImportError:
        _validate(instance, schema)
    else:
        jsonschema.Draft202012Validator(schema).validate(instance)


def test_json_schema_accepts_good_file_and_resolved_config(good):
    import yaml

    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["duration", "functions"]
    raw = yaml.safe_load(good.read_text())
    _check_with_schema(json.loads(json.dumps(raw, default=str)), schema)
    _check_with_schema(load_scenario(good).config, schema)


def test_json_schema_rejects_bad_documents(good):
    import yaml

    schema = json_schema()
    raw = yaml.safe_load(good.read_text())
    bad_memory = json.loads(json.dumps(raw))
    bad_memory["functions"]["checkout"]["memory_mb"] = 99999
    bad_key = json.loads(json.dumps(raw))
    bad_key["functions"]["checkout"]["memroy_mb"] = 512
    bad_dist = json.loads(json.dumps(raw))
    bad_dist["functions"]["checkout"]["duration"] = {"dist": "cauchy", "loc": 1}
    for doc in (bad_memory, bad_key, bad_dist):
        with pytest.raises(Exception):
            _check_with_schema(doc, schema)


def test_json_schema_generated_from_the_field_table():
    schema = json_schema()
    fn = schema["properties"]["functions"]["patternProperties"]["^[A-Za-z0-9_-]{1,64}$"]
    assert fn["properties"]["memory_mb"]["minimum"] == 128
    assert fn["properties"]["memory_mb"]["default"] == 128
    assert fn["properties"]["reuse"]["enum"] == ["mru", "lru", "random", "newest"]
    assert fn["required"] == ["duration"]
    json.dumps(schema)


def test_error_below_an_override_names_the_override(good):
    with pytest.raises(ScenarioError) as info:
        load_scenario(good, overrides={"functions.checkout.duration": {"dist": "foo"}})
    assert info.value.override == "functions.checkout.duration"
    assert info.value.key == "functions.checkout.duration.dist"
    assert str(info.value).startswith("--set functions.checkout.duration: functions.checkout.duration.dist: ")
    # a function created by an override: its missing keys belong to that override
    with pytest.raises(ScenarioError) as info:
        load_scenario(good, overrides=["functions.extra.memory_mb=1024"])
    assert (info.value.override, info.value.key) == ("functions.extra.memory_mb", "functions.extra.duration")
    assert info.value.line is None


def test_function_added_by_override_takes_its_own_memory_as_reference(good):
    s = load_scenario(good, overrides=["functions.extra.duration=5ms", "functions.extra.memory_mb=1024"])
    assert s.functions["extra"]["reference_mb"] == 1024


def test_scenario_is_frozen(good):
    s = load_scenario(good)
    with pytest.raises(Exception):
        s.name = "other"
    assert load_scenario(good) == s  # equality by name, path and config


def _alike_functions(count: int) -> dict:
    body = {"memory_mb": 512, "duration": {"dist": "exponential", "mean": "200ms"},
            "triggers": [{"type": "sync", "arrivals": {"process": "poisson", "rate": 1}}]}
    return {"duration": "1m", "functions": {f"f{i}": json.loads(json.dumps(body))
                                            for i in range(count)}}


def test_functions_written_alike_resolve_alike_each_its_own_copy():
    # Entries written alike are resolved once and copied (a thousand functions from one
    # template); each function must still get its own config, equal to resolving it alone.
    data = _alike_functions(3)
    data["functions"]["f1"]["memory_mb"] = 1024  # written differently
    functions = load_scenario(data).functions
    alone = load_scenario({"duration": "1m",
                           "functions": {"f2": _alike_functions(1)["functions"]["f0"]}})
    assert functions["f2"] == functions["f0"] == alone.functions["f2"]
    assert functions["f0"] is not functions["f2"]
    assert functions["f0"]["triggers"][0] is not functions["f2"]["triggers"][0]
    assert functions["f1"]["memory_mb"] == functions["f1"]["reference_mb"] == 1024
    # Alike after an override, not as written: each keeps the memory it was written with.
    over = load_scenario(data, {"functions.f1.memory_mb": 512}).functions
    assert over["f1"]["memory_mb"] == 512 and over["f1"]["reference_mb"] == 1024
    assert over["f0"]["reference_mb"] == 512


def test_an_error_in_one_of_many_functions_written_alike_names_that_function(tmp_path):
    path = tmp_path / "many.yaml"
    body = ("  {name}:\n    memory_mb: {memory}\n    duration: 100ms\n"
            "    triggers: [{{type: sync, arrivals: {{process: poisson, rate: 1}}}}]\n")
    path.write_text("duration: 1m\nfunctions:\n" + "".join(
        body.format(name=f"f{i}", memory=99 if i == 3 else 512) for i in range(5)))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value) == (f"{path}:16: functions.f3.memory_mb: must be between 128 "
                                 f"and 10240, got 99")


def test_the_resolved_config_must_be_writable_and_the_first_bad_value_is_named():
    # Checked quickly without dotted keys first (a thousand functions' configs), then the
    # same walk again to name the first value that cannot be written.
    from lambdasim.scenario.loader import _check_writable
    from lambdasim.scenario.units import SpecError

    good = {"name": "café", "functions": {"f": {"tags": ["ü", 1.5, None, True], "n": 3}}}
    _check_writable(good)
    cases = [
        ({"functions": {"f": {"tags": ["ok", "a\0b"]}}}, "functions.f.tags.1",
         "must not contain a NUL character"),
        ({"functions": {"f": {"rate": math.inf}}}, "functions.f.rate",
         "must be a finite number, got inf"),
        ({"functions": {"f\0": {}}}, "functions.f\0", "must not contain a NUL character"),
        # Two bad values: the walk's first (the last key's, depth first) is named.
        ({"description": "\ud800", "x": [float("nan")]}, "x.0",
         "must be a finite number, got nan"),
    ]
    for config, key, message in cases:
        with pytest.raises(SpecError) as caught:
            _check_writable(config)
        assert caught.value.key == key and message in caught.value.message


def test_work_estimate_of_functions_written_alike_counts_each_of_them():
    # Arrival specs written alike are integrated once; every function still counts, and the
    # largest contributor is the first of the busiest.
    from lambdasim.scenario.workload import estimate

    data = _alike_functions(4)
    data["functions"]["f2"]["triggers"][0]["arrivals"]["rate"] = 3
    work = estimate(load_scenario(data).config)
    assert work.arrivals == pytest.approx(60.0 * (1 + 1 + 3 + 1))
    assert work.arrivals_key == "functions.f2.triggers.0.arrivals"
    alone = estimate(load_scenario(_alike_functions(1)).config)
    assert alone.arrivals == pytest.approx(60.0)
