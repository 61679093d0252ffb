#!/usr/bin/env python3
"""oauth_server.py DIR PORT: a small OAuth2 provider for imapkeep's tests.

HTTPS on 127.0.0.1:PORT with DIR/server.pem (scripts/test-env/ca.sh, name
"localhost"). Serves what imapkeep and Dovecot's oauth2 passdb use:

  POST /token       RFC 6749 §6 refresh_token grant; RFC 8628 §3.4 device_code grant
  POST /device      RFC 8628 §3.1 device authorization
  POST /introspect  RFC 7662 token introspection (Dovecot: introspection_mode = post)

and, for the tests only, a control plane (form-encoded POSTs, JSON answers):

  /control/mint     client_id, username, lifetime (s, real validity of each access
                    token), reported (the expires_in announced; default lifetime),
                    uses (successful introspections per access token; 0 = any)
                    -> {"refresh_token": ...}
  /control/revoke   refresh_token: refused from now on, with its access tokens
  /control/device   client_id, username, approve_after (polls answered
                    authorization_pending first), slow_down (1: the first poll
                    says slow_down), deny (1: access_denied)
  /control/stats    refresh_token -> {"refreshes", "accepted", "refused"}

Tokens are random after a marker (refresh tokens "ikrt9Q", access tokens
"ikat9Q") that scripts/test.sh looks for in all test output: any occurrence is
a leak. All state is in memory. Writes DIR/oauth/server.pid.
"""
import json
import os
import secrets
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

lock = threading.Lock()
grants = {}   # refresh token -> dict(client_id, username, lifetime, reported, uses, revoked, stats)
access = {}   # access token -> dict(refresh, expires, uses_left)
devices = {}  # client_id -> device settings
codes = {}    # device_code -> dict(client_id, polls)


def issue_access(refresh):
    g = grants[refresh]
    token = "ikat9Q" + secrets.token_urlsafe(24)
    access[token] = {"refresh": refresh, "expires": time.time() + g["lifetime"],
                     "uses_left": g["uses"] or None}
    g["stats"]["refreshes"] += 1
    return {"access_token": token, "token_type": "Bearer", "expires_in": g["reported"]}


def new_grant(client_id, username, lifetime=3600, reported=None, uses=0):
    refresh = "ikrt9Q" + secrets.token_urlsafe(24)
    grants[refresh] = {"client_id": client_id, "username": username, "lifetime": float(lifetime),
                       "reported": int(reported if reported is not None else lifetime),
                       "uses": int(uses), "revoked": False,
                       "stats": {"refreshes": 0, "accepted": 0, "refused": 0}}
    return refresh


def token_grant(form):
    grant_type = form.get("grant_type", "")
    if grant_type == "refresh_token":
        g = grants.get(form.get("refresh_token", ""))
        if not g or g["revoked"]:
            return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
        if g["client_id"] != form.get("client_id"):
            return 401, {"error": "invalid_client"}
        return 200, issue_access(form["refresh_token"])
    if grant_type == DEVICE_GRANT:
        code = codes.get(form.get("device_code", ""))
        if not code:
            return 400, {"error": "expired_token"}
        d = devices[code["client_id"]]
        code["polls"] += 1
        if d["deny"]:
            return 400, {"error": "access_denied"}
        if d["slow_down"] and code["polls"] == 1:
            return 400, {"error": "slow_down"}
        if code["polls"] <= d["approve_after"]:
            return 400, {"error": "authorization_pending"}
        del codes[form["device_code"]]
        refresh = new_grant(code["client_id"], d["username"], d["lifetime"])
        reply = issue_access(refresh)
        reply["refresh_token"] = refresh
        return 200, reply
    return 400, {"error": "unsupported_grant_type"}


def device(form):
    client_id = form.get("client_id", "")
    if client_id not in devices:
        return 401, {"error": "invalid_client"}
    code = "dc-" + secrets.token_urlsafe(16)
    codes[code] = {"client_id": client_id, "polls": 0}
    return 200, {"device_code": code, "user_code": "WDJB-MJHT",
                 "verification_uri": "https://localhost/activate", "expires_in": 60, "interval": 1}


def introspect(form):
    a = access.get(form.get("token", ""))
    g = grants.get(a["refresh"]) if a else None
    ok = a and not g["revoked"] and time.time() < a["expires"] and a["uses_left"] != 0
    if not ok:
        if g:
            g["stats"]["refused"] += 1
        return 200, {"active": False}
    if a["uses_left"]:
        a["uses_left"] -= 1
    g["stats"]["accepted"] += 1
    return 200, {"active": True, "username": g["username"], "client_id": g["client_id"]}


def control(path, form):
    if path == "/control/mint":
        refresh = new_grant(form["client_id"], form["username"], form.get("lifetime", 3600),
                            form.get("reported"), form.get("uses", 0))
        return 200, {"refresh_token": refresh}
    if path == "/control/revoke":
        g = grants.get(form.get("refresh_token", ""))
        if not g:
            return 404, {"error": "unknown refresh token"}
        g["revoked"] = True
        return 200, {}
    if path == "/control/device":
        devices[form["client_id"]] = {"username": form["username"],
                                      "approve_after": int(form.get("approve_after", 2)),
                                      "slow_down": form.get("slow_down") == "1",
                                      "deny": form.get("deny") == "1",
                                      "lifetime": float(form.get("lifetime", 3600))}
        return 200, {}
    if path == "/control/stats":
        g = grants.get(form.get("refresh_token", ""))
        return (200, g["stats"]) if g else (404, {"error": "unknown refresh token"})
    return 404, {"error": "not found"}


ROUTES = {"/token": token_grant, "/device": device, "/introspect": introspect}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body, keep_blank_values=True).items()}
        path = urllib.parse.urlsplit(self.path).path
        with lock:
            try:
                if path in ROUTES:
                    status, reply = ROUTES[path](form)
                else:
                    status, reply = control(path, form)
            except (KeyError, ValueError) as e:
                status, reply = 400, {"error": "invalid_request", "error_description": "missing or bad " + str(e)}
        data = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        # Paths and statuses only: request bodies hold tokens.
        sys.stderr.write("oauth_server: %s\n" % (fmt % args))


def main():
    directory, port = sys.argv[1], int(sys.argv[2])
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(directory, "server.pem"), os.path.join(directory, "server.key"))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    os.makedirs(os.path.join(directory, "oauth"), exist_ok=True)
    with open(os.path.join(directory, "oauth", "server.pid"), "w") as f:
        f.write("%d\n" % os.getpid())
    server.serve_forever()


if __name__ == "__main__":
    main()
