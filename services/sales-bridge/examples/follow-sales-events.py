#!/usr/bin/env python3
"""An integrator's consumer of gatehouse.sales.events.v1 with nothing but kcat and protoc.

Reads the topic with kcat (each record framed by its length), takes event_type and payload out of
the gatehouse.kernel.v1.EventEnvelope (a few lines of protobuf wire format, no library), and has
protoc decode the payload with the published .proto files. Prints one block per event:

    gatehouse.sales.v1.LeadCreated  key=LEAD-PR-000001  actor=sales-bridge  partition 1 offset 0
      lead_id: "LEAD-PR-000001"
      ...

Usage (from the repository root, or pass --proto-dir):
    services/sales-bridge/examples/follow-sales-events.py -b 127.0.0.1:9092 [--from-beginning] [--exit]
                                                          [--topic gatehouse.sales.events.v1] [--only LeadCreated,...]
Needs: kcat, protoc (Debian: kcat protobuf-compiler).
"""
import argparse
import os
import struct
import subprocess
import sys

ENVELOPE_FIELDS = {1: "event_id", 2: "event_type", 4: "aggregate_id", 10: "actor", 11: "payload"}


def varint(data, pos):
    value, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def parse_envelope(data):
    """The envelope's string/bytes fields we need, by the field numbers of envelope.proto."""
    fields, pos = {}, 0
    while pos < len(data):
        tag, pos = varint(data, pos)
        number, wire_type = tag >> 3, tag & 7
        if wire_type == 0:
            _, pos = varint(data, pos)
        elif wire_type == 2:
            length, pos = varint(data, pos)
            if number in ENVELOPE_FIELDS:
                fields[ENVELOPE_FIELDS[number]] = data[pos:pos + length]
            pos += length
        elif wire_type == 1:
            pos += 8
        elif wire_type == 5:
            pos += 4
        else:
            raise ValueError("not an EventEnvelope")
    return fields


def decode(proto_dir, event_type, payload):
    result = subprocess.run(
        ["protoc", "-I", proto_dir, "--decode=" + event_type, "gatehouse/sales/v1/events.proto"],
        input=payload, capture_output=True, check=False)
    if result.returncode != 0:  # a type newer than our .proto files: show what we can
        result = subprocess.run(["protoc", "--decode_raw"], input=payload, capture_output=True, check=False)
    return result.stdout.decode("utf-8", "replace")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-b", "--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--topic", default="gatehouse.sales.events.v1")
    parser.add_argument("--from-beginning", action="store_true", help="default: only new events")
    parser.add_argument("--exit", action="store_true", help="stop at the end of the topic")
    parser.add_argument("--only", default="", help="comma-separated short names, e.g. OpportunityWon,LeadDisqualified")
    parser.add_argument("-X", dest="properties", action="append", default=[], metavar="NAME=VALUE",
                        help="a librdkafka property for kcat, e.g. for SASL (repeatable)")
    parser.add_argument("--proto-dir", default=os.path.normpath(os.path.join(here, "../../../proto")))
    args = parser.parse_args()
    wanted = {name.strip() for name in args.only.split(",") if name.strip()}

    # %R: the value's length as 4 bytes big-endian, then the value; %k / %p / %o as text on a line.
    command = ["kcat", "-q", "-b", args.bootstrap, "-C", "-t", args.topic, "-o",
               "beginning" if args.from_beginning else "end", "-f", "%p %o %k\n%R%s"]
    if args.exit:
        command.append("-e")
    for prop in args.properties:
        command += ["-X", prop]
    with subprocess.Popen(command, stdout=subprocess.PIPE) as kcat:
        stream = kcat.stdout
        while True:
            line = stream.readline()
            if not line:
                break
            partition, offset, key = line.decode().rstrip("\n").split(" ", 2)
            (length,) = struct.unpack(">i", stream.read(4))
            value = stream.read(length) if length > 0 else b""
            envelope = parse_envelope(value)
            event_type = envelope.get("event_type", b"").decode()
            if wanted and event_type.rsplit(".", 1)[-1] not in wanted:
                continue
            print(f"{event_type}  key={key}  actor={envelope.get('actor', b'').decode()}  "
                  f"partition {partition} offset {offset}")
            for text in decode(args.proto_dir, event_type, envelope.get("payload", b"")).splitlines():
                print("  " + text)
            sys.stdout.flush()
    return kcat.returncode


if __name__ == "__main__":
    sys.exit(main())
