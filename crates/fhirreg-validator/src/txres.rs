//! The content rules of terminology resources, as the HL7 Java validator
//! applies them when it validates a CodeSystem, ValueSet or ConceptMap
//! (its CodeSystemValidator, ValueSetValidator and ConceptMapValidator):
//! supplement and count consistency, compose includes (absolute systems,
//! codes that exist, filters on known properties with allowed operators
//! and well-formed values, ECL, value set parameters), and the codes a
//! ConceptMap maps from and to.

use crate::Walk;
use fhirreg_element::{Element, IssueType, Severity};
use fhirreg_terminology::external::{self, SNOMED};
use fhirreg_terminology::{CodingRef, IssueKind, ValidateResult};
use serde_json::Value;

/// Value sets enumerating more codes than this are not checked code by code.
const TOO_MANY_CODES_TO_VALIDATE: usize = 1000;

/// The kind of value a filter property takes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ValueType {
    Boolean,
    Code,
    Coding,
    DateTime,
    Decimal,
    Integer,
    Ecl,
}

/// How strictly a code value is checked in the code system.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CodeRule {
    None,
    Warning,
    Error,
}

struct Rules {
    kind: ValueType,
    code_rule: CodeRule,
    /// Allowed operators (empty: any).
    ops: Vec<String>,
}

/// R4 operators of the `concept` and `code` properties.
const CONCEPT_OPS: &[&str] = &[
    "=",
    "in",
    "is-a",
    "descendent-of",
    "is-not-a",
    "generalizes",
    "not-in",
];

/// Properties every code system has.
const BASE_PROPERTIES: &[&str] = &[
    "concept",
    "code",
    "status",
    "inactive",
    "effectiveDate",
    "deprecationDate",
    "retirementDate",
    "notSelectable",
    "synonym",
    "comment",
    "itemWeight",
];

fn ops(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_string()).collect()
}

fn base_rules(property: &str, mut extra: Vec<String>) -> Option<Rules> {
    let r = |kind, code_rule, extra: Vec<String>| {
        Some(Rules {
            kind,
            code_rule,
            ops: extra,
        })
    };
    match property {
        "concept" => {
            extra.extend(ops(CONCEPT_OPS));
            r(ValueType::Code, CodeRule::Error, extra)
        }
        "code" => {
            extra.push("regex".into());
            extra.extend(ops(CONCEPT_OPS));
            r(ValueType::Code, CodeRule::Error, extra)
        }
        "status" | "synonym" => r(ValueType::Code, CodeRule::None, extra),
        "inactive" | "notSelectable" => r(ValueType::Boolean, CodeRule::None, extra),
        "effectiveDate" | "deprecationDate" | "retirementDate" => {
            r(ValueType::DateTime, CodeRule::None, extra)
        }
        "parent" | "child" | "partOf" => r(ValueType::Code, CodeRule::Error, extra),
        "itemWeight" => r(ValueType::Decimal, CodeRule::None, extra),
        _ => None,
    }
}

/// What is known of the code system an include draws from.
enum SystemInfo {
    Snomed,
    /// A CodeSystem resource.
    Resource(std::sync::Arc<fhirreg_registry::Resource>),
    /// Nothing (not loaded, or only on a terminology server).
    Unknown,
}

impl SystemInfo {
    fn property_names(&self) -> Vec<String> {
        match self {
            SystemInfo::Snomed => external::snomed_filter_properties()
                .into_iter()
                .map(str::to_string)
                .chain(["(the concept id of an attribute)".to_string()])
                .collect(),
            SystemInfo::Resource(cs) => {
                let mut names = ops(BASE_PROPERTIES);
                let mut add = |n: &str| {
                    if !names.iter().any(|x| x == n) {
                        names.push(n.to_string());
                    }
                };
                if cs.json.get("hierarchyMeaning").is_some() {
                    add("parent");
                    add("child");
                    add("partOf");
                }
                for key in ["filter", "property"] {
                    for f in array(&cs.json, key) {
                        if let Some(c) = f.get("code").and_then(Value::as_str) {
                            add(c);
                        }
                    }
                }
                names
            }
            SystemInfo::Unknown => ops(BASE_PROPERTIES),
        }
    }

