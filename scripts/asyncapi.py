#!/usr/bin/python3
"""Generates docs/asyncapi.yaml, the AsyncAPI 3 description of every Gatehouse topic, from proto/.

The document is generated, never edited by hand, so that it cannot drift from the contracts:
scripts/lint-proto.sh runs `scripts/asyncapi.py --check` (the committed file must equal a fresh
one) and validates it with the AsyncAPI CLI.

What it describes, per topic (libs/platform/include/gatehouse/platform/topics.h):
- the record key (the aggregate id), the headers (the gatehouse.* ones and the CloudEvents binary
  binding's ce_*; kafka_settings.h), and the value: always a gatehouse.kernel.v1.EventEnvelope;
- one message per event type, named by ce_type, with the event's own Protobuf schema under
  components.schemas (the envelope's `payload` field carries it, serialized).

AsyncAPI's Protobuf schema parser resolves no imports but google/protobuf/*, so each schema is
written self-contained: the event message plus every message and enum it uses, types from other
packages (gatehouse.common.v1) copied in under their simple names. The wire format is unchanged by
that (field numbers and types are the same); the .proto files and gatehouse.binpb stay the source.

    scripts/asyncapi.py            rewrite docs/asyncapi.yaml
    scripts/asyncapi.py --check    exit 1 (and say why) when docs/asyncapi.yaml is not up to date
Needs protoc and python3-protobuf (scripts/install-deps.sh).
"""
import argparse
import difflib
import pathlib
import re
import subprocess
import sys
import tempfile

from google.protobuf import descriptor_pb2

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "asyncapi.yaml"
TOPICS_HEADER = ROOT / "libs" / "platform" / "include" / "gatehouse" / "platform" / "topics.h"
ENVELOPE = "gatehouse.kernel.v1.EventEnvelope"
PROTOBUF_FORMAT = "application/vnd.google.protobuf;version=3"

F = descriptor_pb2.FieldDescriptorProto
SCALARS = {
    F.TYPE_DOUBLE: "double", F.TYPE_FLOAT: "float", F.TYPE_INT64: "int64", F.TYPE_UINT64: "uint64",
    F.TYPE_INT32: "int32", F.TYPE_FIXED64: "fixed64", F.TYPE_FIXED32: "fixed32", F.TYPE_BOOL: "bool",
    F.TYPE_STRING: "string", F.TYPE_BYTES: "bytes", F.TYPE_UINT32: "uint32", F.TYPE_SFIXED32: "sfixed32",
    F.TYPE_SFIXED64: "sfixed64", F.TYPE_SINT32: "sint32", F.TYPE_SINT64: "sint64",
}


def descriptor_set():
    """proto/ compiled by protoc, with imports and comments."""
    files = sorted(str(p.relative_to(ROOT / "proto")) for p in (ROOT / "proto").rglob("*.proto"))
    with tempfile.NamedTemporaryFile(suffix=".binpb") as out:
        subprocess.run(["protoc", "-I", str(ROOT / "proto"), "--include_imports", "--include_source_info",
                        "--descriptor_set_out=" + out.name, *files], check=True)
        result = descriptor_pb2.FileDescriptorSet()
        result.ParseFromString(pathlib.Path(out.name).read_bytes())
        return result


class Catalogue:
    """Every message and enum by full name, with its file and its comment."""

    def __init__(self, fds):
        self.messages, self.enums, self.comments, self.package_of, self.file_of = {}, {}, {}, {}, {}
        for file in fds.file:
            comments = {tuple(loc.path): loc.leading_comments for loc in file.source_code_info.location}
            for index, message in enumerate(file.message_type):
                self._add_message(file, f"{file.package}.{message.name}", message, (4, index), comments)
            for index, enum in enumerate(file.enum_type):
                self._add_enum(file, f"{file.package}.{enum.name}", enum, (5, index), comments)

    def _add_message(self, file, name, message, path, comments):
        self.messages[name], self.package_of[name], self.file_of[name] = message, file.package, file.name
        self._comment(name, path, comments)
        for index, field in enumerate(message.field):
            self._comment(f"{name}.{field.name}", path + (2, index), comments)
        for index, nested in enumerate(message.nested_type):
            self._add_message(file, f"{name}.{nested.name}", nested, path + (3, index), comments)
        for index, enum in enumerate(message.enum_type):
            self._add_enum(file, f"{name}.{enum.name}", enum, path + (4, index), comments)

    def _add_enum(self, file, name, enum, path, comments):
        self.enums[name], self.package_of[name], self.file_of[name] = enum, file.package, file.name
        self._comment(name, path, comments)
        for index, value in enumerate(enum.value):
            self._comment(f"{name}.{value.name}", path + (2, index), comments)

    def _comment(self, name, path, comments):
        text = comments.get(path, "").strip()
        if text:
            self.comments[name] = text


