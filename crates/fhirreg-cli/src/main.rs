//! The `fhirreg` command-line tool: validate FHIR resources, convert
//! between JSON and XML. Exit status: 0 no error, 1 errors found, 2 could
//! not run (usage, unreadable input).

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use fhirreg::{Format, Outcome, Validator};

/// mimalloc rather than the system allocator: the validator allocates many
/// small, short-lived values (element trees, issues, strings).
#[global_allocator]
static GLOBAL: fhirreg_alloc::MiMalloc = fhirreg_alloc::MiMalloc;

mod check_id_cmd;
mod fhirpath_cmd;
mod package_cmd;
mod report;
mod terminology_cmd;

#[derive(Parser)]
#[command(
    name = "fhirreg",
    version,
    about = "Fast, offline FHIR R4 validator and registry"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Language of the messages: en (English), nb (norsk bokmål; `no`
    /// and `nn` too). Default: en.
    #[arg(long, global = true, value_name = "LANG", value_parser = parse_lang, default_value = "en")]
    lang: fhirreg::Lang,
}

fn parse_lang(tag: &str) -> Result<fhirreg::Lang, String> {
    fhirreg::Lang::parse(tag).ok_or_else(|| {
        let codes: Vec<&str> = fhirreg::Lang::ALL.iter().map(|l| l.code()).collect();
        format!("unsupported language '{tag}' (one of {})", codes.join(", "))
    })
}

/// Where definitions come from; shared by every subcommand that needs them.
#[derive(clap::Args, Clone, Default)]
struct DefinitionArgs {
    /// FHIR version (4.0.1).
    #[arg(long, default_value = "4.0.1")]
    fhir_version: String,
    /// Load conformance resources from a file (.json, .xml, .tgz package) or directory.
    #[arg(long, value_name = "FILE|DIR|PACKAGE.tgz")]
    load: Vec<PathBuf>,
    /// Load a package from the FHIR package cache (~/.fhir/packages).
    #[arg(long, value_name = "ID#VERSION")]
    package: Vec<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Validate resources (files, directories, or - for standard input).
    /// Files ending in .ndjson are streamed, one resource per line.
    Validate {
        #[arg(required = true, value_name = "FILE|DIR|-")]
        inputs: Vec<String>,
        #[command(flatten)]
        definitions: DefinitionArgs,
        /// Also validate against this profile (canonical URL[|version]).
        #[arg(long, value_name = "CANONICAL")]
        profile: Vec<String>,
        /// Accept extensions without a definition whose url starts with
        /// this prefix (`any`: all unknown extensions).
        #[arg(long, value_name = "URL-PREFIX|any")]
        extension: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        output_format: OutputFormat,
        /// Input format: `auto` reads .ndjson files as NDJSON and every
        /// other input as one JSON or XML resource; `ndjson` reads every
        /// input (also - for standard input) as NDJSON.
        #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
        input_format: InputFormat,
        /// Validation threads (0: one per core; 1: one input after the other).
        #[arg(long, value_name = "N", default_value_t = 0)]
        threads: usize,
        /// Report at most N issues per resource (the most severe), plus one
        /// saying how many were left out.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        max_issues: Option<u32>,
        /// Norwegian synthetic test numbers (Test Norge/Tenor, NAV) in
        /// national identifiers are errors, not information (production).
        #[arg(long)]
        no_synthetic_ids: bool,
    },
    /// Evaluate a FHIRPath expression over each file; prints one JSON line per file:
    /// the result collection, or {"error": ...}.
    Fhirpath {
        expression: String,
        #[arg(required = true, value_name = "FILE|-")]
        files: Vec<String>,
        /// Environment variable for the expression (%name), as a string.
        #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
        vars: Vec<(String, String)>,
        #[command(flatten)]
        definitions: DefinitionArgs,
    },
    /// Print the conformance resource a canonical URL (url or url|version) resolves to.
    Resolve {
        canonical: String,
        #[command(flatten)]
        definitions: DefinitionArgs,
    },
    /// Expand a ValueSet ($expand); prints the ValueSet with its expansion.
    Expand {
        #[arg(value_name = "VALUESET_URL")]
        valueset: String,
        /// Text filter on code and display.
        #[arg(long)]
        filter: Option<String>,
        /// Paging: skip this many codes.
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// Paging: return at most this many codes.
        #[arg(long)]
        count: Option<usize>,
        #[command(flatten)]
        definitions: DefinitionArgs,
    },
    /// Look up a code in a code system ($lookup); prints Parameters.
    Lookup {
        system: String,
        code: String,
        #[arg(long)]
        version: Option<String>,
        #[command(flatten)]
        definitions: DefinitionArgs,
    },
    /// Check a code against a value set ($validate-code); prints Parameters. Exit 1 when invalid.
    ValidateCode {
        /// The ValueSet canonical (or, with --in-system, the code system URL).
        #[arg(value_name = "VALUESET_URL")]
        valueset: String,
        system: String,
        code: String,
        display: Option<String>,
        /// Validate against the code system itself (CodeSystem $validate-code).
        #[arg(long)]
        in_system: bool,
        #[command(flatten)]
        definitions: DefinitionArgs,
    },
    /// Test whether code A subsumes code B in a code system ($subsumes).
    Subsumes {
        system: String,
        code_a: String,
        code_b: String,
        #[command(flatten)]
        definitions: DefinitionArgs,
    },
    /// Translate a code with a ConceptMap ($translate); prints Parameters. Exit 1 when unmatched.
    Translate {
        #[arg(value_name = "CONCEPTMAP_URL")]
        conceptmap: String,
        system: String,
        code: String,
        /// Target code system.
        #[arg(long)]
        target: Option<String>,
        #[command(flatten)]
        definitions: DefinitionArgs,
    },
    /// Run a FHIR terminology server (metadata, $expand, $validate-code, $lookup,
    /// $subsumes, $translate, $validate) over the same registry. Stops on Ctrl-C.
    Serve {
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        #[arg(long, default_value_t = 8080)]
        port: u16,
        #[command(flatten)]
        definitions: DefinitionArgs,
    },
    /// The FHIR package cache: list, show, install.
    Package {
        #[command(subcommand)]
        action: PackageAction,
        /// Package cache folder (default: $FHIR_PACKAGE_CACHE or ~/.fhir/packages).
        #[arg(long, global = true, value_name = "DIR")]
        cache: Option<PathBuf>,
    },
    /// Check Norwegian national identifiers (fødselsnummer, D-nummer, ...):
    /// length, digits, control digits, birth date. Exit 1 when one is invalid.
    CheckId {
        /// fnr, dnr, hnr, fhn, duf, orgnr, kommune, bydel, hpr, her.
        #[arg(long = "type", value_name = "TYPE", value_parser = check_id_cmd::parse_kind)]
        kind: fhirreg::no::IdKind,
        #[arg(required = true, value_name = "VALUE")]
        values: Vec<String>,
        /// text, or json (one object per value, one per line).
        #[arg(long, value_enum, default_value_t = CheckIdFormat::Text)]
        output_format: CheckIdFormat,
        /// Synthetic test numbers (Test Norge/Tenor, NAV) are invalid.
        #[arg(long)]
        no_synthetic_ids: bool,
    },
    /// Convert a resource between FHIR JSON and XML (by file extension; - for stdin/stdout).
    Convert {
        input: String,
        output: String,
        #[command(flatten)]
        definitions: DefinitionArgs,
    },
}