    fn knows_property(&self, property: &str) -> bool {
        match self {
            SystemInfo::Snomed => {
                external::snomed_filter_properties().contains(&property)
                    || external::is_snomed_attribute(property)
            }
            _ => self.property_names().iter().any(|n| n == property),
        }
    }

    fn rules(&self, property: &str) -> Option<Rules> {
        match self {
            SystemInfo::Snomed => match property {
                "concept" => base_rules("concept", Vec::new()),
                "constraint" => Some(Rules {
                    kind: ValueType::Ecl,
                    code_rule: CodeRule::None,
                    ops: ops(&["="]),
                }),
                "expressions" | "inactive" => Some(Rules {
                    kind: ValueType::Boolean,
                    code_rule: CodeRule::None,
                    ops: ops(&["="]),
                }),
                p if external::is_snomed_attribute(p) => Some(Rules {
                    kind: ValueType::Code,
                    code_rule: CodeRule::Warning,
                    ops: ops(&["=", "in"]),
                }),
                _ => None,
            },
            SystemInfo::Resource(cs) => {
                let mut allowed: Vec<String> = Vec::new();
                for f in array(&cs.json, "filter") {
                    if f.get("code").and_then(Value::as_str) == Some(property) {
                        for op in array(f, "operator") {
                            if let Some(op) = op.as_str() {
                                allowed.push(op.to_string());
                            }
                        }
                    }
                }
                for p in array(&cs.json, "property") {
                    if p.get("code").and_then(Value::as_str) != Some(property) {
                        continue;
                    }
                    let kind = match p.get("type").and_then(Value::as_str) {
                        Some("boolean") => (ValueType::Boolean, CodeRule::None),
                        // A code property names a concept of the system,
                        // but many define it as a plain list: a warning.
                        Some("code") => (ValueType::Code, CodeRule::Warning),
                        Some("Coding") => (ValueType::Coding, CodeRule::None),
                        Some("dateTime") => (ValueType::DateTime, CodeRule::None),
                        Some("decimal") => (ValueType::Decimal, CodeRule::None),
                        Some("integer") => (ValueType::Integer, CodeRule::None),
                        Some("string") => return None,
                        _ => continue,
                    };
                    return Some(Rules {
                        kind: kind.0,
                        code_rule: kind.1,
                        ops: allowed,
                    });
                }
                base_rules(property, allowed)
            }
            SystemInfo::Unknown => base_rules(property, Vec::new()),
        }
    }
}

fn array<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

fn has_scheme(u: &str) -> bool {
    crate::has_scheme(u)
}

/// A declared value set parameter.
struct Parameter<'e> {
    name: String,
    node: &'e Element,
    used: bool,
}

/// The `%name` constants of a FHIRPath expression (string literals and
/// comments skipped).
fn fhirpath_constants(expr: &str) -> Vec<String> {
    let b = expr.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'`') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'%' => {
                i += 1;
                let start = i;
                if b.get(i) == Some(&b'`') {
                    let end = b[i + 1..].iter().position(|&c| c == b'`');
                    if let Some(end) = end {
                        out.push(expr[i + 1..i + 1 + end].to_string());
                        i += end + 2;
                    } else {
                        i = b.len();
                    }
                    continue;
                }
                while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'-')) {
                    i += 1;
                }
                if i > start {
                    out.push(expr[start..i].to_string());
                }
            }
            _ => i += 1,
        }
    }
    out
}

