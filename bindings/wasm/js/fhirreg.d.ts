// Types of the npm package `fhirreg` (the entry point fhirreg.js).

/** What went wrong, as `FhirRegError.kind`. */
export type ErrorKind =
  /** The resource is neither JSON nor XML, or is malformed (`line`, `column`). */
  | 'parse'
  /** The document is JSON or XML but not a FHIR resource (`line`, `column`). */
  | 'not-fhir'
  /** An argument of the wrong type (a number as a resource, ...). */
  | 'input-type'
  /** A profile that names no loaded StructureDefinition (`profile`). */
  | 'unknown-profile'
  /** A package or resource given in `packages` that cannot be loaded. */
  | 'load'
  /** An unsupported FHIR version or language, an unknown or invalid option. */
  | 'configuration'
  /** A FHIRPath evaluation failed. */
  | 'fhirpath'
  /** A FHIRPath expression that does not compile (`line`, `column`). */
  | 'fhirpath-syntax'
  /** An unknown value set, code system, concept map or code; an expansion too large. */
  | 'terminology'
  /** Input over a size limit (`maxSize`). */
  | 'too-large'
  /** `init()` was not awaited, or the .wasm could not be loaded. */
  | 'not-initialized'
  /** A bug in fhirreg; after one, `await init()` starts a new instance. */
  | 'internal';

/** Every error this package throws. */
export class FhirRegError extends Error {
  constructor(kind: ErrorKind, message: string, details?: { line?: number | null; column?: number | null; profile?: string | null; cause?: unknown });
  readonly name: 'FhirRegError';
  readonly kind: ErrorKind;
  /** 1-based line of the problem (`parse`, `not-fhir`, `fhirpath-syntax`), else null. */
  readonly line: number | null;
  /** 1-based column (in Unicode code points) of the problem, else null. */
  readonly column: number | null;
  /** The profile of an `unknown-profile` error, else null. */
  readonly profile: string | null;
}

/**
 * Load the WebAssembly module; call (and await) it before anything else.
 * Later calls return at once, except after a FhirRegError of kind
 * `internal`: then it starts a new instance (validators rebuild themselves).
 * @param source where the .wasm is (default: beside fhirreg.js), or its bytes or compiled module.
 */
export function init(source?: string | URL | Response | BufferSource | WebAssembly.Module): Promise<void>;

/** A resource: JSON or XML text or UTF-8 bytes, or a FHIR JSON object. */
export type Resource = string | Uint8Array | ArrayBuffer | ArrayBufferView | Record<string, unknown>;

/** Definitions to load: a FHIR package (.tgz) or a resource / Bundle (JSON or XML). */
export type PackageSource = Uint8Array | ArrayBuffer | { name: string; data: Uint8Array | ArrayBuffer };

export interface ValidatorOptions {
  /** FHIR packages (.tgz) or conformance resources to load (there is no package cache here). */
  packages?: PackageSource[];
  /** Canonical URLs every resource is also validated against. */
  profiles?: string[];
  /** '4.0.1' (R4), the one supported. */
  fhirVersion?: string;
  /** The language of the messages (BCP 47; see `languages()`). Default 'en'. */
  lang?: string;
  /** URL prefixes of extensions accepted without a definition ('any': all). */
  extensions?: string[];
  /** Report at most this many issues per resource (the most severe first, and one summary issue). */
  maxIssues?: number;
  /** Maximum size of a resource in bytes (default 64 MiB). */
  maxSize?: number;
  /** Maximum nesting depth of a resource (default 512). */
  maxDepth?: number;
}

/** One finding about a resource. */
export interface Issue {
  severity: 'fatal' | 'error' | 'warning' | 'information';
  /** The FHIR issue type (`structure`, `code-invalid`, ...). */
  code: string;
  /** The text, in the validator's language. */
  message: string;
  /** fhirreg's stable message id (`unknown-property`). */
  messageId: string;
  /** Where, as FHIRPath (`Patient.name[0].given`); null for the whole document. */
  expression: string | null;
  /** 1-based line in the text; null when unknown or when the resource was an object. */
  line: number | null;
  /** 1-based column in Unicode code points; null as `line`. */
  column: number | null;
}