def comment_lines(text, indent):
    # AsyncAPI's Protobuf parser reads `@word` in comments as annotations: keep an address readable
    # without being one.
    return [f"{indent}// {line.strip()}".rstrip().replace("@", " at ") for line in text.splitlines()]


class SchemaWriter:
    """One event message as a self-contained proto3 file for AsyncAPI's Protobuf parser."""

    def __init__(self, catalogue, root):
        self.catalogue, self.root = catalogue, root
        self.package = catalogue.package_of[root]
        self.imports, self.order, self.seen = set(), [], set()
        self._collect(root)

    def _top_level(self, name):
        """The top-level message or enum that holds `name` (itself when not nested)."""
        while True:
            parent = name.rsplit(".", 1)[0]
            if parent not in self.catalogue.messages:
                return name
            name = parent

    def _collect(self, name):
        top = self._top_level(name)
        if top in self.seen:
            return
        self.seen.add(top)
        if top in self.catalogue.messages:
            self._collect_fields(self.catalogue.messages[top])
        self.order.append(top)

    def _collect_fields(self, message):
        for field in message.field:
            if field.type in (F.TYPE_MESSAGE, F.TYPE_ENUM):
                type_name = field.type_name.lstrip(".")
                if type_name.startswith("google.protobuf."):
                    self.imports.add(self.catalogue.file_of[type_name])
                else:
                    self._collect(type_name)
        for nested in message.nested_type:
            self._collect_fields(nested)

    def _type(self, field):
        if field.type not in (F.TYPE_MESSAGE, F.TYPE_ENUM):
            return SCALARS[field.type]
        name = field.type_name.lstrip(".")
        if name.startswith("google.protobuf."):
            return name
        top = self._top_level(name)
        return self._local(top) + name[len(top):]

    def _local(self, top):
        # Types of this package keep their name; copies from other packages get their simple name.
        package = self.catalogue.package_of[top]
        return top[len(package) + 1:]

    def _message(self, name, message, indent):
        lines = comment_lines(self.catalogue.comments.get(name, ""), indent)
        lines.append(f"{indent}message {message.name} {{")
        inner = indent + "  "
        map_entries = {f"{name}.{n.name}": n for n in message.nested_type if n.options.map_entry}
        for nested in message.nested_type:
            if not nested.options.map_entry:
                lines += self._message(f"{name}.{nested.name}", nested, inner)
        for enum in message.enum_type:
            lines += self._enum(f"{name}.{enum.name}", enum, inner)
        oneofs = {}
        for field in message.field:
            if field.HasField("oneof_index") and not field.proto3_optional:
                oneofs.setdefault(field.oneof_index, []).append(field)
        written_oneofs = set()
        for field in message.field:
            if field.HasField("oneof_index") and not field.proto3_optional:
                if field.oneof_index in written_oneofs:
                    continue
                written_oneofs.add(field.oneof_index)
                lines.append(f"{inner}oneof {message.oneof_decl[field.oneof_index].name} {{")
                for member in oneofs[field.oneof_index]:
                    lines += self._field(name, member, inner + "  ", map_entries, label=False)
                lines.append(f"{inner}}}")
            else:
                lines += self._field(name, field, inner, map_entries, label=True)
        lines.append(f"{indent}}}")
        return lines

    def _field(self, message_name, field, indent, map_entries, label):
        lines = comment_lines(self.catalogue.comments.get(f"{message_name}.{field.name}", ""), indent)
        entry = map_entries.get(field.type_name.lstrip("."))
        if entry is not None:
            key, value = entry.field[0], entry.field[1]
            text = f"map<{self._type(key)}, {self._type(value)}>"
        else:
            text = self._type(field)
            if label and field.label == F.LABEL_REPEATED:
                text = "repeated " + text
            elif label and field.proto3_optional:
                text = "optional " + text
        lines.append(f"{indent}{text} {field.name} = {field.number};")
        return lines

    def _enum(self, name, enum, indent):
        lines = comment_lines(self.catalogue.comments.get(name, ""), indent)
        lines.append(f"{indent}enum {enum.name} {{")
        for value in enum.value:
            lines += comment_lines(self.catalogue.comments.get(f"{name}.{value.name}", ""), indent + "  ")
            lines.append(f"{indent}  {value.name} = {value.number};")
        lines.append(f"{indent}}}")
        return lines

    def text(self):
        lines = ["syntax = \"proto3\";", "", f"package {self.package};", ""]
        lines += [f"import \"{path}\";" for path in sorted(self.imports)]
        if self.imports:
            lines.append("")
        for top in self.order:
            if top in self.catalogue.messages:
                lines += self._message(top, self.catalogue.messages[top], "")
            else:
                lines += self._enum(top, self.catalogue.enums[top], "")
            lines.append("")
        return "\n".join(lines).rstrip() + "\n"


