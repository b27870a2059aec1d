#!/usr/bin/env python3
"""Speed of the fhirreg Python package on the 706 instance examples of
hl7.fhir.r4.examples 4.0.1 (every JSON file whose resourceType is not a
conformance type, less the 14 "definition Bundles": the corpus of
../shared/peers/corpus.sh, instance-only). Run by scripts/bench-python.sh.

    bench.py --examples DIR --cli target/release/fhirreg [--passes 5]

Prints a table and one JSON line:

* validate_many on all cores (bytes in memory; GIL released; a warm
  validator, and a fresh process doing as the CLI does: import, first
  Validator, reading the files, validating) against the CLI validating the
  same files in one call (`fhirreg validate DIR --output-format json`, all
  cores, whole process: start-up, reading, writing the OperationOutcomes);
* single-threaded validate (each resource in turn, one core) against
  fhirkit-rs (`fhirkit.parse(bytes)`) and fhir.resources
  (`get_fhir_model_class(rt).model_validate_json(bytes)`, R4B models), each
  timed per file in the same way (best pass), in processes pinned to one
  CPU;
* `import fhirreg` and the first `fhirreg.Validator()` (fresh processes).

With --instructions, each single-threaded peer is also run under callgrind
for instructions per resource, a figure that does not depend on what else
the machine is doing (slow: a few minutes).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

EXCLUDE = {
    "StructureDefinition", "ValueSet", "CodeSystem", "SearchParameter", "ConceptMap",
    "OperationDefinition", "CapabilityStatement", "CompartmentDefinition", "ImplementationGuide",
    "NamingSystem", "GraphDefinition", "MessageDefinition", "StructureMap", "TerminologyCapabilities",
}


def corpus(folder):
    """The instance-only corpus, as ../shared/peers/corpus.sh makes it."""
    files = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".json"):
            continue
        path = os.path.join(folder, name)
        try:
            j = json.load(open(path, "rb"))
        except Exception:
            continue
        if not isinstance(j, dict) or not isinstance(j.get("resourceType"), str):
            continue
        if j["resourceType"] in EXCLUDE:
            continue
        entries = j.get("entry")
        if (j["resourceType"] == "Bundle" and isinstance(entries, list) and entries
                and all(isinstance(e, dict) and isinstance(e.get("resource"), dict)
                        and e["resource"].get("resourceType") in EXCLUDE for e in entries)):
            continue  # a definition Bundle
        files.append(path)
    return files


def best(fn, passes):
    times = []
    for _ in range(passes):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times)


# --- single-threaded peers, run in a child process pinned to one CPU -------

def single(peer, files, passes):
    data = [open(f, "rb").read() for f in files]
    if peer == "fhirreg":
        import fhirreg
        v = fhirreg.Validator()

        def check(b):
            return v.validate(b).valid
    elif peer == "fhirkit":
        import fhirkit

        def check(b):
            return not any(i.severity == "error" for i in fhirkit.parse(b).issues)
    elif peer == "fhir.resources":
        from fhir.resources.R4B import get_fhir_model_class
        classes = {}

        def model(rt):
            if rt not in classes:
                try:
                    classes[rt] = get_fhir_model_class(rt)
                except Exception:
                    classes[rt] = None  # an R4 type that R4B lacks
            return classes[rt]
        # The model class is chosen outside the timed region (as the peer
        # harness does): only model_validate_json is timed.
        models = [model(json.loads(b)["resourceType"]) for b in data]
        model_of = dict(zip(map(id, data), models))

        def check(b):
            cls = model_of[id(b)]
            if cls is None:
                return False
            cls.model_validate_json(b)
            return True
    else:
        raise SystemExit("unknown peer " + peer)

    def run_pass():
        invalid = 0
        total = 0.0
        for b in data:
            t = time.perf_counter()
            try:
                ok = check(b)
            except Exception:
                ok = False
            total += time.perf_counter() - t
            invalid += not ok
        return total, invalid

    run_pass()  # warm-up (caches, lazily decoded definitions)
    results = [run_pass() for _ in range(passes)]
    times = [r[0] for r in results]
    print(json.dumps({"peer": peer, "best_s": min(times), "median_s": statistics.median(times),
                      "invalid": results[-1][1], "files": len(data)}))


def child(peer, files_list, passes):
    cmd = ["taskset", "-c", "0", sys.executable, os.path.abspath(__file__), "--single", peer,
           "--files-list", files_list, "--passes", str(passes)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def instructions(peer, files_list):
    """Instructions per resource of one single-threaded pass, counted by
    callgrind (the same on a loaded machine): a run with three passes less
    a run with one, halved (start-up, imports and the warm-up cancel out)."""
    totals = []
    for passes in (1, 3):
        cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
               os.path.abspath(__file__), "--single", peer, "--files-list", files_list, "--passes", str(passes)]
        p = subprocess.run(cmd, check=True, capture_output=True, text=True)
        line = next(l for l in p.stderr.splitlines() if "Collected" in l)
        totals.append(int(line.split(":")[-1].strip()))
        files = json.loads(p.stdout.strip().splitlines()[-1])["files"]
    return (totals[1] - totals[0]) / 2 / files


def fresh(code, runs=7):
    """Best and median of a snippet's own timing, each in a fresh interpreter."""
    values = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
        values.append(json.loads(out))
    keys = values[0].keys()
    return {k: (min(v[k] for v in values), statistics.median(v[k] for v in values)) for k in keys}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples")
    ap.add_argument("--cli")
    ap.add_argument("--passes", type=int, default=5)
    ap.add_argument("--single")
    ap.add_argument("--files-list")
    ap.add_argument("--instructions", action="store_true",
                    help="also count instructions per resource with callgrind (slow: minutes)")
    args = ap.parse_args()
    if args.single:
        files = open(args.files_list).read().split("\n")
        return single(args.single, [f for f in files if f], args.passes)

    files = corpus(args.examples)
    data = [open(f, "rb").read() for f in files]
    mb = sum(map(len, data)) / 1048576
    print("corpus: %d instance examples, %.1f MB; %d cores" % (len(files), mb, os.cpu_count()))
    results = {"files": len(files), "mb": round(mb, 2), "cores": os.cpu_count()}

    import fhirreg
    results["fhirreg"] = fhirreg.__version__

    # Import and first validator, in fresh interpreters.
    startup = fresh(
        "import json, time\n"
        "t = time.perf_counter(); import fhirreg; a = time.perf_counter()\n"
        "v = fhirreg.Validator(); b = time.perf_counter()\n"
        "v.validate(b'{\"resourceType\":\"Patient\",\"active\":true}'); c = time.perf_counter()\n"
        "print(json.dumps({'import_ms': (a - t) * 1e3, 'validator_ms': (b - a) * 1e3, 'first_validate_ms': (c - b) * 1e3}))\n"
    )
    results["startup_ms"] = {k: round(v[1], 2) for k, v in startup.items()}

    # validate_many on all cores vs the CLI on the same files.
    v = fhirreg.Validator()
    outcomes = v.validate_many(data)  # warm-up
    many_best, many_median = best(lambda: v.validate_many(data), args.passes)
    invalid_many = sum(not o.valid for o in outcomes)

    def read_and_validate():
        v.validate_many([open(f, "rb").read() for f in files])
    many_read_best, _ = best(read_and_validate, args.passes)

    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            os.symlink(f, os.path.join(tmp, os.path.basename(f)))

        def cli():
            p = subprocess.run([args.cli, "validate", tmp, "--output-format", "json"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if p.returncode not in (0, 1):
                raise SystemExit("the CLI exited %d" % p.returncode)
        cli()
        cli_best, cli_median = best(cli, args.passes)
    # The same in a fresh process, as the CLI runs: import, first Validator,
    # reading the files and a first validate_many (definitions decoded and
    # plans compiled on first use).
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as lst:
        lst.write("\n".join(files))
    try:
        cold = fresh(
            "import json, time\n"
            "t = time.perf_counter()\n"
            "import fhirreg\n"
            "data = [open(f, 'rb').read() for f in open(%r).read().split('\\n')]\n"
            "fhirreg.Validator().validate_many(data)\n"
            "print(json.dumps({'cold_s': time.perf_counter() - t}))\n" % lst.name,
            runs=args.passes,
        )["cold_s"]
    finally:
        os.unlink(lst.name)
    results["all_cores"] = {
        "validate_many_cold_res_s": round(len(data) / cold[0], 1),
        "ratio_cold_validate_many_to_cli": round(cli_best / cold[0], 2),
        "validate_many_res_s": round(len(data) / many_best, 1),
        "validate_many_incl_read_res_s": round(len(data) / many_read_best, 1),
        "cli_res_s": round(len(data) / cli_best, 1),
        "ratio_validate_many_to_cli": round(cli_best / many_best, 2),
        "invalid": invalid_many,
    }

    # Single-threaded, one CPU each.
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as lst:
        lst.write("\n".join(files))
    single_results = {}
    try:
        for peer in ("fhirreg", "fhirkit", "fhir.resources"):
            try:
                r = child(peer, lst.name, max(3, args.passes // 2))
            except subprocess.CalledProcessError as e:
                print("%s: could not run (%s)" % (peer, e.stderr.strip().splitlines()[-1:]))
                continue
            single_results[peer] = {"res_s": round(r["files"] / r["best_s"], 1),
                                    "ms_per_res": round(r["best_s"] / r["files"] * 1e3, 3),
                                    "invalid": r["invalid"]}
            if args.instructions:
                single_results[peer]["instructions_per_res"] = round(instructions(peer, lst.name))
    finally:
        os.unlink(lst.name)
    results["single_thread"] = single_results

    s = results["startup_ms"]
    a = results["all_cores"]
    print("import fhirreg: %.1f ms; first Validator(): %.1f ms; first validate: %.1f ms (median of 7 fresh processes)"
          % (s["import_ms"], s["validator_ms"], s["first_validate_ms"]))
    print("all cores: CLI (one call, whole process) %.0f res/s" % a["cli_res_s"])
    print("all cores: validate_many, warm validator: %.0f res/s (%.0f incl. reading the files): %.2fx the CLI"
          % (a["validate_many_res_s"], a["validate_many_incl_read_res_s"], a["ratio_validate_many_to_cli"]))
    print("all cores: validate_many, fresh process (import, Validator(), read, validate): %.0f res/s: %.2fx the CLI"
          % (a["validate_many_cold_res_s"], a["ratio_cold_validate_many_to_cli"]))
    ours = single_results.get("fhirreg", {}).get("res_s")
    for peer, r in single_results.items():
        ratio = "" if peer == "fhirreg" or not ours else " (fhirreg is %.1fx)" % (ours / r["res_s"])
        counted = ""
        if "instructions_per_res" in r:
            counted = ", %.2f M instructions/res" % (r["instructions_per_res"] / 1e6)
        print("one core: %-15s %8.0f res/s, %.3f ms/res%s, %d invalid%s"
              % (peer, r["res_s"], r["ms_per_res"], counted, r["invalid"], ratio))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
