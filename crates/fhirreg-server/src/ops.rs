//! The operations: terminology (`$expand`, `$validate-code`, `$lookup`,
//! `$subsumes`, `$translate`) and `$validate`.

use axum::http::StatusCode;
use fhirreg::terminology::{
    parameters, CodingRef, ExpandParams, Layered, MemorySource, Terminology, TxError,
    ValidateResult,
};
use fhirreg::{Format, Severity};
use serde_json::{json, Value};

use crate::http::{body_json, Answer, ApiError, Call};
use crate::params::{Coding, Params};
use crate::ServerState;

/// The url given to an inline ValueSet that has none.
const INLINE_VALUESET_URL: &str = "urn:fhirreg:request:valueset";

fn tx_error(error: TxError) -> ApiError {
    let message = error.to_string();
    match error {
        TxError::ValueSetNotFound(_)
        | TxError::CodeSystemNotFound(_)
        | TxError::ConceptMapNotFound(_)
        | TxError::UnknownCode { .. } => ApiError::not_found(message),
        TxError::TooCostly { .. } => ApiError::unprocessable("too-costly", message),
        TxError::NotExpandable { .. } => ApiError::unprocessable("not-supported", message),
        TxError::Cycle(_) | TxError::Invalid { .. } => {
            ApiError::unprocessable("processing", message)
        }
        // TxError may grow variants; they are processing errors too.
        #[allow(unreachable_patterns)]
        _ => ApiError::unprocessable("processing", message),
    }
}

/// The engine for this request: the server's (with its caches), or one
/// layering the request's own resources (`tx-resource`, an inline
/// `valueSet`) over the registry. Returns the inline value set's url too.
fn engine(state: &ServerState, params: &Params) -> Result<(Terminology, Option<String>), ApiError> {
    let inline = params.resource("valueSet");
    let extra: Vec<&Value> = params.resources("tx-resource").collect();
    if inline.is_none() && extra.is_empty() {
        return Ok((state.terminology().clone(), None));
    }
    let mut memory = MemorySource::new();
    for resource in extra {
        // Resources without a url cannot be referred to; skip them.
        if resource.get("url").and_then(Value::as_str).is_some() {
            memory
                .add(resource.clone())
                .map_err(|e| ApiError::unprocessable("invalid", format!("tx-resource: {e}")))?;
        }
    }
    let mut inline_url = None;
    if let Some(vs) = inline {
        if vs.get("resourceType").and_then(Value::as_str) != Some("ValueSet") {
            return Err(ApiError::bad_request(
                "Parameter 'valueSet' must hold a ValueSet resource",
            ));
        }
        let mut vs = vs.clone();
        let url = match vs.get("url").and_then(Value::as_str) {
            Some(url) => url.to_owned(),
            None => {
                vs["url"] = json!(INLINE_VALUESET_URL);
                INLINE_VALUESET_URL.to_owned()
            }
        };
        let canonical = match vs.get("version").and_then(Value::as_str) {
            Some(v) => format!("{url}|{v}"),
            None => url,
        };
        memory
            .add(vs)
            .map_err(|e| ApiError::unprocessable("invalid", format!("valueSet: {e}")))?;
        inline_url = Some(canonical);
    }
    let registry = state.registry().clone();
    Ok((
        Terminology::with_source(Layered(memory, registry)),
        inline_url,
    ))
}

/// The canonical (`url|version`) of a resource the registry holds by id.
fn canonical_by_id(state: &ServerState, ty: &str, id: &str) -> Result<String, ApiError> {
    let resource = state
        .registry()
        .by_id(ty, id)
        .ok_or_else(|| ApiError::not_found(format!("{ty}/{id} is not known to this server")))?;
    let url = resource
        .url
        .clone()
        .ok_or_else(|| ApiError::unprocessable("processing", format!("{ty}/{id} has no url")))?;
    Ok(match &resource.version {
        Some(v) => format!("{url}|{v}"),
        None => url,
    })
}

fn plain_url(canonical: &str) -> &str {
    canonical.split('|').next().unwrap_or(canonical)
}

