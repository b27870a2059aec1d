// The validation worker: holds the fhirreg validator so that the page stays
// responsive while a large resource is validated. Messages in and out are
// plain objects with a `type`; every request carries an `id` that its
// answer repeats.
import { init, Validator, FhirRegError, version, languages } from '../pkg/fhirreg.js';

let validator = null;
let packages = []; // [{name, data}] loaded so far
let lang = 'en';
let last = null; // the last ValidationResult, for its OperationOutcome

function post(message) {
  self.postMessage(message);
}

function failure(id, e) {
  if (e instanceof FhirRegError) {
    return { type: 'error', id, kind: e.kind, message: e.message, line: e.line, column: e.column };
  }
  return { type: 'error', id, kind: 'internal', message: String((e && e.message) || e) };
}

/** Build the validator for the current packages and language. */
function build() {
  validator = new Validator({ packages, lang });
  return {
    profiles: validator.listProfiles(),
    packages: validator.packages,
    lang: validator.lang,
  };
}

async function handle(message) {
  const { id, type } = message;
  switch (type) {
    case 'init': {
      await init();
      const config = build();
      post({ type: 'ready', id, version: version(), languages: languages(), ...config });
      return;
    }
    case 'add-packages': {
      // Keep the old set when a new package cannot be loaded.
      const before = packages;
      packages = [...packages, ...message.packages];
      try {
        post({ type: 'configured', id, ...build() });
      } catch (e) {
        packages = before;
        validator = null;
        build();
        throw e;
      }
      return;
    }
    case 'set-lang': {
      lang = message.lang;
      post({ type: 'configured', id, ...build() });
      return;
    }
    case 'validate': {
      last = null;
      post({ type: 'progress', id, phase: 'validating', bytes: message.text.length });
      const started = performance.now();
      const result = validator.validate(message.text, message.profile || undefined);
      const ms = performance.now() - started;
      last = result;
      post({ type: 'result', id, valid: result.valid, issues: result.issues, ms });
      return;
    }
    case 'operation-outcome': {
      if (!last) throw new FhirRegError('internal', 'nothing has been validated yet');
      post({ type: 'operation-outcome', id, json: JSON.stringify(last.toOperationOutcome(), null, 2) });
      return;
    }
    default:
      throw new FhirRegError('internal', `unknown request ${type}`);
  }
}

self.onmessage = async (event) => {
  const message = event.data;
  try {
    await handle(message);
  } catch (e) {
    post(failure(message.id, e));
    if (e instanceof FhirRegError && e.kind === 'internal') {
      // A bug stopped the WebAssembly instance: start a new one for the
      // next request.
      try {
        await init();
        build();
      } catch { /* reported with the next request */ }
    }
  }
};
