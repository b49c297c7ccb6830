#!/usr/bin/python3
"""Regenerates the settings tables of docs/configuration.md from the service binaries.

  scripts/settings-docs.py [BUILD_DIR]      (default build/release)

Each service's table ("### <service> (`gatehouse-<service> [CONFIG.yaml]`)") becomes what
`gatehouse-<service> --help` prints, and the kernel's table ("## Settings every service has") the
rows the four kernel services print alike, with the service's name written `<service>`. The
tests compare the document with the binaries (the `[docs]` tests and
`kernel.runtime.docs/configuration.md …`); this writes what they expect.
"""
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUILD = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "release"
SERVICES = {
    "onboarding": "services/onboarding/gatehouse-onboarding",
    "customers": "services/customers/gatehouse-customers",
    "sales-bridge": "services/sales-bridge/gatehouse-sales-bridge",
    "notifier": "services/notifier/gatehouse-notifier",
    "web": "services/web/gatehouse-web",
}
# The services built on the kernel's runtime: every one of them has the kernel's settings.
KERNEL_SERVICES = ["onboarding", "customers", "sales-bridge", "notifier"]
HEADER = "| setting | environment | default | description |\n|---|---|---|---|\n"


def table_of(binary):
    text = subprocess.run([str(BUILD / binary), "--help"], check=True, capture_output=True, text=True).stdout
    start = text.index(HEADER)
    return text[start:].rstrip("\n") + "\n"


def replace_table(document, heading, table):
    """The first table after `heading` becomes `table`."""
    at = document.index(heading)
    start = document.index(HEADER, at)
    end = start
    lines = document[start:].split("\n")
    for line in lines:
        if not line.startswith("|"):
            break
        end += len(line) + 1
    return document[:start] + table + document[end:]


def main():
    path = ROOT / "docs" / "configuration.md"
    document = path.read_text(encoding="utf-8")
    tables = {name: table_of(binary) for name, binary in SERVICES.items()}
    for name, table in tables.items():
        document = replace_table(document, "### %s (`gatehouse-%s" % (name, name), table)
    # The kernel's rows: those every service prints alike, with the service's name written <service>.
    def normalised(name, table):
        rows = table[len(HEADER):].splitlines()
        return [row.replace("./data/" + name, "./data/<service>").replace("gatehouse-" + name, "gatehouse-<service>")
                for row in rows]
    per_service = {name: normalised(name, tables[name]) for name in KERNEL_SERVICES}
    rows = [row for row in per_service["onboarding"] if all(row in others for others in per_service.values())]
    document = replace_table(document, "## Settings every service has (the kernel)", HEADER + "\n".join(rows) + "\n")
    path.write_text(document, encoding="utf-8")
    print("settings-docs: wrote %s" % path.relative_to(ROOT))


if __name__ == "__main__":
    main()