#[derive(Subcommand)]
enum PackageAction {
    /// List the packages in the cache.
    List,
    /// Show a cached package: manifest, dependencies, resources by type.
    Show {
        #[arg(value_name = "ID#VERSION")]
        package: String,
    },
    /// Install packages into the cache: from a package registry with their
    /// dependencies (ID, ID#VERSION, ID@RANGE), or a local FILE.tgz (a path
    /// that exists or ends in .tgz; its dependencies are not fetched).
    Install {
        #[arg(required = true, value_name = "ID[#VERSION]|FILE.tgz")]
        packages: Vec<String>,
        #[command(flatten)]
        download: package_cmd::DownloadArgs,
    },
}

fn parse_var(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=VALUE, got '{text}'"))?;
    Ok((name.to_string(), value.to_string()))
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum CheckIdFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum InputFormat {
    /// By file name: .ndjson is NDJSON, anything else one resource.
    Auto,
    /// NDJSON: one resource per line.
    Ndjson,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OutputFormat {
    /// `file:line:col: severity: message [expression]`
    Text,
    /// One OperationOutcome (a Bundle of them for several inputs).
    Json,
    /// One OperationOutcome per input (per line of an NDJSON input), one per line.
    Ndjson,
    /// SARIF 2.1.0 for code-scanning tools.
    Sarif,
    /// JUnit XML, one test case per input.
    Junit,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command, cli.lang) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("fhirreg: {message}");
            ExitCode::from(2)
        }
    }
}

fn build_validator(definitions: &DefinitionArgs, profiles: &[String]) -> Result<Validator, String> {
    let builder = Validator::builder().fhir_version(definitions.fhir_version.clone());
    configure(builder, definitions, profiles)
        .build()
        .map_err(|e| e.to_string())
}

