"""Template values resolved from the template alone, and schedule expressions as rates.

Intrinsic functions and conditions:
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-conditions.html;
schedule expressions: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html
and https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html.
"""

from __future__ import annotations

import pytest

from lambdasim.aws.intrinsics import NO_VALUE, UNRESOLVED, Resolver
from lambdasim.aws.schedules import parse_schedule, rate_text

TEMPLATE = {
    "Parameters": {"Stage": {"Type": "String", "Default": "prod"}, "Size": {"Type": "Number", "Default": "512"},
                   "NoDefault": {"Type": "String"}},
    "Mappings": {"M": {"prod": {"Mem": 2048}}},
    "Conditions": {
        "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
        "IsDev": {"Fn::Equals": ["dev", {"Ref": "Stage"}]},
        "Either": {"Fn::Or": [{"Condition": "IsDev"}, {"Condition": "IsProd"}]},
        "Both": {"Fn::And": [{"Condition": "IsDev"}, {"Condition": "IsProd"}]},
        "NotDev": {"Fn::Not": [{"Condition": "IsDev"}]},
        "Region": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]},
        "RegionOrProd": {"Fn::Or": [{"Condition": "Region"}, {"Condition": "IsProd"}]},
        "RegionAndProd": {"Fn::And": [{"Condition": "Region"}, {"Condition": "IsProd"}]},
        "Loop": {"Fn::Not": [{"Condition": "Loop2"}]},
        "Loop2": {"Fn::Not": [{"Condition": "Loop"}]},
    },
    "Resources": {},
}


def test_conditions_from_parameter_defaults():
    r = Resolver(TEMPLATE)
    assert [r.condition(n) for n in ("IsProd", "IsDev", "Either", "Both", "NotDev")] == [True, False, True, False, True]
    assert r.condition("Region") is UNRESOLVED          # a pseudo parameter: not known before deployment
    assert r.condition("RegionOrProd") is True          # decided by its other branch
    assert r.condition("RegionAndProd") is UNRESOLVED
    assert r.condition("Loop") is UNRESOLVED and r.condition("Missing") is UNRESOLVED  # no endless loop


def test_values_if_novalue_findinmap_join():
    r = Resolver(TEMPLATE)
    assert r.value({"Fn::If": ["IsProd", {"ProvisionedConcurrentExecutions": 10}, {"Ref": "AWS::NoValue"}]}) == {
        "ProvisionedConcurrentExecutions": 10}
    assert r.value({"Fn::If": ["IsDev", 5, {"Ref": "AWS::NoValue"}]}) is NO_VALUE
    assert r.value({"Fn::If": ["Region", 5, 6]}) is UNRESOLVED
    assert r.value({"Ref": "Size"}) == 512 and r.value({"Ref": "NoDefault"}) is UNRESOLVED
    assert r.value({"Fn::FindInMap": ["M", {"Ref": "Stage"}, "Mem"]}) == 2048
    assert r.value({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}) == "a-prod"
    assert r.value({"A": {"Fn::If": ["IsDev", 1, {"Ref": "AWS::NoValue"}]}, "B": [1, {"Ref": "AWS::NoValue"}]}) == {"B": [1]}
    deep: object = 1
    for _ in range(200):
        deep = {"Fn::If": ["IsProd", deep, 0]}
    assert r.value(deep) is UNRESOLVED  # nested beyond MAX_DEPTH


@pytest.mark.parametrize("expression, rate", [
    ("rate(1 minute)", "1/min"), ("rate(5 minutes)", "12/h"), ("rate(2 hours)", "12/d"), ("rate(1 day)", "1/d"),
    ("rate(7 minutes)", "205.714/d"),
    ("cron(0/5 * * * ? *)", "12/h"), ("cron(0 12 * * ? *)", "1/d"), ("cron(0,30 9-16 * * ? *)", "16/d"),
    ("cron(0 9 ? * MON-FRI *)", "0.714286/d"), ("cron(0 9 ? * 2-6 *)", "0.714286/d"),
])
def test_schedule_rates(expression, rate):
    assert rate_text(parse_schedule(expression).per_second) == rate


def test_cron_month_days_and_special_fields():
    per_day = {e: parse_schedule(e).per_second * 86400 for e in (
        "cron(0 8 1 * ? *)", "cron(0 0 L * ? *)", "cron(0 18 ? * MON#1 *)", "cron(0 10 15W * ? *)",
        "cron(0 10 ? * 6L *)", "cron(0 10 1 JAN ? *)", "cron(0 10 29 FEB ? *)")}
    assert per_day["cron(0 8 1 * ? *)"] == pytest.approx(12 / 365.25, rel=2e-3)    # monthly
    for e in ("cron(0 0 L * ? *)", "cron(0 18 ? * MON#1 *)", "cron(0 10 15W * ? *)", "cron(0 10 ? * 6L *)"):
        assert per_day[e] == per_day["cron(0 8 1 * ? *)"]                          # once a month each
    assert per_day["cron(0 10 1 JAN ? *)"] == pytest.approx(1 / 365.25, rel=2e-3)
    assert per_day["cron(0 10 29 FEB ? *)"] == pytest.approx(per_day["cron(0 10 1 JAN ? *)"] / 4, rel=0.2)
    at = parse_schedule("at(2026-12-01T09:00:00)")
    assert at.kind == "at" and at.per_second == 0


@pytest.mark.parametrize("bad", ["rate(0 minutes)", "rate(5 fortnights)", "cron(0 12 * *)", "cron(0 12 * * * *)",
                                 "cron(99 * * * ? *)", "cron(0 0 1 * ? 1999)", "every 5 minutes"])
def test_bad_schedules_are_value_errors(bad):
    with pytest.raises(ValueError):
        parse_schedule(bad)


def test_equals_compares_as_cloudformation_strings():
    r = Resolver({"Parameters": {"On": {"Type": "String", "Default": True}, "N": {"Type": "Number", "Default": 10}},
                  "Conditions": {"IsOn": {"Fn::Equals": [{"Ref": "On"}, "true"]},
                                 "IsTen": {"Fn::Equals": [{"Ref": "N"}, "10"]}}})
    assert r.condition("IsOn") is True and r.condition("IsTen") is True