/// The value set of a ValueSet operation: by id, inline, or `url`
/// (+ `valueSetVersion`).
fn valueset(
    state: &ServerState,
    params: &Params,
    id: Option<&str>,
    inline: Option<String>,
) -> Result<Option<String>, ApiError> {
    if let Some(id) = id {
        return canonical_by_id(state, "ValueSet", id).map(Some);
    }
    if inline.is_some() {
        return Ok(inline);
    }
    Ok(params
        .text("url")
        .map(|url| match params.text("valueSetVersion") {
            Some(v) if !url.contains('|') => format!("{url}|{v}"),
            _ => url,
        }))
}

/// `ValueSet/$expand`.
pub(crate) fn expand(
    state: &ServerState,
    params: &Params,
    id: Option<&str>,
) -> Result<Answer, ApiError> {
    let (tx, inline) = engine(state, params)?;
    let vs = valueset(state, params, id, inline)?.ok_or_else(|| {
        ApiError::bad_request("$expand needs a value set: 'url', 'valueSet' or /ValueSet/{id}")
    })?;
    let mut system_versions = Vec::new();
    for name in ["system-version", "force-system-version"] {
        for canonical in params.texts(name) {
            let (system, version) = canonical.split_once('|').ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Parameter '{name}' must be a canonical 'system|version', not '{canonical}'"
                ))
            })?;
            system_versions.push((system.to_owned(), version.to_owned()));
        }
    }
    let expand = ExpandParams {
        filter: params.text("filter").filter(|f| !f.is_empty()),
        offset: params.count("offset")?.unwrap_or(0),
        count: params.count("count")?,
        include_designations: params.boolean("includeDesignations")?.unwrap_or(false),
        active_only: params.boolean("activeOnly")?.unwrap_or(false),
        system_versions,
        ..Default::default()
    };
    tx.expand(&vs, &expand).map(Answer::ok).map_err(tx_error)
}

/// The coding(s) to check: `coding`, `codeableConcept`, or
/// `system`/`code`/`version`/`display`.
enum Codings {
    One(Coding),
    Concept(Vec<Coding>),
}

fn codings(params: &Params, system_name: &str) -> Result<Codings, ApiError> {
    if let Some(coding) = params.coding("coding") {
        return Ok(Codings::One(coding));
    }
    if let Some(codings) = params.codeable_concept("codeableConcept") {
        return Ok(Codings::Concept(codings));
    }
    let code = params.text("code").ok_or_else(|| {
        ApiError::bad_request("$validate-code needs 'code', 'coding' or 'codeableConcept'")
    })?;
    Ok(Codings::One(Coding {
        system: params.text(system_name),
        version: params
            .text("version")
            .or_else(|| params.text("systemVersion")),
        code: Some(code),
        display: params.text("display"),
    }))
}

/// `ValueSet/$validate-code`.
pub(crate) fn validate_code_vs(
    state: &ServerState,
    params: &Params,
    id: Option<&str>,
) -> Result<Answer, ApiError> {
    let (tx, inline) = engine(state, params)?;
    let vs = valueset(state, params, id, inline)?;
    let codings = codings(params, "system")?;
    let Some(vs) = vs else {
        // No value set: check the code in its code system, if named.
        return match codings {
            Codings::One(c) if c.system.is_some() => in_system(state, &tx, &c),
            _ => Err(ApiError::bad_request(
                "ValueSet/$validate-code needs a value set: 'url', 'valueSet' or /ValueSet/{id}",
            )),
        };
    };
    let result = match &codings {
        Codings::One(coding) => tx.validate_code(&vs, &coding.as_ref()),
        Codings::Concept(list) => {
            let refs: Vec<CodingRef<'_>> = list.iter().map(Coding::as_ref).collect();
            tx.validate_codeable_concept(&vs, &refs)
        }
    }
    .map_err(tx_error)?;
    let system = match &codings {
        Codings::One(c) => c.system.clone(),
        Codings::Concept(list) => list.iter().find_map(|c| c.system.clone()),
    };
    Ok(Answer::ok(validate_code_parameters(
        &result,
        system.as_deref(),
    )))
}

/// The `$validate-code` Parameters; the system asked for names the
/// unavailable system when the engine could not infer one.
fn validate_code_parameters(result: &ValidateResult, input_system: Option<&str>) -> Value {
    if result.system.is_none() && input_system.is_some() {
        let mut named = result.clone();
        named.system = input_system.map(str::to_string);
        return parameters::validate_code(&named);
    }
    parameters::validate_code(result)
}

