//! The `fhirreg` command-line tool: validate FHIR resources, convert
//! between JSON and XML. Exit status: 0 no error, 1 errors found, 2 could
//! not run (usage, unreadable input).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use fhirreg::{Format, Outcome, Validator};

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
    /// Install a package tarball into the cache.
    Install {
        #[arg(value_name = "FILE.tgz")]
        file: String,
    },
}

fn parse_var(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=VALUE, got '{text}'"))?;
    Ok((name.to_string(), value.to_string()))
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OutputFormat {
    /// `file:line:col: severity: message [expression]`
    Text,
    /// One OperationOutcome (a Bundle of them for several inputs).
    Json,
    /// One OperationOutcome per input, one per line.
    Ndjson,
    /// SARIF 2.1.0 for code-scanning tools.
    Sarif,
    /// JUnit XML, one test case per input.
    Junit,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("fhirreg: {message}");
            ExitCode::from(2)
        }
    }
}

fn build_validator(definitions: &DefinitionArgs, profiles: &[String]) -> Result<Validator, String> {
    build_validator_with(definitions, profiles, fhirreg::ValidatorOptions::default())
}

fn build_validator_with(
    definitions: &DefinitionArgs,
    profiles: &[String],
    options: fhirreg::ValidatorOptions,
) -> Result<Validator, String> {
    let mut builder = Validator::builder()
        .fhir_version(definitions.fhir_version.clone())
        .options(options);
    for path in &definitions.load {
        builder = builder.load_path(path);
    }
    for package in &definitions.package {
        builder = builder.package(package.clone());
    }
    for profile in profiles {
        builder = builder.profile(profile.clone());
    }
    builder.build().map_err(|e| e.to_string())
}

fn run(command: Command) -> Result<ExitCode, String> {
    match command {
        Command::Validate {
            inputs,
            definitions,
            profile,
            extension,
            output_format,
        } => {
            let files = expand_inputs(&inputs)?;
            let options = fhirreg::ValidatorOptions {
                any_extensions_allowed: extension.iter().any(|e| e == "any"),
                extension_domains: extension.into_iter().filter(|e| e != "any").collect(),
                ..Default::default()
            };
            // Without a validator every input still gets an outcome (fatal),
            // so machine readers always receive one.
            let results = match build_validator_with(&definitions, &profile, options) {
                Ok(validator) => validate_all(&validator, &files),
                Err(error) => files
                    .iter()
                    .map(|name| FileResult {
                        name: name.clone(),
                        outcome: None,
                        error: Some(format!("cannot set up validation: {error}")),
                    })
                    .collect(),
            };
            let mut stdout = std::io::stdout().lock();
            let written =
                report::write(&mut stdout, output_format, &results).and_then(|()| stdout.flush());
            match written {
                // A closed pipe (`| head`) is the reader's choice, not a failure.
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.to_string()),
                _ => {}
            }
            let unreadable = results.iter().any(|r| r.outcome.is_none());
            let invalid = results
                .iter()
                .any(|r| r.outcome.as_ref().is_some_and(|o| !o.is_valid()));
            Ok(ExitCode::from(if unreadable {
                2
            } else if invalid {
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
            let validator = build_validator(&definitions, &[])?;
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
                PackageAction::Install { file } => package_cmd::install(cache, &file)?,
            }
            Ok(ExitCode::SUCCESS)
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

/// One validated input: its name and outcome (None when unreadable, with
/// the reason in `error`).
pub struct FileResult {
    pub name: String,
    pub outcome: Option<Outcome>,
    pub error: Option<String>,
}

/// Files named on the command line; directories contribute every .json
/// and .xml file below them, in sorted order.
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
        } else if format_of_path(&path.to_string_lossy()).is_some() {
            out.push(path.to_string_lossy().into_owned());
        }
    }
    Ok(())
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

/// Validate every file, spreading them over the available cores; results
/// keep the input order.
fn validate_all(validator: &Validator, files: &[String]) -> Vec<FileResult> {
    let validate_one = |name: &String| match read_input(name) {
        Ok(bytes) => FileResult {
            name: name.clone(),
            outcome: Some(validator.validate(&bytes)),
            error: None,
        },
        Err(error) => FileResult {
            name: name.clone(),
            outcome: None,
            error: Some(error),
        },
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if files.len() < 2 || threads < 2 {
        return files.iter().map(validate_one).collect();
    }
    let chunk = files.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                (
                    part,
                    scope.spawn(move || part.iter().map(validate_one).collect::<Vec<_>>()),
                )
            })
            .collect();
        let mut results = Vec::with_capacity(files.len());
        for (part, handle) in handles {
            match handle.join() {
                Ok(done) => results.extend(done),
                // A bug in the validator must not make inputs vanish from the report.
                Err(_) => results.extend(part.iter().map(|name| FileResult {
                    name: name.clone(),
                    outcome: None,
                    error: Some(format!("{name}: internal error while validating")),
                })),
            }
        }
        results
    })
}
