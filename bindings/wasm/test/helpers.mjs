// Test helpers: FHIR packages built on the fly, and the shared test data.
import { gzipSync } from 'node:zlib';
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The file in test/fixtures/. */
export function fixture(name) {
  return readFileSync(path.join(here, 'fixtures', name), 'utf8');
}

/** ../shared (next to the repository), when present. */
export const shared = path.resolve(here, '../../../../shared');

/** A file of ../shared, or null when ../shared is absent. */
export function sharedFile(relative) {
  const file = path.join(shared, relative);
  return existsSync(file) ? readFileSync(file) : null;
}

/** A ustar archive of `files` ({name, data: string|Uint8Array}), gzipped: an npm package. */
export function tgz(files) {
  const blocks = [];
  const enc = new TextEncoder();
  for (const { name, data } of files) {
    const body = typeof data === 'string' ? enc.encode(data) : data;
    const header = new Uint8Array(512);
    const put = (offset, text) => header.set(enc.encode(text), offset);
    put(0, name);
    put(100, '0000644\0');
    put(108, '0000000\0');
    put(116, '0000000\0');
    put(124, body.length.toString(8).padStart(11, '0') + '\0');
    put(136, '00000000000\0');
    put(156, '0');
    put(257, 'ustar\0');
    put(263, '00');
    // The checksum is computed with its own field as spaces.
    put(148, '        ');
    const sum = header.reduce((a, b) => a + b, 0);
    put(148, sum.toString(8).padStart(6, '0') + '\0 ');
    blocks.push(header, body, new Uint8Array((512 - (body.length % 512)) % 512));
  }
  blocks.push(new Uint8Array(1024));
  const size = blocks.reduce((a, b) => a + b.length, 0);
  const tar = new Uint8Array(size);
  let at = 0;
  for (const b of blocks) {
    tar.set(b, at);
    at += b.length;
  }
  return new Uint8Array(gzipSync(tar));
}

/** A package `test.basic#1.0.0` holding the profile test-basic-with-subject. */
export function testPackage() {
  return tgz([
    {
      name: 'package/package.json',
      data: JSON.stringify({
        name: 'test.basic',
        version: '1.0.0',
        fhirVersions: ['4.0.1'],
        dependencies: { 'hl7.fhir.r4.core': '4.0.1' },
      }),
    },
    {
      name: 'package/StructureDefinition-test-basic-with-subject.json',
      data: fixture('StructureDefinition-test-basic-with-subject.json'),
    },
  ]);
}

export const BASIC_PROFILE = 'http://example.org/fhir/StructureDefinition/test-basic-with-subject';

/** A Bundle of `n` Patients, every third with a bad birthDate, pretty-printed. */
export function bundle(n) {
  const entry = [];
  for (let i = 0; i < n; i++) {
    entry.push({
      fullUrl: `urn:uuid:00000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
      resource: {
        resourceType: 'Patient',
        id: `p${i}`,
        text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">A patient</div>' },
        active: true,
        name: [{ family: `Family${i}`, given: ['Given', `Middle${i}`] }],
        gender: i % 2 ? 'female' : 'male',
        birthDate: i % 3 === 0 ? '1985-13-01' : '1985-02-01',
        address: [{ line: [`Street ${i}`], city: 'Oslo', postalCode: '0150', country: 'NO' }],
      },
    });
  }
  return JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry }, null, 2);
}