/// Validate one coding in its code system (which the caller made sure
/// is named), with a version check the engine does not do itself.
fn in_system(state: &ServerState, tx: &Terminology, coding: &Coding) -> Result<Answer, ApiError> {
    let (Some(system), Some(code)) = (coding.system.as_deref(), coding.code.as_deref()) else {
        return Err(ApiError::bad_request("A code and its system are needed"));
    };
    if let Some(version) = coding.version.as_deref() {
        let registry = state.registry();
        if registry.resolve(system).is_some()
            && registry.resolve(&format!("{system}|{version}")).is_none()
        {
            let known: Vec<String> = registry
                .versions_of(system)
                .filter_map(|s| s.version().map(str::to_owned))
                .collect();
            let message = fhirreg::Msg::TxSystemVersionUnavailableKnown.render(
                fhirreg::Lang::En,
                &fhirreg::args![system, version, known.join(", ")],
            );
            return Ok(Answer::ok(
                json!({"resourceType": "Parameters", "parameter": [
                    {"name": "result", "valueBoolean": false},
                    {"name": "message", "valueString": message},
                    {"name": "system", "valueUri": system},
                    {"name": "code", "valueCode": code},
                ]}),
            ));
        }
    }
    let result = tx
        .validate_code_in_system(system, code, coding.display.as_deref())
        .map_err(tx_error)?;
    Ok(Answer::ok(validate_code_parameters(&result, Some(system))))
}

/// The code system of a CodeSystem operation: by id, or a parameter.
fn codesystem(
    state: &ServerState,
    params: &Params,
    id: Option<&str>,
    names: &[&str],
) -> Result<Option<String>, ApiError> {
    if let Some(id) = id {
        return canonical_by_id(state, "CodeSystem", id).map(|c| Some(plain_url(&c).to_owned()));
    }
    Ok(names.iter().find_map(|n| params.text(n)))
}

/// `CodeSystem/$validate-code`.
pub(crate) fn validate_code_cs(
    state: &ServerState,
    params: &Params,
    id: Option<&str>,
) -> Result<Answer, ApiError> {
    let (tx, _) = engine(state, params)?;
    let system = codesystem(state, params, id, &["url", "system"])?;
    let mut coding = match codings(params, "system")? {
        Codings::One(c) => c,
        Codings::Concept(list) => {
            // The first coding from this system, else the first.
            let pick = list
                .iter()
                .find(|c| system.is_some() && c.system == system)
                .or_else(|| list.first())
                .cloned();
            pick.ok_or_else(|| ApiError::bad_request("The codeableConcept has no coding"))?
        }
    };
    if let Some(system) = system {
        coding.system = Some(system);
    }
    if coding.system.is_none() {
        return Err(ApiError::bad_request(
            "CodeSystem/$validate-code needs 'url' or /CodeSystem/{id}",
        ));
    }
    in_system(state, &tx, &coding)
}

/// `CodeSystem/$lookup`.
pub(crate) fn lookup(
    state: &ServerState,
    params: &Params,
    id: Option<&str>,
) -> Result<Answer, ApiError> {
    let (tx, _) = engine(state, params)?;
    let coding = params.coding("coding").unwrap_or_default();
    let system = codesystem(state, params, id, &["system"])?
        .or(coding.system)
        .ok_or_else(|| ApiError::bad_request("$lookup needs 'system' (or 'coding')"))?;
    let code = params
        .text("code")
        .or(coding.code)
        .ok_or_else(|| ApiError::bad_request("$lookup needs 'code' (or 'coding')"))?;
    let version = params.text("version").or(coding.version);
    let result = tx
        .lookup(&system, version.as_deref(), &code)
        .map_err(tx_error)?;
    let mut out = parameters::lookup(&result);
    let wanted = params.texts("property");
    if !wanted.is_empty() {
        // Only the asked-for properties (and designations if asked for).
        if let Some(list) = out.get_mut("parameter").and_then(Value::as_array_mut) {
            list.retain(|p| match p.get("name").and_then(Value::as_str) {
                Some("property") => p
                    .get("part")
                    .and_then(Value::as_array)
                    .and_then(|parts| parts.first())
                    .and_then(|part| part.get("valueCode"))
                    .and_then(Value::as_str)
                    .is_some_and(|code| wanted.iter().any(|w| w == code)),
                Some("designation") => wanted.iter().any(|w| w == "designation"),
                Some("definition") => wanted.iter().any(|w| w == "definition"),
                _ => true,
            });
        }
    }
    Ok(Answer::ok(out))
}

