"""Every shape in which CloudWatch tools hand out Lambda logs, read as ``fit`` must read it.

The realworld cases (tests/data/realworld, copied from the issue's samples, each with the
``.expected.txt`` it must meet) and one test per other shape of
:mod:`lambdasim.aws.logformats`. Sources: REPORT text format
https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html; JSON ``platform.report``
https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html#platform-report;
FilterLogEvents https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html;
subscription payloads https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html;
Logs Insights fields https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_AnalyzeLogData-discoverable-fields.html;
SnapStart https://docs.aws.amazon.com/lambda/latest/dg/snapstart-monitoring.html.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
from pathlib import Path

import pytest

from lambdasim.aws import support
from lambdasim.aws.fit import LogReader, analyse
from lambdasim.cli import main as cli_main

CASES = Path(__file__).parent / "data" / "realworld"
T0 = dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.timezone.utc)  # 1700000000000 ms
MS = 1700000000000


def _report(i: int, duration: float, init: float | None = None, sep: str = "\t", memory: int = 512,
            status: str | None = None, restore: float | None = None) -> str:
    fields = [f"REPORT RequestId: 00000000-0000-4000-8000-{i:012d}", f"Duration: {duration:.2f} ms",
              f"Billed Duration: {int(duration) + 300} ms", f"Memory Size: {memory} MB", "Max Memory Used: 80 MB"]
    if init is not None:
        fields.append(f"Init Duration: {init:.2f} ms")
    if restore is not None:
        fields += [f"Restore Duration: {restore:.2f} ms", f"Billed Restore Duration: {int(restore) // 2} ms"]
    if status is not None:
        fields.append(f"Status: {status}")
    return sep.join(fields) + sep


def _read(path: Path) -> LogReader:
    reader = LogReader()
    reader.read_file(path)
    reader.finish()
    return reader


def _durations(reader: LogReader) -> list[float]:
    return [r.duration_ms for r in reader.reports]


def _times(reader: LogReader) -> list[dt.datetime | None]:
    return [r.time for r in reader.reports]


# --------------------------------------------------------------------------------------
# the realworld cases, each its expected value
# --------------------------------------------------------------------------------------
def test_case_jsonlines_with_escaped_tabs_reads_duration_not_billed_duration():
    reader = _read(CASES / "fit_jsonlines_tab_escaped.jsonl")
    (r,) = reader.reports
    assert (r.duration_ms, r.memory_mb, r.init_ms) == (102.25, 512, 268.48)  # not the Billed 371 ms
    analysis = analyse(reader, ["x"])
    assert analysis.body["memory_mb"] == 512 and analysis.cold_start_rate == 1.0
    assert analysis.body["duration"] == {"dist": "constant", "value": "102.2ms"}


def test_case_pretty_printed_platform_report():
    reader = _read(CASES / "fit_platform_report_pretty.json")
    (r,) = reader.reports
    assert (r.duration_ms, r.init_ms, r.memory_mb, r.max_memory_mb) == (17.493, 235.086, 128, 75)
    assert r.time == dt.datetime(2024, 7, 1, 8, 54, 54, 127000, tzinfo=dt.timezone.utc)


def test_case_snapstart_restore_is_reported_as_a_cold_start_of_its_own_kind(capsys):
    reader = _read(CASES / "fit_snapstart_restore.log")
    analysis = analyse(reader, ["x"])
    assert analysis.restores == 1 and analysis.cold_start_rate == 0.5
    assert [r.restore_ms for r in reader.reports] == [511.25, None]
    assert [r.init_ms for r in reader.reports] == [None, None]
    text = "\n".join(analysis.lines)
    assert "SnapStart restores (Restore Duration): 1 of 2 invocations (50.00 %)" in text
    assert "median 511.25 ms" in text
    assert "no cold start seen" not in text
    assert "init" not in analysis.body
    if support.function_key("snap_start", "restore"):
        # Restore Duration 511.25 ms = snapshot restore + (runtime load and after-restore
        # hooks = Billed Restore Duration 303 ms); snapstart-monitoring.html.
        assert analysis.body["snap_start"] == {
            "restore": {"dist": "constant", "value": "208.2ms"},
            "after_restore": {"dist": "constant", "value": "303ms"}}
    else:
        assert "Note: this lambdasim does not model SnapStart" in text
    assert cli_main(["fit", str(CASES / "fit_snapstart_restore.log")]) == 0
    assert "# SnapStart restores" in capsys.readouterr().out


def test_case_subscription_payload_reads_every_log_event():
    reader = _read(CASES / "fit_subscription_logevents.json")
    assert _durations(reader) == [100.0, 200.0]
    assert _times(reader) == [T0, T0 + dt.timedelta(seconds=1)]


def test_case_table_row_timestamp_makes_a_trace(tmp_path):
    trace = tmp_path / "t.txt"
    assert cli_main(["fit", str(CASES / "fit_table_timestamp.log"), "--trace", str(trace)]) == 0
    (stamp,) = [ln for ln in trace.read_text().splitlines() if not ln.startswith("#")]
    # the log time 1753725990606 ms less Duration 363.49 ms and Init 1488.71 ms
    start = dt.datetime.fromtimestamp(1753725990.606, dt.timezone.utc) - dt.timedelta(milliseconds=363.49 + 1488.71)
    assert stamp == start.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_case_logs_insights_markdown_row_with_a_date_time(tmp_path):
    log = tmp_path / "insights.md"
    log.write_text("| @timestamp | @message |\n|---|---|\n| 2020-05-15 01:01:48.787 | "
                   + _report(1, 20.0, sep=" ") + " |\n")
    (r,) = _read(log).reports
    assert r.time == dt.datetime(2020, 5, 15, 1, 1, 48, 787000, tzinfo=dt.timezone.utc)


# --------------------------------------------------------------------------------------
# the other shapes
# --------------------------------------------------------------------------------------
def _events(n: int, **kw) -> list[dict]:
    return [{"logStreamName": "2023/11/14/[$LATEST]abc", "timestamp": MS + 1000 * i, "message": _report(i, 10.0 + i, **kw) + "\n",
             "ingestionTime": MS + 1000 * i + 700, "eventId": str(i)} for i in range(n)]


def test_filter_log_events_pages_concatenated_and_get_log_events(tmp_path):
    pages = "".join(json.dumps({"events": _events(3)[i:i + 1], "searchedLogStreams": [], "nextToken": "t"},
                               indent=4) for i in range(3))
    path = tmp_path / "pages.json"
    path.write_text(pages)
    reader = _read(path)
    assert _durations(reader) == [10.0, 11.0, 12.0] and _times(reader)[2] == T0 + dt.timedelta(seconds=2)
    get = tmp_path / "get.json"
    get.write_text(json.dumps({"events": _events(2), "nextForwardToken": "f/1", "nextBackwardToken": "b/1"}))
    assert _durations(_read(get)) == [10.0, 11.0]


def test_filter_log_events_text_output_takes_the_event_timestamp_not_ingestion(tmp_path):
    # --output text: EVENTS eventId ingestionTime logStreamName message timestamp; a message
    # ending in a newline puts the timestamp on the next line
    rows = [f"EVENTS\t{i}\t{MS + 1000 * i + 700}\tstream\t{_report(i, 5.0 + i)}\t{MS + 1000 * i}" for i in range(2)]
    rows.append(f"EVENTS\t2\t{MS + 2700}\tstream\t{_report(2, 7.0)}\n\t{MS + 2000}")
    path = tmp_path / "text.txt"
    path.write_text("\n".join(rows) + "\n")
    reader = _read(path)
    assert _durations(reader) == [5.0, 6.0, 7.0]
    assert _times(reader) == [T0 + dt.timedelta(seconds=s) for s in (0, 1, 2)]


def test_filter_log_events_table_output_uses_the_timestamp_column(tmp_path):
    header = "||  eventId  |  ingestionTime  |  logStreamName  |  message  |  timestamp  ||"
    rows = [f"||  {i}  |  {MS + 1000 * i + 900}  |  s  |  {_report(i, 9.0, sep=' ')}  |  {MS + 1000 * i}  ||"
            for i in range(2)]
    path = tmp_path / "table.txt"
    path.write_text("-" * 40 + "\n|  FilterLogEvents  |\n+" + "-" * 40 + "+\n||  events  ||\n"
                    + "|+---+---+---+---+---+|\n" + header + "\n|+---+---+---+---+---+|\n" + "\n".join(rows) + "\n")
    assert _times(_read(path)) == [T0, T0 + dt.timedelta(seconds=1)]


def test_console_and_insights_csv_downloads(tmp_path):
    csv_path = tmp_path / "console.csv"
    csv_path.write_text('timestamp,message\n' + "".join(
        f'{MS + 1000 * i},"{_report(i, 30.0)}\n"\n' for i in range(2)))  # quoted, tab-separated, newline
    assert _times(_read(csv_path)) == [T0, T0 + dt.timedelta(seconds=1)]
    insights = tmp_path / "insights.csv"
    insights.write_text("@timestamp,@message\n2023-11-14 22:13:20.000," + _report(0, 30.0, sep=" ") + "\n")
    assert _times(_read(insights)) == [T0]


def test_logs_insights_json_and_get_query_results(tmp_path):
    rows = [{"@timestamp": "2023-11-14 22:13:20.000", "@message": _report(0, 12.0)}]
    path = tmp_path / "insights.json"
    path.write_text(json.dumps(rows, indent=2))
    assert _times(_read(path)) == [T0]
    results = {"results": [[{"field": "@timestamp", "value": "2023-11-14 22:13:21.000"},
                            {"field": "@message", "value": _report(1, 13.0)},
                            {"field": "@ptr", "value": "CmAKJwoj"}]],
               "statistics": {"recordsMatched": 1.0}, "status": "Complete"}
    path.write_text(json.dumps(results))
    reader = _read(path)
    assert _durations(reader) == [13.0] and _times(reader) == [T0 + dt.timedelta(seconds=1)]


def test_logs_insights_discovered_fields_in_bytes(tmp_path):
    head = "| @timestamp | @requestId | @duration | @billedDuration | @initDuration | @memorySize | @maxMemoryUsed |"
    rows = ["| 2023-11-14 22:13:20.000 | a | 101.5 | 400 | 250.2 | 512000000 | 90000000 |",
            "| 2023-11-14 22:13:21.000 | b | 55.25 | 56 |  | 512000000 | 91000000 |"]
    path = tmp_path / "fields.md"
    path.write_text("\n".join([head, "|---|---|---|---|---|---|---|", *rows]) + "\n")
    reader = _read(path)
    assert [(r.duration_ms, r.init_ms, r.memory_mb, r.max_memory_mb) for r in reader.reports] == [
        (101.5, 250.2, 512, 90), (55.25, None, 512, 91)]
    fields = {"results": [[{"field": "@duration", "value": "7.5"}, {"field": "@memorySize", "value": "128000000"},
                           {"field": "@timestamp", "value": "2023-11-14 22:13:20.000"}]]}
    path.write_text(json.dumps(fields))
    (r,) = _read(path).reports
    assert (r.duration_ms, r.memory_mb, r.time) == (7.5, 128, T0)


def test_firehose_object_of_gzip_members_and_control_messages(tmp_path):
    control = {"messageType": "CONTROL_MESSAGE", "logEvents": [
        {"id": "", "timestamp": MS, "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}
    data = {"messageType": "DATA_MESSAGE", "logGroup": "/aws/lambda/f", "logEvents": _events(3)}
    body = gzip.compress(json.dumps(control).encode()) + gzip.compress(json.dumps(data).encode())
    path = tmp_path / "firehose-1-2023-11-14"
    path.write_bytes(body)
    reader = _read(path)
    assert _durations(reader) == [10.0, 11.0, 12.0] and reader.other_lines >= 1
    plain = tmp_path / "firehose.json"
    plain.write_text(json.dumps(control) + json.dumps(data))  # documents back to back, no newline
    assert _durations(_read(plain)) == [10.0, 11.0, 12.0]


def test_subscription_event_delivered_to_a_lambda_consumer(tmp_path):
    payload = {"messageType": "DATA_MESSAGE", "logEvents": _events(2)}
    event = {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()}}
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    assert _durations(_read(path)) == [10.0, 11.0]


def test_json_format_function_logs_in_every_wrapper(tmp_path):
    record = {"time": "2023-11-14T22:13:20.000Z", "type": "platform.report",
              "record": {"requestId": "r1", "status": "error", "metrics": {
                  "durationMs": 80.5, "billedDurationMs": 500, "memorySizeMB": 256, "maxMemoryUsedMB": 70,
                  "restoreDurationMs": 410.0, "billedRestoreDurationMs": 120}}}
    start = {"time": "2023-11-14T22:13:19.900Z", "type": "platform.start", "record": {"requestId": "r1"}}
    wrapped = {"events": [{"timestamp": MS, "message": json.dumps(start)},
                          {"timestamp": MS, "message": json.dumps(record)}]}
    path = tmp_path / "json-format.json"
    path.write_text(json.dumps(wrapped))
    (r,) = _read(path).reports
    assert (r.duration_ms, r.memory_mb, r.status, r.restore_ms, r.init_ms) == (80.5, 256, "error", 410.0, None)
    assert r.billed_restore_ms == 120.0
    lines = tmp_path / "lines.jsonl"
    lines.write_text(json.dumps(start) + "\n" + json.dumps(record) + "\n")
    assert _durations(_read(lines)) == [80.5]


@pytest.mark.parametrize("prefix", ["2023-11-14T22:13:20.000Z ",                      # S3 export
                                    "2023-11-14T22:13:20.000000+00:00 2023/11/14/[$LATEST]abc ",  # aws logs tail
                                    "2023/11/14/[$LATEST]abc 2023-11-14T22:13:20.000000 ",  # sam logs
                                    f"{MS} "])
def test_text_lines_take_a_timestamp_from_any_prefix_position(tmp_path, prefix):
    path = tmp_path / "t.log"
    path.write_text(prefix + _report(0, 3.0) + "\n")
    assert _times(_read(path)) == [T0]


def test_billed_duration_is_never_taken_for_duration(tmp_path):
    # a JSON Lines file cut mid-line cannot be read as JSON: the escaped tabs stay in the text
    bad = json.dumps({"timestamp": MS, "message": _report(0, 102.25, init=268.48)})[:-2]
    path = tmp_path / "cut.jsonl"
    path.write_text(bad + "\n" + json.dumps({"timestamp": MS, "message": _report(1, 50.0)}) + "\n")
    reader = _read(path)
    assert _durations(reader) == [102.25, 50.0]
    assert reader.reports[0].init_ms == 268.48 and reader.reports[0].memory_mb == 512
    glued = tmp_path / "glued.log"  # "Billed Duration" glued to a word: still not a Duration
    glued.write_text("REPORT RequestId: y xBilled Duration: 371 ms\n")
    reader = LogReader()
    assert reader.read_file(glued) == 0 and len(reader.unparsed) == 1


def test_error_statuses_suggest_an_error_rate(tmp_path):
    lines = [_report(i, 20.0 + i % 7, status="error" if i % 10 == 0 else None) for i in range(40)]
    lines.append(_report(99, 3000.0, status="timeout"))
    path = tmp_path / "errors.log"
    path.write_text("\n".join(lines) + "\n")
    analysis = analyse(_read(path), ["x"])
    assert analysis.body["error_rate"] == pytest.approx(4 / 41, rel=1e-3)
    assert any("errors: 4 of 41 invocations" in line for line in analysis.lines)
    assert analysis.body["timeout"] == "3s"


def test_deeply_nested_json_is_a_clear_error_not_a_crash(tmp_path, capsys):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    assert cli_main(["fit", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "deep.json" in err


def test_console_copied_rows_with_the_time_on_its_own_line(tmp_path):
    path = tmp_path / "copied.txt"
    path.write_text("2023-11-14T23:13:20.000+01:00\nSTART RequestId: a Version: $LATEST\n"
                    "2023-11-14T23:13:21.000+01:00\n" + _report(0, 8.0) + "\n")
    assert _times(_read(path)) == [T0 + dt.timedelta(seconds=1)]


def test_pretty_printed_json_records_among_text_lines(tmp_path):
    record = {"time": "2023-11-14T22:13:20.000Z", "type": "platform.report",
              "record": {"requestId": "r", "metrics": {"durationMs": 4.5, "memorySizeMB": 128}, "status": "success"}}
    path = tmp_path / "mixed.log"
    path.write_text("START RequestId: r\n" + json.dumps(record, indent=4) + "\n" + _report(1, 6.0) + "\n")
    reader = _read(path)
    assert _durations(reader) == [4.5, 6.0] and reader.unparsed == []


def test_byte_order_mark_csv_and_trailing_and_offset_timestamps(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(("\ufefftimestamp,message\n" + f'{MS},"{_report(0, 2.0)}"\n').encode("utf-8"))
    assert _times(_read(path)) == [T0]
    path = tmp_path / "query.txt"  # --query 'events[*].[message,timestamp]' --output text
    path.write_text(_report(0, 2.0) + f"\t{MS}\n")
    assert _times(_read(path)) == [T0]
    path = tmp_path / "insights.md"
    path.write_text("| @timestamp | @message |\n|---|---|\n| 2023-11-14 23:13:20.000 +0100 | "
                    + _report(0, 2.0, sep=" ") + " |\n")
    assert _times(_read(path)) == [T0]


def test_json_format_reports_in_table_rows(tmp_path):
    record = {"time": "2023-11-14T22:13:20.000Z", "type": "platform.report",
              "record": {"requestId": "r", "metrics": {"durationMs": 9.25, "memorySizeMB": 256}}}
    path = tmp_path / "insights.md"
    path.write_text(f"| @timestamp | @message |\n|---|---|\n| 2023-11-14 22:13:20.000 | {json.dumps(record)} |\n")
    (r,) = _read(path).reports
    assert (r.duration_ms, r.memory_mb, r.time) == (9.25, 256, T0)
    path = tmp_path / "table.txt"
    path.write_text(f"| {MS} | {json.dumps(record)} |\n")
    assert _durations(_read(path)) == [9.25]


def test_cli_yaml_output_and_insights_text_results(tmp_path):
    import yaml

    path = tmp_path / "events.yaml"  # filter-log-events --output yaml: messages with escaped tabs
    path.write_text(yaml.safe_dump({"events": _events(2), "searchedLogStreams": []}, default_style=None))
    reader = _read(path)
    assert _durations(reader) == [10.0, 11.0] and _times(reader) == [T0, T0 + dt.timedelta(seconds=1)]
    assert reader.reports[0].memory_mb == 512
    rows = []
    for i in range(2):  # get-query-results --output text: one field a line, rows one after another
        rows += [f"RESULTS\t@timestamp\t2023-11-14 22:13:2{i}.000", f"RESULTS\t@message\t{_report(i, 40.0 + i)}",
                 "RESULTS\t@ptr\tCmAKJwoj"]
    path = tmp_path / "results.txt"
    path.write_text("\n".join(rows) + "\nSTATISTICS\t1.0\t2.0\t3.0\nSTATUS\tComplete\n")
    reader = _read(path)
    assert _durations(reader) == [40.0, 41.0] and _times(reader) == [T0, T0 + dt.timedelta(seconds=1)]
