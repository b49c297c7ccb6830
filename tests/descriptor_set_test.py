#!/usr/bin/python3
"""gatehouse.binpb decodes Gatehouse's records without Gatehouse's sources or generated code.

Loads the FileDescriptorSet the build writes (proto/gatehouse.binpb) into a fresh descriptor pool,
as an integrator in any language would, and decodes every golden fixture (tests/golden: the bytes
of an envelope and of each onboarding event) into messages built from it alone; each must equal
its canonical-JSON fixture. Also checks that every event of every topic is in the set, with its
documentation comments (source info).

    descriptor_set_test.py <gatehouse.binpb> <tests/golden dir>
"""
import json
import pathlib
import sys

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory


def main():
    binpb, golden = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    files = descriptor_pb2.FileDescriptorSet.FromString(binpb.read_bytes())
    pool = descriptor_pool.DescriptorPool()
    for file in files.file:
        pool.Add(file)
    factory = message_factory.MessageFactory(pool)

    def message_class(name):
        return factory.GetPrototype(pool.FindMessageTypeByName(name))

    failures, checked = [], 0
    for fixture in sorted(golden.rglob("*.bin")):
        name = fixture.stem if fixture.stem.startswith("gatehouse.") else "gatehouse.kernel.v1." + fixture.stem
        decoded = message_class(name).FromString(fixture.read_bytes())
        expected = json.loads(fixture.with_suffix(".json").read_text())
        if json_format.MessageToDict(decoded) != expected:
            failures.append(f"{fixture}: decodes to {json_format.MessageToDict(decoded)}, expected {expected}")
        checked += 1
        if name == "gatehouse.kernel.v1.EventEnvelope":  # and the event inside it, by its event_type
            inner = message_class(decoded.event_type).FromString(decoded.payload)
            if inner.DESCRIPTOR.full_name != decoded.event_type:
                failures.append(f"{fixture}: payload is not a {decoded.event_type}")

    names = {file.name for file in files.file}
    for topic in ("onboarding", "customers", "sales", "notifier"):
        if f"gatehouse/{topic}/v1/events.proto" not in names:
            failures.append(f"gatehouse/{topic}/v1/events.proto is not in {binpb}")
    if not any(loc.leading_comments for file in files.file for loc in file.source_code_info.location):
        failures.append(f"{binpb} has no comments (built without --include_source_info)")
    if checked < 2:
        failures.append(f"only {checked} fixtures found under {golden}")

    for failure in failures:
        print("FAILED:", failure)
    print(f"descriptor_set_test: {checked} fixtures decoded from {binpb.name} alone, {len(failures)} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