/// `CodeSystem/$subsumes`.
pub(crate) fn subsumes(
    state: &ServerState,
    params: &Params,
    id: Option<&str>,
) -> Result<Answer, ApiError> {
    let (tx, _) = engine(state, params)?;
    let a = params.coding("codingA").unwrap_or_default();
    let b = params.coding("codingB").unwrap_or_default();
    let system = codesystem(state, params, id, &["system"])?
        .or_else(|| a.system.clone())
        .or_else(|| b.system.clone())
        .ok_or_else(|| ApiError::bad_request("$subsumes needs 'system'"))?;
    for other in [&a.system, &b.system].into_iter().flatten() {
        if *other != system {
            return Err(ApiError::bad_request(format!(
                "$subsumes compares codes of one system; '{other}' is not '{system}'"
            )));
        }
    }
    let code_a = params
        .text("codeA")
        .or(a.code)
        .ok_or_else(|| ApiError::bad_request("$subsumes needs 'codeA' (or 'codingA')"))?;
    let code_b = params
        .text("codeB")
        .or(b.code)
        .ok_or_else(|| ApiError::bad_request("$subsumes needs 'codeB' (or 'codingB')"))?;
    let outcome = tx.subsumes(&system, &code_a, &code_b).map_err(tx_error)?;
    Ok(Answer::ok(parameters::subsumes(outcome)))
}

/// `ConceptMap/$translate`.
pub(crate) fn translate(
    state: &ServerState,
    params: &Params,
    id: Option<&str>,
) -> Result<Answer, ApiError> {
    if params.boolean("reverse")? == Some(true) {
        return Err(ApiError::unprocessable(
            "not-supported",
            "$translate with reverse=true is not supported",
        ));
    }
    let (tx, _) = engine(state, params)?;
    let mut inputs: Vec<Coding> = Vec::new();
    if let Some(coding) = params.coding("coding") {
        inputs.push(coding);
    } else if let Some(list) = params.codeable_concept("codeableConcept") {
        inputs = list;
    } else if let Some(code) = params.text("code") {
        inputs.push(Coding {
            system: params.text("system"),
            code: Some(code),
            ..Default::default()
        });
    }
    if inputs.is_empty() {
        return Err(ApiError::bad_request(
            "$translate needs 'code' and 'system', 'coding' or 'codeableConcept'",
        ));
    }
    let target_system = params.text("targetsystem");
    let maps: Vec<String> = if let Some(id) = id {
        vec![canonical_by_id(state, "ConceptMap", id)?]
    } else if let Some(url) = params.text("url") {
        match params.text("conceptMapVersion") {
            Some(v) if !url.contains('|') => vec![format!("{url}|{v}")],
            _ => vec![url],
        }
    } else {
        candidate_maps(state, params, &inputs, target_system.as_deref())
    };
    let mut translations = Vec::new();
    for map in &maps {
        for input in &inputs {
            let (Some(system), Some(code)) = (input.system.as_deref(), input.code.as_deref())
            else {
                return Err(ApiError::bad_request(
                    "$translate needs the system of the code",
                ));
            };
            translations.extend(
                tx.translate(map, system, code, target_system.as_deref())
                    .map_err(tx_error)?,
            );
        }
    }
    Ok(Answer::ok(parameters::translate(&translations)))
}

