//! Measure and MeasureReport checks beyond the structure, as the HL7 Java
//! validator's `MeasureValidator` does them:
//!
//! * Measure: its Libraries are resolved; stratifier (and component)
//!   criteria in CQL name a statement (`Library.statement`) that exists in
//!   the compiled ELM (`application/elm+xml` content) of the Library;
//! * MeasureReport against its Measure: groups, populations and
//!   stratifiers match the Measure's by code, and the measureScore agrees
//!   with the Measure's scoring.

use crate::checks::primitive::base64_binary;
use crate::walk::Walk;
use fhirreg_element::message::{Args, Msg};
use fhirreg_element::{args, Element};
use serde_json::Value;

/// A CodeableConcept of the Measure or the report: its codings as
/// (system, code) and its text.
#[derive(Default, Clone, PartialEq)]
struct Concept {
    codings: Vec<(Option<String>, Option<String>)>,
    displays: Vec<String>,
    text: Option<String>,
}

impl Concept {
    fn from_json(v: &Value) -> Concept {
        let str_of = |c: &Value, k: &str| c.get(k).and_then(Value::as_str).map(String::from);
        let codings = v.get("coding").and_then(Value::as_array);
        Concept {
            codings: codings
                .into_iter()
                .flatten()
                .map(|c| (str_of(c, "system"), str_of(c, "code")))
                .collect(),
            displays: codings
                .into_iter()
                .flatten()
                .filter_map(|c| str_of(c, "display").or_else(|| str_of(c, "code")))
                .collect(),
            text: str_of(v, "text"),
        }
    }

    fn from_element(e: Element<'_>) -> Concept {
        let codings: Vec<Element<'_>> = e.children_named("coding").collect();
        Concept {
            codings: codings
                .iter()
                .map(|c| {
                    (
                        c.child_value("system").map(String::from),
                        c.child_value("code").map(String::from),
                    )
                })
                .collect(),
            displays: codings
                .iter()
                .filter_map(|c| c.child_value("display").or_else(|| c.child_value("code")))
                .map(String::from)
                .collect(),
            text: e.child_value("text").map(String::from),
        }
    }

    /// Has a coding with this system and code (both absent counts as
    /// equal, as in the Java model's `hasCoding(system, code)`).
    fn has_coding(&self, system: &Option<String>, code: &Option<String>) -> bool {
        self.codings.iter().any(|(s, c)| s == system && c == code)
    }

    /// Some coding of `other` is in this concept.
    fn matches(&self, other: &Concept) -> bool {
        other.codings.iter().any(|(s, c)| self.has_coding(s, c))
    }

    fn usable(&self) -> bool {
        self.codings.iter().any(|(s, c)| s.is_some() && c.is_some())
    }

    /// As the Java renderer shows a concept: its text, else its codings.
    fn display(&self) -> String {
        match &self.text {
            Some(t) => t.clone(),
            None => self.displays.join(", "),
        }
    }
}

/// The parts of a Measure group a report is checked against.
struct Group {
    code: Option<Concept>,
    populations: Vec<Option<Concept>>,
    stratifiers: Vec<Option<Concept>>,
}

/// The Measure a report is for.
struct MeasureDef {
    scoring: Option<String>,
    groups: Vec<Group>,
}

