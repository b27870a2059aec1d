// The validator page in a real browser: Debian's Chromium, driven by
// playwright-core (no browser download). Serves bindings/wasm/ on a
// loopback port, validates resources through the UI, checks the issues and
// their positions, the bad inputs of the issue, a 20 MB Bundle, the
// OperationOutcome download, keyboard use and offline use, and saves
// screenshots in test-results/.
//   CHROMIUM  the browser (default /usr/bin/chromium)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

import { serve, ROOT } from './serve.mjs';
import { BASIC_PROFILE, bundle, sharedFile, testPackage } from './helpers.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const RESULTS = path.join(ROOT, 'test-results');

let server;
let base;
let context;
let page;
let profileDir;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
  mkdirSync(RESULTS, { recursive: true });
  ({ server, url: base } = await serve(ROOT));
  // The profile sits beside the results, not in the temporary directory: the
  // browser sizes its storage quota by the disk the profile is on, and the
  // offline test caches the 16 MB module (a small tmpfs would refuse it).
  profileDir = mkdtempSync(path.join(RESULTS, 'chromium-profile-'));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
  });
  page = context.pages()[0] ?? await context.newPage();
  page.on('pageerror', (e) => console.log(`# page error: ${e.message}`));
  await page.goto(`${base}/web/`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
});

