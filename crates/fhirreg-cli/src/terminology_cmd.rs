//! `fhirreg expand | lookup | validate-code | subsumes | translate`: the
//! terminology operations on the local registry, printing the FHIR resource
//! the matching REST operation returns.

use fhirreg::terminology::{parameters, CodingRef, ExpandParams, Terminology};

fn print_json(value: &serde_json::Value) -> Result<(), String> {
    crate::emit(serde_json::to_string_pretty(value).map_err(|e| e.to_string())?);
    Ok(())
}

/// `$expand`: prints the ValueSet with its expansion.
pub fn expand(tx: &Terminology, valueset: &str, params: ExpandParams) -> Result<(), String> {
    let expanded = tx.expand(valueset, &params).map_err(|e| e.to_string())?;
    print_json(&expanded)
}

/// `$lookup`: prints Parameters.
pub fn lookup(
    tx: &Terminology,
    system: &str,
    code: &str,
    version: Option<&str>,
) -> Result<(), String> {
    let result = tx
        .lookup(system, version, code)
        .map_err(|e| e.to_string())?;
    print_json(&parameters::lookup(&result))
}

/// `$validate-code` against a value set (or a code system with
/// `--in-system`): prints Parameters; true when valid.
pub fn validate_code(
    tx: &Terminology,
    url: &str,
    system: &str,
    code: &str,
    display: Option<&str>,
    in_system: bool,
) -> Result<bool, String> {
    let result = if in_system {
        tx.validate_code_in_system(url, code, display)
    } else {
        let mut coding = CodingRef::new(system, code);
        if let Some(display) = display {
            coding = coding.with_display(display);
        }
        tx.validate_code(url, &coding)
    }
    .map_err(|e| e.to_string())?;
    print_json(&parameters::validate_code(&result))?;
    Ok(result.valid)
}

/// `$subsumes`: prints Parameters with the outcome.
pub fn subsumes(tx: &Terminology, system: &str, a: &str, b: &str) -> Result<(), String> {
    let outcome = tx.subsumes(system, a, b).map_err(|e| e.to_string())?;
    print_json(&parameters::subsumes(outcome))
}

/// `$translate`: prints Parameters; true when something matched.
pub fn translate(
    tx: &Terminology,
    conceptmap: &str,
    system: &str,
    code: &str,
    target: Option<&str>,
) -> Result<bool, String> {
    let translations = tx
        .translate(conceptmap, system, code, target)
        .map_err(|e| e.to_string())?;
    print_json(&parameters::translate(&translations))?;
    Ok(translations.iter().any(|t| t.code.is_some()))
}