/// The ConceptMaps that map from the inputs' systems (and to the target
/// system, and between the `source`/`target` value sets, when given).
fn candidate_maps(
    state: &ServerState,
    params: &Params,
    inputs: &[Coding],
    target_system: Option<&str>,
) -> Vec<String> {
    let source_vs = params.text("source");
    let target_vs = params.text("target");
    let registry = state.registry();
    let canonicals: Vec<String> = registry
        .resources_of_type("ConceptMap")
        .filter_map(|s| s.canonical())
        .collect();
    let scope = |cm: &Value, key: &str| -> Option<String> {
        ["Uri", "Canonical"]
            .iter()
            .find_map(|k| cm.get(format!("{key}{k}")).and_then(Value::as_str))
            .map(|s| plain_url(s).to_owned())
    };
    canonicals
        .into_iter()
        .filter(|canonical| {
            let Some(cm) = registry.resolve(canonical) else {
                return false;
            };
            let cm = &cm.json;
            if let Some(vs) = &source_vs {
                if scope(cm, "source").as_deref() != Some(plain_url(vs)) {
                    return false;
                }
            }
            if let Some(vs) = &target_vs {
                if scope(cm, "target").as_deref() != Some(plain_url(vs)) {
                    return false;
                }
            }
            cm.get("group")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|group| {
                    let source = group.get("source").and_then(Value::as_str);
                    let target = group.get("target").and_then(Value::as_str);
                    inputs.iter().any(|i| i.system.as_deref() == source)
                        && target_system.is_none_or(|t| target == Some(t))
                })
        })
        .collect()
}

/// The root element name of an XML document (after the prolog and
/// comments), without a prefix.
fn xml_root_name(bytes: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(bytes.get(..bytes.len().min(4096))?).ok()?;
    let mut rest = text;
    loop {
        let start = rest.find('<')?;
        rest = rest.get(start + 1..)?;
        if rest.starts_with('?') || rest.starts_with('!') {
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
            .collect();
        return Some(name.rsplit(':').next().unwrap_or(&name).to_owned());
    }
}

/// `$validate` (system level or on a type).
pub(crate) fn validate(
    state: &ServerState,
    call: &Call,
    ty: Option<&str>,
) -> Result<Answer, ApiError> {
    if let Some(ty) = ty {
        let known = state
            .registry()
            .type_summary(ty)
            .is_some_and(|s| s.kind() == Some("resource"));
        if !known {
            return Err(ApiError::not_found(format!(
                "'{ty}' is not a resource type known to this server"
            )));
        }
    }
    let body = call.body.as_ref();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "$validate needs the resource (or a Parameters with 'resource') as the body",
        ));
    }
    let query = Params::from_query(&call.query);
    let mut profiles = query.texts("profile");
    let format = Format::sniff(body);
    let parsed: Option<Value> = match format {
        Some(Format::Json) => serde_json::from_slice(body).ok(),
        _ => None,
    };
    let root_type = match (&parsed, format) {
        (Some(value), _) => value
            .get("resourceType")
            .and_then(Value::as_str)
            .map(str::to_owned),
        (None, Some(Format::Xml)) => xml_root_name(body),
        _ => None,
    };
    let wrapped = root_type.as_deref() == Some("Parameters") && ty != Some("Parameters");
    let (bytes, root_type) = if wrapped {
        let parameters = match parsed {
            Some(value) => value,
            None => body_json(state, body)?,
        };
        let mut params = Params::default();
        params.add_parameters(&parameters)?;
        profiles.extend(params.texts("profile"));
        let resource = params
            .resource("resource")
            .ok_or_else(|| ApiError::bad_request("The Parameters has no 'resource' to validate"))?;
        let resource_type = resource
            .get("resourceType")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let bytes = serde_json::to_vec(resource)
            .map_err(|e| ApiError::bad_request(format!("Cannot read 'resource': {e}")))?;
        (bytes, resource_type)
    } else {
        (body.to_vec(), root_type)
    };
    if let (Some(ty), Some(found)) = (ty, root_type.as_deref()) {
        if ty != found {
            return Err(ApiError::bad_request(format!(
                "The body is a {found}, but was posted to {ty}/$validate"
            )));
        }
    }
    let outcome = state.validator().validate_with_profiles(&bytes, &profiles);
    let fatal = outcome.issues.iter().any(|i| i.severity == Severity::Fatal);
    Ok(Answer {
        status: if fatal {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        resource: outcome.operation_outcome().lang(call.lang).to_value(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_root_skips_prolog_and_comments() {
        let xml = br#"<?xml version="1.0"?><!-- hi --><Patient xmlns="http://hl7.org/fhir"/>"#;
        assert_eq!(xml_root_name(xml).as_deref(), Some("Patient"));
        assert_eq!(
            xml_root_name(b"<f:Parameters xmlns:f='x'>").as_deref(),
            Some("Parameters")
        );
        assert_eq!(xml_root_name(b"no xml"), None);
    }
}
