#!/usr/bin/env python3
"""A webhook receiver for tests/e2e/t4011-webhooks.sh, on 127.0.0.1.

  hookrecv.py PORT KEYFILE LOG CTLDIR

Answers each POST as CTLDIR/mode says (read per request): "ok" 200,
"500" 500, "slow" 200 after 5 s (longer than the hooks' timeout), "lag"
200 after 0.2 s. A path ending in /dead answers 500 unless CTLDIR/dead-ok
exists; one ending in /fast answers 200 at once, whatever the mode. Appends a JSON line per request to LOG: path, the answer (or
"slow": the sender gave up before it), X-Berth-Event-Id, whether
X-Berth-Signature is the HMAC-SHA256 of the body with the key in KEYFILE
(its first line), the Content-Type, and the body; before it answers, so
that the lines are in the order the sender sent them.
"""
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, KEYFILE, LOG, CTL = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
with open(KEYFILE, "rb") as f:
    KEY = f.read().split(b"\n")[0]
LOCK = threading.Lock()


def mode():
    try:
        with open(os.path.join(CTL, "mode")) as f:
            return f.read().strip()
    except OSError:
        return "ok"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        sig = self.headers.get("X-Berth-Signature", "")
        want = "sha256=" + hmac.new(KEY, body, hashlib.sha256).hexdigest()
        m = mode()
        status = 200
        slept = False
        if self.path.endswith("/dead") and not os.path.exists(
                os.path.join(CTL, "dead-ok")):
            status = 500
        elif self.path.endswith("/fast"):
            pass
        elif m == "500":
            status = 500
        elif m == "slow":
            time.sleep(5)
            slept = True
        elif m == "lag":
            time.sleep(0.2)
        rec = {
            "path": self.path,
            "status": "slow" if slept else status,
            "id": self.headers.get("X-Berth-Event-Id", ""),
            "sig_ok": hmac.compare_digest(sig, want),
            "ct": self.headers.get("Content-Type", ""),
            "body": json.loads(body),
        }
        # logged before the answer: the sender sends the next one only
        # after it, so the log is in the order of delivery
        with LOCK:
            with open(LOG, "a") as f:
                f.write(json.dumps(rec) + "\n")
        try:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except OSError:
            pass


ThreadingHTTPServer.allow_reuse_address = True
ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
