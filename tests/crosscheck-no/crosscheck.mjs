// Cross-checks fhirreg's Norwegian identifier rules (`fhirreg check-id`)
// against two independent npm libraries, on a few thousand generated
// numbers: valid ones, one-digit mutations of them, and random digits.
//
//   cd tests/crosscheck-no && npm install && node crosscheck.mjs [FHIRREG] [COUNT] [SEED]
//
// FHIRREG defaults to ../../target/release/fhirreg. Exit 1 on a
// disagreement the libraries' documented differences do not explain:
//
// * @navikt/fnrvalidator accepts both control-digit rules (classic and
//   Skatteetaten's from 2032) and every offset (D, H/NAV, Test Norge), but
//   takes the century as 19yy (2000 for yy = 00) instead of reading it from
//   the individual number: it accepts numbers whose individual number gives
//   no century, and 29 February 1900.
// * norsk-validator checks the classic control digits only (no date), the
//   DUF-nummer only as 12 digits.

import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const nav = require('@navikt/fnrvalidator');
const norsk = require('norsk-validator');

const here = path.dirname(fileURLToPath(import.meta.url));
const fhirreg = process.argv[2] ?? path.join(here, '../../target/release/fhirreg');
const count = Number(process.argv[3] ?? 3000);
let seed = BigInt(process.argv[4] ?? 20250101);

// xorshift64*: reproducible runs
function next() {
  seed ^= seed >> 12n;
  seed ^= (seed << 25n) & 0xffffffffffffffffn;
  seed ^= seed >> 27n;
  return Number(((seed * 0x2545f4914f6cdd1dn) & 0xffffffffffffffffn) >> 11n);
}
const below = (n) => next() % n;
const digits = (n) => Array.from({ length: n }, () => String(below(10))).join('');
const pad = (n, w) => String(n).padStart(w, '0');

function controls(nine) {
  const d = [...nine].map(Number);
  const w1 = [3, 7, 6, 1, 8, 9, 4, 5, 2];
  const w2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
  let k1 = 11 - (w1.reduce((s, w, i) => s + w * d[i], 0) % 11);
  if (k1 === 11) k1 = 0;
  if (k1 === 10) return null;
  d.push(k1);
  let k2 = 11 - (w2.reduce((s, w, i) => s + w * d[i], 0) % 11);
  if (k2 === 11) k2 = 0;
  if (k2 === 10) return null;
  return nine + k1 + k2;
}

/** A person number with valid control digits: offsets for D (day + 40),
 * H/NAV (month + 40), Test Norge (month + 80). */
function personNumber() {
  for (;;) {
    const year = 1900 + below(140);
    const month = 1 + below(12);
    const day = 1 + below(28);
    const yy = year % 100;
    const individual = year < 2000 ? below(500) : 500 + below(500);
    const dOffset = below(3) === 0 ? 40 : 0;
    const mOffset = [0, 0, 40, 80][below(4)];
    const nine = pad(day + dOffset, 2) + pad(month + mOffset, 2) + pad(yy, 2) + pad(individual, 3);
    const n = controls(nine);
    if (n) return n;
  }
}

function mutate(n) {
  const i = below(n.length);
  const c = String((Number(n[i]) + 1 + below(9)) % 10);
  return n.slice(0, i) + c + n.slice(i + 1);
}

function candidates(make, len) {
  const out = new Set();
  while (out.size < count) {
    const valid = make();
    out.add(valid);
    out.add(mutate(valid));
    out.add(digits(len));
  }
  return [...out];
}

/** fhirreg's verdicts: value -> {valid, messageId, synthetic}. */
function check(type, values) {
  const verdicts = new Map();
  for (let i = 0; i < values.length; i += 2000) {
    const chunk = values.slice(i, i + 2000);
    let out;
    try {
      out = execFileSync(fhirreg, ['check-id', '--type', type, '--output-format', 'json', ...chunk], {
        maxBuffer: 1 << 28,
      });
    } catch (e) {
      if (e.status !== 1) throw e; // 1: some value invalid
      out = e.stdout;
    }
    for (const line of out.toString().split('\n').filter(Boolean)) {
      const r = JSON.parse(line);
      verdicts.set(r.value, {
        valid: r.valid,
        messageId: r.issues[0]?.messageId,
        synthetic: r.synthetic ?? null,
      });
    }
  }
  return verdicts;
}

