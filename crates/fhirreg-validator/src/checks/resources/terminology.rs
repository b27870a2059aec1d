//! The content rules of terminology resources, as the HL7 Java validator
//! applies them when it validates a CodeSystem, ValueSet or ConceptMap
//! (its CodeSystemValidator, ValueSetValidator and ConceptMapValidator):
//! supplement and count consistency, compose includes (absolute systems,
//! codes that exist, filters on known properties with allowed operators
//! and well-formed values, ECL, value set parameters), and the codes a
//! ConceptMap maps from and to.

use crate::has_scheme;
use crate::walk::Walk;
use fhirreg_element::message::{Args, Msg};
use fhirreg_element::{args, Element, Severity};
use fhirreg_terminology::external::{self, SNOMED};
use fhirreg_terminology::{CodingRef, Content, IssueKind, ValidateResult};

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
    Resource(std::sync::Arc<fhirreg_terminology::CodeSystemDef>),
    /// Nothing (not loaded, or only on a terminology server).
    Unknown,
}

impl SystemInfo {
    fn property_names(&self) -> Vec<String> {
        match self {
            SystemInfo::Snomed => external::snomed_filter_properties()
                .into_iter()
                .map(str::to_string)
                .collect(),
            SystemInfo::Resource(cs) => {
                let mut names = ops(BASE_PROPERTIES);
                let mut add = |n: &str| {
                    if !names.iter().any(|x| x == n) {
                        names.push(n.to_string());
                    }
                };
                if cs.hierarchy_meaning.is_some() {
                    add("parent");
                    add("child");
                    add("partOf");
                }
                for f in &cs.filters {
                    add(&f.code);
                }
                for p in &cs.properties {
                    add(&p.code);
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
                let allowed: Vec<String> = cs
                    .filters
                    .iter()
                    .filter(|f| f.code == property)
                    .flat_map(|f| f.operators.iter().cloned())
                    .collect();
                for p in cs.properties.iter().filter(|p| p.code == property) {
                    let kind = match p.type_name.as_deref() {
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

/// A declared value set parameter.
struct Parameter<'e> {
    name: String,
    node: Element<'e>,
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

impl<'v> Walk<'v> {
    // ---------------------------------------------------------------- CodeSystem

    pub(crate) fn codesystem_rules(&mut self, cs: Element<'v>) {
        let base = self.path.clone();
        let url = cs.child_value("url");
        let content = cs.child_value("content");
        let supplements = cs.child_value("supplements");
        let count = count_concepts(cs);
        if supplements.is_some() {
            if content != Some("supplement") {
                let at = cs.child("content").unwrap_or(cs);
                self.report_at(
                    Severity::Error,
                    Msg::SupplementContentWrong,
                    args![],
                    &format!("{base}.content"),
                    at,
                );
            }
            for name in ["caseSensitive", "hierarchyMeaning"] {
                if let Some(e) = cs.child(name) {
                    self.report_at(
                        Severity::Error,
                        Msg::SupplementElementPresent,
                        args![name],
                        &format!("{base}.{name}"),
                        e,
                    );
                }
            }
        } else {
            let hl7 = url.is_some_and(|u| u.contains("hl7.org") || u.contains("fhir.org"));
            if content == Some("supplement") {
                let at = cs.child("content").unwrap_or(cs);
                self.report_at(
                    Severity::Error,
                    Msg::SupplementTargetMissing,
                    args![],
                    &format!("{base}.content"),
                    at,
                );
            }
            if cs.child_value("caseSensitive").is_none() {
                let (sev, msg) = if hl7 {
                    (Severity::Warning, Msg::CaseSensitiveMissingHl7)
                } else {
                    (Severity::Information, Msg::CaseSensitiveMissing)
                };
                self.report_at(sev, msg, args![], &base, cs);
            }
        }
        if let (Some(c), Some(content)) = (cs.child("count"), content) {
            if let Ok(stated) = c.value().unwrap_or("").parse::<usize>() {
                let path = format!("{base}.count");
                match content {
                    "complete" if stated != count => self.report_at(
                        Severity::Error,
                        Msg::CodeSystemCountComplete,
                        args![count, stated],
                        &path,
                        c,
                    ),
                    "example" | "fragment" if count >= stated => self.report_at(
                        Severity::Warning,
                        Msg::CodeSystemCountPartial,
                        args![count, stated],
                        &path,
                        c,
                    ),
                    _ => {}
                }
            }
        }
        if content == Some("not-present") {
            if let Some(first) = cs.children_named("concept").next() {
                self.report_at(
                    Severity::Error,
                    Msg::CodeSystemConceptsNotPresent,
                    args![],
                    &format!("{base}.concept[0]"),
                    first,
                );
            }
        }
        if let Some(supp) = supplements {
            self.supplement_concepts(cs, &base, supp);
        }
        self.concept_properties(cs, &base);
    }

    /// A concept's property refers to a CodeSystem.property by its code
    /// (R4 CodeSystem.concept.property.code) and has a value of the type
    /// that property declares.
    fn concept_properties(&mut self, cs: Element<'v>, base: &str) {
        let declared: Vec<(&str, Option<&str>)> = cs
            .children_named("property")
            .filter_map(|p| p.child_value("code").map(|c| (c, p.child_value("type"))))
            .collect();
        let mut pending: Vec<(Element<'v>, String)> = cs
            .children_named("concept")
            .enumerate()
            .map(|(i, c)| (c, format!("{base}.concept[{i}]")))
            .collect();
        while let Some((concept, path)) = pending.pop() {
            for (i, prop) in concept.children_named("property").enumerate() {
                let Some(code) = prop.child_value("code") else {
                    continue;
                };
                let at = format!("{path}.property[{i}]");
                let Some(&(_, ty)) = declared.iter().find(|(c, _)| *c == code) else {
                    let node = prop.child("code").unwrap_or(prop);
                    let msg = Msg::CodeSystemPropertyUndefined;
                    self.report_at(
                        Severity::Error,
                        msg,
                        args![code],
                        &format!("{at}.code"),
                        node,
                    );
                    continue;
                };
                let value = prop.children().find(|c| c.name().starts_with("value"));
                if let (Some(ty), Some(value)) = (ty, value) {
                    let found = &value.name()["value".len()..];
                    if !found.is_empty() && !found.eq_ignore_ascii_case(ty) {
                        let msg = Msg::CodeSystemPropertyWrongType;
                        let args = args![code, ty, found];
                        // (primitive type names start in lower case; Coding is the one complex type)
                        let of = if found == "Coding" {
                            found.to_string()
                        } else {
                            found[..1].to_ascii_lowercase() + &found[1..]
                        };
                        let path = format!("{at}.value.ofType({of})");
                        self.report_at(Severity::Error, msg, args, &path, value);
                    }
                }
            }
            for (i, c) in concept.children_named("concept").enumerate() {
                pending.push((c, format!("{path}.concept[{i}]")));
            }
        }
    }

    /// The codes a supplement describes exist in the code system it supplements.
    fn supplement_concepts(&mut self, cs: Element<'v>, base: &str, supp: &str) {
        let (system, version) = match supp.split_once('|') {
            Some((s, v)) => (s, Some(v)),
            None => (supp, None),
        };
        for (i, concept) in cs.children_named("concept").enumerate() {
            let Some(code) = concept.child_value("code") else {
                continue;
            };
            if self.unknown_code(system, version, code).is_some() {
                self.report_at(
                    Severity::Error,
                    Msg::SupplementCodeUnknown,
                    args![code, supp],
                    &format!("{base}.concept[{i}]"),
                    concept,
                );
            }
        }
    }

    // ---------------------------------------------------------------- ValueSet

    pub(crate) fn valueset_rules(&mut self, vs: Element<'v>) {
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
                    .and_then(|e| e.children().find(|c| c.name().starts_with("value")))
                    .and_then(|v| v.value());
                if let Some(name) = name {
                    params.push(Parameter {
                        name: name.to_string(),
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
            self.report_at(
                Severity::Warning,
                Msg::ValueSetParameterUnused,
                args![&p.name],
                &format!("{base}.extension[{ext_count}]"),
                p.node,
            );
        }
    }

    fn valueset_include(&mut self, inc: Element<'v>, path: &str, params: &mut [Parameter<'_>]) {
        let Some(system) = inc.child_value("system") else {
            return;
        };
        let version = inc.child_value("version");
        if !has_scheme(system) {
            let (msg, args) = if system.starts_with('#') {
                (Msg::ValueSetSystemContained, args![])
            } else {
                (Msg::ValueSetSystemRelative, args![system])
            };
            self.report_at(Severity::Error, msg, args, path, inc);
            return;
        }
        let cs = self.v.registry.code_system(&match version {
            Some(v) => format!("{system}|{v}"),
            None => system.to_string(),
        });
        let mut check_concepts = true;
        if let Some(cs) = &cs {
            if cs.content == Content::Supplement {
                check_concepts = false;
                let supp = cs.supplements.as_deref().unwrap_or("");
                self.report_at(
                    Severity::Error,
                    Msg::ValueSetIncludesSupplement,
                    args![system, supp],
                    path,
                    inc,
                );
            }
        }
        let concepts: Vec<Element<'v>> = inc.children_named("concept").collect();
        if check_concepts && concepts.len() <= TOO_MANY_CODES_TO_VALIDATE {
            for (j, concept) in concepts.iter().enumerate() {
                let Some(code) = concept.child_value("code") else {
                    continue;
                };
                if let Some(r) = self.unknown_code(system, version, code) {
                    self.report_at(
                        Severity::Error,
                        Msg::ValueSetConceptUnknown,
                        args![code, system, r.messages()],
                        &format!("{path}.concept[{j}]"),
                        *concept,
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
        filter: Element<'v>,
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
        let value = value_node.and_then(|v| v.value());
        if !info.knows_property(property) {
            let names = info.property_names();
            let (sev, msg) = match info {
                SystemInfo::Unknown => (Severity::Information, Msg::FilterPropertyUnknownNoSystem),
                // (SNOMED CT also takes the concept id of any attribute)
                SystemInfo::Snomed => (Severity::Warning, Msg::FilterPropertyUnknownSnomed),
                SystemInfo::Resource(_) => (Severity::Warning, Msg::FilterPropertyUnknown),
            };
            let args = args![property, system, names.join(", ")];
            self.report_at(sev, msg, args, path, filter);
            return;
        }
        let Some(rules) = info.rules(property) else {
            return;
        };
        if !rules.ops.is_empty() && !rules.ops.iter().any(|o| o == op) {
            let mut allowed = rules.ops.clone();
            allowed.dedup();
            let args = args![op, property, system, allowed.join(", ")];
            self.report_at(
                Severity::Error,
                Msg::FilterOperatorNotAllowed,
                args,
                path,
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
                    let args = args![property, value, e.to_string()];
                    self.report_at(Severity::Error, Msg::FilterRegexInvalid, args, path, filter);
                }
                if property == "concept" {
                    let args = args![property];
                    self.report_at(
                        Severity::Error,
                        Msg::FilterRegexOnConcept,
                        args,
                        path,
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
        value_node: Option<Element<'v>>,
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
                    None => self.report_at(
                        Severity::Error,
                        Msg::FilterParameterUnknown,
                        args![text, &name],
                        &epath,
                        expr,
                    ),
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn filter_value(
        &mut self,
        filter: Element<'v>,
        path: &str,
        system: &str,
        version: Option<&str>,
        property: &str,
        op: &str,
        value: &str,
        kind: ValueType,
        code_rule: CodeRule,
    ) {
        let bad = |this: &mut Self, sev: Severity, msg: Msg, args: Args| {
            this.report_at(sev, msg, args, path, filter);
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
                    let args = args![property, value];
                    bad(self, Severity::Error, Msg::FilterValueBoolean, args);
                }
            }
            ValueType::Code => {
                if value.trim() != value {
                    let args = args![property, value];
                    bad(self, Severity::Error, Msg::FilterValueCode, args);
                    return;
                }
                if code_rule == CodeRule::None {
                    return;
                }
                if let Some(r) = self.unknown_code(system, version, value) {
                    let sev = if code_rule == CodeRule::Error {
                        Severity::Error
                    } else {
                        Severity::Warning
                    };
                    let args = args![property, system, value, r.messages()];
                    bad(self, sev, Msg::FilterValueCodeUnknown, args);
                }
            }
            ValueType::Coding => {
                if !value.contains('#') {
                    let args = args![property, value];
                    if value.contains('|') {
                        bad(self, Severity::Warning, Msg::FilterValueCodingSearch, args);
                    } else {
                        bad(self, Severity::Error, Msg::FilterValueCoding, args);
                    }
                }
            }
            ValueType::DateTime => {
                if crate::checks::primitive::check("dateTime", &comparison(value)).is_some() {
                    let args = args![property, value];
                    bad(self, Severity::Error, Msg::FilterValueDateTime, args);
                }
            }
            ValueType::Decimal => {
                if !crate::checks::primitive::is_decimal(&comparison(value)) {
                    let args = args![property, value];
                    bad(self, Severity::Error, Msg::FilterValueDecimal, args);
                }
            }
            ValueType::Integer => {
                if comparison(value).parse::<i64>().is_err() {
                    let args = args![property, value];
                    bad(self, Severity::Error, Msg::FilterValueInteger, args);
                }
            }
            ValueType::Ecl => {
                if let Err(e) = external::check_ecl(value) {
                    let args = args![property, value, e.to_string()];
                    bad(self, Severity::Error, Msg::FilterValueEcl, args);
                }
            }
        }
        let _ = op;
    }

    // ---------------------------------------------------------------- bindings

    // ---------------------------------------------------------------- ConceptMap

    pub(crate) fn conceptmap_rules(&mut self, cm: Element<'v>) {
        let base = self.path.clone();
        let scope = |names: [&str; 2]| -> Option<String> {
            cm.children()
                .find(|c| names.iter().any(|n| c.name().starts_with(n)))
                .and_then(|c| c.value().or_else(|| c.child_value("reference")))
                .map(str::to_string)
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
                        Side::Source,
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
                            Side::Target,
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
        node: Element<'v>,
        path: &str,
        side: Side,
        system: Option<&str>,
        version: Option<&str>,
        scope: Option<&str>,
    ) {
        let (Some(code), Some(system)) = (node.value(), system) else {
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
        let Some(cs) = self.v.registry.code_system(&key) else {
            return;
        };
        if matches!(
            cs.content,
            Content::NotPresent | Content::Example | Content::Fragment
        ) {
            return;
        }
        let complete = cs.content == Content::Complete;
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
            let versioned = match &cs.version {
                Some(v) => format!("{system}|{v}"),
                None => system.to_string(),
            };
            let msg = if side == Side::Source {
                Msg::ConceptMapSourceCodeUnknown
            } else {
                Msg::ConceptMapTargetCodeUnknown
            };
            self.report_at(sev, msg, args![code, versioned], path, node);
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
            let msg = if side == Side::Source {
                Msg::ConceptMapSourceNotInValueSet
            } else {
                Msg::ConceptMapTargetNotInValueSet
            };
            self.report_at(sev, msg, args![code, versioned], path, node);
        }
    }
}

/// The code is definitely not in its code system.
impl<'v> Walk<'v> {
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

/// The side of a ConceptMap mapping a code is on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Source,
    Target,
}

fn is_unknown_code(r: &ValidateResult) -> bool {
    !r.unknown
        && r.issues
            .iter()
            .any(|i| i.kind == IssueKind::UnknownCode && i.severity == Severity::Error)
}

fn count_concepts(e: Element<'_>) -> usize {
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
