// The npm package's API, in Node (node:test). Run by `npm test` after
// build.sh; the package is imported from pkg/ as a user would import it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

import {
  init, Validator, ValidationResult, FhirRegError, Expression, fhirpath,
  version, languages, fhirVersions, _panicForTests,
} from '../pkg/fhirreg.js';
import { BASIC_PROFILE, bundle, fixture, sharedFile, testPackage, tgz } from './helpers.mjs';

await init();
const validator = new Validator();

/** The 1-based line and column (in code points) of the first `needle` in `text`. */
function positionOf(text, needle) {
  const at = text.indexOf(needle);
  assert.ok(at >= 0, `${needle} is in the text`);
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  const column = [...before.slice(before.lastIndexOf('\n') + 1)].length + 1;
  return { line, column };
}

/** Run `f`, expect a FhirRegError of `kind`; return it. */
function throwsKind(f, kind) {
  let error;
  assert.throws(f, (e) => {
    error = e;
    return e instanceof FhirRegError && e instanceof Error && e.kind === kind;
  }, `a FhirRegError of kind ${kind}`);
  return error;
}

const patient = JSON.stringify({
  resourceType: 'Patient',
  id: 'example',
  text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Peter</div>' },
  active: true,
  name: [{ family: 'Chalmers', given: ['Peter'] }],
  gender: 'male',
  birthDate: '1974-12-25',
}, null, 2);

const badPatient = `{
  "resourceType": "Patient",
  "text": {"status": "generated", "div": "<div xmlns=\\"http://www.w3.org/1999/xhtml\\">Ærlig</div>"},
  "name": [{"family": "Ødegård", "given": ["Åse"]}],
  "active": "yes",
  "gender": "x",
  "birthDate": "1974-13-25"
}`;

test('module facts', () => {
  assert.match(version(), /^\d+\.\d+\.\d+/);
  assert.ok(languages().includes('en'));
  assert.ok(fhirVersions().includes('4.0.1'));
});

test('a valid resource, as text, bytes and object', () => {
  for (const input of [patient, new TextEncoder().encode(patient), JSON.parse(patient)]) {
    const result = validator.validate(input);
    assert.ok(result instanceof ValidationResult);
    assert.equal(result.valid, true, JSON.stringify(result.issues));
    assert.equal(result.issues.filter((i) => i.severity === 'error').length, 0);
    assert.equal(validator.isValid(input), true);
  }
});

test('an invalid resource: issues with message ids, expressions and positions', () => {
  const result = validator.validate(badPatient);
  assert.equal(result.valid, false);
  const byId = Object.fromEntries(result.issues.map((i) => [i.messageId, i]));
  const active = byId['boolean-invalid'];
  assert.ok(active, JSON.stringify(result.issues));
  assert.equal(active.severity, 'error');
  assert.equal(active.expression, 'Patient.active');
  assert.deepEqual({ line: active.line, column: active.column }, positionOf(badPatient, '"active"'));
  assert.match(active.message, /true|false/);
  const gender = result.issues.find((i) => i.expression === 'Patient.gender');
  assert.equal(gender.severity, 'error');
  assert.equal(gender.code, 'code-invalid');
  assert.deepEqual({ line: gender.line, column: gender.column }, positionOf(badPatient, '"gender"'));
  const birthDate = result.issues.find((i) => i.expression === 'Patient.birthDate');
  assert.deepEqual({ line: birthDate.line, column: birthDate.column }, positionOf(badPatient, '"birthDate"'));
  for (const issue of result.issues) {
    assert.deepEqual(Object.keys(issue).sort(),
      ['code', 'column', 'expression', 'line', 'message', 'messageId', 'severity']);
  }
  assert.equal(validator.isValid(badPatient), false);
});

test('positions count code points: a column after non-ASCII text', () => {
  const text = '{"resourceType":"Patient","name":[{"family":"Ødegård😀"}],"active":"no"}';
  const issue = validator.validate(text).issues.find((i) => i.messageId === 'boolean-invalid');
  assert.deepEqual({ line: issue.line, column: issue.column }, positionOf(text, '"active"'));
});

test('an object has no text: no positions', () => {
  const result = validator.validate(JSON.parse(badPatient));
  assert.equal(result.valid, false);
  assert.ok(result.issues.length > 0);
  for (const issue of result.issues) {
    assert.equal(issue.line, null);
    assert.equal(issue.column, null);
  }
});

