#!/usr/bin/env python3
"""Check that the library conformance runner and ../shared/tools/conformance.py
(which drives the CLI) agree run by run, on the runs without per-case
options the CLI cannot be given.

usage: scripts/conformance-agreement.py LIBRARY.json CLI.json
(LIBRARY.json from FHIRREG_CONFORMANCE_JSON, CLI.json from conformance.py --json)
"""
import json, os, sys

# Manifest options the CLI run of conformance.py does not pass on.
CASE_OPTIONS = {"best-practice", "allowed-extension-domain", "allowed-extension-domains",
                "security-checks", "no-tx", "wrong-displays", "crumb-trail", "ids-in-errors",
                "assumeValidRestReferences", "validateReference", "bundle-param", "language",
                "for-publication", "no-experimental-content", "allow-comments", "examples",
                "validateContains", "enforceAggregationOutsideBundles"}


def main():
    library = {r["run"]: r for r in json.load(open(sys.argv[1]))}
    cli = {r["run"]: r for r in json.load(open(sys.argv[2]))}
    here = os.path.dirname(os.path.abspath(__file__))
    manifest = json.load(open(os.path.join(here, "..", "..", "shared", "fhir-test-cases", "manifest.json")))
    with_options = {c["name"] for c in manifest["test-cases"] if CASE_OPTIONS & set(c)}
    compared = disagree = 0
    for name, row in cli.items():
        if name.split("#")[0] in with_options or name not in library:
            continue
        compared += 1
        mine = library[name]
        if (mine["verdict"], mine["exact"]) != (row["verdict"], row["exact"]):
            disagree += 1
            print("DIFF %s library=%s cli=%s" % (name, sorted(mine["got"]), row["got"]))
    missing = sorted(set(cli) ^ set(library))
    for name in missing:
        print("ONLY IN ONE: %s" % name)
    print("agreement: %d passed, %d failed" % (compared - disagree, disagree + len(missing)))
    sys.exit(1 if disagree or missing else 0)


if __name__ == "__main__":
    main()
