#!/usr/bin/env python3
"""Generates tests/fixtures/imaplib_helpers.json: the expected results of
CPython's imaplib helpers (Internaldate2tuple, Int2AP, ParseFlags,
Time2Internaldate) over a table of inputs, for tests/imaplib/helpers_test.cpp.

Run from the repository root:  python3 tests/imaplib/gen_helpers_table.py
Each zone is applied with os.environ['TZ'] + time.tzset(), exactly as the C++
test does with setenv + tzset. Bytes are stored as latin-1 text. An exception is
stored as {"raises": "<kind>"} with kind "ValueError" (ValueError/OverflowError)
or "LookupError" (KeyError/IndexError), the two families the C++ helpers map to
std::invalid_argument and std::out_of_range.
"""
import imaplib
import json
import os
import sys
import time

# POSIX rule strings never change; named zones add history (LMT offsets with
# seconds, 30-minute DST).
ZONES = [
    "UTC0",
    "EST5EDT,M3.2.0,M11.1.0",
    "CET-1CEST,M3.5.0,M10.5.0/3",
    "AEST-10AEDT,M10.1.0,M4.1.0/3",
    "<+1130>-11:30",
    "<-1130>11:30",
    "Europe/Amsterdam",
    "America/St_Johns",
    "Australia/Lord_Howe",
]

EPOCHS = [
    0, 1, -1, 86399, 951782400, 2000000000, -2000000000, 4102444800,
    1678604399, 1678604400, 1699163999, 1699164000,   # US DST 2023 edges
    1679792399, 1679792400, 1698541199, 1698541200,   # EU DST 2023 edges
    253402300799, -62135596800,                       # 9999-12-31, 0001-01-01 UTC
]
FLOATS = [1.5, -0.5, 1.9999996, 1000000000.25]
TUPLES = [
    (2033, 5, 18, 5, 33, 20, 0, 0, 0),
    (2033, 5, 18, 5, 33, 20, 0, 0, 1),
    (2033, 5, 18, 5, 33, 20, 0, 0, -1),
    (2023, 3, 12, 2, 30, 0, 0, 0, -1),     # nonexistent in EST5EDT
    (2023, 11, 5, 1, 30, 0, 0, 0, -1),     # ambiguous in EST5EDT
    (2023, 1, 15, 12, 0, 0, 0, 0, -1),
    (2023, 7, 15, 12, 0, 0, 0, 0, -1),
    (2000, 2, 29, 23, 59, 59, 0, 0, 0),
    (1970, 1, 1, 0, 0, 0, 0, 0, 0),
    (1, 1, 1, 0, 0, 0, 0, 0, 0),
    (9999, 12, 31, 23, 59, 59, 0, 0, 0),
    (2020, 13, 1, 0, 0, 0, 0, 0, 0),       # bad month
    (2020, 2, 30, 0, 0, 0, 0, 0, 0),       # bad day
    (2020, 1, 1, 0, 0, 60, 0, 0, 0),       # leap second is not a datetime
    (2020, 1, 1, 0, 0, 0, 0, 0, 2),        # dst index out of range
    (2020, 1, 1, 0, 0, 0, 0, 0, -2),       # negative index picks timezone
]
STRUCT_EPOCHS = [0, 951782400, 1678604400, 1699164000, 2000000000, -2000000000]
STRINGS = ['"01-Jan-2000 00:00:00 +0000"', '"', '""', '', 'abc', '"abc', 'abc"',
           '"18-May-2033 05:33:20 +0200"']