test('XML, with positions', () => {
  const xml = `<Patient xmlns="http://hl7.org/fhir">
  <active value="yes"/>
</Patient>`;
  const result = validator.validate(xml);
  assert.equal(result.valid, false);
  const active = result.issues.find((i) => i.expression === 'Patient.active');
  assert.ok(active, JSON.stringify(result.issues));
  assert.equal(active.line, 2);
});

test('toOperationOutcome', () => {
  const result = validator.validate(badPatient);
  const oo = result.toOperationOutcome();
  assert.equal(oo.resourceType, 'OperationOutcome');
  assert.equal(oo.issue.length, result.issues.length);
  const first = oo.issue[0];
  assert.equal(first.severity, result.issues[0].severity);
  assert.equal(first.details.text, result.issues[0].message);
  const line = first.extension.find((e) => e.url.endsWith('operationoutcome-issue-line'));
  assert.equal(line.valueInteger, result.issues[0].line);
  const ok = validator.validate(patient).toOperationOutcome();
  assert.ok(ok.issue.length >= 1);
});

test('profiles: per call, per validator, unknown', () => {
  const vitals = 'http://hl7.org/fhir/StructureDefinition/vitalsigns';
  const obs = { resourceType: 'Observation', status: 'final', code: { text: 'x' } };
  assert.equal(validator.validate(obs).valid, true);
  assert.equal(validator.validate(obs, vitals).valid, false);
  assert.equal(validator.isValid(obs, [vitals]), false);
  const strict = new Validator({ profiles: [vitals] });
  assert.deepEqual(strict.profiles, [vitals]);
  assert.equal(strict.validate(obs).valid, false);
  const e = throwsKind(() => validator.validate(obs, 'http://example.org/no-such-profile'), 'unknown-profile');
  assert.equal(e.profile, 'http://example.org/no-such-profile');
  throwsKind(() => validator.isValid(obs, 'http://example.org/no-such-profile'), 'unknown-profile');
  throwsKind(() => new Validator({ profiles: ['http://example.org/no-such-profile'] }), 'unknown-profile');
  const profiles = validator.listProfiles();
  assert.ok(profiles.some((p) => p.url === vitals && p.core && p.type === 'Observation'));
  assert.ok(!profiles.some((p) => p.type === 'Extension'));
});

test('a package loaded from .tgz bytes', () => {
  const withPackage = new Validator({ packages: [{ name: 'test.basic.tgz', data: testPackage() }] });
  assert.deepEqual(withPackage.packages, [{ name: 'test.basic', version: '1.0.0', resources: 1 }]);
  const listed = withPackage.listProfiles().find((p) => p.url === BASIC_PROFILE);
  assert.ok(listed);
  assert.equal(listed.core, false);
  assert.equal(listed.type, 'Basic');
  const basic = { resourceType: 'Basic', code: { text: 'x' } };
  assert.equal(withPackage.validate(basic).valid, true);
  const result = withPackage.validate(basic, BASIC_PROFILE);
  assert.equal(result.valid, false);
  assert.ok(result.issues.some((i) => i.severity === 'error' && /subject/.test(i.message)),
    JSON.stringify(result.issues));
  const withSubject = { ...basic, subject: { reference: 'Patient/1' } };
  assert.equal(withPackage.validate(withSubject, BASIC_PROFILE).valid, true,
    JSON.stringify(withPackage.validate(withSubject, BASIC_PROFILE).issues));
  // Also as a bare ArrayBuffer, and a single resource instead of a package.
  const bytes = testPackage();
  new Validator({ packages: [bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)] });
  const single = new Validator({ packages: [new TextEncoder().encode(fixture('StructureDefinition-test-basic-with-subject.json'))] });
  assert.equal(single.validate(basic, BASIC_PROFILE).valid, false);
});

