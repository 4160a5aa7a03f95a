#!/usr/bin/env python3
"""A stand-in for the messaging platform (loopback only) for platform.sh.

Serves WeChat's token endpoints, customer-service / template sends and a webhook callback.
Message sends answer HTTP 500 until the Unix time in the file named by --down-until has
passed (the file may be rewritten while running), then 200 with errcode 0. Every accepted
message's idempotency id (client_msg_id or event_id) is appended to --accepted, one a line;
--calls counts every message call, accepted or not.
"""
import argparse
import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--down-until", required=True)
ap.add_argument("--accepted", required=True)
ap.add_argument("--calls", required=True)
args = ap.parse_args()


def down():
    try:
        with open(args.down_until) as f:
            return time.time() < float(f.read().strip() or 0)
    except (OSError, ValueError):
        return False


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.startswith("/cgi-bin/token") or self.path.startswith("/cgi-bin/gettoken"):
            return self.reply(200, {"access_token": "fault-token", "expires_in": 7200})
        self.reply(404, {"errcode": 404})

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/cgi-bin/stable_token"):
            return self.reply(200, {"access_token": "fault-token", "expires_in": 7200})
        with open(args.calls, "a") as f:
            f.write(self.path.split("?")[0] + "\n")
        if down():
            return self.reply(500, {"errcode": -1, "errmsg": "platform down (fault drill)"})
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        mid = body.get("client_msg_id") or body.get("event_id")
        if mid:
            with open(args.accepted, "a") as f:
                f.write(str(mid) + "\n")
        self.reply(200, {"errcode": 0, "errmsg": "ok"})


ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()
