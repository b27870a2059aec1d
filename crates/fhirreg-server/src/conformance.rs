//! `metadata` (CapabilityStatement, TerminologyCapabilities), read and
//! search of the conformance resources the registry holds.

use std::collections::BTreeMap;

use fhirreg::terminology::grammar;
use serde_json::{json, Value};

use crate::http::{Answer, ApiError};
use crate::params::Params;
use crate::ServerState;

const SOFTWARE: &str = "fhirreg";
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Largest `_count` of a search.
const MAX_COUNT: usize = 1000;
/// `_count` when none is given.
const DEFAULT_COUNT: usize = 50;

/// The resource types the server names in its CapabilityStatement, with
/// their operations (name, OperationDefinition id).
const RESOURCES: &[(&str, &[(&str, &str)])] = &[
    (
        "ValueSet",
        &[
            ("expand", "ValueSet-expand"),
            ("validate-code", "ValueSet-validate-code"),
        ],
    ),
    (
        "CodeSystem",
        &[
            ("lookup", "CodeSystem-lookup"),
            ("validate-code", "CodeSystem-validate-code"),
            ("subsumes", "CodeSystem-subsumes"),
        ],
    ),
    ("ConceptMap", &[("translate", "ConceptMap-translate")]),
    ("StructureDefinition", &[]),
    ("NamingSystem", &[]),
];

/// Now as a FHIR dateTime in UTC (`2024-05-01T12:00:00Z`).
pub(crate) fn now() -> String {
    fhirreg::terminology::now_datetime()
}

/// `GET /metadata`: the CapabilityStatement (built once).
pub(crate) fn capability_statement(state: &ServerState) -> Value {
    state
        .inner
        .capability
        .get_or_init(|| {
            let resources: Vec<Value> = RESOURCES
                .iter()
                .map(|(ty, operations)| {
                    let operations: Vec<Value> = operations
                        .iter()
                        .map(|(name, id)| {
                            json!({"name": name, "definition": format!("http://hl7.org/fhir/OperationDefinition/{id}")})
                        })
                        .collect();
                    let mut resource = json!({
                        "type": ty,
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": [
                            {"name": "url", "type": "uri"},
                            {"name": "version", "type": "token"},
                            {"name": "name", "type": "string"},
                            {"name": "_id", "type": "token"}
                        ]
                    });
                    if !operations.is_empty() {
                        resource["operation"] = json!(operations);
                    }
                    resource
                })
                .collect();
            json!({
                "resourceType": "CapabilityStatement",
                "id": "fhirreg-server",
                "url": "urn:fhirreg:server:capabilities",
                "name": "FhirregServer",
                "title": "fhirreg terminology server",
                "status": "active",
                "date": now(),
                "publisher": SOFTWARE,
                "kind": "instance",
                "instantiates": ["http://hl7.org/fhir/CapabilityStatement/terminology-server"],
                "software": {"name": SOFTWARE, "version": VERSION},
                "implementation": {"description": "fhirreg: offline FHIR R4 terminology server and validator"},
                "fhirVersion": "4.0.1",
                "format": ["application/fhir+json", "application/fhir+xml", "json", "xml"],
                "rest": [{
                    "mode": "server",
                    "resource": resources,
                    "interaction": [{"code": "batch"}],
                    "operation": [{
                        "name": "validate",
                        "definition": "http://hl7.org/fhir/OperationDefinition/Resource-validate"
                    }]
                }]
            })
        })
        .clone()
}

