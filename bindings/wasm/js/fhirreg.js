// fhirreg: FHIR R4 validation in JavaScript (Node 18+ and browsers), on
// the same Rust core as the fhirreg CLI, compiled to WebAssembly. Nothing
// leaves the machine: the FHIR R4 core definitions and the HL7 terminology
// are inside the .wasm file.
//
// This module is the package's API: it loads the WebAssembly module, turns
// resources (strings, bytes, objects) into the bytes the core reads, turns
// the errors the core throws into FhirRegError, and recovers from a
// WebAssembly trap (a bug in the core) without taking the page down.

import * as firstGlue from './fhirreg_wasm.js';

const GLUE = './fhirreg_wasm.js';
const WASM = './fhirreg_wasm_bg.wasm';

/** Every error this package throws. `kind` tells which problem it is. */
export class FhirRegError extends Error {
  /**
   * @param {string} kind
   * @param {string} message
   * @param {{line?: number|null, column?: number|null, profile?: string|null, cause?: unknown}} [details]
   */
  constructor(kind, message, details = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'FhirRegError';
    this.kind = kind;
    this.line = details.line ?? null;
    this.column = details.column ?? null;
    this.profile = details.profile ?? null;
  }
}

// The instantiated module: the glue's namespace, and a generation number
// that changes when a trap forces a new instance.
let glue = null;
let generation = 0;
let broken = null; // the message of the trap that stopped the instance
let compiled = null; // the compiled WebAssembly.Module, reused by re-init
let loading = null;

async function compile(source) {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return WebAssembly.compile(source);
  if (source instanceof Response || (typeof Request !== 'undefined' && source instanceof Request)) {
    const response = source instanceof Response ? source : await fetch(source);
    return WebAssembly.compile(await response.arrayBuffer());
  }
  const url = source instanceof URL ? source : new URL(source ?? WASM, import.meta.url);
  if (url.protocol === 'file:') {
    // Node: fetch() does not read files.
    const { readFile } = await import('node:fs/promises');
    return WebAssembly.compile(await readFile(url));
  }
  const response = await fetch(url);
  if (!response.ok) {
    throw new FhirRegError('not-initialized', `cannot load ${url}: HTTP ${response.status}`);
  }
  if (typeof WebAssembly.compileStreaming === 'function'
      && (response.headers.get('content-type') || '').startsWith('application/wasm')) {
    return WebAssembly.compileStreaming(response);
  }
  return WebAssembly.compile(await response.arrayBuffer());
}

/**
 * Load the WebAssembly module (once; later calls return at once). After a
 * FhirRegError of kind `internal`, call it again to start a new instance.
 * @param {string|URL|Response|BufferSource|WebAssembly.Module} [source]
 *   where the .wasm is (default: beside this file).
 */
export async function init(source) {
  if (glue && !broken) return;
  if (loading) return loading;
  loading = (async () => {
    try {
      compiled = compiled ?? await compile(source);
      // After a trap, a fresh copy of the glue (its own module record):
      // the old one may have stopped in any state.
      const fresh = generation === 0 ? firstGlue : await import(`${GLUE}?instance=${generation + 1}`);
      fresh.initSync({ module: compiled });
      glue = fresh;
      generation += 1;
      broken = null;
    } catch (e) {
      if (e instanceof FhirRegError) throw e;
      throw new FhirRegError('not-initialized', `cannot start the WebAssembly module: ${e && e.message}`, { cause: e });
    } finally {
      loading = null;
    }
  })();
  return loading;
}

function ready() {
  if (broken) {
    throw new FhirRegError('internal',
      `the WebAssembly instance stopped after an internal error (${broken}); await init() to start a new one`);
  }
  if (!glue) throw new FhirRegError('not-initialized', 'call `await init()` first');
  return glue;
}

/** Run `f` against the module; errors become FhirRegError. */
function call(f) {
  const g = ready();
  try {
    return f(g);
  } catch (e) {
    throw fromCore(e, g);
  }
}

