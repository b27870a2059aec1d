#!/usr/bin/env node
// The fhirpath.js side of scripts/bench-fhirpath.sh.
//
//   node bench.js WORKLOAD.json [RUST-RESULTS.json] [OUT.json]
//
// WORKLOAD.json is written by `cargo bench -p fhirreg-benches --bench
// fhirpath -- prepare DIR` (benches/fhirpath.rs): (a) one expression over a
// small patient, N times; (b) `P.all(E)` for every core invariant of each
// instance example's resource type, compiled once per distinct expression
// with the R4 model, evaluated with %resource = the resource.
//
// Result codes, one per (case, expression of its type): t(rue), f(alse),
// n (empty), e (evaluation error), c (compile error). Only evaluations that
// both engines ran without error (RUST-RESULTS.json, when given) are timed.
// Prints (and writes to OUT.json) nanoseconds per evaluation as JSON.
'use strict';

const fs = require('fs');
const path = require('path');
const fhirpath = require('fhirpath');
const r4 = require('fhirpath/fhir-context/r4');

const [workloadPath, rustPath, outPath] = process.argv.slice(2);
if (!workloadPath) {
  console.error('usage: node bench.js WORKLOAD.json [RUST-RESULTS.json] [OUT.json]');
  process.exit(2);
}
const workload = JSON.parse(fs.readFileSync(workloadPath, 'utf8'));
const rust = rustPath ? JSON.parse(fs.readFileSync(rustPath, 'utf8')) : null;

const MIN_PASSES_A = 5;
const MIN_PASSES_B = Number(process.env.FHIRPATH_JS_PASSES || 3);

let sink = 0;

// ns per evaluation over timed passes after one warm-up pass: the median and
// the best pass (the machine may be shared; the best pass is the least
// disturbed by other work).
function timePasses(evals, minPasses, minMs, pass) {
  if (evals === 0) return { median: 0, best: 0 };
  pass();
  const samples = [];
  const start = process.hrtime.bigint();
  while (samples.length < minPasses ||
         Number(process.hrtime.bigint() - start) / 1e6 < minMs) {
    const t = process.hrtime.bigint();
    pass();
    samples.push(Number(process.hrtime.bigint() - t) / evals);
    if (samples.length >= 50) break;
  }
  samples.sort((x, y) => x - y);
  return { median: samples[Math.floor(samples.length / 2)], best: samples[0] };
}

function code(fn, resource, env) {
  try {
    const r = fn(resource, env);
    if (r instanceof Promise) return 'e';
    if (r.length === 0) return 'n';
    if (r.length === 1 && typeof r[0] === 'boolean') return r[0] ? 't' : 'f';
    return 'e';
  } catch (e) {
    return 'e';
  }
}

const ok = (c) => c === 't' || c === 'f' || c === 'n';

// (a)
const a = workload.a;
// trace() (used by dom-3) must not print: fhirreg's engine has no tracer here either.
const OPTIONS = { traceFn: () => {} };
const fa = fhirpath.compile(a.expression, r4, OPTIONS);
const patient = a.resource;
const envA = { resource: patient, rootResource: patient };
const aResult = fa(patient, envA);
const aNs = timePasses(a.iterations, MIN_PASSES_A, 1000, () => {
  for (let i = 0; i < a.iterations; i++) {
    sink += fa(patient, envA).length;
  }
});

// (b)
const b = workload.b;
const compileFailed = [];
const compileErrors = [];
const compiled = b.expressions.map((e, i) => {
  try {
    return fhirpath.compile(e, r4, OPTIONS);
  } catch (err) {
    compileFailed.push(i);
    compileErrors.push({ expression: e, error: short(String(err.message || err).split('\n')[0]) });
    return null;
  }
});
const resources = b.cases.map((c) =>
  JSON.parse(fs.readFileSync(path.join(b.examples_dir, c.file), 'utf8')));
const short = (m) => (m.length > 200 ? m.slice(0, 200) + '...' : m);
const envs = resources.map((r) => ({ resource: r, rootResource: r }));
const evalErrors = []; // the first error of each distinct expression, up to 10
const evalErrorExprs = new Set();
const results = b.cases.map((c, ci) => {
  const exprs = b.types[c.type] || [];
  let s = '';
  for (const ei of exprs) {
    const fn = compiled[ei];
    if (!fn) {
      s += 'c';
      continue;
    }
    const r = code(fn, resources[ci], envs[ci]);
    if (r === 'e' && evalErrors.length < 10 && !evalErrorExprs.has(ei)) {
      evalErrorExprs.add(ei);
      let msg;
      try { fn(resources[ci], envs[ci]); msg = 'non-boolean result'; } catch (err) {
        msg = short(String(err.message || err).split('\n')[0]);
      }
      evalErrors.push({ file: c.file, expression: b.expressions[ei], error: msg });
    }
    s += r;
  }
  return s;
});

// Timed set: evaluations both engines ran without error.
const pairCase = [];
const pairExpr = [];
b.cases.forEach((c, ci) => {
  const exprs = b.types[c.type] || [];
  const r = rust ? rust.results[ci] : null;
  exprs.forEach((ei, k) => {
    if (ok(results[ci][k]) && (!r || ok(r[k]))) {
      pairCase.push(ci);
      pairExpr.push(ei);
    }
  });
});
function timeB(cases, exprs) {
  const n = cases.length;
  return timePasses(n, MIN_PASSES_B, 0, () => {
    for (let i = 0; i < n; i++) {
      const ci = cases[i];
      sink += compiled[exprs[i]](resources[ci], envs[ci]).length;
    }
  });
}
const n = pairCase.length;
const bNs = timeB(pairCase, pairExpr);
// (b') without the Bundle examples
const nbCase = [];
const nbExpr = [];
pairCase.forEach((ci, i) => {
  if (b.cases[ci].type !== 'Bundle') {
    nbCase.push(ci);
    nbExpr.push(pairExpr[i]);
  }
});
const nbNs = timeB(nbCase, nbExpr);

const out = {
  fhirpath_version: fhirpath.version,
  node_version: process.version,
  a: {
    expression: a.expression,
    iterations: a.iterations,
    ns_per_eval: aNs.median,
    best_ns_per_eval: aNs.best,
    result: aResult,
  },
  b: {
    evaluations: n,
    ns_per_eval: bNs.median,
    best_ns_per_eval: bNs.best,
    ms_per_pass: (bNs.median * n) / 1e6,
    compile_failures: compileFailed.length,
    eval_failures: results.reduce((k, s) => k + (s.split('e').length - 1), 0),
    first_compile_errors: compileErrors.slice(0, 10),
    first_eval_errors: evalErrors,
  },
  b_without_bundles: {
    evaluations: nbCase.length,
    ns_per_eval: nbNs.median,
    best_ns_per_eval: nbNs.best,
    ms_per_pass: (nbNs.median * nbCase.length) / 1e6,
  },
  compile_failed: compileFailed,
  results,
  sink,
};
if (outPath) fs.writeFileSync(outPath, JSON.stringify(out));
const summary = { ...out };
delete summary.results;
delete summary.compile_failed;
console.log(JSON.stringify(summary, null, 1));