const problems = [];
const tally = {};
const count1 = (key) => (tally[key] = (tally[key] ?? 0) + 1);
function expect(ok, what, value, detail) {
  if (ok) {
    count1(`${what}: agree`);
  } else {
    problems.push(`${what}: ${value} ${JSON.stringify(detail)}`);
  }
}

// Person numbers: fødselsnummer, D-nummer, H-nummer.
const persons = candidates(personNumber, 11);
const asFnr = check('fnr', persons);
const asDnr = check('dnr', persons);
const asHnr = check('hnr', persons);
for (const v of persons) {
  const f = asFnr.get(v), d = asDnr.get(v), h = asHnr.get(v);
  const anyValid = f.valid || d.valid || h.valid;
  const navResult = nav.idnr(v);
  const navValid = navResult.status === 'valid';
  const navChecksum = navResult.status === 'invalid' && navResult.reasons.includes("checksums don't match");
  // the control digits (both rules) are judged alike
  expect((f.messageId === 'no-id-control-digit') === navChecksum, 'control digits vs navikt', v, { f, navResult });
  if (anyValid) {
    expect(navValid, 'valid for fhirreg => valid for navikt', v, { f, d, h, navResult });
  } else if (navValid) {
    // navikt does not take the century from the individual number
    const explained = [f, d, h].some((r) => r.messageId === 'no-id-century' || r.messageId === 'no-id-date');
    expect(explained, 'valid for navikt only: century or date', v, { f, d, h, navResult });
    if (explained) count1('valid for navikt only: century/29 Feb 1900 (documented)');
  }
  if (f.valid && f.synthetic === 'test-norge') {
    expect(navResult.type === 'tnr', 'Test Norge number => navikt tnr', v, { f, navResult });
  }
  // classic control digits right for norsk-validator => fhirreg's right too
  if (norsk.fodselsnummer(v)) {
    expect(f.messageId !== 'no-id-control-digit', 'norsk-validator checksum => fhirreg checksum', v, { f });
  }
}

// Felles hjelpenummer: norsk-validator's rule is the same (classic, 8 or 9).
const fhns = candidates(() => {
  for (;;) {
    const n = controls(String(8 + below(2)) + digits(8));
    if (n) return n;
  }
}, 11);
const asFhn = check('fhn', fhns);
for (const v of fhns) {
  expect(asFhn.get(v).valid === norsk.fhnummer(v), 'felles hjelpenummer vs norsk-validator', v, asFhn.get(v));
}

// Organisasjonsnummer: the same rule.
const orgs = candidates(() => {
  for (;;) {
    const eight = digits(8);
    const w = [3, 2, 7, 6, 5, 4, 3, 2];
    let k = 11 - ([...eight].reduce((s, c, i) => s + w[i] * Number(c), 0) % 11);
    if (k === 11) k = 0;
    if (k !== 10) return eight + k;
  }
}, 9);
const asOrg = check('orgnr', orgs);
for (const v of orgs) {
  expect(asOrg.get(v).valid === norsk.organisasjonsnummer(v), 'organisasjonsnummer vs norsk-validator', v, asOrg.get(v));
}

// DUF-nummer: norsk-validator checks the format only; fhirreg the control
// digits too, so fhirreg's valid ones are a subset.
const dufs = candidates(() => {
  const ten = digits(10);
  const w = [4, 6, 3, 2, 4, 6, 3, 2, 7, 5];
  return ten + pad([...ten].reduce((s, c, i) => s + w[i] * Number(c), 0) % 11, 2);
}, 12);
const asDuf = check('duf', dufs);
for (const v of dufs) {
  if (asDuf.get(v).valid) {
    expect(norsk.dufnummer(v), 'DUF valid for fhirreg => 12 digits for norsk-validator', v, asDuf.get(v));
  } else if (norsk.dufnummer(v)) {
    count1('DUF: control digits wrong, format right (norsk-validator checks format only)');
  }
}

const total = persons.length + fhns.length + orgs.length + dufs.length;
console.log(`${total} numbers checked with ${fhirreg}`);
for (const [k, n] of Object.entries(tally).sort()) console.log(`  ${n}\t${k}`);
if (problems.length) {
  console.log(`${problems.length} unexplained disagreements:`);
  for (const p of problems.slice(0, 50)) console.log(`  ${p}`);
  process.exit(1);
}
console.log(`${Object.values(tally).length ? 'all agree' : 'nothing compared'}`);