test('the Norwegian base profiles (no-basis), when ../shared is present', (t) => {
  const tgzBytes = sharedFile('packages/hl7.fhir.no.basis#2.2.3-test.tgz');
  if (!tgzBytes) {
    t.skip('../shared/packages is absent');
    return;
  }
  const no = new Validator({ packages: [{ name: 'no-basis.tgz', data: new Uint8Array(tgzBytes) }] });
  assert.equal(no.packages[0].name, 'hl7.fhir.no.basis');
  const profile = 'http://hl7.no/fhir/ig/StructureDefinition/no-basis-Patient';
  assert.ok(no.listProfiles().some((p) => p.url === profile && p.type === 'Patient' && !p.core));
  const fnr = 'urn:oid:2.16.578.1.12.4.1.4.1';
  const pasient = {
    resourceType: 'Patient',
    identifier: [{ system: fnr, value: '13031353453' }],
    name: [{ family: 'Nordmann', given: ['Ola'] }],
  };
  assert.equal(no.validate(pasient, profile).valid, true, JSON.stringify(no.validate(pasient, profile).issues));
  // The FNR slice requires a value: only the profile says so.
  const withoutValue = { ...pasient, identifier: [{ system: fnr }] };
  assert.equal(no.validate(withoutValue).valid, true);
  const result = no.validate(withoutValue, profile);
  assert.equal(result.valid, false);
  assert.ok(result.issues.some((i) => i.severity === 'error' && /identifier/.test(i.expression ?? '')),
    JSON.stringify(result.issues));
  // meta.profile applies it too.
  assert.equal(no.validate({ ...withoutValue, meta: { profile: [profile] } }).valid, false);
});

test('bad input: text that is neither JSON nor XML', () => {
  const e = throwsKind(() => validator.validate('hello, this is not FHIR'), 'parse');
  assert.equal(e.line, 1);
  assert.equal(e.column, 1);
  assert.equal(validator.isValid('hello'), false);
  throwsKind(() => validator.validate(''), 'parse');
});

test('bad input: malformed JSON and XML, with the position', () => {
  const e = throwsKind(() => validator.validate('{\n  "resourceType": "Patient",\n  "active": "tru\n}'), 'parse');
  assert.equal(e.line, 3);
  assert.ok(e.column > 1);
  const x = throwsKind(() => validator.validate('<Patient xmlns="http://hl7.org/fhir">\n<active value="true">\n</Patient>'), 'parse');
  assert.ok(x.line >= 2, x.message);
});

test('bad input: a document that is not FHIR', () => {
  for (const text of [
    '{"name": "not a resource"}',
    '{"resourceType": "Banana"}',
    '{"resourceType": 5}',
    '<note><to>Tove</to></note>',
    '<Patient xmlns="http://example.org/not-fhir"/>',
  ]) {
    const e = throwsKind(() => validator.validate(text), 'not-fhir');
    assert.ok(e.message.length > 10, e.message);
    assert.equal(e.line, 1);
  }
  throwsKind(() => validator.validate({ hello: 'world' }), 'not-fhir');
});

test('bad input: values of the wrong type', () => {
  for (const value of [42, null, undefined, true, [1, 2], Symbol('x')]) {
    throwsKind(() => validator.validate(value), 'input-type');
  }
  const cyclic = { resourceType: 'Patient' };
  cyclic.self = cyclic;
  throwsKind(() => validator.validate(cyclic), 'input-type');
  throwsKind(() => validator.validate(patient, 42), 'input-type');
  throwsKind(() => validator.lookup(42, 'x'), 'input-type');
  throwsKind(() => new Validator({ packages: 'not an array' }), 'input-type');
  throwsKind(() => new Validator({ packages: ['a string'] }), 'input-type');
});

test('bad input: a package file that is not a package', () => {
  const notGzip = new TextEncoder().encode('this is not a package');
  const e = throwsKind(() => new Validator({ packages: [{ name: 'x.tgz', data: notGzip }] }), 'load');
  assert.match(e.message, /x\.tgz/);
  // Gzip, but not a tar archive; a tar archive without package.json.
  throwsKind(() => new Validator({ packages: [{ name: 'y.tgz', data: gzipSync(Buffer.from('plain text')) }] }), 'load');
  throwsKind(() => new Validator({ packages: [{ name: 'z.tgz', data: tgz([{ name: 'package/readme.txt', data: 'hi' }]) }] }), 'load');
  // A truncated package.
  const cut = testPackage().slice(0, 200);
  throwsKind(() => new Validator({ packages: [{ name: 'cut.tgz', data: cut }] }), 'load');
});

test('bad input: configuration', () => {
  throwsKind(() => new Validator({ fhirVersion: '5.0.0' }), 'configuration');
  throwsKind(() => new Validator({ lang: 'tlh' }), 'configuration');
  throwsKind(() => new Validator({ colour: 'red' }), 'configuration');
  throwsKind(() => new Validator({ maxIssues: -1 }), 'configuration');
  throwsKind(() => new Validator({ profiles: 'http://x' }), 'configuration');
  throwsKind(() => new Validator('options'), 'configuration');
});