after(async () => {
  // A browser that does not close must not hold the test run.
  await Promise.race([context?.close(), new Promise((resolve) => setTimeout(resolve, 30_000).unref())]);
  server?.closeAllConnections();
  server?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

/** The 1-based line and column (code points) of `needle` in `text`, and its UTF-16 offset. */
function positionOf(text, needle) {
  const at = text.indexOf(needle);
  assert.ok(at >= 0, needle);
  const before = text.slice(0, at);
  return {
    line: before.split('\n').length,
    column: [...before.slice(before.lastIndexOf('\n') + 1)].length + 1,
    offset: at,
  };
}

/** Put `text` in the editor (as pasting does). */
async function paste(text) {
  await page.locator('#editor').fill(text);
}

/** Click Validate and wait until it is done; returns the status text. */
async function validateInPage() {
  await page.locator('#validate').click();
  await page.waitForFunction(() => !document.getElementById('validate').disabled
    && document.getElementById('progress').hidden, null, { timeout: 180_000 });
  return page.locator('#status').textContent();
}

async function issues() {
  return page.locator('#issues li button').evaluateAll((buttons) => buttons.map((b) => ({
    position: b.querySelector('.position').textContent,
    severity: b.querySelector('.severity').textContent,
    message: b.querySelector('.message').textContent,
    expression: b.querySelector('.expression')?.textContent ?? null,
  })));
}

const validPatient = JSON.stringify({
  resourceType: 'Patient',
  id: 'example',
  text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Ola Nordmann</div>' },
  active: true,
  name: [{ family: 'Nordmann', given: ['Ola'] }],
  gender: 'male',
  birthDate: '1974-12-25',
}, null, 2);

const invalidPatient = `{
  "resourceType": "Patient",
  "text": {"status": "generated", "div": "<div xmlns=\\"http://www.w3.org/1999/xhtml\\">Kari Ødegård</div>"},
  "name": [{"family": "Ødegård", "given": ["Kari"]}],
  "active": "yes",
  "gender": "kvinne",
  "birthDate": "1980-02-30"
}`;

test('the page starts with the core profiles and a language', async () => {
  await assert.doesNotReject(page.locator('#status').filter({ hasText: 'Ready' }).waitFor());
  const groups = await page.locator('#profile optgroup').evaluateAll((g) => g.map((x) => x.label));
  assert.ok(groups.includes('FHIR R4 core'), JSON.stringify(groups));
  const vitals = await page.locator('#profile option[value="http://hl7.org/fhir/StructureDefinition/vitalsigns"]').count();
  assert.equal(vitals, 1);
  const langs = await page.locator('#lang option').evaluateAll((o) => o.map((x) => x.value));
  assert.ok(langs.includes('en'));
  assert.match(await page.locator('#version').textContent(), /^fhirreg \d/);
});

test('a valid resource', async () => {
  await paste(validPatient);
  const status = await validateInPage();
  assert.match(status, /^Valid: 0 errors/);
  assert.match(await page.locator('#summary').textContent(), /^Valid/);
  const listed = await issues();
  assert.equal(listed.filter((i) => i.severity === 'error' || i.severity === 'fatal').length, 0);
  await page.screenshot({ path: path.join(RESULTS, 'valid.png') });
});

test('an invalid resource: issues, positions, marks, click to jump', async () => {
  await paste(invalidPatient);
  const status = await validateInPage();
  assert.match(status, /^Not valid: 4 errors/);
  const listed = await issues();
  const at = (needle) => { const p = positionOf(invalidPatient, needle); return `${p.line}:${p.column}`; };
  const active = listed.find((i) => i.expression === 'Patient.active');
  assert.ok(active, JSON.stringify(listed));
  assert.equal(active.severity, 'error');
  assert.equal(active.position, at('"active"'));
  const gender = listed.find((i) => i.expression === 'Patient.gender');
  assert.equal(gender.position, at('"gender"'));
  assert.match(gender.message, /kvinne/);
  const birthDate = listed.find((i) => i.expression === 'Patient.birthDate');
  assert.equal(birthDate.position, at('"birthDate"'));

  // The marks sit on the properties, at the same line:column.
  const marks = await page.locator('#highlights mark').evaluateAll((ms) => ms.map((m) => ({
    line: Number(m.dataset.line), column: Number(m.dataset.column), text: m.textContent, severity: m.className,
  })));
  const activeMark = marks.find((m) => m.text === '"active"');
  assert.ok(activeMark, JSON.stringify(marks));
  assert.equal(`${activeMark.line}:${activeMark.column}`, at('"active"'));
  assert.equal(activeMark.severity, 'error');
  assert.ok(marks.some((m) => m.text === '"gender"'));

  // Clicking an issue selects its place in the text.
  const index = listed.indexOf(gender);
  await page.locator('#issues li button').nth(index).click();
  const selection = await page.locator('#editor').evaluate((e) => ({
    start: e.selectionStart, end: e.selectionEnd, focused: document.activeElement === e,
  }));
  const offset = positionOf(invalidPatient, '"gender"').offset;
  assert.deepEqual(selection, { start: offset, end: offset + '"gender"'.length, focused: true });
  assert.equal(await page.locator('#highlights mark.active').textContent(), '"gender"');
  await page.screenshot({ path: path.join(RESULTS, 'validator.png'), fullPage: true });
});

test('keyboard: Ctrl+Enter validates, Tab reaches the issues, Enter jumps', async () => {
  await paste(invalidPatient);
  await page.locator('#editor').focus();
  await page.keyboard.press('Control+Enter');
  await page.waitForFunction(() => document.getElementById('issues').children.length > 0
    && !document.getElementById('validate').disabled);
  // Tab from the Download button reaches the first issue.
  await page.locator('#download').focus();
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => document.activeElement.closest('#issues') !== null);
  assert.ok(focused, 'the first issue has the focus');
  await page.keyboard.press('Enter');
  const inEditor = await page.evaluate(() => document.activeElement.id);
  assert.equal(inEditor, 'editor');
  const start = await page.locator('#editor').evaluate((e) => e.selectionStart);
  const first = (await issues())[0];
  const [line, column] = first.position.split(':').map(Number);
  const lines = invalidPatient.split('\n');
  const expected = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0) + [...lines[line - 1]].slice(0, column - 1).join('').length;
  assert.equal(start, expected);
});

test('XML, and the OperationOutcome download', async () => {
  const xml = '<Patient xmlns="http://hl7.org/fhir">\n  <active value="yes"/>\n</Patient>';
  await paste(xml);
  await validateInPage();
  const listed = await issues();
  const active = listed.find((i) => i.expression === 'Patient.active');
  assert.equal(active.position.split(':')[0], '2');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('#download').click(),
  ]);
  const file = path.join(RESULTS, download.suggestedFilename());
  await download.saveAs(file);
  const oo = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(oo.resourceType, 'OperationOutcome');
  assert.equal(oo.issue.length, listed.length);
  assert.ok(oo.issue.some((i) => i.expression?.[0] === 'Patient.active'));
});

test('bad input: text that is neither JSON nor XML', async () => {
  await paste('Dette er ikke FHIR, bare tekst.');
  const status = await validateInPage();
  assert.equal(status, 'Not validated.');
  assert.match(await page.locator('#alert').textContent(), /not readable JSON or XML.*line 1, column 1/);
  assert.equal(await page.locator('#issues li').count(), 0);
});

