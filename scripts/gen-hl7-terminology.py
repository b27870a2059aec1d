#!/usr/bin/env python3
"""Generate the compact embedded HL7 terminology (THO) used by fhirreg-registry.

Usage:
    scripts/gen-hl7-terminology.py [PACKAGE.tgz] [--out profiles/hl7-terminology]

Without a .tgz argument, runs `npm pack hl7.terminology.r4@7.0.1` in a
temporary directory. Python 3 standard library only.

Keeps every ValueSet, CodeSystem and NamingSystem of the package, drops the
narrative and writes `resources.bin` + `index.tsv` in the format of the
embedded core (the compaction code is that of scripts/gen-r4-core.py,
loaded as a module).
"""

import importlib.util
import os

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("gen_r4_core", os.path.join(HERE, "gen-r4-core.py"))
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

PACKAGE = "hl7.terminology.r4@7.0.1"
KEEP = ("ValueSet", "CodeSystem", "NamingSystem")


def main():
    gen.run(
        __doc__.splitlines()[0], PACKAGE, KEEP,
        os.path.join(gen.PROFILES, "hl7-terminology"), "resources.bin",
    )


if __name__ == "__main__":
    main()
