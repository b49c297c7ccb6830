#!/usr/bin/python3
"""A real SMTP server for tests (aiosmtpd): stores every message it accepts as JSON.

  smtp_sink.py --dir DIR [--port PORT] [--reject REGEX]

Prints "smtp-sink ready port=N" when it accepts connections. Each accepted message becomes
DIR/<n>.json with the envelope (mail_from, rcpt_tos), the raw message and its decoded parts
(subject, message_id, text, html), written atomically. Recipients matching --reject get a
permanent 550. Stops on SIGTERM / SIGINT.
"""
import argparse
import email
import email.policy
import json
import os
import re
import signal
import socket
import sys
import threading

from aiosmtpd.controller import Controller


class Store:
    def __init__(self, directory, reject):
        self.directory = directory
        self.reject = re.compile(reject) if reject else None
        self.lock = threading.Lock()
        os.makedirs(directory, exist_ok=True)
        self.count = len([n for n in os.listdir(directory) if n.endswith(".json")])

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject and self.reject.search(address):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(message["From"]),
            "to": str(message["To"]),
            "subject": str(message["Subject"]),
            "message_id": str(message["Message-ID"]),
            "text": text.get_content() if text else "",
            "html": html.get_content() if html else "",
            "raw": envelope.content.decode("utf-8", "replace"),
        }
        with self.lock:
            self.count += 1
            name = os.path.join(self.directory, "%06d.json" % self.count)
        with open(name + ".tmp", "w", encoding="utf-8") as out:
            json.dump(record, out)
        os.rename(name + ".tmp", name)
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--reject", default="")
    args = parser.parse_args()
    port = args.port or free_port()
    controller = Controller(Store(args.dir, args.reject), hostname="127.0.0.1", port=port)
    controller.start()
    print("smtp-sink ready port=%d" % port, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
