//! A CodeSystem compiled once into indexed concepts with a hierarchy.

use std::collections::VecDeque;

// foldhash in the code index, looked up per validated code (see lib.rs).
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use serde_json::Value;

use crate::{Designation, PropertyValue};

/// `CodeSystem.content`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// All concepts are present.
    Complete,
    /// Only some concepts are present; absent codes may still be valid.
    Fragment,
    /// Example concepts only.
    Example,
    /// No concepts are present.
    NotPresent,
    /// A supplement: designations and properties for another system.
    Supplement,
}

impl Content {
    fn parse(s: Option<&str>) -> Content {
        match s {
            Some("fragment") => Content::Fragment,
            Some("example") => Content::Example,
            Some("not-present") => Content::NotPresent,
            Some("supplement") => Content::Supplement,
            _ => Content::Complete,
        }
    }

    /// Whether a code absent from the concept list is definitely invalid.
    pub fn is_complete(self) -> bool {
        matches!(self, Content::Complete)
    }

    /// The FHIR code.
    pub fn code(self) -> &'static str {
        match self {
            Content::Complete => "complete",
            Content::Fragment => "fragment",
            Content::Example => "example",
            Content::NotPresent => "not-present",
            Content::Supplement => "supplement",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Concept {
    pub code: String,
    pub display: Option<String>,
    pub definition: Option<String>,
    pub designations: Vec<Designation>,
    pub properties: Vec<(String, PropertyValue)>,
    pub parents: Vec<usize>,
    pub children: Vec<usize>,
}

impl Concept {
    pub fn is_abstract(&self) -> bool {
        self.properties.iter().any(|(k, v)| {
            (k == "notSelectable" || k == "abstract") && matches!(v, PropertyValue::Boolean(true))
        })
    }

    pub fn is_inactive(&self) -> bool {
        self.properties.iter().any(|(k, v)| match (k.as_str(), v) {
            ("inactive", PropertyValue::Boolean(true)) => true,
            ("status", PropertyValue::Code(s)) => s == "retired" || s == "inactive",
            _ => false,
        })
    }

    /// The first string-ish value of a property.
    pub fn property_strings<'a>(&'a self, name: &'a str) -> impl Iterator<Item = String> + 'a {
        self.properties
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_text())
    }
}

/// A CodeSystem ready for lookups: concepts by code, parents and children.
#[derive(Debug)]
pub(crate) struct CompiledCodeSystem {
    pub url: String,
    pub version: Option<String>,
    pub name: Option<String>,
    pub title: Option<String>,
    pub case_sensitive: bool,
    pub content: Content,
    pub concepts: Vec<Concept>,
    index: HashMap<String, usize>,
    lower_index: HashMap<String, usize>,
    /// Concepts with no parent, in document order.
    pub roots: Vec<usize>,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

pub(crate) fn parse_designations(c: &Value) -> Vec<Designation> {
    c.get("designation")
        .and_then(Value::as_array)
        .map(|ds| {
            ds.iter()
                .filter_map(|d| {
                    Some(Designation {
                        language: text(d, "language"),
                        use_system: d
                            .pointer("/use/system")
                            .and_then(Value::as_str)
                            .map(Into::into),
                        use_code: d
                            .pointer("/use/code")
                            .and_then(Value::as_str)
                            .map(Into::into),
                        value: text(d, "value")?,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn parse_properties(c: &Value) -> Vec<(String, PropertyValue)> {
    let mut out = Vec::new();
    for p in c
        .get("property")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(code) = p.get("code").and_then(Value::as_str) else {
            continue;
        };
        let Some(obj) = p.as_object() else { continue };
        for (k, v) in obj {
            let Some(ty) = k.strip_prefix("value") else {
                continue;
            };
            let pv = match (ty, v) {
                ("Code", Value::String(s)) => PropertyValue::Code(s.clone()),
                ("String", Value::String(s)) => PropertyValue::String(s.clone()),
                ("Boolean", Value::Bool(b)) => PropertyValue::Boolean(*b),
                ("Integer", Value::Number(n)) => PropertyValue::Integer(n.as_i64().unwrap_or(0)),
                ("Decimal", Value::Number(n)) => PropertyValue::Decimal(n.to_string()),
                ("DateTime", Value::String(s)) => PropertyValue::DateTime(s.clone()),
                ("Coding", Value::Object(_)) => PropertyValue::Coding {
                    system: text(v, "system"),
                    code: text(v, "code").unwrap_or_default(),
                    display: text(v, "display"),
                },
                (_, other) => PropertyValue::String(match other {
                    Value::String(s) => s.clone(),
                    o => o.to_string(),
                }),
            };
            out.push((code.to_owned(), pv));
        }
    }
    out
}

impl CompiledCodeSystem {
    /// Compile a CodeSystem resource, merging the given supplements.
    pub fn compile(json: &Value, supplements: &[&Value]) -> CompiledCodeSystem {
        let mut cs = CompiledCodeSystem {
            url: text(json, "url").unwrap_or_default(),
            version: text(json, "version"),
            name: text(json, "name"),
            title: text(json, "title"),
            case_sensitive: json
                .get("caseSensitive")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            content: Content::parse(json.get("content").and_then(Value::as_str)),
            concepts: Vec::new(),
            index: HashMap::new(),
            lower_index: HashMap::new(),
            roots: Vec::new(),
        };
        // Nested concepts, iteratively (no recursion on input depth).
        let mut stack: Vec<(Option<usize>, &Value)> = Vec::new();
        if let Some(list) = json.get("concept").and_then(Value::as_array) {
            for c in list.iter().rev() {
                stack.push((None, c));
            }
        }
        let mut order = Vec::new();
        while let Some((parent, c)) = stack.pop() {
            let Some(code) = c.get("code").and_then(Value::as_str) else {
                continue;
            };
            let idx = match cs.index.get(code) {
                Some(&i) => i,
                None => {
                    let i = cs.concepts.len();
                    cs.concepts.push(Concept {
                        code: code.to_owned(),
                        display: text(c, "display"),
                        definition: text(c, "definition"),
                        designations: parse_designations(c),
                        properties: parse_properties(c),
                        parents: Vec::new(),
                        children: Vec::new(),
                    });
                    cs.index.insert(code.to_owned(), i);
                    order.push(i);
                    i
                }
            };
            if let Some(p) = parent {
                cs.link(p, idx);
            }
            if let Some(list) = c.get("concept").and_then(Value::as_array) {
                for child in list.iter().rev() {
                    stack.push((Some(idx), child));
                }
            }
        }
        // Hierarchy by properties.
        for i in 0..cs.concepts.len() {
            let props: Vec<(String, String)> = cs.concepts[i]
                .properties
                .iter()
                .filter(|(k, _)| k == "parent" || k == "subsumedBy" || k == "child")
                .map(|(k, v)| (k.clone(), v.as_text()))
                .collect();
            for (k, other) in props {
                if let Some(&o) = cs.index.get(&other) {
                    if k == "child" {
                        cs.link(i, o);
                    } else {
                        cs.link(o, i);
                    }
                }
            }
        }
        for s in supplements {
            cs.merge_supplement(s);
        }
        for (code, &i) in &cs.index {
            cs.lower_index.entry(code.to_lowercase()).or_insert(i);
        }
        cs.roots = order
            .into_iter()
            .filter(|&i| cs.concepts[i].parents.is_empty())
            .collect();
        cs
    }

    fn link(&mut self, parent: usize, child: usize) {
        if parent == child {
            return;
        }
        if let Some(c) = self.concepts.get_mut(child) {
            if !c.parents.contains(&parent) {
                c.parents.push(parent);
            }
        }
        if let Some(p) = self.concepts.get_mut(parent) {
            if !p.children.contains(&child) {
                p.children.push(child);
            }
        }
    }

    fn merge_supplement(&mut self, sup: &Value) {
        let mut stack: Vec<&Value> = sup
            .get("concept")
            .and_then(Value::as_array)
            .map(|l| l.iter().collect())
            .unwrap_or_default();
        while let Some(c) = stack.pop() {
            if let Some(list) = c.get("concept").and_then(Value::as_array) {
                stack.extend(list.iter());
            }
            let Some(code) = c.get("code").and_then(Value::as_str) else {
                continue;
            };
            let Some(&i) = self.index.get(code) else {
                continue;
            };
            let lang = sup.get("language").and_then(Value::as_str);
            let designations = parse_designations(c);
            let properties = parse_properties(c);
            if let Some(concept) = self.concepts.get_mut(i) {
                if let Some(d) = c.get("display").and_then(Value::as_str) {
                    concept.designations.push(Designation {
                        language: lang.map(Into::into),
                        use_system: None,
                        use_code: None,
                        value: d.to_owned(),
                    });
                }
                concept.designations.extend(designations);
                concept.properties.extend(properties);
            }
        }
    }

    /// Find a concept: exact, or case-insensitively when the system is not case sensitive.
    /// The flag says whether the match differed by case.
    pub fn find(&self, code: &str) -> Option<(usize, bool)> {
        if let Some(&i) = self.index.get(code) {
            return Some((i, false));
        }
        if !self.case_sensitive {
            if let Some(&i) = self.lower_index.get(&code.to_lowercase()) {
                return Some((i, true));
            }
        }
        None
    }

    pub fn concept(&self, i: usize) -> Option<&Concept> {
        self.concepts.get(i)
    }

    /// `i` and all its descendants (cycle safe).
    pub fn descendants_or_self(&self, i: usize) -> HashSet<usize> {
        self.walk(i, |c| &c.children)
    }

    /// `i` and all its ancestors (cycle safe).
    pub fn ancestors_or_self(&self, i: usize) -> HashSet<usize> {
        self.walk(i, |c| &c.parents)
    }

    fn walk(&self, start: usize, next: impl Fn(&Concept) -> &Vec<usize>) -> HashSet<usize> {
        let mut seen = HashSet::new();
        let mut queue = VecDeque::from([start]);
        while let Some(i) = queue.pop_front() {
            if !seen.insert(i) {
                continue;
            }
            if let Some(c) = self.concepts.get(i) {
                queue.extend(next(c).iter().copied());
            }
        }
        seen
    }

    /// Concepts in hierarchical document order (pre-order from the roots), each once.
    pub fn in_order(&self) -> Vec<usize> {
        let mut seen = vec![false; self.concepts.len()];
        let mut out = Vec::with_capacity(self.concepts.len());
        let mut stack: Vec<usize> = self.roots.iter().rev().copied().collect();
        while let Some(i) = stack.pop() {
            match seen.get_mut(i) {
                Some(s) if !*s => *s = true,
                _ => continue,
            }
            out.push(i);
            if let Some(c) = self.concepts.get(i) {
                stack.extend(c.children.iter().rev().copied());
            }
        }
        // Concepts only reachable through cycles.
        for (i, s) in seen.iter().enumerate() {
            if !s {
                out.push(i);
            }
        }
        out
    }

    pub fn display_name(&self) -> &str {
        self.title
            .as_deref()
            .or(self.name.as_deref())
            .unwrap_or(&self.url)
    }
}