impl MeasureDef {
    fn from_json(m: &Value) -> MeasureDef {
        let arr = |v: &Value, k: &str| -> Vec<Value> {
            v.get(k)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let code = |v: &Value| v.get("code").map(Concept::from_json);
        MeasureDef {
            scoring: m
                .get("scoring")
                .and_then(|s| s.get("coding"))
                .and_then(|c| c.get(0))
                .and_then(|c| c.get("code"))
                .and_then(Value::as_str)
                .map(String::from),
            groups: arr(m, "group")
                .iter()
                .map(|g| Group {
                    code: code(g),
                    populations: arr(g, "population").iter().map(code).collect(),
                    stratifiers: arr(g, "stratifier").iter().map(code).collect(),
                })
                .collect(),
        }
    }
}

/// Index of the first definition whose code has a coding of `cc`.
fn find_by_code(defs: &[Option<Concept>], cc: &Concept, text_too: bool) -> Option<usize> {
    defs.iter().position(|d| {
        let Some(d) = d else { return false };
        if d.codings.iter().any(|(s, c)| cc.has_coding(s, c)) {
            return true;
        }
        // Stratifiers may be identified by text alone.
        text_too
            && cc.codings.is_empty()
            && d.codings.is_empty()
            && cc.text.is_some()
            && cc.text == d.text
    })
}

/// The definition names of the statements in an ELM library document, or
/// why the document is not one.
enum Elm {
    Statements(Vec<String>),
    Invalid,
    Error(String),
}

fn parse_elm(xml: &[u8]) -> Elm {
    use quick_xml::events::Event;
    let mut reader = quick_xml::NsReader::from_reader(xml);
    let mut buf = Vec::new();
    let mut depth = 0usize;
    let mut in_statements = false;
    let mut names = Vec::new();
    let mut saw_root = false;
    loop {
        let ev = reader.read_resolved_event_into(&mut buf);
        let (ns, ev) = match ev {
            Ok(x) => x,
            Err(e) => return Elm::Error(e.to_string()),
        };
        let is_elm = matches!(ns, quick_xml::name::ResolveResult::Bound(n) if n.as_ref() == b"urn:hl7-org:elm:r1");
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let local = e.local_name();
                if depth == 0 {
                    if local.as_ref() != b"library" || !is_elm {
                        return Elm::Invalid;
                    }
                    saw_root = true;
                }
                if depth == 1 && local.as_ref() == b"statements" && !empty {
                    in_statements = true;
                }
                if depth == 2 && in_statements && local.as_ref() == b"def" {
                    if let Some(Ok(a)) = e
                        .attributes()
                        .find(|a| a.as_ref().is_ok_and(|a| a.key.as_ref() == b"name"))
                    {
                        names.push(String::from_utf8_lossy(&a.value).into_owned());
                    }
                }
                if !empty {
                    depth += 1;
                }
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 1 {
                    in_statements = false;
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !saw_root {
        return Elm::Invalid;
    }
    Elm::Statements(names)
}

/// A Library the Measure uses: its name, url and compiled ELM (if any).
struct Lib {
    name: Option<String>,
    url: String,
    elm: Option<Elm>,
}

fn library(l: &Value) -> Lib {
    let elm = l
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        // (the last one wins, as in the Java validator)
        .rfind(|a| a.get("contentType").and_then(Value::as_str) == Some("application/elm+xml"))
        .map(|a| {
            let data = a.get("data").and_then(Value::as_str).unwrap_or("");
            match base64_binary::decode(data) {
                Some(bytes) => parse_elm(&bytes),
                None => Elm::Error("invalid base64 content".into()),
            }
        });
    Lib {
        name: l.get("name").and_then(Value::as_str).map(String::from),
        url: l
            .get("url")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        elm,
    }
}

impl<'v> Walk<'v> {
    pub(crate) fn measure(&mut self, m: Element<'v>) {
        let mut libs: Vec<Lib> = Vec::new();
        for lib in m.children_named("library") {
            let Some(r) = lib.value().filter(|r| !r.is_empty()) else {
                continue;
            };
            match self.v.resolve(r).filter(|x| x.resource_type == "Library") {
                Some(l) => libs.push(library(&l.json)),
                None => self.report(Msg::MeasureLibraryUnknown, args![r], lib),
            }
        }
        let groups: Vec<Element<'v>> = m.children_named("group").collect();
        if groups.is_empty() {
            self.report(Msg::MeasureNoGroups, args![], m);
        }
        for (gi, g) in groups.iter().enumerate() {
            let gp = format!(".group[{gi}]");
            if groups.len() > 1 && g.child("code").is_none() {
                self.report_sub(&gp, Msg::MeasureGroupNoCode, args![], *g);
            }
            let pops: Vec<Element<'v>> = g.children_named("population").collect();
            if pops.is_empty() {
                self.report_sub(&gp, Msg::MeasureGroupNoPopulation, args![], *g);
            }
            for (pi, p) in pops.iter().enumerate() {
                if pops.len() > 1 && p.child("code").is_none() {
                    let sub = format!("{gp}.population[{pi}]");
                    self.report_sub(&sub, Msg::MeasurePopulationNoCode, args![], *p);
                }
            }
            let strata: Vec<Element<'v>> = g.children_named("stratifier").collect();
            for (si, st) in strata.iter().enumerate() {
                let sp = format!("{gp}.stratifier[{si}]");
                if strata.len() > 1 && st.child("code").is_none() {
                    self.report_sub(&sp, Msg::MeasureStratifierNoCode, args![], *st);
                }
                if let Some(crit) = st.child("criteria") {
                    self.measure_criteria(crit, &format!("{sp}.criteria"), &libs);
                }
                for (ci, cp) in st.children_named("component").enumerate() {
                    if let Some(crit) = cp.child("criteria") {
                        self.measure_criteria(
                            crit,
                            &format!("{sp}.component[{ci}].criteria"),
                            &libs,
                        );
                    }
                }
            }
        }
    }

    /// A criteria Expression in CQL names a statement of one of the
    /// Measure's Libraries (`Library.statement`, or just `statement` when
    /// there is one Library).
    fn measure_criteria(&mut self, crit: Element<'v>, sub: &str, libs: &[Lib]) {
        let Some(lang) = crit.child_value("language").filter(|l| !l.is_empty()) else {
            return; // reported by the structure checks
        };
        if lang != "text/cql" && lang != "text/cql.identifier" {
            self.report_sub(sub, Msg::MeasureLanguageUnsupported, args![lang], crit);
            return;
        }
        let expr = crit.child_value("expression").unwrap_or("");
        let err = |w: &mut Self, msg: Msg, args: Args| {
            w.report_sub(sub, msg, args, crit);
        };
        if libs.is_empty() {
            err(self, Msg::MeasureCqlNoLibrary, args![]);
            return;
        }
        let (lib, statement) = match expr.split_once('.') {
            Some((ns, rest)) => {
                let named: Vec<&Lib> = libs
                    .iter()
                    .filter(|l| l.name.as_deref() == Some(ns))
                    .collect();
                if named.len() > 1 {
                    err(self, Msg::MeasureCqlLibraryAmbiguous, args![ns]);
                }
                match named.first() {
                    Some(l) => (*l, rest),
                    None => {
                        err(self, Msg::MeasureCqlLibraryMissing, args![ns]);
                        return;
                    }
                }
            }
            None => match libs {
                [only] => (only, expr),
                _ => {
                    err(self, Msg::MeasureCqlNamespaceNeeded, args![]);
                    return;
                }
            },
        };
        match &lib.elm {
            None => err(self, Msg::MeasureCqlNotCompiled, args![&lib.url]),
            Some(Elm::Error(e)) => err(self, Msg::MeasureCqlError, args![&lib.url, e]),
            Some(Elm::Invalid) => err(self, Msg::MeasureCqlElmInvalid, args![&lib.url]),
            Some(Elm::Statements(names)) => {
                if !names.iter().any(|n| n == statement) {
                    err(
                        self,
                        Msg::MeasureCqlStatementMissing,
                        args![statement, &lib.url],
                    );
                }
            }
        }
    }

    pub(crate) fn measure_report(&mut self, mr: Element<'v>) {
        let Some(mref) = mr.child("measure") else {
            self.report(Msg::ReportNoMeasure, args![], mr);
            return;
        };
        let Some(url) = mref
            .value()
            .or_else(|| mref.child_value("reference"))
            .filter(|u| !u.trim().is_empty())
        else {
            return;
        };
        let measure = if let Some(id) = url.strip_prefix('#') {
            mr.children_named("contained")
                .find(|c| c.resource_type() == Some("Measure") && c.child_value("id") == Some(id))
                .map(element_json)
        } else {
            self.v
                .resolve(url)
                .filter(|r| r.resource_type == "Measure")
                .map(|r| r.json.clone())
        };
        let Some(measure) = measure else {
            self.report(Msg::ReportMeasureUnknown, args![url], mref);
            return;
        };
        let m = MeasureDef::from_json(&measure);
        if !matches!(
            m.scoring.as_deref(),
            Some("proportion" | "ratio" | "continuous-variable" | "cohort")
        ) {
            self.report_sub(".measure", Msg::ReportScoringUnknown, args![], mref);
        }
        if m.groups.is_empty() {
            return;
        }
        let report_type = mr.child_value("type").unwrap_or("");
        let glist: Vec<Element<'v>> = mr.children_named("group").collect();
        if let ([g], [mg]) = (glist.as_slice(), m.groups.as_slice()) {
            // A single group may be anonymous; codes on both must agree.
            let sub = ".group[0]";
            if let (Some(mcode), Some(c)) = (&mg.code, g.child("code")) {
                let cc = Concept::from_element(c);
                if !cc.usable() {
                    self.report_sub(sub, Msg::ReportGroupCodeUnusable, args![], *g);
                } else if !cc.matches(mcode) {
                    let args = args![cc.display(), mcode.display()];
                    self.report_sub(sub, Msg::ReportGroupCodeMismatch, args, *g);
                }
            }
            self.report_group(*g, mg, &m, report_type, sub);
            return;
        }
        let gcodes: Vec<Option<Concept>> = m.groups.iter().map(|g| g.code.clone()).collect();
        let mut seen: Vec<usize> = Vec::new();
        for (i, g) in glist.iter().enumerate() {
            let sub = format!(".group[{i}]");
            let rule = |w: &mut Self, msg: Msg| w.report_sub(&sub, msg, args![], *g);
            let Some(c) = g.child("code") else {
                rule(self, Msg::ReportGroupNoCode);
                continue;
            };
            let cc = Concept::from_element(c);
            let Some(k) = find_by_code(&gcodes, &cc, false) else {
                rule(self, Msg::ReportGroupUnknownCode);
                continue;
            };
            if seen.contains(&k) {
                rule(self, Msg::ReportGroupDuplicateCode);
                continue;
            }
            seen.push(k);
            if let Some(mg) = m.groups.get(k) {
                self.report_group(*g, mg, &m, report_type, &sub);
            }
        }
        if report_type != "data-collection" {
            for (k, mg) in m.groups.iter().enumerate() {
                if !seen.contains(&k) {
                    let code = mg.code.as_ref().map(Concept::display).unwrap_or_default();
                    self.report(Msg::ReportGroupMissing, args![code], mr);
                }
            }
        }
    }

    /// One report group against its Measure group: populations, score,
    /// stratifiers.
    fn report_group(
        &mut self,
        g: Element<'v>,
        mg: &Group,
        m: &MeasureDef,
        report_type: &str,
        sub: &str,
    ) {
        self.report_codes(g, "population", &mg.populations, sub, false, report_type);
        self.measure_score(g, m, report_type, sub);
        self.report_codes(g, "stratifier", &mg.stratifiers, sub, true, report_type);
    }

    /// Report populations (or stratifiers) match the Measure group's by
    /// code, each once, and none is missing.
    fn report_codes(
        &mut self,
        g: Element<'v>,
        name: &str,
        defs: &[Option<Concept>],
        sub: &str,
        text_too: bool,
        report_type: &str,
    ) {
        let mut seen: Vec<usize> = Vec::new();
        for (i, p) in g.children_named(name).enumerate() {
            let psub = format!("{sub}.{name}[{i}]");
            let rule = |w: &mut Self, msg: Msg, args: Args| w.report_sub(&psub, msg, args, p);
            let Some(c) = p.child("code") else {
                rule(self, Msg::ReportPopulationNoCode, args![]);
                continue;
            };
            let cc = Concept::from_element(c);
            let Some(k) = find_by_code(defs, &cc, text_too) else {
                rule(self, Msg::ReportPopulationUnknownCode, args![]);
                continue;
            };
            if seen.contains(&k) {
                rule(self, Msg::ReportPopulationDuplicateCode, args![]);
                continue;
            }
            seen.push(k);
            if name == "population" {
                let subjects = p.children_named("subjectResults").count();
                if report_type == "subject-list" {
                    if let Some(n) = p.child_value("count").and_then(|c| c.parse::<usize>().ok()) {
                        if n != subjects {
                            rule(self, Msg::ReportCountMismatch, args![n, subjects]);
                        }
                    }
                } else {
                    if subjects > 0 {
                        rule(self, Msg::ReportSubjectsNotAllowed, args![]);
                    }
                    if p.child("count").is_none() {
                        self.report_sub(&psub, Msg::ReportCountMissing, args![], p);
                    }
                }
            }
        }
        const OBSERVATION: (&str, &str) = (
            "http://terminology.hl7.org/CodeSystem/measure-population",
            "measure-observation",
        );
        for (k, d) in defs.iter().enumerate() {
            let observation = name == "population"
                && d.as_ref().is_some_and(|d| {
                    d.has_coding(&Some(OBSERVATION.0.into()), &Some(OBSERVATION.1.into()))
                });
            if !seen.contains(&k) && !observation {
                let code = d.as_ref().map(Concept::display).unwrap_or_default();
                self.report_sub(sub, Msg::ReportGroupMissing, args![code], g);
            }
        }
    }

    /// The measureScore agrees with the report type and Measure scoring.
    fn measure_score(&mut self, g: Element<'v>, m: &MeasureDef, report_type: &str, sub: &str) {
        let ms = g.child("measureScore");
        let ssub = format!("{sub}.measureScore");
        let scoring = m.scoring.as_deref().unwrap_or("");
        let banned = |w: &mut Self, msg: Msg| {
            if let Some(ms) = ms {
                w.report_sub(&ssub, msg, args![], ms);
            }
        };
        if report_type == "data-collection" {
            banned(self, Msg::ScoreNotForDataCollection);
            return;
        }
        if scoring == "cohort" {
            banned(self, Msg::ScoreNotForCohort);
            return;
        }
        if !matches!(scoring, "proportion" | "ratio" | "continuous-variable") {
            return;
        }
        let Some(ms) = ms else {
            self.report_sub(sub, Msg::ScoreMissing, args![scoring], g);
            return;
        };
        let value = ms.child("value");
        if scoring == "proportion" {
            for unit in ["unit", "system", "code"] {
                if let Some(u) = ms.child(unit) {
                    let sub = format!("{ssub}.{unit}");
                    self.report_sub(&sub, Msg::ScoreUnitNotAllowed, args![], u);
                }
            }
        }
        let Some(value) = value else {
            self.report_sub(&ssub, Msg::ScoreValueMissing, args![scoring], ms);
            return;
        };
        if scoring == "proportion" {
            if let Some(v) = value.value().and_then(|v| v.parse::<f64>().ok()) {
                if !(0.0..=1.0).contains(&v) {
                    let sub = format!("{ssub}.value");
                    self.report_sub(&sub, Msg::ScoreOutOfRange, args![], value);
                }
            }
        }
    }
}

/// A contained resource as JSON (only what the Measure checks read:
/// `scoring` and `group` codes), built from the element tree.
fn element_json(e: Element<'_>) -> Value {
    let mut map = serde_json::Map::new();
    let mut names: Vec<&str> = Vec::new();
    for c in e.children() {
        if !names.contains(&c.name()) {
            names.push(c.name());
        }
    }
    for name in names {
        let items: Vec<Value> = e
            .children_named(name)
            .map(|c| match &c.value() {
                Some(v) if c.child_count() == 0 => Value::String(v.to_string()),
                _ => element_json(c),
            })
            .collect();
        // Arrays where the Measure model repeats.
        let v = if matches!(name, "group" | "population" | "stratifier" | "coding") {
            Value::Array(items)
        } else {
            items.into_iter().next().unwrap_or(Value::Null)
        };
        map.insert(name.to_string(), v);
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elm_statements() {
        let xml = br#"<library xmlns="urn:hl7-org:elm:r1"><statements><def name="A"/><def name="B"><x/></def></statements></library>"#;
        match parse_elm(xml) {
            Elm::Statements(n) => assert_eq!(n, ["A", "B"]),
            _ => panic!("not read"),
        }
        assert!(matches!(parse_elm(b"<library/>"), Elm::Invalid));
        assert!(matches!(
            parse_elm(b"<library xmlns='urn:hl7-org:elm:r1'><a></b></library>"),
            Elm::Error(_)
        ));
    }
}