test('bad input: too large, too deep', () => {
  const small = new Validator({ maxSize: 1000 });
  throwsKind(() => small.validate(patient + ' '.repeat(2000)), 'too-large');
  throwsKind(() => small.validate(new TextEncoder().encode(patient + ' '.repeat(2000))), 'too-large');
  assert.equal(small.validate(patient).valid, true);
  // Nesting beyond the parse limit is a parse error, not a stack overflow.
  const deep = '{"resourceType":"Patient","extension":' + '['.repeat(100000) + ']'.repeat(100000) + '}';
  throwsKind(() => validator.validate(deep), 'parse');
  const deepObject = '{"resourceType":"Patient","a":'.repeat(1) + '{"a":'.repeat(50000) + '1' + '}'.repeat(50001);
  throwsKind(() => validator.validate(deepObject), 'parse');
  const deepXml = '<Patient xmlns="http://hl7.org/fhir">' + '<extension>'.repeat(20000) + '</extension>'.repeat(20000) + '</Patient>';
  throwsKind(() => validator.validate(deepXml), 'parse');
});

test('deep but allowed nesting validates without exhausting the stack', () => {
  // 200 nested extensions (each level is an extension of an extension).
  let ext = { url: 'http://example.org/leaf', valueString: 'x' };
  for (let i = 0; i < 200; i++) ext = { url: `http://example.org/level${i}`, extension: [ext] };
  const result = validator.validate({ resourceType: 'Patient', extension: [ext] });
  assert.ok(Array.isArray(result.issues));
  // And a FHIRPath expression nested to the limit.
  const nested = '('.repeat(190) + '1' + ')'.repeat(190);
  assert.deepEqual(fhirpath.evaluate(nested, patient), [1]);
  throwsKind(() => fhirpath.compile('('.repeat(5000) + '1' + ')'.repeat(5000)), 'fhirpath-syntax');
});

test('a large Bundle (5 MB) validates, with its issues', () => {
  const text = bundle(7000);
  assert.ok(text.length > 5e6, `${text.length}`);
  const started = performance.now();
  const result = validator.validate(text);
  const ms = performance.now() - started;
  assert.equal(result.valid, false);
  const dates = result.issues.filter((i) => i.expression && /birthDate$/.test(i.expression) && i.severity === 'error');
  assert.equal(dates.length, 2334);
  assert.deepEqual({ line: dates[0].line, column: dates[0].column }, positionOf(text, '"birthDate": "1985-13-01"'));
  console.log(`# 5 MB Bundle of 7,000 Patients: ${ms.toFixed(0)} ms, ${result.issues.length} issues`);
});

test('FHIRPath: evaluate, compile, variables, errors', () => {
  assert.deepEqual(fhirpath.evaluate('Patient.name.given', patient), ['Peter']);
  assert.deepEqual(fhirpath.evaluate('name.family', JSON.parse(patient)), ['Chalmers']);
  assert.deepEqual(fhirpath.evaluate('birthDate < @2000-01-01', patient), [true]);
  assert.deepEqual(fhirpath.evaluate('now() > @2020-01-01', patient), [true]);
  assert.deepEqual(fhirpath.evaluate('today() > @2020-01-01', patient), [true]);
  const expr = fhirpath.compile('name.given.where($this in %wanted).count()');
  assert.ok(expr instanceof Expression);
  assert.equal(expr.source, 'name.given.where($this in %wanted).count()');
  assert.deepEqual(expr.evaluate(patient, { variables: { wanted: ['Peter', 'Pete'] } }), [1]);
  assert.deepEqual(expr.evaluate(patient, { variables: { wanted: [] } }), [0]);
  assert.deepEqual(fhirpath.evaluate('name.first()', patient), [{ family: 'Chalmers', given: ['Peter'] }]);
  assert.deepEqual(fhirpath.evaluate('active', patient, { validator }), [true]);
  const syntax = throwsKind(() => fhirpath.compile('name.given.where('), 'fhirpath-syntax');
  assert.equal(syntax.line, 1);
  assert.ok(syntax.column > 0);
  throwsKind(() => fhirpath.evaluate('name.given.single()', '{"resourceType":"Patient","name":[{"given":["a","b"]}]}'), 'fhirpath');
  throwsKind(() => fhirpath.evaluate('name', 'not a resource'), 'parse');
  throwsKind(() => fhirpath.evaluate(42, patient), 'input-type');
  throwsKind(() => expr.evaluate(patient, { validator: {} }), 'input-type');
});