test('bad input: malformed JSON shows where', async () => {
  await paste('{\n  "resourceType": "Patient",\n  "active": true,\n  "name": [\n}');
  await validateInPage();
  assert.match(await page.locator('#alert').textContent(), /not readable JSON or XML \(line 5/);
});

test('bad input: a document that is not FHIR', async () => {
  await paste('{"customer": {"name": "Kari"}}');
  await validateInPage();
  assert.match(await page.locator('#alert').textContent(), /This is not a FHIR resource.*resourceType/);
  await paste('<note><to>Tove</to></note>');
  await validateInPage();
  assert.match(await page.locator('#alert').textContent(), /This is not a FHIR resource.*namespace/);
});

test('bad input: an unknown profile', async () => {
  await paste(validPatient);
  await page.locator('#profile-url').fill('http://example.org/StructureDefinition/no-such-profile');
  await validateInPage();
  assert.match(await page.locator('#alert').textContent(), /Unknown profile.*no-such-profile/);
  await page.locator('#profile-url').fill('');
});

test('a profile from the picker', async () => {
  await paste('{"resourceType": "Observation", "status": "final", "code": {"text": "Puls"}}');
  await page.locator('#profile').selectOption('http://hl7.org/fhir/StructureDefinition/vitalsigns');
  assert.match(await validateInPage(), /^Not valid/);
  await page.locator('#profile').selectOption('');
  assert.match(await validateInPage(), /^Valid/);
});

test('bad input: a package file that is not a package, then a real one', async () => {
  await page.locator('#package-file').setInputFiles({
    name: 'not-a-package.tgz', mimeType: 'application/gzip', buffer: Buffer.from('this is not a package'),
  });
  await page.locator('#alert').filter({ hasText: 'not-a-package.tgz' }).waitFor();
  assert.match(await page.locator('#alert').textContent(), /could not be loaded as a FHIR package/);
  assert.match(await page.locator('#status').textContent(), /not loaded/);
  // The validator still works.
  await paste(validPatient);
  assert.match(await validateInPage(), /^Valid/);

  await page.locator('#package-file').setInputFiles({
    name: 'test.basic-1.0.0.tgz', mimeType: 'application/gzip', buffer: Buffer.from(testPackage()),
  });
  await page.locator('#packages li', { hasText: 'test.basic#1.0.0' }).waitFor();
  await page.locator('#profile').selectOption(BASIC_PROFILE);
  await paste('{"resourceType": "Basic", "code": {"text": "x"}}');
  assert.match(await validateInPage(), /^Not valid: 1 error/);
  assert.ok((await issues()).some((i) => /subject/.test(i.message)));
  await page.locator('#profile').selectOption('');
});

test('the Norwegian base profiles from a package file, when ../shared is present', async (t) => {
  const bytes = sharedFile('packages/hl7.fhir.no.basis#2.2.3-test.tgz');
  if (!bytes) {
    t.skip('../shared/packages is absent');
    return;
  }
  await page.locator('#package-file').setInputFiles({ name: 'hl7.fhir.no.basis-2.2.3-test.tgz', mimeType: 'application/gzip', buffer: bytes });
  await page.locator('#packages li', { hasText: 'hl7.fhir.no.basis' }).waitFor();
  const profile = 'http://hl7.no/fhir/ig/StructureDefinition/no-basis-Patient';
  await page.locator('#profile').selectOption(profile);
  await paste(JSON.stringify({ resourceType: 'Patient', identifier: [{ system: 'urn:oid:2.16.578.1.12.4.1.4.1' }] }, null, 2));
  assert.match(await validateInPage(), /^Not valid/);
  await page.locator('#profile').selectOption('');
});

test('a 20 MB Bundle: progress shown, the page stays responsive', async () => {
  const text = bundle(30000);
  assert.ok(text.length >= 20e6, `${text.length}`);
  await page.locator('#file').setInputFiles({ name: 'bundle-20mb.json', mimeType: 'application/json', buffer: Buffer.from(text) });
  await page.locator('#status').filter({ hasText: 'Opened bundle-20mb.json' }).waitFor({ timeout: 60_000 });
  await page.locator('#validate').click();
  await page.locator('#progress').waitFor({ state: 'visible' });
  assert.match(await page.locator('#status').textContent(), /^Validating 19\.\d MB|^Validating 2\d\.\d MB/);
  assert.equal(await page.locator('#cancel').isVisible(), true);
  // The main thread answers while the worker validates.
  const delays = [];
  for (let i = 0; i < 5; i++) {
    delays.push(await page.evaluate(() => new Promise((resolve) => {
      const t0 = performance.now();
      setTimeout(() => resolve(performance.now() - t0), 0);
    })));
  }
  assert.ok(Math.max(...delays) < 250, `timer delays ${delays.map((d) => d.toFixed(0))} ms`);
  await page.locator('#profile-url').fill('typing works');
  assert.equal(await page.locator('#profile-url').inputValue(), 'typing works');
  await page.locator('#profile-url').fill('');
  await page.screenshot({ path: path.join(RESULTS, 'validating-20mb.png') });
  await page.waitForFunction(() => document.getElementById('progress').hidden, null, { timeout: 300_000 });
  const status = await page.locator('#status').textContent();
  assert.match(status, /^Not valid: 10,?000 errors|^Not valid: 10000 errors/);
  assert.match(await page.locator('#large-note').textContent(), /^Large text \(2\d\.\d MB, [\d,]+ lines\): showing lines 1–1,000, read-only/);
  // The list shows a first page, and more on request.
  assert.equal(await page.locator('#issues li').count(), 500);
  await page.locator('#more').click();
  assert.equal(await page.locator('#issues li').count(), 1000);
  // Jumping shows the part of the text with the issue, marked and selected.
  const listed = await issues();
  const last = listed.length - 1;
  await page.locator('#issues li button').nth(last).click();
  const [line] = listed[last].position.split(':').map(Number);
  const note = await page.locator('#large-note').textContent();
  const [, from, to] = note.match(/showing lines ([\d,]+)–([\d,]+)/).map((n) => Number(String(n).replaceAll(',', '')));
  assert.ok(from <= line && line <= to, `${line} in ${from}–${to}`);
  const selected = await page.locator('#editor').evaluate((e) => e.value.slice(e.selectionStart, e.selectionEnd));
  assert.equal(selected, '"birthDate"');
  const startLine = await page.locator('#editor').evaluate((e) => e.value.slice(0, e.selectionStart).split('\n').length);
  assert.equal(from + startLine - 1, line);
  assert.equal(await page.locator('#highlights mark.active').textContent(), '"birthDate"');
  await page.screenshot({ path: path.join(RESULTS, 'bundle-20mb.png') });
});

test('Stop ends a long validation, and the validator works after it', async () => {
  await page.locator('#file').setInputFiles({ name: 'big.json', mimeType: 'application/json', buffer: Buffer.from(bundle(30000)) });
  await page.locator('#status').filter({ hasText: 'Opened big.json' }).waitFor({ timeout: 60_000 });
  await page.locator('#validate').click();
  await page.locator('#cancel').waitFor({ state: 'visible' });
  await page.locator('#cancel').click();
  await page.locator('#status').filter({ hasText: 'Stopped.' }).waitFor({ timeout: 60_000 });
  await page.locator('#clear').click();
  await paste(invalidPatient);
  assert.match(await validateInPage(), /^Not valid: 4 errors/);
  // The packages loaded before are still there.
  assert.equal(await page.locator(`#profile option[value="${BASIC_PROFILE}"]`).count(), 1);
});

test('offline: with the server gone, the page and the validator still work', async () => {
  // The service worker controls the page once it is active.
  const worker = await page.evaluate(async () => {
    const active = await Promise.race([
      navigator.serviceWorker.ready.then(() => true),
      new Promise((resolve) => setTimeout(() => resolve(false), 60_000)),
    ]);
    const registration = await navigator.serviceWorker.getRegistration();
    const { quota, usage } = await navigator.storage.estimate();
    return {
      active,
      state: registration ? ['installing', 'waiting', 'active'].filter((s) => registration[s]).join(',') : 'not registered',
      quota,
      usage,
    };
  });
  assert.equal(worker.active, true, `the service worker is not active after 60 s: ${JSON.stringify(worker)}`);
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
  assert.equal(await page.evaluate(() => navigator.serviceWorker.controller !== null), true);
  // close() alone waits for every open connection, and the browser may hold
  // one that never sends a request: end them all at once.
  const closed = new Promise((resolve) => server.close(resolve));
  server.closeAllConnections();
  await closed;
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
  await paste(invalidPatient);
  assert.match(await validateInPage(), /^Not valid: 4 errors/);
  await page.screenshot({ path: path.join(RESULTS, 'offline.png') });
});
