#!/usr/bin/python3
"""A local HTTP receiver for incoming-webhook posts (tests): stores every POST body.

  webhook_sink.py --dir DIR

Prints "webhook-sink ready port=N". A POST to /<channel> is stored as DIR/<n>.json:
{"path": "/<channel>", "body": <the JSON posted>} and answered 200; a POST to a path that starts
with /gone is answered 410 (a permanent failure). Stops on SIGTERM / SIGINT.
"""
import argparse
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


# The signals that stop the sink, and how long the server may take to stop before the sink exits
# anyway.
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
STOP_TIMEOUT = 5.0


def main():
    # As in smtp_sink.py: the stop signals are blocked before any thread starts and taken with
    # sigwait in the main thread, so that one arriving at any moment, on any thread, is acted on.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    lock = threading.Lock()
    counter = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if self.path.startswith("/gone"):
                self.send_response(410)
                self.end_headers()
                return
            try:
                parsed = json.loads(body)
            except ValueError:
                self.send_response(400)
                self.end_headers()
                return
            with lock:
                counter[0] += 1
                name = os.path.join(args.dir, "%06d.json" % counter[0])
            with open(name + ".tmp", "w", encoding="utf-8") as out:
                json.dump({"path": self.path, "body": parsed}, out)
            os.rename(name + ".tmp", name)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"1")

        def log_message(self, *_):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("webhook-sink ready port=%d" % server.server_address[1], flush=True)
    signal.sigwait(STOP_SIGNALS)
    stopper = threading.Thread(target=server.shutdown, daemon=True)
    stopper.start()
    stopper.join(STOP_TIMEOUT)
    if stopper.is_alive():
        message = "webhook-sink: the server did not stop within %g s; exiting anyway" % STOP_TIMEOUT
        print(message, file=sys.stderr, flush=True)
        os._exit(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
