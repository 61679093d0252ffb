#!/usr/bin/env python3
"""Capture real IMAP server transcripts and turn them into fuzz corpora.

  transcript.py proxy --upstream HOST:PORT --out DIR
      A logging TCP proxy: prints "PORT <n>" once listening, then forwards
      every connection, writing what each side sent to DIR/NNN.client and
      DIR/NNN.server (NNN counts connections), until killed.

  transcript.py sync OUT KNOB CAPTURE_DIR... [--secret S]...
      Writes the fuzz_sync input (fuzz/fuzz_sync.cpp) for one capture dir per
      backup run: the knob byte, then per run the server's bytes cut into
      chunks (greeting, then one complete reply per client command, in order),
      connections one after another; runs separated by GS (0x1d), chunks by
      RS (0x1e). The tag of the command a chunk answers becomes "$T".

  transcript.py responses PREFIX CAPTURE_DIR... [--secret S]...
      Writes one file per distinct reply (tags kept) for the framer and
      response targets: PREFIX_framer_NAME_N (2 knob bytes + reply) and
      PREFIX_response_NAME_N (1 depth byte + reply).

Every output is checked not to contain any --secret (the test passwords):
those are replaced by "fuzz-password" first, and the write fails if one is
still there.
"""
import argparse
import os
import re
import socket
import sys
import threading

RS, GS = b"\x1e", b"\x1d"
LITERAL = re.compile(rb"~?\{(\d+)\+?\}\r\n$")


def units(data):
    """Splits IMAP bytes into whole lines, each with its literals (RFC 3501 §4.3)."""
    out, pos = [], 0
    while pos < len(data):
        start = pos
        while True:
            eol = data.find(b"\r\n", pos)
            if eol < 0:
                pos = len(data)
                break
            pos = eol + 2
            m = LITERAL.search(data[start:pos])
            if not m:
                break
            pos += int(m.group(1))
        out.append(data[start:pos])
    return out


def client_commands(data):
    """(tag, name) of each client command, in order."""
    out = []
    for unit in units(data):
        words = unit.split(b" ", 3)
        if len(words) < 2:
            continue
        name = words[1].rstrip(b"\r\n").upper()
        if name == b"UID" and len(words) > 2:
            name += b"_" + words[2].rstrip(b"\r\n").upper()
        out.append((words[0], name))
    return out


def chunks_of(client, server):
    """The server bytes of one connection cut per command: [(name, chunk, tag)]."""
    commands = client_commands(client)
    responses = units(server)
    out = [(b"GREETING", responses[0] if responses else b"", None)]
    i, current = 0, b""
    for response in responses[1:]:
        current += response
        if i < len(commands) and response.startswith(commands[i][0] + b" "):
            out.append((commands[i][1], current, commands[i][0]))
            current, i = b"", i + 1
    if current:
        out.append((b"TRAILER", current, None))
    return out


def with_placeholder(chunk, tag):
    if tag is None:
        return chunk
    chunk = re.sub(rb"(^|\r\n)" + re.escape(tag) + rb" ", rb"\1$T ", chunk)
    return chunk.replace(b'(TAG "' + tag + b'")', b'(TAG "$T")')


def connections(capture_dir):
    names = sorted(n[:-7] for n in os.listdir(capture_dir) if n.endswith(".client"))
    for n in names:
        with open(os.path.join(capture_dir, n + ".client"), "rb") as c, \
                open(os.path.join(capture_dir, n + ".server"), "rb") as s:
            yield c.read(), s.read()


def scrub(data, secrets):
    for s in secrets:
        data = data.replace(s.encode(), b"fuzz-password")
    for s in secrets:
        if s.encode() in data:
            sys.exit("transcript.py: a secret survived scrubbing")
    return data


def write(path, data, secrets):
    data = scrub(data, secrets)
    with open(path, "wb") as f:
        f.write(data)


def cmd_sync(args):
    runs = []
    for capture_dir in args.captures:
        chunks = []
        for client, server in connections(capture_dir):
            for _, chunk, tag in chunks_of(client, server):
                if RS in chunk or GS in chunk:
                    sys.exit("transcript.py: a separator byte in the server's bytes")
                chunks.append(with_placeholder(chunk, tag))
        runs.append(RS.join(chunks))
    write(args.out, args.knob.encode() + GS.join(runs), args.secret)


def cmd_responses(args):
    seen, counts = set(), {}
    for capture_dir in args.captures:
        for client, server in connections(capture_dir):
            for name, chunk, _ in chunks_of(client, server):
                if chunk in seen or not chunk:
                    continue
                seen.add(chunk)
                key = name.decode("ascii", "replace").lower()
                counts[key] = counts.get(key, 0) + 1
                if counts[key] > args.per_command:
                    continue
                stem = f"{args.prefix}_{key}_{counts[key]}"
                write(os.path.join(args.framer_dir, stem), b"\x00\x00" + chunk, args.secret)
                write(os.path.join(args.response_dir, stem), b"\x0f" + chunk, args.secret)


def pump(src, dst, log):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            log.write(data)
            log.flush()
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def cmd_proxy(args):
    host, port = args.upstream.rsplit(":", 1)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(8)
    print("PORT", listener.getsockname()[1], flush=True)
    n = 0
    while True:
        client, _ = listener.accept()
        n += 1
        upstream = socket.create_connection((host, int(port)))
        os.makedirs(args.out, exist_ok=True)
        c_log = open(os.path.join(args.out, f"{n:03d}.client"), "wb")
        s_log = open(os.path.join(args.out, f"{n:03d}.server"), "wb")
        threading.Thread(target=pump, args=(client, upstream, c_log), daemon=True).start()
        threading.Thread(target=pump, args=(upstream, client, s_log), daemon=True).start()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    x = sub.add_parser("proxy")
    x.add_argument("--upstream", required=True)
    x.add_argument("--port", type=int, default=0)
    x.add_argument("--out", required=True)
    x = sub.add_parser("sync")
    x.add_argument("out")
    x.add_argument("knob")
    x.add_argument("captures", nargs="+")
    x.add_argument("--secret", action="append", default=[])
    x = sub.add_parser("responses")
    x.add_argument("prefix")
    x.add_argument("captures", nargs="+")
    x.add_argument("--framer-dir", required=True)
    x.add_argument("--response-dir", required=True)
    x.add_argument("--per-command", type=int, default=3)
    x.add_argument("--secret", action="append", default=[])
    args = p.parse_args()
    {"proxy": cmd_proxy, "sync": cmd_sync, "responses": cmd_responses}[args.cmd](args)


if __name__ == "__main__":
    main()