def topics():
    """(name, producer) of each event topic, from libs/platform's topics.h."""
    pattern = re.compile(r'EventTopic k\w+\{"([^"]+)", "([^"]+)"\}')
    found = pattern.findall(TOPICS_HEADER.read_text())
    if not found:
        sys.exit(f"asyncapi.py: no topics found in {TOPICS_HEADER}")
    return found


def event_types(fds, package):
    """The event messages of a package's events.proto: the cases of its event unions (each
    aggregate's `message XEvent { oneof event { ... } }`), in declaration order, each once."""
    for file in fds.file:
        if file.package == package and file.name.endswith("/events.proto"):
            found = []
            for message in file.message_type:
                if len(message.oneof_decl) == 1 and message.oneof_decl[0].name == "event":
                    for field in message.field:
                        name = field.type_name.lstrip(".")
                        if name not in found:
                            found.append(name)
            if not found:
                sys.exit(f"asyncapi.py: {file.name} declares no event union")
            return found
    sys.exit(f"asyncapi.py: no events.proto in package {package}")


def first_sentence(text):
    text = " ".join(text.split())
    match = re.match(r"(.+?[.:])(\s|$)", text)
    return (match.group(1) if match else text)[:200]


HEADERS = {
    "type": "object",
    "description": "Set by the producing service's relay on every record (docs/events.md). The ce_* headers "
                   "and content-type are the CloudEvents 1.0 Kafka protocol binding, binary content mode: "
                   "the record value is the event's data.",
    "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject", "ce_dataschema",
                 "content-type", "gatehouse.event-type", "gatehouse.event-id", "gatehouse.aggregate-type",
                 "gatehouse.log-position", "gatehouse.log-id"],
    "properties": {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {"type": "string", "description": "The envelope's event_id (a UUIDv7). Deduplicate on it."},
        "ce_source": {"type": "string", "format": "uri-reference",
                      "description": "/gatehouse/ and the producing service, e.g. /gatehouse/sales-bridge."},
        "ce_type": {"type": "string",
                    "description": "The full Protobuf name of the event in the envelope's payload."},
        "ce_time": {"type": "string", "format": "date-time",
                    "description": "The envelope's occurred_at, RFC 3339 in UTC."},
        "ce_subject": {"type": "string", "description": "The aggregate id (also the record key)."},
        "ce_dataschema": {"type": "string", "format": "uri",
                          "const": "urn:gatehouse:protobuf:gatehouse.kernel.v1.EventEnvelope"},
        "content-type": {"type": "string", "const": "application/protobuf"},
        "gatehouse.event-type": {"type": "string", "description": "Same as ce_type."},
        "gatehouse.event-id": {"type": "string", "description": "Same as ce_id."},
        "gatehouse.aggregate-type": {"type": "string", "description": "The envelope's aggregate_type."},
        "gatehouse.log-position": {"type": "string", "pattern": "^[0-9]+$",
                                   "description": "Position of the event in the producing service's log."},
        "gatehouse.log-id": {"type": "string",
                             "description": "Id of that log; positions compare only within one log id."},
    },
}