function fromCore(e, g) {
  if (e instanceof FhirRegError) return e;
  if (e && e.name === 'FhirRegError' && typeof e.kind === 'string') {
    return new FhirRegError(e.kind, e.message, { line: e.line, column: e.column, profile: e.profile });
  }
  // A trap (a Rust panic, memory exhausted, the stack exhausted): the
  // instance's state is unknown from here on.
  const trap = (typeof WebAssembly.RuntimeError === 'function' && e instanceof WebAssembly.RuntimeError)
    || (e instanceof RangeError);
  if (trap) {
    let panic = null;
    try { panic = g.takePanicMessage(); } catch { /* the instance is gone */ }
    if (g === glue) {
      broken = panic || String(e && e.message);
    }
    return new FhirRegError('internal',
      `internal error (a bug in fhirreg, please report it): ${panic || (e && e.message)}`, { cause: e });
  }
  return new FhirRegError('internal', `internal error: ${e && e.message}`, { cause: e });
}

const encoder = new TextEncoder();

/**
 * A resource as the bytes the core reads, and whether its text is the
 * caller's (an object's JSON is not). Strings are encoded here: the
 * TextEncoder is faster on long texts than the glue's own string passing.
 */
function resourceBytes(resource, maxSize, what = 'resource') {
  if (typeof resource === 'string') {
    // UTF-8 takes at least one byte per UTF-16 unit: refuse early what
    // cannot fit, before copying it.
    if (resource.length > maxSize) throw tooLarge(resource.length, maxSize);
    return { bytes: encoder.encode(resource), positions: true };
  }
  if (resource instanceof Uint8Array) return { bytes: resource, positions: true };
  if (resource instanceof ArrayBuffer) return { bytes: new Uint8Array(resource), positions: true };
  if (ArrayBuffer.isView(resource)) {
    return { bytes: new Uint8Array(resource.buffer, resource.byteOffset, resource.byteLength), positions: true };
  }
  if (resource !== null && typeof resource === 'object' && !Array.isArray(resource)) {
    let text;
    try {
      text = JSON.stringify(resource);
    } catch (e) {
      throw new FhirRegError('input-type', `${what} cannot be written as JSON: ${e.message}`, { cause: e });
    }
    if (text.length > maxSize) throw tooLarge(text.length, maxSize);
    return { bytes: encoder.encode(text), positions: false };
  }
  const type = resource === null ? 'null' : Array.isArray(resource) ? 'an array' : typeof resource;
  throw new FhirRegError('input-type',
    `${what} must be a string, a Uint8Array or an object, not ${type}`);
}

function tooLarge(size, max) {
  return new FhirRegError('too-large',
    `the resource is at least ${size} bytes, over the limit of ${max} bytes (option maxSize)`);
}

function profileList(profile) {
  if (profile === undefined || profile === null) return [];
  if (typeof profile === 'string') return [profile];
  if (Array.isArray(profile) && profile.every((p) => typeof p === 'string')) return profile;
  throw new FhirRegError('input-type', 'profile must be a canonical URL (string) or an array of them');
}

function packageItem(item, i) {
  if (item instanceof Uint8Array) return [`packages[${i}]`, item];
  if (item instanceof ArrayBuffer) return [`packages[${i}]`, new Uint8Array(item)];
  if (item && typeof item === 'object' && typeof item.name === 'string'
      && (item.data instanceof Uint8Array || item.data instanceof ArrayBuffer)) {
    return [item.name, item.data instanceof Uint8Array ? item.data : new Uint8Array(item.data)];
  }
  throw new FhirRegError('input-type',
    `packages[${i}] must be the bytes of a package (.tgz) or a resource (Uint8Array, ArrayBuffer) or {name, data}`);
}

const DEFAULT_MAX_SIZE = 64 * 1024 * 1024;
const OPTIONS = ['packages', 'profiles', 'fhirVersion', 'lang', 'extensions', 'maxIssues', 'maxSize', 'maxDepth'];

/** The result of validating one resource. */
export class ValidationResult {
  #outcome;
  #generation;

  constructor(outcome, positions) {
    this.#outcome = outcome;
    this.#generation = generation;
    /** True when no issue is an error or fatal. */
    this.valid = outcome.valid;
    /** Every issue, in document order. */
    this.issues = JSON.parse(outcome.issuesJson(positions));
  }