/** The result of validating one resource. */
export class ValidationResult {
  /** True when no issue is an error or fatal. */
  readonly valid: boolean;
  /** Every issue, in document order. */
  readonly issues: Issue[];
  /** The outcome as a FHIR OperationOutcome, in the validator's language. */
  toOperationOutcome(): Record<string, unknown> & { resourceType: 'OperationOutcome' };
}

export interface ProfileInfo {
  url: string;
  version: string | null;
  name: string | null;
  /** The resource or data type the profile constrains. */
  type: string | null;
  /** The package it comes from (`hl7.fhir.r4.examples#4.0.1` for the core). */
  package: string | null;
  /** True for the FHIR R4 core's own profiles. */
  core: boolean;
}

export interface ExpandOptions {
  filter?: string;
  offset?: number;
  count?: number;
  activeOnly?: boolean;
  includeDesignations?: boolean;
}

/** A FHIR resource as a plain object. */
export type FhirResource = Record<string, unknown> & { resourceType: string };

/** A configured FHIR validator: build once, validate many resources. */
export class Validator {
  /** @throws FhirRegError `load`, `configuration`, `unknown-profile`, `input-type`, `not-initialized` */
  constructor(options?: ValidatorOptions);
  /**
   * Validate one resource against its type, its meta.profile, the
   * validator's profiles and `profile`.
   * @throws FhirRegError `parse`, `not-fhir`, `unknown-profile`, `too-large`, `input-type`
   */
  validate(resource: Resource, profile?: string | string[]): ValidationResult;
  /** True when the resource has no error; false when it cannot be read. */
  isValid(resource: Resource, profile?: string | string[]): boolean;
  /** ValueSet $expand: the ValueSet with its expansion. @throws FhirRegError `terminology` */
  expand(url: string, options?: ExpandOptions): FhirResource;
  /** CodeSystem $lookup: a Parameters resource. @throws FhirRegError `terminology` */
  lookup(system: string, code: string, version?: string | null): FhirResource;
  /** $validate-code against the value set `url` (null: the code system): a Parameters resource. */
  validateCode(url: string | null, system: string, code: string, display?: string | null): FhirResource;
  /** ConceptMap $translate: a Parameters resource. */
  translate(conceptmap: string, system: string, code: string, target?: string | null): FhirResource;
  /** CodeSystem $subsumes: a Parameters resource with the outcome. */
  subsumes(system: string, codeA: string, codeB: string): FhirResource;
  /** The profiles resources can be validated against (core and loaded; extensions left out). */
  listProfiles(): ProfileInfo[];
  /** The packages loaded. */
  readonly packages: { name: string; version: string; resources: number }[];
  /** The profiles every resource is validated against. */
  readonly profiles: string[];
  /** The language of the messages. */
  readonly lang: string;
}

export interface EvaluateOptions {
  /** `%name` variables: scalars, arrays (collections) or FHIR resources as objects. */
  variables?: Record<string, unknown>;
  /** Definitions (packages) to type the resource with; default the FHIR R4 core. */
  validator?: Validator;
}

/** A compiled FHIRPath expression. */
export class Expression {
  /** @throws FhirRegError `fhirpath-syntax` */
  constructor(expression: string);
  readonly source: string;
  /** The result collection over one resource. @throws FhirRegError `fhirpath`, `parse` */
  evaluate(resource: Resource, options?: EvaluateOptions): unknown[];
}

export const fhirpath: {
  compile(expression: string): Expression;
  evaluate(expression: string, resource: Resource, options?: EvaluateOptions): unknown[];
};

/** The package version. */
export function version(): string;
/** The languages messages can be written in (BCP 47 tags). */
export function languages(): string[];
/** The FHIR versions this build validates. */
export function fhirVersions(): string[];