def document(fds):
    catalogue = Catalogue(fds)
    channels, operations, messages, schemas = {}, {}, {}, {}
    schemas["EventEnvelope"] = {"schemaFormat": PROTOBUF_FORMAT, "schema": SchemaWriter(catalogue, ENVELOPE).text()}
    schemas["RecordHeaders"] = HEADERS
    for topic, producer in topics():
        service = topic.split(".")[1]
        package = f"gatehouse.{service}.v1"
        channel_id = service.replace("-", "_") + "Events"
        channel_messages = {}
        for event in event_types(fds, package):
            short = event.rsplit(".", 1)[1]
            message_id = f"{service}.{short}"
            schema_id = event
            schemas[schema_id] = {"schemaFormat": PROTOBUF_FORMAT, "schema": SchemaWriter(catalogue, event).text()}
            comment = catalogue.comments.get(event, "")
            messages[message_id] = {
                "name": event,
                "title": short,
                "summary": first_sentence(comment) if comment else f"{short} on {topic}.",
                "contentType": "application/protobuf",
                "headers": {"allOf": [{"$ref": "#/components/schemas/RecordHeaders"},
                                      {"type": "object", "properties": {"ce_type": {"const": event},
                                                                        "gatehouse.event-type": {"const": event}}}]},
                "payload": {"$ref": "#/components/schemas/EventEnvelope"},
                "bindings": {"kafka": {"key": {"type": "string", "description": "The aggregate id."},
                                       "bindingVersion": "0.5.0"}},
                "x-event-schema": {"$ref": f"#/components/schemas/{schema_id}"},
            }
            channel_messages[short] = {"$ref": f"#/components/messages/{message_id}"}
        channels[channel_id] = {
            "address": topic,
            "title": topic,
            "description": f"Every event of the {producer} service, keyed by aggregate id: one partition per "
                           "aggregate, in the order they happened, each event once. The record value is a "
                           f"{ENVELOPE}; ce_type names the event in its payload.",
            "messages": channel_messages,
            "bindings": {"kafka": {"topic": topic, "partitions": 3, "replicas": 1,
                                   "topicConfiguration": {"retention.ms": -1, "cleanup.policy": ["delete"]},
                                   "bindingVersion": "0.5.0"}},
        }
        operations[f"publish{channel_id[0].upper()}{channel_id[1:]}"] = {
            "action": "send",
            "title": f"{producer} publishes its events",
            "summary": f"The {producer} service's relay publishes each event of its log once.",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{short}"} for short in channel_messages],
        }
    return {
        "asyncapi": "3.1.0",
        "info": {
            "title": "Gatehouse events",
            "version": "1.0.0",
            "description": "The topics Gatehouse services publish for each other and for integrators. Generated "
                           "from proto/ by scripts/asyncapi.py; docs/events.md explains the record, delivery "
                           "guarantees and dead letters. The Protobuf definitions are also released as one "
                           "FileDescriptorSet, gatehouse.binpb.",
            "license": {"name": "Apache-2.0"},
        },
        "defaultContentType": "application/protobuf",
        "servers": {
            "local": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "The development broker of deploy/kafka/kafka.sh (with --sasl: SASL/PLAIN).",
                "security": [{"$ref": "#/components/securitySchemes/saslPlain"}],
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": schemas,
            "securitySchemes": {"saslPlain": {"type": "plain", "description": "One principal per service; "
                                                                            "see docs/kafka.md."}},
        },
    }


# A small YAML writer: deterministic, block style, literal blocks for multi-line text.
PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_ ./,()'-]*$")


def scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if PLAIN.match(text) and not text.endswith(" ") and text.lower() not in ("true", "false", "null", "yes", "no"):
        return text
    return "'" + text.replace("'", "''") + "'"


def emit(value, indent=0):
    pad = " " * indent
    lines = []
    if isinstance(value, dict):
        for key, item in value.items():
            label = pad + scalar(key) + ":"
            if isinstance(item, str) and "\n" in item:
                lines.append(label + " |")
                lines += [(pad + "  " + line).rstrip() for line in item.rstrip("\n").split("\n")]
            elif isinstance(item, (dict, list)) and item:
                lines.append(label)
                lines += emit(item, indent + 2)
            elif isinstance(item, (dict, list)):
                lines.append(label + (" {}" if isinstance(item, dict) else " []"))
            else:
                lines.append(label + " " + scalar(item))
    else:
        for item in value:
            if isinstance(item, (dict, list)):
                nested = emit(item, indent + 2)
                lines.append(pad + "- " + nested[0].lstrip())
                lines += nested[1:]
            else:
                lines.append(pad + "- " + scalar(item))
    return lines


def render():
    header = "# Generated by scripts/asyncapi.py from proto/ — do not edit; run the script instead.\n"
    return header + "\n".join(emit(document(descriptor_set()))) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="fail when docs/asyncapi.yaml is not up to date")
    args = parser.parse_args()
    text = render()
    if args.check:
        current = OUTPUT.read_text() if OUTPUT.exists() else ""
        if current != text:
            diff = difflib.unified_diff(current.splitlines(), text.splitlines(), "docs/asyncapi.yaml", "generated",
                                        lineterm="", n=1)
            print("\n".join(list(diff)[:40]), file=sys.stderr)
            sys.exit("asyncapi.py: docs/asyncapi.yaml is not what proto/ generates; run scripts/asyncapi.py")
        print("asyncapi.py: docs/asyncapi.yaml is up to date")
        return
    OUTPUT.write_text(text)
    print(f"asyncapi.py: wrote {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