fn configure(
    mut builder: fhirreg::ValidatorBuilder,
    definitions: &DefinitionArgs,
    profiles: &[String],
) -> fhirreg::ValidatorBuilder {
    for path in &definitions.load {
        builder = builder.load_path(path);
    }
    for package in &definitions.package {
        builder = builder.package(package.clone());
    }
    for profile in profiles {
        builder = builder.profile(profile.clone());
    }
    builder
}

fn run(command: Command, lang: fhirreg::Lang) -> Result<ExitCode, String> {
    match command {
        Command::Validate {
            inputs,
            definitions,
            profile,
            extension,
            output_format,
            input_format,
            threads,
            max_issues,
            no_synthetic_ids,
        } => {
            let files = expand_inputs(&inputs)?;
            let options = fhirreg::ValidatorOptions {
                no_synthetic_ids,
                ..Default::default()
            }
            .with_extensions(extension);
            let runner = Runner::new(threads)?;
            let mut builder = Validator::builder()
                .fhir_version(definitions.fhir_version.clone())
                .language(lang.code())
                .options(options);
            builder = match &runner {
                Runner::Sequential => builder.threads(1),
                Runner::Global => builder,
                Runner::Pool(pool) => builder.thread_pool(pool.clone()),
            };
            if let Some(max) = max_issues {
                builder = builder.max_issues(max as usize);
            }
            let built = configure(builder, &definitions, &profile).build();
            let stdout = std::io::stdout().lock();
            let mut reporter = report::Reporter::new(
                std::io::BufWriter::with_capacity(1 << 16, stdout),
                output_format,
                lang,
            );
            let written = match built {
                Ok(validator) => {
                    let written =
                        validate_all(&validator, &runner, &files, input_format, &mut reporter);
                    // The process ends next: freeing every cached definition
                    // one by one would cost a tenth of a short run.
                    std::mem::forget(validator);
                    written
                }
                // Without a validator every input still gets an outcome
                // (fatal), so machine readers always receive one.
                Err(error) => files.iter().try_for_each(|name| {
                    reporter.add(FileResult::unreadable(
                        name,
                        None,
                        format!("cannot set up validation: {error}"),
                    ))
                }),
            };
            let finished = written.and_then(|()| reporter.finish());
            match finished {
                // A closed pipe (`| head`) is the reader's choice, not a failure.
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.to_string()),
                _ => {}
            }
            Ok(ExitCode::from(if reporter.unreadable() {
                2
            } else if reporter.invalid() {
                1
            } else {
                0
            }))
        }
        Command::Fhirpath {
            expression,
            files,
            vars,
            definitions,
        } => {
            let validator = build_validator(&definitions, &[])?;
            let all_ok = fhirpath_cmd::run(validator.registry(), &expression, &files, &vars)?;
            Ok(ExitCode::from(if all_ok { 0 } else { 1 }))
        }
        Command::Resolve {
            canonical,
            definitions,
        } => {
            let validator = build_validator(&definitions, &[])?;
            let found = package_cmd::resolve(validator.registry(), &canonical)?;
            Ok(ExitCode::from(if found { 0 } else { 1 }))
        }
        Command::Expand {
            valueset,
            filter,
            offset,
            count,
            definitions,
        } => {
            let tx = build_validator(&definitions, &[])?.terminology();
            let params = fhirreg::terminology::ExpandParams {
                filter,
                offset,
                count,
                ..Default::default()
            };
            terminology_cmd::expand(&tx, &valueset, params)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Lookup {
            system,
            code,
            version,
            definitions,
        } => {
            let tx = build_validator(&definitions, &[])?.terminology();
            terminology_cmd::lookup(&tx, &system, &code, version.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::ValidateCode {
            valueset,
            system,
            code,
            display,
            in_system,
            definitions,
        } => {
            let tx = build_validator(&definitions, &[])?.terminology();
            let valid = terminology_cmd::validate_code(
                &tx,
                &valueset,
                &system,
                &code,
                display.as_deref(),
                in_system,
            )?;
            Ok(ExitCode::from(if valid { 0 } else { 1 }))
        }
        Command::Subsumes {
            system,
            code_a,
            code_b,
            definitions,
        } => {
            let tx = build_validator(&definitions, &[])?.terminology();
            terminology_cmd::subsumes(&tx, &system, &code_a, &code_b)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Translate {
            conceptmap,
            system,
            code,
            target,
            definitions,
        } => {
            let tx = build_validator(&definitions, &[])?.terminology();
            let matched =
                terminology_cmd::translate(&tx, &conceptmap, &system, &code, target.as_deref())?;
            Ok(ExitCode::from(if matched { 0 } else { 1 }))
        }
        Command::Serve {
            host,
            port,
            definitions,
        } => {
            // --lang is the default; a request's Accept-Language wins.
            let builder = Validator::builder()
                .fhir_version(definitions.fhir_version.clone())
                .language(lang.code());
            let validator = configure(builder, &definitions, &[])
                .build()
                .map_err(|e| e.to_string())?;
            // IPv6 literals need brackets in host:port.
            let addr = if host.contains(':') {
                format!("[{host}]:{port}")
            } else {
                format!("{host}:{port}")
            };
            fhirreg_server::run(&addr, validator).map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Package { action, cache } => {
            match action {
                PackageAction::List => package_cmd::list(cache)?,
                PackageAction::Show { package } => package_cmd::show(cache, &package)?,
                PackageAction::Install { packages, download } => {
                    package_cmd::install(cache, &packages, &download)?
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckId {
            kind,
            values,
            output_format,
            no_synthetic_ids,
        } => {
            let json = output_format == CheckIdFormat::Json;
            let valid = check_id_cmd::run(kind, &values, json, no_synthetic_ids, lang)?;
            Ok(ExitCode::from(if valid { 0 } else { 1 }))
        }
        Command::Convert {
            input,
            output,
            definitions,
        } => {
            let to = match format_of_path(&output) {
                Some(format) => format,
                None if output == "-" => match format_of_path(&input) {
                    Some(Format::Json) => Format::Xml,
                    _ => Format::Json,
                },
                None => {
                    return Err(format!(
                        "{output}: cannot tell the output format (use .json or .xml)"
                    ))
                }
            };
            let bytes = read_input(&input)?;
            let validator = build_validator(&definitions, &[])?;
            let text = validator
                .convert(&bytes, to, true)
                .map_err(|e| format!("{input}: {e}"))?;
            if output == "-" {
                emit(text.trim_end());
            } else {
                std::fs::write(&output, text).map_err(|e| format!("{output}: {e}"))?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Print one line on stdout. A closed pipe (`| head`) ends the program
/// quietly: the reader has all it wanted.
pub(crate) fn emit(text: impl std::fmt::Display) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = writeln!(stdout, "{text}") {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("fhirreg: stdout: {e}");
        std::process::exit(2);
    }
}

fn format_of_path(path: &str) -> Option<Format> {
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".json") {
        Some(Format::Json)
    } else if lower.ends_with(".xml") {
        Some(Format::Xml)
    } else {
        None
    }
}

/// One validated input: its name (and line, for a line of an NDJSON file)
/// and outcome (None when unreadable, with the reason in `error`).
pub struct FileResult {
    pub name: String,
    /// The 1-based line of an NDJSON input.
    pub line: Option<u64>,
    pub outcome: Option<Outcome>,
    pub error: Option<String>,
}

impl FileResult {
    fn unreadable(name: &str, line: Option<u64>, error: String) -> Self {
        FileResult {
            name: name.to_string(),
            line,
            outcome: None,
            error: Some(error),
        }
    }

    /// How text, SARIF and JUnit reports name the input: `file`, or
    /// `file:LINE` for a line of an NDJSON input.
    pub fn display_name(&self) -> std::borrow::Cow<'_, str> {
        match self.line {
            Some(line) => format!("{}:{line}", self.name).into(),
            None => self.name.as_str().into(),
        }
    }
}

/// Files named on the command line; directories contribute every .json,
/// .xml and .ndjson file below them, in sorted order.
fn expand_inputs(inputs: &[String]) -> Result<Vec<String>, String> {
    let mut files = Vec::new();
    for input in inputs {
        let path = Path::new(input);
        if input != "-" && path.is_dir() {
            let mut found = Vec::new();
            collect_dir(path, &mut found).map_err(|e| format!("{input}: {e}"))?;
            found.sort();
            files.extend(found);
        } else {
            files.push(input.clone());
        }
    }
    Ok(files)
}

fn collect_dir(dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_dir(&path, out)?;
        } else {
            let name = path.to_string_lossy();
            if format_of_path(&name).is_some() || is_ndjson_path(&name) {
                out.push(name.into_owned());
            }
        }
    }
    Ok(())
}

fn is_ndjson_path(path: &str) -> bool {
    path.to_ascii_lowercase().ends_with(".ndjson")
}

pub(crate) fn read_input(name: &str) -> Result<Vec<u8>, String> {
    if name == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("stdin: {e}"))?;
        Ok(bytes)
    } else {
        std::fs::read(name).map_err(|e| format!("{name}: {e}"))
    }
}

/// Where `validate` runs its inputs (`--threads`): the same threads as the
/// validator's NDJSON batches.
enum Runner {
    /// `--threads 1`: one input after the other, in this thread.
    Sequential,
    /// `--threads 0` (default): rayon's global pool, one thread per core.
    Global,
    /// `--threads N`: a pool of N threads.
    Pool(Arc<fhirreg::rayon::ThreadPool>),
}

impl Runner {
    fn new(threads: usize) -> Result<Runner, String> {
        Ok(match threads {
            0 => Runner::Global,
            1 => Runner::Sequential,
            n => Runner::Pool(Arc::new(
                fhirreg::rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .build()
                    .map_err(|e| format!("cannot start {n} threads: {e}"))?,
            )),
        })
    }

    /// `f` over every item, on these threads; results in item order.
    fn map<T: Sync, U: Send>(&self, items: &[T], f: impl Fn(&T) -> U + Sync + Send) -> Vec<U> {
        use fhirreg::rayon::prelude::*;
        match self {
            Runner::Sequential => items.iter().map(f).collect(),
            Runner::Global => items.par_iter().map(f).collect(),
            Runner::Pool(pool) => pool.install(|| items.par_iter().map(f).collect()),
        }
    }
}

/// Whole-document inputs validated together before their results are
/// written (the results of a batch are held in memory).
const FILE_BATCH: usize = 256;

/// Validate every input in order, spreading the work over the runner's
/// threads; results reach the reporter in input order, batch by batch
/// (NDJSON inputs line batch by line batch).
fn validate_all<W: Write>(
    validator: &Validator,
    runner: &Runner,
    files: &[String],
    input_format: InputFormat,
    reporter: &mut report::Reporter<W>,
) -> std::io::Result<()> {
    let mut start = 0;
    while start < files.len() {
        let name = &files[start];
        if input_format == InputFormat::Ndjson || is_ndjson_path(name) {
            validate_ndjson(validator, name, reporter)?;
            start += 1;
            continue;
        }
        let end = files[start..]
            .iter()
            .take(FILE_BATCH)
            .position(|f| input_format == InputFormat::Ndjson || is_ndjson_path(f))
            .map_or((start + FILE_BATCH).min(files.len()), |i| start + i);
        let results = runner.map(&files[start..end], |name| validate_file(validator, name));
        for result in results {
            reporter.add(result)?;
        }
        reporter.flush()?;
        start = end;
    }
    Ok(())
}

/// Read and validate one whole-document input. A panic (a bug) makes this
/// input unreadable rather than ending the run.
fn validate_file(validator: &Validator, name: &str) -> FileResult {
    match read_input(name) {
        Ok(bytes) => {
            let validated = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                validator.validate(&bytes)
            }));
            match validated {
                Ok(outcome) => FileResult {
                    name: name.to_string(),
                    line: None,
                    outcome: Some(outcome),
                    error: None,
                },
                Err(_) => FileResult::unreadable(
                    name,
                    None,
                    format!("{name}: internal error while validating"),
                ),
            }
        }
        Err(error) => FileResult::unreadable(name, None, error),
    }
}

/// Stream one NDJSON input through the validator; each line is reported as
/// its own input, written (and flushed) as soon as its batch is done.
fn validate_ndjson<W: Write>(
    validator: &Validator,
    name: &str,
    reporter: &mut report::Reporter<W>,
) -> std::io::Result<()> {
    let stdin;
    let reader: Box<dyn BufRead> = if name == "-" {
        stdin = std::io::stdin();
        Box::new(stdin.lock())
    } else {
        match std::fs::File::open(name) {
            Ok(file) => Box::new(std::io::BufReader::with_capacity(1 << 16, file)),
            Err(e) => {
                return reporter.add(FileResult::unreadable(name, None, format!("{name}: {e}")))
            }
        }
    };
    let mut results = validator.validate_ndjson(reader);
    while let Some(result) = results.next() {
        reporter.add(FileResult {
            name: name.to_string(),
            line: Some(result.line),
            outcome: Some(result.outcome),
            error: None,
        })?;
        if results.pending() == 0 {
            reporter.flush()?;
        }
    }
    if let Some(e) = results.read_error() {
        let line = results.lines_read() + 1;
        let display = if name == "-" { "stdin" } else { name };
        reporter.add(FileResult::unreadable(
            name,
            Some(line),
            format!("{display}: line {line}: {e}"),
        ))?;
    }
    reporter.flush()
}