/// `GET /metadata?mode=terminology`: TerminologyCapabilities listing the
/// code systems the server can check (built once).
pub(crate) fn terminology_capabilities(state: &ServerState) -> Value {
    state
        .inner
        .terminology_capabilities
        .get_or_init(|| {
            let registry = state.registry();
            let mut systems: BTreeMap<String, Vec<String>> = BTreeMap::new();
            let canonicals: Vec<String> = registry
                .resources_of_type("CodeSystem")
                .filter_map(|s| s.canonical())
                .collect();
            for canonical in canonicals {
                let Some(cs) = registry.resolve(&canonical) else {
                    continue;
                };
                // Systems whose codes are not held cannot be checked here.
                let content = cs.json.get("content").and_then(Value::as_str);
                if matches!(content, Some("not-present") | Some("supplement")) {
                    continue;
                }
                let Some(url) = cs.url.clone() else { continue };
                let versions = systems.entry(url).or_default();
                if let Some(v) = &cs.version {
                    if !versions.contains(v) {
                        versions.push(v.clone());
                    }
                }
            }
            for url in [
                grammar::UCUM,
                grammar::BCP47,
                grammar::BCP13,
                grammar::ISO3166,
                grammar::ISO4217,
            ] {
                systems.entry(url.to_owned()).or_default();
            }
            let code_systems: Vec<Value> = systems
                .into_iter()
                .map(|(uri, versions)| {
                    let mut entry = json!({"uri": uri});
                    if !versions.is_empty() {
                        entry["version"] = versions
                            .iter()
                            .map(|v| json!({"code": v}))
                            .collect::<Vec<_>>()
                            .into();
                    }
                    entry
                })
                .collect();
            json!({
                "resourceType": "TerminologyCapabilities",
                "id": "fhirreg-server",
                "url": "urn:fhirreg:server:terminology-capabilities",
                "name": "FhirregServer",
                "status": "active",
                "date": now(),
                "kind": "instance",
                "software": {"name": SOFTWARE, "version": VERSION},
                "codeSystem": code_systems,
                "expansion": {
                    "hierarchical": false,
                    "paging": true,
                    "incomplete": false,
                    "parameter": [
                        {"name": "filter"}, {"name": "offset"}, {"name": "count"},
                        {"name": "includeDesignations"}, {"name": "activeOnly"},
                        {"name": "system-version"}, {"name": "valueSetVersion"}
                    ],
                    "textFilter": "Concepts whose code, display or designation contains every word of the filter, ignoring case"
                },
                "codeSearch": "all",
                "validateCode": {"translations": false},
                "translation": {"needsMap": false},
                "closure": {"translation": false}
            })
        })
        .clone()
}

fn check_type(state: &ServerState, ty: &str) -> Result<(), ApiError> {
    let known = state
        .registry()
        .type_summary(ty)
        .is_some_and(|s| s.kind() == Some("resource"));
    if known {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "'{ty}' is not a resource type known to this server"
        )))
    }
}

/// `GET /{type}/{id}`.
pub(crate) fn read(state: &ServerState, ty: &str, id: &str) -> Result<Answer, ApiError> {
    check_type(state, ty)?;
    state
        .registry()
        .by_id(ty, id)
        .map(|r| Answer::ok(r.json.clone()))
        .ok_or_else(|| ApiError::not_found(format!("{ty}/{id} is not known to this server")))
}

/// `GET /{type}?url=&version=&name=&_id=&_count=`: a searchset Bundle.
pub(crate) fn search(state: &ServerState, ty: &str, params: &Params) -> Result<Answer, ApiError> {
    check_type(state, ty)?;
    let url = params.text("url");
    // `url` may carry the version as `url|version`.
    let (url, version) = match url.as_deref().and_then(|u| u.split_once('|')) {
        Some((u, v)) => (Some(u.to_owned()), Some(v.to_owned())),
        None => (url, params.text("version")),
    };
    let name = params.text("name").map(|n| n.to_lowercase());
    let id = params.text("_id");
    let count = params
        .count("_count")?
        .unwrap_or(DEFAULT_COUNT)
        .min(MAX_COUNT);
    let registry = state.registry();
    let matches: Vec<String> = registry
        .resources_of_type(ty)
        .filter(|s| fits(url.as_deref(), s.url()))
        .filter(|s| fits(version.as_deref(), s.version()))
        .filter(|s| fits(id.as_deref(), s.id()))
        .filter(|s| {
            name.as_deref().is_none_or(|n| {
                s.name()
                    .is_some_and(|own| own.to_lowercase().starts_with(n))
            })
        })
        .filter_map(|s| {
            s.canonical()
                .or_else(|| s.id().map(|i| format!("{ty}/{i}")))
        })
        .collect();
    let total = matches.len();
    let entries: Vec<Value> = matches
        .iter()
        .take(count)
        .filter_map(|key| {
            registry
                .resolve(key)
                .or_else(|| key.split_once('/').and_then(|(t, i)| registry.by_id(t, i)))
        })
        .map(|r| {
            let mut entry = json!({"resource": r.json, "search": {"mode": "match"}});
            if let Some(id) = &r.id {
                entry["fullUrl"] = json!(format!("{ty}/{id}"));
            }
            entry
        })
        .collect();
    Ok(Answer::ok(json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "entry": entries
    })))
}

/// `None` matches anything; `Some(x)` only `Some(x)`.
fn fits(wanted: Option<&str>, have: Option<&str>) -> bool {
    wanted.is_none_or(|v| have == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_a_fhir_datetime() {
        let n = now();
        assert_eq!(n.len(), 20, "{n}");
        assert!(n.starts_with("20"), "{n}");
        assert!(n.ends_with('Z'));
        assert_eq!(&n[4..5], "-");
        assert_eq!(&n[10..11], "T");
    }
}
