#!/usr/bin/env python3
"""Generate the compact embedded FHIR R4 core used by fhirreg-registry.

Usage:
    scripts/gen-r4-core.py [PACKAGE.tgz] [--out profiles/r4-core]

Without a .tgz argument, runs `npm pack hl7.fhir.r4.examples@4.0.1` in a
temporary directory. Python 3 standard library only.

Keeps every StructureDefinition, ValueSet, CodeSystem, ConceptMap and
NamingSystem of the package (not SearchParameters, OperationDefinitions or
examples), drops the narrative (`text`) and writes:

* `core.bin`: the resources as minified JSON, each compressed on its own
  (raw deflate, zlib wbits=-15) and concatenated;
* `index.tsv`: one line per resource, tab separated (see HEADER below),
  sorted by resourceType, url, version, id. Empty field = absent.

The output is deterministic for a given input package.
"""

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zlib

PACKAGE = "hl7.fhir.r4.examples@4.0.1"
KEEP = ("StructureDefinition", "ValueSet", "CodeSystem", "ConceptMap", "NamingSystem")
COLUMNS = (
    "resourceType", "id", "url", "version", "name",
    "type", "kind", "derivation", "baseDefinition", "abstract",
    "offset", "length",
)
MAGIC = "#fhirreg-core-index\tv1"


def clean(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).replace("\t", " ").replace("\n", " ").replace("\r", " ")


def fetch(tmp):
    out = subprocess.run(
        ["npm", "pack", PACKAGE, "--silent"], cwd=tmp, check=True,
        capture_output=True, text=True,
    ).stdout.strip().splitlines()
    return os.path.join(tmp, out[-1])


def read_package(tgz):
    """Yield (name, resource) for every kept resource of the package."""
    with tarfile.open(tgz, "r:gz") as tar:
        for member in tar:
            if not member.isfile():
                continue
            name = member.name
            if not name.startswith("package/") or "/" in name[len("package/"):]:
                continue
            if not name.endswith(".json") or name.endswith("package.json") or "/." in name:
                continue
            if not any(name.startswith("package/" + t + "-") for t in KEEP):
                continue
            data = json.load(io.TextIOWrapper(tar.extractfile(member), encoding="utf-8"))
            if data.get("resourceType") in KEEP:
                yield name, data
        # fhirVersion for the header
    return


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tgz", nargs="?", help="an already fetched %s .tgz" % PACKAGE)
    ap.add_argument("--out", default=os.path.join(here, "..", "profiles", "r4-core"))
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tgz = args.tgz or fetch(tmp)
        resources = list(read_package(tgz))

    rows = []
    for name, res in resources:
        res.pop("text", None)
        rows.append(res)
    rows.sort(key=lambda r: (r["resourceType"], r.get("url", ""), r.get("version", ""), r.get("id", "")))

    os.makedirs(args.out, exist_ok=True)
    blob = bytearray()
    lines = [MAGIC + "\t" + PACKAGE.replace("@", "#") + "\t" + "\t".join(COLUMNS)]
    counts = {}
    raw_total = 0
    for res in rows:
        raw = json.dumps(res, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        raw_total += len(raw)
        comp = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
        data = comp.compress(raw) + comp.flush()
        offset = len(blob)
        blob += data
        rt = res["resourceType"]
        counts[rt] = counts.get(rt, 0) + 1
        sd = rt == "StructureDefinition"
        fields = [
            rt, res.get("id"), res.get("url"), res.get("version"), res.get("name"),
            res.get("type") if sd else None,
            res.get("kind") if sd else None,
            res.get("derivation") if sd else None,
            res.get("baseDefinition") if sd else None,
            res.get("abstract") if sd else None,
            offset, len(data),
        ]
        lines.append("\t".join(clean(f) for f in fields))

    with open(os.path.join(args.out, "core.bin"), "wb") as f:
        f.write(blob)
    with open(os.path.join(args.out, "index.tsv"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    print(
        "wrote %d resources (%s): %d bytes JSON -> %d bytes compressed"
        % (len(rows), ", ".join("%s %d" % kv for kv in sorted(counts.items())), raw_total, len(blob)),
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
