#!/usr/bin/python3
"""A real SMTP server for tests (aiosmtpd): stores every message it accepts as JSON.

  smtp_sink.py --dir DIR [--port PORT] [--reject REGEX] [--fast]

Prints "smtp-sink ready port=N" when it accepts connections. Each accepted message becomes
DIR/<n>.json with the envelope (mail_from, rcpt_tos), the raw message, its decoded parts
(subject, message_id, text, html; for a meeting invitation also calendar, the decoded
text/calendar part, and calendar_content_type, its Content-Type header) and received_at (Unix
time in seconds, microseconds as the fraction: when the message's DATA was complete), written
atomically; n counts up from 1 in the order messages arrive. Recipients matching --reject get a permanent 550. --fast decodes the
message with the email package's compat32 parser instead of the modern one (same fields, half
the CPU per message: for load tests). Stops on SIGTERM / SIGINT.
"""
import argparse
import email
import email.header
import email.policy
import json
import os
import re
import signal
import socket
import sys
import threading
import time

from aiosmtpd.controller import Controller


def decoded_parts_fast(content):
    """subject, to, message_id, text, html as the modern parser gives them, with compat32."""
    message = email.message_from_bytes(content)

    def header(name):
        value = message[name]
        return str(email.header.make_header(email.header.decode_header(value))) if value is not None else "None"

    bodies = {}
    for part in message.walk():
        kind = part.get_content_type()
        if kind in ("text/plain", "text/html", "text/calendar") and kind not in bodies and not part.is_multipart():
            if kind == "text/calendar":
                bodies["calendar_content_type"] = str(part["Content-Type"])
            payload = part.get_payload(decode=True) or b""
            bodies[kind] = payload.decode(part.get_content_charset() or "utf-8", "replace")
    return header("From"), header("To"), header("Subject"), header("Message-ID"), bodies


class Store:
    def __init__(self, directory, reject, fast=False):
        self.fast = fast
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
        received_at = time.time()
        if self.fast:
            sender, to, subject, message_id, bodies = decoded_parts_fast(envelope.content)
            record = {
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "from": sender,
                "to": to,
                "subject": subject,
                "message_id": message_id,
                "text": bodies.get("text/plain", ""),
                "html": bodies.get("text/html", ""),
                "raw": envelope.content.decode("utf-8", "replace"),
                "received_at": received_at,
            }
            if "text/calendar" in bodies:
                record["calendar"] = bodies["text/calendar"]
                record["calendar_content_type"] = bodies["calendar_content_type"]
            return self.store(record)
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
            "received_at": received_at,
        }
        for part in message.walk():
            if part.get_content_type() == "text/calendar" and not part.is_multipart():
                record["calendar"] = part.get_content()
                record["calendar_content_type"] = str(part["Content-Type"])
                break
        return self.store(record)

    def store(self, record):
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


# The signals that stop the sink, and how long the server may take to stop before the sink exits
# anyway.
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
STOP_TIMEOUT = 5.0


def stop_within(controller, timeout):
    """controller.stop(), bounded: the process exits anyway when it does not return in time."""
    stopper = threading.Thread(target=controller.stop, daemon=True)
    stopper.start()
    stopper.join(timeout)
    if stopper.is_alive():
        message = "smtp-sink: the server did not stop within %g s; exiting anyway" % timeout
        print(message, file=sys.stderr, flush=True)
        os._exit(1)


def main():
    # The stop signals are blocked before the server's thread starts (it inherits the mask) and
    # taken with sigwait: one that arrives at any moment stays pending until the main thread takes
    # it. A Python-level handler runs only in the main thread, and only once that thread runs
    # bytecode again: a SIGTERM the kernel delivered to the server's thread while the main thread
    # slept in threading.Event.wait() (a lock wait no signal to another thread interrupts) was
    # never acted on, and the sink never exited.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--reject", default="")
    parser.add_argument("--fast", action="store_true")
    args = parser.parse_args()
    port = args.port or free_port()
    controller = Controller(
        Store(args.dir, args.reject, args.fast), hostname="127.0.0.1", port=port, ready_timeout=15.0
    )
    controller.start()
    print("smtp-sink ready port=%d" % port, flush=True)
    signal.sigwait(STOP_SIGNALS)
    stop_within(controller, STOP_TIMEOUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
