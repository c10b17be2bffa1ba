#!/usr/bin/python3
"""otel_check.py FILE [--after ': ']: every line of FILE must be one
OTLP/JSON LogRecord (opentelemetry-proto logs.proto, OTLP/JSON encoding:
lowerCamelCase names, 64-bit integers as decimal strings, enums as integers,
trace and span ids as hex), plus the one member ctxshim adds, "resource"
(the Resource message: service.name among its attributes).  With --after SEP
the record is what follows the first SEP of the line (a syslog packet).

Prints one summary line per record, for the test to compare:
  severityNumber severityText traceId spanId flags service key=value,... body
and exits 1 at the first line that is not such a record."""
import json
import re
import sys
import time

RECORD = {"timeUnixNano", "observedTimeUnixNano", "severityNumber", "severityText",
          "body", "attributes", "droppedAttributesCount", "flags", "traceId",
          "spanId", "eventName"}


def fail(n, why, line):
    print(f"line {n}: {why}: {line[:300]!r}")
    sys.exit(1)


def key_values(n, arr, line):
    """An OTLP KeyValue list with string values, as a dict."""
    if not isinstance(arr, list):
        fail(n, "attributes is not an array", line)
    out = {}
    for kv in arr:
        if not isinstance(kv, dict) or set(kv) != {"key", "value"} or \
                not isinstance(kv["key"], str) or not isinstance(kv["value"], dict) or \
                set(kv["value"]) != {"stringValue"} or \
                not isinstance(kv["value"]["stringValue"], str):
            fail(n, "not a KeyValue with a stringValue", line)
        if kv["key"] in out:
            fail(n, "key repeated", line)
        out[kv["key"]] = kv["value"]["stringValue"]
    return out


def check(n, raw):
    try:
        text = raw.decode("utf-8")   # strict: the line must be valid UTF-8
    except UnicodeDecodeError as e:
        fail(n, f"not UTF-8 ({e})", repr(raw))
    line = text.rstrip("\n")
    if "--after" in sys.argv:
        line = line.split(sys.argv[sys.argv.index("--after") + 1], 1)[1]
    try:
        o = json.loads(line)
    except ValueError as e:
        fail(n, f"not JSON ({e})", line)
    if not isinstance(o, dict) or not set(o) <= RECORD | {"resource"}:
        fail(n, f"not a LogRecord (members {sorted(o)})", line)
    t = o.get("timeUnixNano")
    if not isinstance(t, str) or not re.fullmatch(r"[0-9]{1,20}", t):
        fail(n, "timeUnixNano is not a decimal string", line)
    if abs(int(t) / 1e9 - time.time()) > 86400:   # units: ns since the epoch
        fail(n, "timeUnixNano is not nanoseconds of today", line)
    sn = o.get("severityNumber")
    if type(sn) is not int or not 1 <= sn <= 24:
        fail(n, "severityNumber is not an integer 1-24", line)
    if not isinstance(o.get("severityText"), str):
        fail(n, "severityText is not a string", line)
    body = o.get("body")
    if not isinstance(body, dict) or set(body) != {"stringValue"} or \
            not isinstance(body["stringValue"], str):
        fail(n, "body is not an AnyValue with a stringValue", line)
    if "traceId" in o and not re.fullmatch(r"[0-9a-f]{32}", o["traceId"]):
        fail(n, "traceId is not 32 hex digits", line)
    if "spanId" in o and not re.fullmatch(r"[0-9a-f]{16}", o["spanId"]):
        fail(n, "spanId is not 16 hex digits", line)
    if "flags" in o and (type(o["flags"]) is not int or not 0 <= o["flags"] <= 0xffffffff):
        fail(n, "flags is not a 32-bit integer", line)
    attrs = key_values(n, o.get("attributes", []), line)
    res = o.get("resource")
    if not isinstance(res, dict) or not set(res) <= {"attributes", "droppedAttributesCount"}:
        fail(n, "resource is not a Resource", line)
    svc = key_values(n, res.get("attributes", []), line).get("service.name")
    if svc is None:
        fail(n, "resource has no service.name", line)
    print(sn, o["severityText"], o.get("traceId", "-"), o.get("spanId", "-"),
          o.get("flags", "-"), svc,
          ",".join(f"{k}={v!a}" for k, v in attrs.items()) or "-", ascii(body["stringValue"]))


with open(sys.argv[1], "rb") as f:
    for i, raw in enumerate(f, 1):
        check(i, raw)
