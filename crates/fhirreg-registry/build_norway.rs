// The Norwegian layer of the embedded registry, made at build time from
// the top-level `codesystems/` folder (see codesystems/README.md):
//
// * `namingsystems/*.json`: our NamingSystems of the Norwegian national
//   identifiers, as FHIR JSON;
// * `kodeverk/*.tsv`: HL7 Norway's kodeverk CodeSystems in the compact
//   form `scripts/gen-no-codesystems.py` writes (header `key<TAB>value`
//   lines, an empty line, then `code<TAB>display<TAB>definition` lines;
//   `#` lines are comments; `\\`, `\t`, `\n` escapes).
//
// Both become resources in the layer format of the other embedded layers:
// minified JSON, each compressed on its own (raw deflate), and an index.
// Included into build.rs (`mod norway`).

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::IndexLine;

/// (package id, index lines, blob) of the layer.
pub(crate) fn layer(dir: &Path) -> (String, Vec<IndexLine>, Vec<u8>) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut resources: Vec<Value> = Vec::new();
    for path in files(&dir.join("namingsystems"), "json") {
        let text = std::fs::read_to_string(&path).expect("a NamingSystem file is readable");
        let value: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()));
        resources.push(value);
    }
    let mut kodeverk_version = String::new();
    for path in files(&dir.join("kodeverk"), "tsv") {
        let text = std::fs::read_to_string(&path).expect("a kodeverk file is readable");
        let id = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let cs = code_system(&id, &text)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if kodeverk_version.is_empty() {
            if let Some(v) = cs.get("version").and_then(Value::as_str) {
                kodeverk_version = v.to_string();
            }
        }
        resources.push(cs);
    }
    let text = |r: &Value, key: &str| {
        r.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    resources.sort_by_key(|r| {
        (
            text(r, "resourceType"),
            text(r, "url"),
            text(r, "version"),
            text(r, "id"),
        )
    });
    let mut blob = Vec::new();
    let mut lines = Vec::new();
    for r in &resources {
        let raw = serde_json::to_vec(r).expect("JSON encodes");
        let packed = miniz_oxide::deflate::compress_to_vec(&raw, 9);
        let fields = [
            "resourceType",
            "id",
            "url",
            "version",
            "name",
            "type",
            "kind",
            "derivation",
            "baseDefinition",
        ]
        .iter()
        .map(|k| text(r, k))
        .chain(std::iter::once("false".to_string()))
        .collect();
        lines.push(IndexLine {
            fields,
            offset: blob.len(),
            length: packed.len(),
        });
        blob.extend_from_slice(&packed);
    }
    let version = if kodeverk_version.is_empty() {
        "0.0.0".to_string()
    } else {
        kodeverk_version
    };
    (format!("fhirreg.codesystems.no#{version}"), lines, blob)
}

/// The files with extension `ext` directly in `dir`, sorted by name.
fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some(ext))
        .collect();
    found.sort();
    for p in &found {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    found
}

fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// The CodeSystem of one compact kodeverk file.
fn code_system(id: &str, text: &str) -> Result<Value, String> {
    let mut cs = Map::new();
    cs.insert("resourceType".into(), json!("CodeSystem"));
    cs.insert("id".into(), json!(id));
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    for line in lines.by_ref() {
        if line.is_empty() {
            break;
        }
        let (key, value) = line
            .split_once('\t')
            .ok_or_else(|| format!("header line without a tab: {line}"))?;
        let value = unescape(value);
        match key {
            "oid" => {
                cs.insert(
                    "identifier".into(),
                    json!([{"system": "urn:ietf:rfc:3986", "value": format!("urn:oid:{value}")}]),
                );
            }
            "caseSensitive" => {
                cs.insert(key.into(), json!(value == "true"));
            }
            "url" | "version" | "name" | "title" | "status" | "content" | "description" => {
                cs.insert(key.into(), json!(value));
            }
            other => return Err(format!("unknown header field '{other}'")),
        }
    }
    if !cs.contains_key("url") {
        return Err("no url".into());
    }
    let mut concepts = Vec::new();
    for line in lines {
        let mut cols = line.split('\t').map(unescape);
        let code = cols.next().unwrap_or_default();
        if code.is_empty() {
            return Err(format!("a concept line without a code: {line}"));
        }
        let mut concept = Map::new();
        concept.insert("code".into(), json!(code));
        if let Some(display) = cols.next().filter(|d| !d.is_empty()) {
            concept.insert("display".into(), json!(display));
        }
        if let Some(definition) = cols.next().filter(|d| !d.is_empty()) {
            concept.insert("definition".into(), json!(definition));
        }
        concepts.push(Value::Object(concept));
    }
    if !concepts.is_empty() {
        cs.insert("count".into(), json!(concepts.len()));
        cs.insert("concept".into(), Value::Array(concepts));
    }
    Ok(Value::Object(cs))
}
