//! `$validate-code` against a code system and against a value set.

use crate::grammar::{is_unshippable, GrammarSystem};
use crate::valueset::{unavailable_message, Member, VsIndex};
use crate::Content;
use crate::{
    CodingRef, Designation, IssueKind, Severity, SystemDef, Terminology, TxIssue, ValidateResult,
};
use fhirreg_element::args;
use fhirreg_element::message::{Args, Message, Msg};

fn issue(severity: Severity, kind: IssueKind, msg: Msg, args: Args) -> TxIssue {
    TxIssue {
        severity,
        kind,
        message: Message::new(msg, args),
    }
}

fn issue_of(severity: Severity, kind: IssueKind, message: Message) -> TxIssue {
    TxIssue {
        severity,
        kind,
        message,
    }
}

fn normalize(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Compare a given display with the concept's display and designations.
fn check_display(
    tx: &Terminology,
    r: &mut ValidateResult,
    system: &str,
    code: &str,
    given: Option<&str>,
    display: Option<&str>,
    designations: &[Designation],
) {
    let Some(given) = given else { return };
    let mut choices: Vec<(String, Option<String>)> = Vec::new();
    if let Some(d) = display {
        choices.push((d.to_owned(), None));
    }
    for d in designations {
        choices.push((d.value.clone(), d.language.clone()));
    }
    if choices.is_empty() {
        return;
    }
    let g = normalize(given);
    if choices.iter().any(|(c, _)| normalize(c) == g) {
        return;
    }
    let lang = &tx.options().display_language;
    // name only the choices in the display language (or with none)
    let primary = |l: &str| l.split('-').next().unwrap_or("").to_ascii_lowercase();
    choices.retain(|(_, l)| match l {
        Some(l) => primary(l) == primary(lang),
        None => true,
    });
    if choices.is_empty() {
        return;
    }
    let (msg, args) = if let [(only, _)] = choices.as_slice() {
        (
            Msg::TxWrongDisplay,
            args![given, system, code, format!("'{only}'"), lang],
        )
    } else {
        let items: Vec<String> = choices
            .iter()
            .map(|(v, l)| match l {
                Some(l) => format!("'{v}' ({l})"),
                None => format!("'{v}'"),
            })
            .collect();
        (
            Msg::TxWrongDisplayChoices,
            args![given, system, code, items.len(), items.join(", "), lang],
        )
    };
    r.issues.push(issue(
        tx.options().display_mismatch,
        IssueKind::InvalidDisplay,
        msg,
        args,
    ));
}

fn finish(mut r: ValidateResult) -> ValidateResult {
    r.issues.sort_by_key(|i| i.severity);
    r.valid = !r.issues.iter().any(|i| i.severity == Severity::Error);
    r
}

/// A code of the `NNxxx` pattern of v2 table 0203 (identifier types):
/// `NN` and an ISO 3166 alpha-3 country code (`NNFIN`).
fn national_person_identifier(system: &str, code: &str) -> bool {
    system == "http://terminology.hl7.org/CodeSystem/v2-0203"
        && code.len() == 5
        && code.starts_with("NN")
        && code[2..].bytes().all(|b| b.is_ascii_uppercase())
        && crate::grammar::country(&code[2..]).is_some()
}

/// CodeSystem `$validate-code`.
pub(crate) fn in_system(tx: &Terminology, coding: &CodingRef<'_>) -> ValidateResult {
    match coding.system {
        Some(system) => in_system_def(tx, coding, tx.system(system, coding.version)),
        None => in_system_def(tx, coding, SystemDef::Missing),
    }
}

/// CodeSystem `$validate-code` with the system already resolved.
fn in_system_def(tx: &Terminology, coding: &CodingRef<'_>, def: SystemDef) -> ValidateResult {
    let mut r = ValidateResult::default();
    let Some(code) = coding.code else {
        r.issues.push(issue(
            Severity::Error,
            IssueKind::NoCode,
            Msg::TxNoCode,
            args![],
        ));
        return finish(r);
    };
    let Some(system) = coding.system else {
        r.issues.push(issue(
            Severity::Error,
            IssueKind::NoSystem,
            Msg::TxNoSystem,
            args![],
        ));
        return finish(r);
    };
    r.system = Some(system.to_owned());
    r.code = Some(code.to_owned());
    match def {
        SystemDef::Resource(cs) => {
            r.version = cs.version.clone();
            let unknown_code = || match cs.version.as_deref() {
                Some(v) => (Msg::TxUnknownCodeVersion, args![code, system, v]),
                None => (Msg::TxUnknownCode, args![code, system]),
            };
            if cs.content == Content::NotPresent
                && crate::external::external_code_impossible(system, code)
            {
                // The content is not here, but the code breaks the system's
                // identifier syntax, so it is not one of its codes.
                let (msg, args) = unknown_code();
                r.issues
                    .push(issue(Severity::Error, IssueKind::UnknownCode, msg, args));
                return finish(r);
            }
            if cs.content == Content::NotPresent {
                r.unknown = true;
                r.issues.push(issue_of(
                    if is_unshippable(system) {
                        Severity::Information
                    } else {
                        Severity::Warning
                    },
                    IssueKind::UnknownSystem,
                    unavailable_message(system, coding.version, &SystemDef::Missing),
                ));
                return finish(r);
            }
            match cs
                .find(code)
                .and_then(|(i, case)| Some((cs.concept(i)?, case)))
            {
                Some((c, case_differs)) => {
                    r.code = Some(c.code.clone());
                    r.display = c.display.clone();
                    if c.is_inactive() {
                        r.issues.push(issue(
                            Severity::Warning,
                            IssueKind::Inactive,
                            Msg::TxInactive,
                            args![&c.code],
                        ));
                    }
                    if case_differs {
                        r.issues.push(issue(
                            Severity::Information,
                            IssueKind::CaseDifference,
                            Msg::TxCaseDifference,
                            args![code, &c.code, system],
                        ));
                    }
                    check_display(
                        tx,
                        &mut r,
                        system,
                        &c.code,
                        coding.display,
                        c.display.as_deref(),
                        &c.designations,
                    );
                }
                None if national_person_identifier(system, code) => {
                    // v2 table 0203 defines its NNxxx concept as a pattern:
                    // NN followed by an ISO 3166 alpha-3 country code.
                    r.code = Some(code.to_owned());
                    r.display = cs
                        .find("NNxxx")
                        .and_then(|(i, _)| cs.concept(i)?.display.clone());
                }
                None if cs.content.is_complete() => {
                    let (msg, args) = unknown_code();
                    r.issues
                        .push(issue(Severity::Error, IssueKind::UnknownCode, msg, args));
                }
                None => {
                    let content = cs.content.code();
                    let (msg, args) = match cs.version.as_deref() {
                        Some(v) => (
                            Msg::TxUnknownCodePartialVersion,
                            args![code, system, v, content],
                        ),
                        None => (Msg::TxUnknownCodePartial, args![code, system, content]),
                    };
                    r.issues
                        .push(issue(Severity::Warning, IssueKind::UnknownCode, msg, args));
                }
            }
        }
        SystemDef::Grammar(g) => match g.check(code) {
            Ok(display) => {
                r.display = Some(display.clone());
                if matches!(g, GrammarSystem::Iso3166 | GrammarSystem::Iso4217) {
                    // other official names are accepted, but only the
                    // preferred one is named in the message (as HL7 does)
                    let alternate = g == GrammarSystem::Iso3166
                        && coding
                            .display
                            .is_some_and(|d| crate::grammar::is_country_name(code, d));
                    if !alternate {
                        check_display(
                            tx,
                            &mut r,
                            system,
                            code,
                            coding.display,
                            Some(&display),
                            &[],
                        );
                    }
                }
            }
            Err(reason) => {
                let (msg, args) = match g {
                    GrammarSystem::Ucum => (Msg::TxUcumInvalid, args![code, reason]),
                    _ => (Msg::TxUnknownCode, args![code, system]),
                };
                r.issues
                    .push(issue(Severity::Error, IssueKind::UnknownCode, msg, args));
            }
        },
        SystemDef::Missing if crate::external::external_code_impossible(system, code) => {
            // Not shipped, but the code breaks the system's identifier
            // syntax, so it is not one of its codes.
            r.issues.push(issue(
                Severity::Error,
                IssueKind::UnknownCode,
                Msg::TxUnknownCode,
                args![code, system],
            ));
        }
        def => {
            r.unknown = true;
            let kind = if matches!(def, SystemDef::WrongVersion(_)) {
                IssueKind::UnknownVersion
            } else {
                IssueKind::UnknownSystem
            };
            let severity = if is_unshippable(system) {
                Severity::Information
            } else {
                Severity::Warning
            };
            r.issues.push(issue_of(
                severity,
                kind,
                unavailable_message(system, coding.version, &def),
            ));
        }
    }
    finish(r)
}

/// ValueSet `$validate-code` for one coding.
pub(crate) fn against_valueset(
    tx: &Terminology,
    vs: &VsIndex,
    coding: &CodingRef<'_>,
) -> ValidateResult {
    let vs_text = vs.versioned();
    let base = ValidateResult {
        valueset: Some(vs_text.to_owned()),
        valueset_name: vs.name.clone(),
        ..Default::default()
    };
    let Some(code) = coding.code else {
        let mut r = base;
        r.issues.push(issue(
            Severity::Error,
            IssueKind::NoCode,
            Msg::TxNoCode,
            args![],
        ));
        return finish(r);
    };
    let Some(system) = coding.system else {
        return bare_code(tx, vs, base, code, coding.display);
    };
    let def = tx.system(system, coding.version);
    let case_insensitive = match &def {
        SystemDef::Resource(cs) => !cs.case_sensitive,
        SystemDef::Grammar(g) => !g.case_sensitive(),
        _ => false,
    };
    let sys = in_system_def(tx, coding, def);
    let (sys_valid, sys_unknown) = (sys.valid, sys.unknown);
    let mut r = ValidateResult {
        valueset: base.valueset,
        valueset_name: base.valueset_name,
        ..sys
    };
    let not_in_vs = || {
        issue(
            Severity::Error,
            IssueKind::NotInValueSet,
            Msg::TxNotInValueSet,
            args![system, code, vs_text],
        )
    };
    match vs.member(system, code, case_insensitive) {
        Member::Yes(e) => {
            if sys_unknown {
                // Enumerated in the value set: membership is known even if
                // the code system is not.
                r.unknown = false;
                for i in &mut r.issues {
                    if i.kind == IssueKind::UnknownSystem {
                        i.severity = Severity::Information;
                    }
                }
                r.display = e.display.clone();
                r.version = r.version.or_else(|| e.version.clone());
                check_display(
                    tx,
                    &mut r,
                    system,
                    code,
                    coding.display,
                    e.display.as_deref(),
                    &e.designations,
                );
            } else if let Some(given) = coding.display {
                // A display the value set itself gives the concept (its
                // expansion's display or a designation) is accepted too.
                let g = normalize(given);
                let in_vs = e.display.as_deref().is_some_and(|d| normalize(d) == g)
                    || e.designations.iter().any(|d| normalize(&d.value) == g);
                if in_vs {
                    r.issues.retain(|i| i.kind != IssueKind::InvalidDisplay);
                }
            }
        }
        Member::No => {
            r.unknown = false;
            r.issues.retain(|i| i.kind == IssueKind::UnknownCode);
            r.issues.insert(0, not_in_vs());
        }
        Member::Open(o) => {
            if !sys_valid {
                r.issues.insert(0, not_in_vs());
            } else if !sys_unknown && o.filtered {
                r.unknown = true;
                r.issues.push(issue(
                    Severity::Information,
                    IssueKind::NotChecked,
                    Msg::TxNotChecked,
                    args![system, code, vs_text, o.reason.clone()],
                ));
            }
            // otherwise a whole grammar system or a fragment: the code
            // system check decides
        }
    }
    finish(r)
}

/// A bare `code` (no system): find the system from the value set.
fn bare_code(
    tx: &Terminology,
    vs: &VsIndex,
    mut r: ValidateResult,
    code: &str,
    display: Option<&str>,
) -> ValidateResult {
    let vs_text = vs.versioned();
    if let Some(e) = vs.by_code(code).next() {
        r.system = Some(e.system.clone());
        r.version = e.version.clone();
        r.code = Some(e.code.clone());
        r.display = e.display.clone();
        check_display(
            tx,
            &mut r,
            &e.system,
            &e.code,
            display,
            e.display.as_deref(),
            &e.designations,
        );
        return finish(r);
    }
    for o in &vs.open {
        if let (Some(g), false) = (o.grammar, o.filtered) {
            if let Ok(d) = g.check(code) {
                r.system = Some(o.system.clone());
                r.code = Some(code.to_owned());
                r.display = Some(d);
                return finish(r);
            }
        }
    }
    if let Some(o) = vs.open.iter().find(|o| o.grammar.is_none() || o.filtered) {
        r.unknown = true;
        r.issues.push(issue(
            Severity::Information,
            IssueKind::NotChecked,
            Msg::TxBareCodeNotChecked,
            args![code, vs_text, o.reason.clone()],
        ));
        return finish(r);
    }
    r.issues.push(issue(
        Severity::Error,
        IssueKind::NoSystem,
        Msg::TxSystemUndetermined,
        args![code, vs_text],
    ));
    r.issues.push(issue(
        Severity::Error,
        IssueKind::NotInValueSet,
        Msg::TxNotInValueSet,
        args!["", code, vs_text],
    ));
    finish(r)
}

/// ValueSet `$validate-code` for a CodeableConcept.
pub(crate) fn codeable_concept(
    tx: &Terminology,
    vs: &VsIndex,
    codings: &[CodingRef<'_>],
) -> ValidateResult {
    let mut results: Vec<ValidateResult> = codings
        .iter()
        .map(|c| against_valueset(tx, vs, c))
        .collect();
    if let Some(ok) = results.iter().position(|r| r.valid && !r.unknown) {
        return results.swap_remove(ok);
    }
    if let Some(unknown) = results.iter().position(|r| r.unknown) {
        return results.swap_remove(unknown);
    }
    let vs_text = vs.versioned();
    let codes: Vec<String> = codings.iter().map(CodingRef::to_token).collect();
    let mut r = ValidateResult {
        valueset: Some(vs_text.to_owned()),
        valueset_name: vs.name.clone(),
        ..Default::default()
    };
    r.issues.push(issue(
        Severity::Error,
        IssueKind::NotInValueSet,
        Msg::TxNoCodingInValueSet,
        args![
            vs.name.as_deref().unwrap_or(&vs.url),
            vs_text,
            codes.join(", ")
        ],
    ));
    for res in results {
        r.issues.extend(
            res.issues
                .into_iter()
                .filter(|i| i.kind != IssueKind::NotInValueSet),
        );
    }
    finish(r)
}