  /** The outcome as a FHIR OperationOutcome (an object). */
  toOperationOutcome() {
    if (this.#generation !== generation) {
      throw new FhirRegError('internal', 'this result belongs to a WebAssembly instance that has stopped');
    }
    return JSON.parse(call(() => this.#outcome.operationOutcomeJson(false)));
  }
}

/**
 * A configured FHIR validator. Build it once (loading packages and
 * compiling profiles is the slow part), validate many resources with it.
 */
export class Validator {
  #options;
  #packages;
  #inner = null;
  #generation = 0;
  #maxSize;

  /**
   * @param {object} [options]
   * @param {Array<Uint8Array|ArrayBuffer|{name: string, data: Uint8Array|ArrayBuffer}>} [options.packages]
   *   FHIR packages (.tgz) or conformance resources (JSON/XML, Bundles) to load.
   * @param {string[]} [options.profiles] canonical URLs every resource is also validated against.
   * @param {string} [options.fhirVersion] '4.0.1' (R4) is the one supported.
   * @param {string} [options.lang] the language of the messages ('en').
   * @param {string[]} [options.extensions] URL prefixes of extensions accepted without a definition ('any': all).
   * @param {number} [options.maxIssues] report at most this many issues per resource.
   * @param {number} [options.maxSize] maximum size of a resource in bytes (64 MiB).
   * @param {number} [options.maxDepth] maximum nesting depth of a resource.
   */
  constructor(options = {}) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new FhirRegError('configuration', 'options must be an object');
    }
    const unknown = Object.keys(options).filter((k) => !OPTIONS.includes(k));
    if (unknown.length) {
      throw new FhirRegError('configuration', `unknown option ${JSON.stringify(unknown[0])} (options: ${OPTIONS.join(', ')})`);
    }
    const { packages = [], ...rest } = options;
    if (!Array.isArray(packages)) {
      throw new FhirRegError('input-type', 'packages must be an array');
    }
    this.#packages = packages.map(packageItem);
    this.#options = JSON.stringify(rest);
    this.#maxSize = options.maxSize ?? DEFAULT_MAX_SIZE;
    this.#build();
  }

