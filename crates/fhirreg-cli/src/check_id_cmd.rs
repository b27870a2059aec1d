//! `fhirreg check-id --type fnr VALUE...`: the Norwegian national
//! identifier rules (fhirreg-no) on bare numbers.

use fhirreg::no::{self, IdKind};
use fhirreg::{args, Lang, Msg};
use serde_json::json;

/// Check each value; print one line (text) or one JSON object per line
/// (json) per value. `Ok(true)` when every value is valid (synthetic
/// numbers too, unless `no_synthetic`).
pub fn run(
    kind: IdKind,
    values: &[String],
    json_output: bool,
    no_synthetic: bool,
    lang: Lang,
) -> Result<bool, String> {
    let mut all_valid = true;
    for value in values {
        let result = no::validate(kind, value);
        let problem = fhirreg::no_id_message(kind, &result, no_synthetic);
        let valid = !problem
            .as_ref()
            .is_some_and(|m| m.msg.severity().is_error());
        all_valid &= valid;
        let verdict = match &result {
            Ok(id) => match id.birth_date {
                Some(date) => {
                    Msg::NoIdValidBorn.render(lang, &args![kind.name(), date.to_string()])
                }
                None => Msg::NoIdValid.render(lang, &args![kind.name()]),
            },
            Err(_) => String::new(),
        };
        if json_output {
            let issues: Vec<serde_json::Value> = problem
                .iter()
                .map(|m| {
                    json!({
                        "severity": m.msg.severity().code(),
                        "code": m.msg.issue_type().code(),
                        "messageId": m.msg.id(),
                        "message": m.render(lang),
                    })
                })
                .collect();
            let mut out = json!({
                "value": value,
                "type": kind.code(),
                "name": kind.name(),
                "valid": valid,
                "issues": issues,
            });
            if let Ok(id) = &result {
                if let Some(date) = id.birth_date {
                    out["birthDate"] = json!(date.to_string());
                }
                out["synthetic"] = match id.synthetic {
                    Some(no::Synthetic::TestNorge) => json!("test-norge"),
                    Some(no::Synthetic::Nav) => json!("nav"),
                    _ => json!(null),
                };
            }
            crate::emit(out);
        } else {
            let mut parts: Vec<String> = Vec::new();
            if !verdict.is_empty() {
                parts.push(verdict);
            }
            if let Some(m) = &problem {
                parts.push(format!("{}: {}", m.msg.severity().code(), m.render(lang)));
            }
            crate::emit(format!("{value}: {}", parts.join("; ")));
        }
    }
    Ok(all_valid)
}

/// The kinds `--type` takes.
pub fn parse_kind(code: &str) -> Result<IdKind, String> {
    IdKind::from_code(code).ok_or_else(|| {
        let codes: Vec<&str> = IdKind::ALL.iter().map(|k| k.code()).collect();
        format!(
            "unknown identifier type '{code}' (one of {})",
            codes.join(", ")
        )
    })
}