INTERNALDATES = [
    b'25 (INTERNALDATE "01-Jan-2000 00:00:00 +0000")',
    b'25 (INTERNALDATE "01-Jan-2000 00:00:00 +1130")',
    b'25 (INTERNALDATE "01-Jan-2000 00:00:00 -1130")',
    b'25 (INTERNALDATE "02-Jan-2000 00:00:00 -1130")',
    b'INTERNALDATE "12-Mar-2023 06:59:59 +0000"',
    b'INTERNALDATE "12-Mar-2023 07:00:00 +0000"',
    b'INTERNALDATE "05-Nov-2023 05:59:59 +0000"',
    b'INTERNALDATE "26-Mar-2023 02:30:00 +0100"',
    b'INTERNALDATE " 1-Feb-1994 21:52:25 -0800"',
    b'INTERNALDATE "00-Mar-2000 00:00:00 +0000"',
    b'INTERNALDATE "39-Dec-1999 99:99:99 +9999"',
    b'INTERNALDATE "29-Feb-2000 12:00:00 +2359"',
    b'INTERNALDATE "31-Dec-9999 23:59:59 -2359"',
    b'INTERNALDATE "01-Jan-1970 00:00:00 +0000"',
    b'INTERNALDATE "01-Jan-1900 00:00:00 +0000"',
    b'INTERNALDATE "01-Jan-0001 12:00:00 +0000"',
    b'INTERNALDATE "01-Foo-2000 00:00:00 +0000"',   # KeyError in CPython
    b'INTERNALDATE "01-jan-2000 00:00:00 +0000"',
    b'INTERNALDATE "01-Jan-0000 00:00:00 +0000"',   # year 0: ValueError
    b'INTERNALDATE "1-Jan-2000 00:00:00 +0000"',
    b'INTERNALDATE "01-Jan-2000 00:00:00 0000"',
    b'INTERNALDATE "01-Jan-2000 00:00:00 +0000',
    b'INTERNALDATE 01-Jan-2000 00:00:00 +0000',
    b'INTERNALDATE "01-Jan-2000 00:00:00 +0000" INTERNALDATE "02-Jan-2000 00:00:00 +0000"',
    b'INTERNALDATE "01-Jan-2000 00:00:00 +0000" INTERNALDATE "02-Foo-2000 00:00:00 +0000"',
    b'x\nINTERNALDATE "01-Jan-2000 00:00:00 +0000"',
    b'INTERNALDATE "01-Jan-2000 00:00:00 +0000"\nINTERNALDATE "02-Jan-2000 00:00:00 +0000"',
    b'',
    b'1 (FLAGS (\\Seen) INTERNALDATE "17-Jul-1996 02:44:25 -0700" RFC822.SIZE 4286)',
]
FLAGS = [
    b'1 (FLAGS (\\Seen \\Deleted))',
    b'FLAGS ()',
    b'FLAGS (\\Answered)',
    b'no flags here',
    b'',
    b'FLAGS (a)\nFLAGS (b)',
    b'x\nFLAGS (a)',
    b'FLAGS (a b',
    b'FLAGS (a) FLAGS (b c)',
    b'FLAGS (a) FLAGS (b c',
    b'FLAGS (a\tb\nc\x0bd\x0ce\rf)',
    b'FLAGS  (a)',
    b'flags (a)',
    b'[PERMANENTFLAGS (\\Seen \\*)] Flags permitted.',
    b'1 (UID 4 FLAGS ($Forwarded [test] \\Flagged) RFC822.SIZE 12)',
]
INTS = [0, 1, 15, 16, 17, 255, 4096, 65535, -17, 2 ** 40, 2 ** 62 + 12345]


def attempt(fn):
    try:
        return {"value": fn()}
    except (ValueError, OverflowError):
        return {"raises": "ValueError"}
    except (KeyError, IndexError):
        return {"raises": "LookupError"}


def struct(t):
    if t is None:
        return None
    return [t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
            t.tm_wday, t.tm_yday, t.tm_isdst, t.tm_gmtoff]


def text(b):
    return b.decode("latin-1")


def main():
    out = {"int2ap": [], "parseflags": [], "zones": []}
    for n in INTS:
        out["int2ap"].append({"in": n, "out": text(imaplib.Int2AP(n))})
    for f in FLAGS:
        out["parseflags"].append({"in": text(f), "out": [text(x) for x in imaplib.ParseFlags(f)]})
    for zone in ZONES:
        os.environ["TZ"] = zone
        time.tzset()
        z = {"tz": zone, "epoch": [], "float": [], "tuple": [], "struct": [], "string": [],
             "internaldate": []}
        for e in EPOCHS:
            z["epoch"].append({"in": e, **attempt(lambda: imaplib.Time2Internaldate(e))})
        for f in FLOATS:
            z["float"].append({"in": f, **attempt(lambda: imaplib.Time2Internaldate(f))})
        for t in TUPLES:
            z["tuple"].append({"in": list(t), **attempt(lambda: imaplib.Time2Internaldate(t))})
        for e in STRUCT_EPOCHS:
            z["struct"].append({"in": e, **attempt(
                lambda: imaplib.Time2Internaldate(time.localtime(e)))})
        for s in STRINGS:
            z["string"].append({"in": s, **attempt(lambda: imaplib.Time2Internaldate(s))})
        for d in INTERNALDATES:
            z["internaldate"].append({"in": text(d), **attempt(
                lambda: struct(imaplib.Internaldate2tuple(d)))})
        out["zones"].append(z)
    json.dump(out, sys.stdout, indent=1, ensure_ascii=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