  #build() {
    this.#inner = call((g) => {
      const builder = new g.ValidatorBuilder();
      for (const [name, data] of this.#packages) builder.addPackage(name, data);
      return builder.build(this.#options);
    });
    this.#generation = generation;
  }

  /** The core validator, rebuilt on a new instance after a trap. */
  #core() {
    ready();
    if (this.#generation !== generation) this.#build();
    return this.#inner;
  }

  /**
   * Validate one resource against its type, its meta.profile, the
   * validator's profiles and `profile`.
   * @param {string|Uint8Array|ArrayBuffer|object} resource JSON or XML text or bytes, or a JSON object.
   * @param {string|string[]} [profile]
   * @returns {ValidationResult}
   */
  validate(resource, profile) {
    const profiles = profileList(profile);
    const { bytes, positions } = resourceBytes(resource, this.#maxSize);
    const core = this.#core();
    return call(() => new ValidationResult(core.validate(bytes, profiles), positions));
  }

  /**
   * True when the resource has no error (false when it cannot be read).
   * @param {string|Uint8Array|ArrayBuffer|object} resource
   * @param {string|string[]} [profile]
   */
  isValid(resource, profile) {
    const profiles = profileList(profile);
    const { bytes } = resourceBytes(resource, this.#maxSize);
    const core = this.#core();
    return call(() => core.isValid(bytes, profiles));
  }

  /** ValueSet $expand: the ValueSet with its expansion. */
  expand(url, { filter, offset, count, activeOnly, includeDesignations } = {}) {
    const core = this.#core();
    const options = JSON.stringify({ filter, offset, count, activeOnly, includeDesignations });
    return JSON.parse(call(() => core.expand(text(url, 'url'), options)));
  }

  /** CodeSystem $lookup: a Parameters resource. */
  lookup(system, code, version) {
    const core = this.#core();
    return JSON.parse(call(() => core.lookup(text(system, 'system'), text(code, 'code'), optText(version, 'version'))));
  }

  /**
   * $validate-code: is system#code in the value set `url` (null: in the
   * code system)? A Parameters resource whose `result` says.
   */
  validateCode(url, system, code, display) {
    const core = this.#core();
    return JSON.parse(call(() => core.validateCode(optText(url, 'url'), text(system, 'system'),
      text(code, 'code'), optText(display, 'display'))));
  }

  /** ConceptMap $translate: a Parameters resource. */
  translate(conceptmap, system, code, target) {
    const core = this.#core();
    return JSON.parse(call(() => core.translate(text(conceptmap, 'conceptmap'), text(system, 'system'),
      text(code, 'code'), optText(target, 'target'))));
  }

  /** CodeSystem $subsumes: a Parameters resource with the outcome. */
  subsumes(system, codeA, codeB) {
    const core = this.#core();
    return JSON.parse(call(() => core.subsumes(text(system, 'system'), text(codeA, 'codeA'), text(codeB, 'codeB'))));
  }

  /**
   * The profiles resources can be validated against: the core's and the
   * loaded packages' (extensions left out).
   * @returns {{url: string, version: string|null, name: string|null, type: string|null, package: string|null, core: boolean}[]}
   */
  listProfiles() {
    const core = this.#core();
    return JSON.parse(call(() => core.listProfiles()));
  }

  /** The packages loaded: `[{name, version, resources}]`. */
  get packages() {
    const core = this.#core();
    return JSON.parse(call(() => core.listPackages()));
  }

  /** The profiles every resource is validated against. */
  get profiles() {
    return JSON.parse(this.#options).profiles ?? [];
  }

  /** The language of the messages. */
  get lang() {
    const core = this.#core();
    return call(() => core.lang);
  }

  /** @internal the core validator, for FHIRPath. */
  _core() {
    return this.#core();
  }

  /** @internal */
  get _maxSize() {
    return this.#maxSize;
  }
}

function text(value, what) {
  if (typeof value !== 'string') throw new FhirRegError('input-type', `${what} must be a string`);
  return value;
}

function optText(value, what) {
  return value === undefined || value === null ? undefined : text(value, what);
}

/** A compiled FHIRPath expression. */
export class Expression {
  #source;
  #inner = null;
  #generation = 0;

  /** @param {string} expression */
  constructor(expression) {
    this.#source = text(expression, 'expression');
    this.#compile();
  }

  #compile() {
    this.#inner = call((g) => new g.Expression(this.#source));
    this.#generation = generation;
  }

  /** The expression's text. */
  get source() {
    return this.#source;
  }

  /**
   * The result collection over one resource.
   * @param {string|Uint8Array|ArrayBuffer|object} resource
   * @param {{variables?: Record<string, unknown>, validator?: Validator}} [options]
   * @returns {unknown[]}
   */
  evaluate(resource, { variables = {}, validator } = {}) {
    if (validator !== undefined && !(validator instanceof Validator)) {
      throw new FhirRegError('input-type', 'validator must be a Validator');
    }
    const maxSize = validator ? validator._maxSize : DEFAULT_MAX_SIZE;
    const { bytes } = resourceBytes(resource, maxSize);
    let vars;
    try {
      vars = JSON.stringify(variables);
    } catch (e) {
      throw new FhirRegError('input-type', `variables cannot be written as JSON: ${e.message}`, { cause: e });
    }
    ready();
    if (this.#generation !== generation) this.#compile();
    const core = validator ? validator._core() : call((g) => g.coreValidator());
    return JSON.parse(call(() => core.evaluateFhirPath(this.#inner, bytes, vars)));
  }
}

/** FHIRPath. */
export const fhirpath = {
  /** Compile an expression once, evaluate it often. */
  compile(expression) {
    return new Expression(expression);
  },
  /**
   * Evaluate `expression` over one resource (variables as `%name`).
   * @param {string} expression
   * @param {string|Uint8Array|ArrayBuffer|object} resource
   * @param {{variables?: Record<string, unknown>, validator?: Validator}} [options]
   */
  evaluate(expression, resource, options) {
    return new Expression(expression).evaluate(resource, options);
  },
};

/** The package version. */
export function version() {
  return call((g) => g.version());
}

/** The languages messages can be written in (BCP 47 tags). */
export function languages() {
  return call((g) => g.languages());
}

/** The FHIR versions this build validates. */
export function fhirVersions() {
  return call((g) => g.fhirVersions());
}

/** @internal for the tests: make the core panic, as a bug would. */
export function _panicForTests() {
  return call((g) => g._panicForTests());
}
