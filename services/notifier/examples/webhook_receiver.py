#!/usr/bin/env python3
"""A tiny Gatehouse webhook receiver: verifies each request with the `standardwebhooks` package
(PyPI), deduplicates on the webhook-id and prints each lead and opportunity change.

    python3 -m venv venv && venv/bin/pip install standardwebhooks
    WEBHOOK_SECRET=whsec_... venv/bin/python webhook_receiver.py --port 8099

Answers 2xx only once the event is safely handled (here: printed, or stored with --dir), 401 to a
request whose signature does not verify. Gatehouse retries anything else with the same
webhook-id, so a receiver must deduplicate on it (a real one keeps the ids it has handled in its
database, in the same transaction as the change the event causes).

For the tests: --dir DIR stores every request as a JSON file, --secret-file reads the secret from
a file at each request (the test writes it once the endpoint is registered), --python re-runs this
script with another interpreter (the venv's), and "webhook-receiver ready port=N" is printed
once it listens.
"""
import argparse
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--dir", help="store every request as a JSON file here")
    parser.add_argument("--secret-file", help="read the secret from this file (default: $WEBHOOK_SECRET)")
    parser.add_argument("--python", help="run with this interpreter (one that has standardwebhooks)")
    return parser.parse_args()


def main():
    args = parse_args()
    # (A venv's python is a symbolic link to the system's: compare the environments, not the files.)
    venv = os.path.dirname(os.path.dirname(os.path.abspath(args.python))) if args.python else None
    if venv and os.path.realpath(sys.prefix) != os.path.realpath(venv):
        os.execv(args.python, [args.python, os.path.abspath(__file__)] + sys.argv[1:])
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    # The stop signals are blocked before any thread starts and taken with sigwait below.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    seen = set()
    lock = threading.Lock()

    def secret():
        if args.secret_file:
            with open(args.secret_file, encoding="utf-8") as f:
                return f.read().strip()
        return os.environ["WEBHOOK_SECRET"]

    def store(record):
        if not args.dir:
            return
        name = os.path.join(args.dir, "%020d-%d" % (time.time_ns(), threading.get_ident()))
        with open(name + ".tmp", "w", encoding="utf-8") as out:
            json.dump(record, out)
        os.rename(name + ".tmp", name + ".json")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                event = Webhook(secret()).verify(body, headers)
            except (WebhookVerificationError, OSError, KeyError) as error:
                store({"verified": False, "error": str(error), "headers": headers})
                self.send_response(401)
                self.end_headers()
                return
            webhook_id = headers["webhook-id"]
            with lock:
                duplicate = webhook_id in seen
                seen.add(webhook_id)
            store({"verified": True, "duplicate": duplicate, "webhook_id": webhook_id,
                   "signature": headers["webhook-signature"], "event": event})
            if not duplicate and not args.dir:
                change = event["eventType"].rsplit(".", 1)[-1]
                if change.startswith(("Lead", "Opportunity")):
                    print("%s %s %s" % (event["aggregateId"], change, event["occurredAt"]), flush=True)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *unused):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("webhook-receiver ready port=%d" % server.server_address[1], flush=True)
    signal.sigwait(stop_signals)
    server.shutdown()
    server.server_close()


if __name__ == "__main__":
    main()
