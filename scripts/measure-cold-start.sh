#!/usr/bin/env bash
# Cold start of the CLI on the embedded defaults: wall time (median of 20
# runs) and peak RSS of `fhirreg validate tests/data/patient-example.json`.
# Targets (issue 3): under 50 ms wall, under 60 MB peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p fhirreg-cli
python3 - "${1:-tests/data/patient-example.json}" <<'PY'
import os, resource, statistics, subprocess, sys, time
binary, target = os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "fhirreg"), sys.argv[1]
walls = []
for _ in range(20):
    t0 = time.perf_counter()
    subprocess.run([binary, "validate", target], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    walls.append((time.perf_counter() - t0) * 1000)
rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"cold start: median {statistics.median(walls):.1f} ms, min {min(walls):.1f} ms wall; peak RSS {rss_mb:.1f} MB")
print(f"binary size: {os.path.getsize(binary) / 2**20:.1f} MB")
PY