impl Walk<'_> {
    /// Report at `path` (the walk's path is restored afterwards).
    fn report(
        &mut self,
        severity: Severity,
        code: IssueType,
        id: &'static str,
        path: &str,
        message: String,
        node: &Element,
    ) {
        let saved = std::mem::replace(&mut self.path, path.to_string());
        self.push(severity, code, id, message, node);
        self.path = saved;
    }

    // ---------------------------------------------------------------- CodeSystem

    pub(crate) fn codesystem_rules(&mut self, cs: &Element) {
        let base = self.path.clone();
        let url = cs.child_value("url");
        let content = cs.child_value("content");
        let supplements = cs.child_value("supplements");
        let count = count_concepts(cs);
        if supplements.is_some() {
            if content != Some("supplement") {
                let at = cs.child("content").unwrap_or(cs);
                self.report(
                    Severity::Error,
                    IssueType::BusinessRule,
                    "CODESYSTEM_CS_HL7_PRESENT_ELEMENT_SUPPL_WRONG",
                    &format!("{base}.content"),
                    "CodeSystem Supplements SHALL have a content value of 'supplement'".into(),
                    at,
                );
            }
            for name in ["caseSensitive", "hierarchyMeaning"] {
                if let Some(e) = cs.child(name) {
                    self.report(
                        Severity::Error,
                        IssueType::BusinessRule,
                        "CODESYSTEM_CS_HL7_PRESENT_ELEMENT_SUPPL",
                        &format!("{base}.{name}"),
                        format!(
                            "CodeSystems SHOULD NOT have a stated value for the {name} element when they are a supplement"
                        ),
                        e,
                    );
                }
            }
        } else {
            let hl7 = url.is_some_and(|u| u.contains("hl7.org") || u.contains("fhir.org"));
            if content == Some("supplement") {
                let at = cs.child("content").unwrap_or(cs);
                self.report(
                    Severity::Error,
                    IssueType::BusinessRule,
                    "CODESYSTEM_CS_HL7_PRESENT_ELEMENT_SUPPL_MISSING",
                    &format!("{base}.content"),
                    "CodeSystem Supplements with a content value of 'supplement' SHALL have a supplements element that specifies which code system is being supplemented".into(),
                    at,
                );
            }
            if cs.child_value("caseSensitive").is_none() {
                let (sev, msg) = if hl7 {
                    (Severity::Warning, "HL7 Defined CodeSystems SHOULD have a stated value for the caseSensitive element so that users know the status and meaning of the code system clearly")
                } else {
                    (Severity::Information, "CodeSystems SHOULD have a stated value for the caseSensitive element so that users know the status and meaning of the code system clearly")
                };
                self.report(
                    sev,
                    IssueType::BusinessRule,
                    "CODESYSTEM_CS_HL7_MISSING_ELEMENT_SHOULD",
                    &base,
                    msg.into(),
                    cs,
                );
            }
        }
        if let (Some(c), Some(content)) = (cs.child("count"), content) {
            if let Ok(stated) = c.value.as_deref().unwrap_or("").parse::<usize>() {
                let path = format!("{base}.count");
                match content {
                    "complete" if stated != count => self.report(
                        Severity::Error,
                        IssueType::Invalid,
                        "CODESYSTEM_CS_COUNT_COMPLETE_WRONG",
                        &path,
                        format!("The code system is complete, but the number of concepts ({count}) does not match the stated total number ({stated})"),
                        c,
                    ),
                    "example" | "fragment" if count >= stated => self.report(
                        Severity::Warning,
                        IssueType::Invalid,
                        "CODESYSTEM_CS_COUNT_FRAGMENT_WRONG",
                        &path,
                        format!("The code system is a fragment/example, but the number of concepts ({count}) exceeds or matches the stated total number ({stated})"),
                        c,
                    ),
                    _ => {}
                }
            }
        }
        if content == Some("not-present") {
            if let Some(first) = cs.children_named("concept").next() {
                self.report(
                    Severity::Error,
                    IssueType::Invalid,
                    "CODESYSTEM_CS_COUNT_NO_CONTENT_ALLOWED",
                    &format!("{base}.concept[0]"),
                    "The code system says it has no content present, but concepts are found".into(),
                    first,
                );
            }
        }
        if let Some(supp) = supplements {
            self.supplement_concepts(cs, &base, supp);
        }
    }

    /// The codes a supplement describes exist in the code system it supplements.
    fn supplement_concepts(&mut self, cs: &Element, base: &str, supp: &str) {
        let (system, version) = match supp.split_once('|') {
            Some((s, v)) => (s, Some(v)),
            None => (supp, None),
        };
        for (i, concept) in cs.children_named("concept").enumerate() {
            let Some(code) = concept.child_value("code") else {
                continue;
            };
            if self.unknown_code(system, version, code).is_some() {
                self.report(
                    Severity::Error,
                    IssueType::BusinessRule,
                    "CODESYSTEM_CS_SUPP_INVALID_CODE",
                    &format!("{base}.concept[{i}]"),
                    format!("The code '{code}' is not declared in the base CodeSystem {supp} so is not valid in the supplement"),
                    concept,
                );
            }
        }
    }

    // ---------------------------------------------------------------- ValueSet

    pub(crate) fn valueset_rules(&mut self, vs: &Element) {
        let base = self.path.clone();
        let mut params: Vec<Parameter<'_>> = Vec::new();
        let mut ext_count = 0;
        for ext in vs.children_named("extension") {
            if ext.child_value("url")
                == Some("http://hl7.org/fhir/tools/StructureDefinition/valueset-parameter")
            {
                let name = ext
                    .children_named("extension")
                    .find(|e| e.child_value("url") == Some("name"))
                    .and_then(|e| e.children.iter().find(|c| c.name.starts_with("value")))
                    .and_then(|v| v.value.clone());
                if let Some(name) = name {
                    params.push(Parameter {
                        name,
                        node: ext,
                        used: false,
                    });
                }
            }
            ext_count += 1;
        }
        if let Some(compose) = vs.child("compose") {
            let cpath = format!("{base}.compose");
            for kind in ["include", "exclude"] {
                for (i, inc) in compose.children_named(kind).enumerate() {
                    let ipath = format!("{cpath}.{kind}[{i}]");
                    self.valueset_include(inc, &ipath, &mut params);
                }
            }
        }
        for p in params.iter().filter(|p| !p.used) {
            // (the HL7 validator places this after the last extension)
            self.report(
                Severity::Warning,
                IssueType::BusinessRule,
                "VALUESET_PARAMETER_NOT_USED",
                &format!("{base}.extension[{ext_count}]"),
                format!("The value set parameter '{}' is not used", p.name),
                p.node,
            );
        }
    }

    fn valueset_include(&mut self, inc: &Element, path: &str, params: &mut [Parameter<'_>]) {
        let Some(system) = inc.child_value("system") else {
            return;
        };
        let version = inc.child_value("version");
        if !has_scheme(system) {
            let msg = if system.starts_with('#') {
                "URI values in ValueSet.compose.include.system must be absolute. To reference a contained code system, use the full CodeSystem URL and reference it using the http://hl7.org/fhir/StructureDefinition/valueset-system extension".to_string()
            } else {
                format!(
                    "URI values in ValueSet.compose.include.system must be absolute ('{system}')"
                )
            };
            self.report(
                Severity::Error,
                IssueType::Invalid,
                "VALUESET_INCLUDE_SYSTEM_ABSOLUTE",
                path,
                msg,
                inc,
            );
            return;
        }
        let cs = self
            .v
            .resolve(&match version {
                Some(v) => format!("{system}|{v}"),
                None => system.to_string(),
            })
            .filter(|r| r.resource_type == "CodeSystem");
        let mut check_concepts = true;
        if let Some(cs) = &cs {
            if cs.str("content") == Some("supplement") {
                check_concepts = false;
                let supp = cs.str("supplements").unwrap_or("");
                self.report(
                    Severity::Error,
                    IssueType::Invalid,
                    "VALUESET_INCLUDE_CS_SUPPLEMENT",
                    path,
                    format!("The value set references CodeSystem '{system}' which is a supplement. It must reference the underlying CodeSystem '{supp}' and use the http://hl7.org/fhir/StructureDefinition/valueset-supplement extension for the supplement"),
                    inc,
                );
            }
        }
        let concepts: Vec<&Element> = inc.children_named("concept").collect();
        if check_concepts && concepts.len() <= TOO_MANY_CODES_TO_VALIDATE {
            for (j, concept) in concepts.iter().enumerate() {
                let Some(code) = concept.child_value("code") else {
                    continue;
                };
                if let Some(r) = self.unknown_code(system, version, code) {
                    let detail = r.message().unwrap_or_default();
                    self.report(
                        Severity::Error,
                        IssueType::BusinessRule,
                        "VALUESET_INCLUDE_INVALID_CONCEPT_CODE",
                        &format!("{path}.concept[{j}]"),
                        format!("The code '{code}' is not valid in the system {system} ({detail})"),
                        concept,
                    );
                }
            }
        }
        let info = if system == SNOMED {
            SystemInfo::Snomed
        } else if let Some(cs) = cs {
            SystemInfo::Resource(cs)
        } else {
            SystemInfo::Unknown
        };
        for (k, filter) in inc.children_named("filter").enumerate() {
            let fpath = format!("{path}.filter[{k}]");
            self.valueset_filter(filter, &fpath, system, version, &info, params);
        }
    }

    fn valueset_filter(
        &mut self,
        filter: &Element,
        path: &str,
        system: &str,
        version: Option<&str>,
        info: &SystemInfo,
        params: &mut [Parameter<'_>],
    ) {
        let Some(property) = filter.child_value("property") else {
            return;
        };
        // (an op given only in a cross-version extension is not judged)
        let Some(op) = filter.child_value("op") else {
            return;
        };
        let value_node = filter.child("value");
        let value = value_node.and_then(|v| v.value.as_deref());
        if !info.knows_property(property) {
            let names = info.property_names();
            let (sev, id) = match info {
                SystemInfo::Unknown => (
                    Severity::Information,
                    "VALUESET_UNKNOWN_FILTER_PROPERTY_NO_CS",
                ),
                _ => (Severity::Warning, "VALUESET_UNKNOWN_FILTER_PROPERTY"),
            };
            self.report(
                sev,
                IssueType::Invalid,
                id,
                path,
                format!("The property '{property}' is not known for the system '{system}', so may not be understood by the terminology ecosystem. Known properties for this system: {}", names.join(",")),
                filter,
            );
            return;
        }
        let Some(rules) = info.rules(property) else {
            return;
        };
        if !rules.ops.is_empty() && !rules.ops.iter().any(|o| o == op) {
            let mut allowed = rules.ops.clone();
            allowed.dedup();
            self.report(
                Severity::Error,
                IssueType::Invalid,
                "VALUESET_BAD_FILTER_OP",
                path,
                format!("The operation '{op}' is not allowed for property '{property}' in system '{system}'. Allowed ops: {}", allowed.join(",")),
                filter,
            );
        }
        let Some(value) = value else {
            self.filter_expression(value_node, path, params);
            return;
        };
        match op {
            "exists" => self.filter_value(
                filter,
                path,
                system,
                version,
                property,
                op,
                value,
                ValueType::Boolean,
                CodeRule::None,
            ),
            "regex" => {
                if let Err(e) = regex::Regex::new(value) {
                    self.report(
                        Severity::Error,
                        IssueType::Invalid,
                        "VALUESET_BAD_FILTER_VALUE_VALID_REGEX",
                        path,
                        format!("The value for a filter based on property '{property}' must be a valid regular expression, not '{value}' ({e})"),
                        filter,
                    );
                }
                if property == "concept" {
                    self.report(
                        Severity::Error,
                        IssueType::Invalid,
                        "VALUESET_BAD_PROPERTY_NO_REGEX",
                        path,
                        format!("Cannot apply a regex filter to the property '{property}' (usually regex filters are applied to the property 'code')"),
                        filter,
                    );
                }
            }
            "in" | "not-in" => {
                for v in value.split(',') {
                    self.filter_value(
                        filter,
                        path,
                        system,
                        version,
                        property,
                        op,
                        v,
                        rules.kind,
                        rules.code_rule,
                    );
                }
            }
            _ => self.filter_value(
                filter,
                path,
                system,
                version,
                property,
                op,
                value,
                rules.kind,
                rules.code_rule,
            ),
        }
    }

    /// A filter given by an expression (cqf-expression) instead of a value:
    /// its `%parameters` are declared value set parameters.
    fn filter_expression(
        &mut self,
        value_node: Option<&Element>,
        path: &str,
        params: &mut [Parameter<'_>],
    ) {
        let Some(vn) = value_node else {
            return;
        };
        for (e, ext) in vn.children_named("extension").enumerate() {
            if ext.child_value("url")
                != Some("http://hl7.org/fhir/StructureDefinition/cqf-expression")
            {
                continue;
            }
            let Some(expr) = ext.child("valueExpression") else {
                continue;
            };
            let Some(text) = expr.child_value("expression") else {
                continue;
            };
            let epath = format!("{path}.extension[{e}].value.ofType(Expression)");
            for name in fhirpath_constants(text) {
                match params.iter_mut().find(|p| p.name == name) {
                    Some(p) => p.used = true,
                    None => self.report(
                        Severity::Error,
                        IssueType::Exception,
                        "VALUESET_BAD_FILTER_EXPR_PARAM_NAME",
                        &epath,
                        format!("The filter parameter expression '{text}' refers to the unknown parameter '{name}'"),
                        expr,
                    ),
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn filter_value(
        &mut self,
        filter: &Element,
        path: &str,
        system: &str,
        version: Option<&str>,
        property: &str,
        op: &str,
        value: &str,
        kind: ValueType,
        code_rule: CodeRule,
    ) {
        let bad = |this: &mut Self, sev: Severity, id: &'static str, msg: String| {
            this.report(sev, IssueType::Invalid, id, path, msg, filter);
        };
        let comparison = |v: &str| -> String {
            const PREFIXES: [&str; 9] = ["eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"];
            match PREFIXES.iter().find(|p| v.starts_with(**p)) {
                Some(p) => v[p.len()..].to_string(),
                None => v.to_string(),
            }
        };
        match kind {
            ValueType::Boolean => {
                if value != "true" && value != "false" {
                    bad(self, Severity::Error, "VALUESET_BAD_FILTER_VALUE_BOOLEAN", format!("The value for a filter based on property '{property}' must be either 'true' or 'false', not '{value}'"));
                }
            }
            ValueType::Code => {
                if value.trim() != value {
                    bad(self, Severity::Error, "VALUESET_BAD_FILTER_VALUE_CODE", format!("The value for a filter based on property '{property}' must be a valid code, not '{value}'"));
                    return;
                }
                if code_rule == CodeRule::None {
                    return;
                }
                if let Some(r) = self.unknown_code(system, version, value) {
                    let detail = r.message().unwrap_or_default();
                    let sev = if code_rule == CodeRule::Error {
                        Severity::Error
                    } else {
                        Severity::Warning
                    };
                    bad(self, sev, "VALUESET_BAD_FILTER_VALUE_VALID_CODE", format!("The value for a filter based on property '{property}' must be a valid code from the system '{system}', and '{value}' is not ({detail})"));
                }
            }
            ValueType::Coding => {
                if !value.contains('#') {
                    if value.contains('|') {
                        bad(self, Severity::Warning, "VALUESET_BAD_FILTER_VALUE_CODED_SEARCH", format!("The value for a filter based on property '{property}' should be in the format system(|version)#code, not the coding search pattern '{value}'"));
                    } else {
                        bad(self, Severity::Error, "VALUESET_BAD_FILTER_VALUE_CODED", format!("The value for a filter based on property '{property}' must be in the format system(|version)#code, not '{value}'"));
                    }
                }
            }
            ValueType::DateTime => {
                if crate::primitive::check("dateTime", &comparison(value)).is_some() {
                    bad(self, Severity::Error, "VALUESET_BAD_FILTER_VALUE_DATETIME", format!("The value for a filter based on property '{property}' must be a date(/time), not '{value}'"));
                }
            }
            ValueType::Decimal => {
                if !crate::primitive::is_decimal(&comparison(value)) {
                    bad(self, Severity::Error, "VALUESET_BAD_FILTER_VALUE_DECIMAL", format!("The value for a filter based on property '{property}' must be a decimal value, not '{value}'"));
                }
            }
            ValueType::Integer => {
                if comparison(value).parse::<i64>().is_err() {
                    bad(self, Severity::Error, "VALUESET_BAD_FILTER_VALUE_INTEGER", format!("The value for a filter based on property '{property}' must be an integer value, not '{value}'"));
                }
            }
            ValueType::Ecl => {
                if let Err(e) = external::check_ecl(value) {
                    bad(self, Severity::Error, "VALUESET_BAD_FILTER_VALUE_ECL", format!("The value '{value}' for the filter {property} is invalid: Invalid ECL: '{value}' - {e}"));
                }
            }
        }
        let _ = op;
    }

    // ---------------------------------------------------------------- bindings

    /// Drop the base walk's findings that a profile's binding replaced: the
    /// base binding's membership issues (they name its value set) and wrong
    /// displays that the profile's value set accepts.
    pub(crate) fn drop_superseded(&mut self) {
        if self.superseded_bindings.is_empty() && self.accepted_displays.is_empty() {
            return;
        }
        let (bindings, displays) = (&self.superseded_bindings, &self.accepted_displays);
        self.issues.retain(|i| {
            let base_binding = i.message_id() == "TERMINOLOGY_TX_NOVALID"
                && bindings.get(&i.expression).is_some_and(|vs| {
                    let url = vs.split('|').next().unwrap_or(vs);
                    i.message().contains(&format!("({url}|"))
                        || i.message().contains(&format!("({url})"))
                });
            let display = i.message_id() == "Display_Name_WS_for__should_be_one_of__instead_of"
                && displays.contains(&i.expression);
            !base_binding && !display
        });
    }

    /// Additional bindings of an element (R5 `binding.additional`): a
    /// `required`/`maximum` one must be met (error), an `extensible` one
    /// should be (warning), a `current`/`preferred` one is recommended.
    pub(crate) fn additional_bindings(
        &mut self,
        node: &Element,
        code: &str,
        b: &crate::plan::Binding,
    ) {
        fn coding_of(c: &Element) -> Option<CodingRef<'_>> {
            Some(CodingRef {
                system: c.child_value("system"),
                version: c.child_value("version"),
                code: Some(c.child_value("code")?),
                display: None,
            })
        }
        let codings: Vec<CodingRef<'_>> = match code {
            "code" => node
                .value
                .as_deref()
                .map(CodingRef::code)
                .into_iter()
                .collect(),
            "Coding" => coding_of(node).into_iter().collect(),
            "CodeableConcept" => node
                .children_named("coding")
                .filter_map(coding_of)
                .collect(),
            _ => return,
        };
        if codings.is_empty() {
            return;
        }
        for (purpose, vs) in &b.additional {
            let (severity, tail) = match purpose.as_str() {
                "required" | "maximum" => (Severity::Error, "and a coding from this value set is required)"),
                "extensible" => (Severity::Warning, "and a coding should come from this value set unless it has no suitable code (note that the validator cannot judge what is suitable)"),
                "current" | "preferred" => (Severity::Information, "and a coding is recommended to come from this value set"),
                _ => continue,
            };
            let Ok(r) = self.v.tx.validate_codeable_concept(vs, &codings) else {
                continue;
            };
            // Only a definite "not in the value set" counts (codes that
            // could not be checked are not reported here).
            let missing = r.issues.iter().any(|i| {
                i.kind == IssueKind::NotInValueSet
                    && i.severity == fhirreg_terminology::Severity::Error
            });
            if !missing || r.unknown {
                continue;
            }
            let name = r.valueset_name.clone().unwrap_or_else(|| vs.clone());
            let versioned = r.valueset.clone().unwrap_or_else(|| vs.clone());
            let codes: Vec<String> = codings.iter().map(CodingRef::to_token).collect();
            let msg = format!(
                "None of the codings provided are in the value set '{name}' ({versioned}) specified in an additional binding, {tail} (codes = {})",
                codes.join(", ")
            );
            self.push(
                severity,
                IssueType::CodeInvalid,
                "TERMINOLOGY_TX_NOVALID_ADDITIONAL",
                msg,
                node,
            );
        }
    }

    // ---------------------------------------------------------------- ConceptMap

    pub(crate) fn conceptmap_rules(&mut self, cm: &Element) {
        let base = self.path.clone();
        let scope = |names: [&str; 2]| -> Option<String> {
            cm.children
                .iter()
                .find(|c| names.iter().any(|n| c.name.starts_with(n)))
                .and_then(|c| {
                    c.value
                        .clone()
                        .or_else(|| c.child_value("reference").map(str::to_string))
                })
        };
        let source_vs = scope(["sourceScope", "source"]);
        let target_vs = scope(["targetScope", "target"]);
        for (g, group) in cm.children_named("group").enumerate() {
            let gpath = format!("{base}.group[{g}]");
            let source = group.child_value("source");
            let source_version = group.child_value("sourceVersion");
            let target = group.child_value("target");
            let target_version = group.child_value("targetVersion");
            for (e, element) in group.children_named("element").enumerate() {
                let epath = format!("{gpath}.element[{e}]");
                if let Some(code) = element.child("code") {
                    self.conceptmap_code(
                        code,
                        &format!("{epath}.code"),
                        "source",
                        source,
                        source_version,
                        source_vs.as_deref(),
                    );
                }
                for (t, tgt) in element.children_named("target").enumerate() {
                    if let Some(code) = tgt.child("code") {
                        self.conceptmap_code(
                            code,
                            &format!("{epath}.target[{t}].code"),
                            "target",
                            target,
                            target_version,
                            target_vs.as_deref(),
                        );
                    }
                }
            }
        }
    }

    /// A mapped code exists in its code system (when it is a complete
    /// CodeSystem here) and is in the map's source/target value set.
    fn conceptmap_code(
        &mut self,
        node: &Element,
        path: &str,
        side: &str,
        system: Option<&str>,
        version: Option<&str>,
        scope: Option<&str>,
    ) {
        let (Some(code), Some(system)) = (node.value.as_deref(), system) else {
            return;
        };
        // SNOMED CT and LOINC are only known to terminology servers.
        if system == SNOMED || system == external::LOINC {
            return;
        }
        let key = match version {
            Some(v) => format!("{system}|{v}"),
            None => system.to_string(),
        };
        let Some(cs) = self
            .v
            .resolve(&key)
            .filter(|r| r.resource_type == "CodeSystem")
        else {
            return;
        };
        let content = cs.str("content").unwrap_or("");
        if matches!(content, "not-present" | "example" | "fragment") {
            return;
        }
        let complete = content == "complete";
        let sev = if complete {
            Severity::Error
        } else {
            Severity::Warning
        };
        let coding = CodingRef {
            system: Some(system),
            version,
            code: Some(code),
            display: None,
        };
        let r = self.v.tx.validate_coding_in_system(&coding);
        if is_unknown_code(&r) {
            let versioned = match cs.str("version") {
                Some(v) => format!("{system}|{v}"),
                None => system.to_string(),
            };
            self.report(
                sev,
                IssueType::Required,
                "CONCEPTMAP_GROUP_CODE_INVALID",
                path,
                format!("The {side} code '{code}' is not valid in the code system {versioned}"),
                node,
            );
            return;
        }
        let Some(vs) = scope else {
            return;
        };
        let Ok(r) = self.v.tx.validate_code(vs, &coding) else {
            return;
        };
        if r.issues.iter().any(|i| i.kind == IssueKind::NotInValueSet) {
            let versioned = r.valueset.clone().unwrap_or_else(|| vs.to_string());
            self.report(
                sev,
                IssueType::Required,
                "CONCEPTMAP_GROUP_CODE_INVALID_VS",
                path,
                format!("The {side} code '{code}' is not valid in the value set {versioned}"),
                node,
            );
        }
    }
}

/// The code is definitely not in its code system.
impl Walk<'_> {
    /// The result of looking `code` up in `system`, when the system is
    /// known and says the code is not in it (`None`: valid, or not checked).
    fn unknown_code(
        &self,
        system: &str,
        version: Option<&str>,
        code: &str,
    ) -> Option<ValidateResult> {
        let r = self.v.tx.validate_coding_in_system(&CodingRef {
            system: Some(system),
            version,
            code: Some(code),
            display: None,
        });
        is_unknown_code(&r).then_some(r)
    }
}

fn is_unknown_code(r: &ValidateResult) -> bool {
    !r.unknown
        && r.issues.iter().any(|i| {
            i.kind == IssueKind::UnknownCode && i.severity == fhirreg_terminology::Severity::Error
        })
}

fn count_concepts(e: &Element) -> usize {
    // The element tree depth is bounded by the reader.
    e.children_named("concept")
        .map(|c| 1 + count_concepts(c))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants() {
        assert_eq!(fhirpath_constants("%p-inactive3"), vec!["p-inactive3"]);
        assert_eq!(
            fhirpath_constants("'%not' + %a.where(x = %`b c`)"),
            vec!["a", "b c"]
        );
        assert!(fhirpath_constants("code = 'x'").is_empty());
    }
}