test('terminology: expand, lookup, validateCode, translate, subsumes', () => {
  const gender = 'http://hl7.org/fhir/ValueSet/administrative-gender';
  const system = 'http://hl7.org/fhir/administrative-gender';
  const all = validator.expand(gender);
  assert.equal(all.expansion.total, 4);
  const fem = validator.expand(gender, { filter: 'fem' });
  assert.deepEqual(fem.expansion.contains.map((c) => c.code), ['female']);
  assert.equal(validator.expand(gender, { offset: 1, count: 2 }).expansion.contains.length, 2);
  const male = validator.lookup(system, 'male');
  assert.equal(male.resourceType, 'Parameters');
  assert.equal(male.parameter.find((p) => p.name === 'display').valueString, 'Male');
  const ok = validator.validateCode(gender, system, 'male');
  assert.equal(ok.parameter.find((p) => p.name === 'result').valueBoolean, true);
  const bad = validator.validateCode(gender, system, 'x');
  assert.equal(bad.parameter.find((p) => p.name === 'result').valueBoolean, false);
  const inSystem = validator.validateCode(null, 'urn:iso:std:iso:3166', 'NO', 'Norway');
  assert.equal(inSystem.parameter.find((p) => p.name === 'result').valueBoolean, true);
  const tr = validator.translate('http://hl7.org/fhir/ConceptMap/101', 'http://hl7.org/fhir/address-use', 'home');
  assert.equal(tr.parameter.find((p) => p.name === 'result').valueBoolean, true);
  const sub = validator.subsumes(system, 'male', 'male');
  assert.equal(sub.parameter[0].valueCode, 'equivalent');
  // HL7 terminology (THO) is embedded too.
  const v2 = validator.lookup('http://terminology.hl7.org/CodeSystem/v2-0203', 'MR');
  assert.ok(v2.parameter.some((p) => p.name === 'display'));
  throwsKind(() => validator.expand('http://example.org/no-such-value-set'), 'terminology');
  throwsKind(() => validator.lookup(system, 'no-such-code'), 'terminology');
  throwsKind(() => validator.translate('http://example.org/no-map', system, 'male'), 'terminology');
});

test('languages: lang is passed through', () => {
  for (const lang of languages()) {
    const v = new Validator({ lang });
    assert.equal(v.lang, lang);
    const result = v.validate(badPatient);
    assert.equal(result.valid, false);
    assert.equal(result.toOperationOutcome().issue[0].details.text, result.issues[0].message);
  }
});

test('maxIssues', () => {
  const v = new Validator({ maxIssues: 1 });
  const result = v.validate(badPatient);
  assert.equal(result.issues.length, 2);
  assert.equal(result.issues[1].messageId, 'too-many-issues');
  assert.equal(result.valid, false);
});

test('a panic in the core is a FhirRegError, and init() starts a new instance', async () => {
  const before = new Validator({ packages: [testPackage()] });
  assert.equal(before.validate({ resourceType: 'Basic', code: { text: 'x' } }, BASIC_PROFILE).valid, false);
  const e = throwsKind(() => _panicForTests(), 'internal');
  assert.match(e.message, /a panic for the tests/);
  // The stopped instance is not used again.
  const stopped = throwsKind(() => validator.validate(patient), 'internal');
  assert.match(stopped.message, /init\(\)/);
  await init();
  // Validators made before rebuild themselves on the new instance.
  assert.equal(validator.validate(patient).valid, true);
  assert.equal(before.validate({ resourceType: 'Basic', code: { text: 'x' } }, BASIC_PROFILE).valid, false);
  assert.deepEqual(fhirpath.evaluate('Patient.name.given', patient), ['Peter']);
});

test('the .wasm is at most 4 MB gzipped', () => {
  const wasm = readFileSync(fileURLToPath(new URL('../pkg/fhirreg_wasm_bg.wasm', import.meta.url)));
  const gzipped = gzipSync(wasm, { level: 9 }).length;
  console.log(`# fhirreg_wasm_bg.wasm: ${wasm.length} bytes, ${gzipped} bytes gzipped`);
  assert.ok(gzipped <= 4_000_000, `${gzipped} bytes gzipped`);
});
