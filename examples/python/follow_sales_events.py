#!/usr/bin/python3
"""Follow Gatehouse's leads and opportunities: an integrator's consumer of gatehouse.sales.events.v1.

A plain Kafka client (confluent-kafka) and the classes protoc generates from Gatehouse's published
.proto files; nothing else of Gatehouse. It routes and deduplicates on the CloudEvents headers
every record carries (ce_type, ce_id; docs/events.md), decodes the record value, a
gatehouse.kernel.v1.EventEnvelope, and the lead or opportunity event inside it, and prints one
line per change:

    LeadCreated       LEAD-PR-000001  v1  2026-11-30T21:00:00.123456Z  by sales-bridge  {"leadId": ...}

Generate the classes once (Debian: protobuf-compiler python3-protobuf python3-confluent-kafka):
    mkdir -p gen && protoc -I proto --python_out=gen \\
        gatehouse/kernel/v1/envelope.proto gatehouse/common/v1/common.proto gatehouse/sales/v1/events.proto
Run:
    follow_sales_events.py --generated gen -b 127.0.0.1:9092 [--from beginning|end|<RFC 3339 time>]
                           [--config client.properties] [-X key=value ...] [--exit]

It reads without a consumer group (it assigns every partition itself and commits nothing), so
it can start anywhere; a real integration would use a group and keep the ids it has seen (or
its position) with its own data. Duplicates — a redelivery, or a topic an operator rebuilt —
are skipped by event id and counted.
"""
import argparse
import datetime
import json
import sys

LEAD_AND_OPPORTUNITY_TYPES = {
    "gatehouse.sales.v1." + name
    for name in ("LeadCreated", "LeadAssigned", "LeadQualified", "LeadDisqualified", "OpportunityCreated",
                 "OpportunityWon", "OpportunityLost")
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-b", "--bootstrap", required=True, help="host:port of a broker")
    parser.add_argument("--topic", default="gatehouse.sales.events.v1")
    parser.add_argument("--from", dest="start", default="beginning",
                        help="beginning, end, or an RFC 3339 time (the first record at or after it)")
    parser.add_argument("--generated", help="directory holding the generated *_pb2 modules")
    parser.add_argument("--config", help="a Java-style client.properties file (security.protocol, sasl.*)")
    parser.add_argument("-X", dest="properties", action="append", default=[], metavar="KEY=VALUE",
                        help="a librdkafka property, e.g. sasl.username=...")
    parser.add_argument("--exit", action="store_true", help="stop once every partition's end is reached")
    return parser.parse_args()


def client_config(args):
    config = {"bootstrap.servers": args.bootstrap, "group.id": "unused-no-commits",
              "enable.auto.commit": False, "enable.partition.eof": True}
    lines = open(args.config, encoding="utf-8").read().splitlines() if args.config else []
    for line in lines + args.properties:
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            if key.strip() != "sasl.jaas.config":  # Java's form; librdkafka takes sasl.username/password
                config[key.strip()] = value.strip()
    return config


def start_offset(start, consumer, partitions):
    from confluent_kafka import OFFSET_BEGINNING, OFFSET_END
    if start == "beginning":
        return partitions, OFFSET_BEGINNING
    if start == "end":
        return partitions, OFFSET_END
    when = datetime.datetime.fromisoformat(start.replace("Z", "+00:00"))
    for partition in partitions:
        partition.offset = int(when.timestamp() * 1000)  # offsets_for_times takes milliseconds
    found = consumer.offsets_for_times(partitions, timeout=30)
    return found, None


def main():
    args = parse_args()
    if args.generated:
        sys.path.insert(0, args.generated)
    from confluent_kafka import Consumer, KafkaError, TopicPartition
    from google.protobuf import json_format
    from gatehouse.kernel.v1 import envelope_pb2
    from gatehouse.sales.v1 import events_pb2

    consumer = Consumer(client_config(args))
    metadata = consumer.list_topics(args.topic, timeout=30)
    topic = metadata.topics.get(args.topic)
    if topic is None or topic.error is not None:
        sys.exit(f"follow_sales_events: topic {args.topic}: {topic.error if topic else 'not found'}")
    partitions = [TopicPartition(args.topic, p) for p in sorted(topic.partitions)]
    partitions, offset = start_offset(args.start, consumer, partitions)
    if offset is not None:
        for partition in partitions:
            partition.offset = offset
    consumer.assign(partitions)

    seen, duplicates, at_end = set(), 0, set()
    try:
        while True:
            record = consumer.poll(1.0)
            if record is None:
                continue
            if record.error():
                if record.error().code() == KafkaError._PARTITION_EOF:
                    at_end.add(record.partition())
                    if args.exit and len(at_end) == len(partitions):
                        break
                    continue
                sys.exit(f"follow_sales_events: {record.error()}")
            at_end.discard(record.partition())
            headers = {key: value.decode() for key, value in (record.headers() or [])}
            event_type, event_id = headers.get("ce_type", ""), headers.get("ce_id", "")
            if event_type not in LEAD_AND_OPPORTUNITY_TYPES:
                continue  # accounts, contacts, appointments, notes: not followed here
            if event_id in seen:
                duplicates += 1
                continue
            seen.add(event_id)
            envelope = envelope_pb2.EventEnvelope.FromString(record.value())
            event = getattr(events_pb2, event_type.rsplit(".", 1)[1]).FromString(envelope.payload)
            change = json.dumps(json_format.MessageToDict(event), sort_keys=True, separators=(",", ":"))
            print(f"{event_type.rsplit('.', 1)[1]:<18} {envelope.aggregate_id:<15} v{envelope.aggregate_version}  "
                  f"{headers['ce_time']}  by {envelope.actor}  {change}", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()
    print(f"-- {len(seen)} lead and opportunity events, {duplicates} duplicates skipped", flush=True)


if __name__ == "__main__":
    main()
