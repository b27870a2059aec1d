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
* `index.tsv`: one line per resource, tab separated (see COLUMNS below),
  sorted by resourceType, url, version, id. Empty field = absent. The first
  line is MAGIC, the package id (`name#version`) and the column names.

The output is deterministic for a given input package.

The functions here are shared by the generators of the other embedded
layers (scripts/gen-hl7-terminology.py loads this file as a module and calls
`run` with its own package, kept types and output).
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
HERE = os.path.dirname(os.path.abspath(__file__))
PROFILES = os.path.join(HERE, "..", "profiles")


def clean(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).replace("\t", " ").replace("\n", " ").replace("\r", " ")


def fetch(tmp, package):
    out = subprocess.run(
        ["npm", "pack", package, "--silent"], cwd=tmp, check=True,
        capture_output=True, text=True,
    ).stdout.strip().splitlines()
    return os.path.join(tmp, out[-1])


def read_package(tgz, keep):
    """(package id from package.json or None, [resource]) for every resource
    of a type in `keep` directly in `package/` (one `Type-id.json` file
    each)."""
    package_id = None
    resources = []
    with tarfile.open(tgz, "r:gz") as tar:
        for member in tar:
            if not member.isfile():
                continue
            name = member.name
            if not name.startswith("package/") or "/" in name[len("package/"):]:
                continue
            if name == "package/package.json":
                manifest = json.load(io.TextIOWrapper(tar.extractfile(member), encoding="utf-8"))
                package_id = "%s#%s" % (manifest["name"], manifest["version"])
                continue
            if not name.endswith(".json") or "/." in name:
                continue
            if not any(name.startswith("package/" + t + "-") for t in keep):
                continue
            data = json.load(io.TextIOWrapper(tar.extractfile(member), encoding="utf-8"))
            if data.get("resourceType") in keep:
                resources.append(data)
    return package_id, resources


def compact(resources):
    """Drop the narrative and sort as the index is sorted."""
    for res in resources:
        res.pop("text", None)
    return sorted(
        resources,
        key=lambda r: (r["resourceType"], r.get("url", ""), r.get("version", ""), r.get("id", "")),
    )


def write_layer(rows, out, package_id, blob_name):
    """Write `blob_name` and `index.tsv` into `out`; returns a one-line
    report (counts and sizes)."""
    os.makedirs(out, exist_ok=True)
    blob = bytearray()
    lines = [MAGIC + "\t" + package_id + "\t" + "\t".join(COLUMNS)]
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

    with open(os.path.join(out, blob_name), "wb") as f:
        f.write(blob)
    index = ("\n".join(lines) + "\n").encode("utf-8")
    with open(os.path.join(out, "index.tsv"), "wb") as f:
        f.write(index)
    return "%s: wrote %d resources (%s): %d bytes JSON -> %d bytes compressed + %d bytes index" % (
        package_id, len(rows), ", ".join("%s %d" % kv for kv in sorted(counts.items())),
        raw_total, len(blob), len(index),
    )


def run(description, package, keep, default_out, blob_name, argv=None):
    """Command line of a generator: [PACKAGE.tgz] [--out DIR]."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("tgz", nargs="?", help="an already fetched %s .tgz" % package)
    ap.add_argument("--out", default=default_out)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tgz = args.tgz or fetch(tmp, package)
        package_id, resources = read_package(tgz, keep)
    report = write_layer(
        compact(resources), args.out, package_id or package.replace("@", "#"), blob_name,
    )
    print(report, file=sys.stderr)


def main():
    run(
        __doc__.splitlines()[0], PACKAGE, KEEP,
        os.path.join(PROFILES, "r4-core"), "core.bin",
    )


if __name__ == "__main__":
    main()
