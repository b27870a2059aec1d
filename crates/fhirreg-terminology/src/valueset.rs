//! ValueSet compose evaluation: a membership index built once per value set,
//! and `$expand` over it.

// foldhash in the value set index, looked up per validated code (see lib.rs).
use foldhash::{HashMap, HashSet, HashSetExt};
use std::sync::Arc;

use fhirreg_model::terminology::{ComposeFilter, ConceptSet};
use serde_json::{json, Map, Value};

use crate::codesystem::CompiledCodeSystem;
use crate::{
    Designation, ExpandParams, GrammarSystem, SystemDef, Terminology, TxError, ValueSetDef,
};
use fhirreg_element::args;
use fhirreg_element::message::{Message, Msg};

/// One concept of an expansion.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub system: String,
    pub version: Option<String>,
    pub code: String,
    pub display: Option<String>,
    pub designations: Vec<Designation>,
    pub abstract_: bool,
    pub inactive: bool,
}

/// An include that cannot be enumerated: a grammar-based system, a code
/// system that is not available (or only partly: fragment, example), or an
/// import that cannot be resolved (empty `system`: any system).
#[derive(Debug, Clone)]
pub(crate) struct OpenInclude {
    pub system: String,
    pub grammar: Option<GrammarSystem>,
    /// Filters apply that cannot be evaluated here.
    pub filtered: bool,
    /// Why the include is open.
    pub reason: Message,
}

/// A value set compiled for membership tests and expansion.
#[derive(Debug, Default)]
pub(crate) struct VsIndex {
    pub url: String,
    canonical: String,
    pub version: Option<String>,
    pub name: Option<String>,
    /// id, url, version, name, title, status: what `$expand` repeats.
    header: Vec<(&'static str, String)>,
    pub entries: Vec<Entry>,
    by_system: HashMap<String, HashMap<String, usize>>,
    by_code: HashMap<String, Vec<usize>>,
    pub open: Vec<OpenInclude>,
    excluded: HashSet<(String, String)>,
}

/// The result of a membership test.
pub(crate) enum Member<'a> {
    /// An enumerated concept.
    Yes(&'a Entry),
    /// Not in the value set.
    No,
    /// Only an open include could contain it.
    Open(&'a OpenInclude),
}

impl VsIndex {
    /// `url|version` as the HL7 validator prints it.
    pub fn versioned(&self) -> &str {
        &self.canonical
    }

    pub fn member(&self, system: &str, code: &str, case_insensitive: bool) -> Member<'_> {
        if let Some(codes) = self.by_system.get(system) {
            if let Some(e) = codes.get(code).and_then(|&i| self.entries.get(i)) {
                return Member::Yes(e);
            }
            if case_insensitive {
                let lower = code.to_lowercase();
                if let Some(e) = codes
                    .iter()
                    .find(|(k, _)| k.to_lowercase() == lower)
                    .and_then(|(_, &i)| self.entries.get(i))
                {
                    return Member::Yes(e);
                }
            }
        }
        // (the pair is built only when something is excluded: most value
        // sets exclude nothing, and this runs for every code not listed)
        if !self.excluded.is_empty()
            && self
                .excluded
                .contains(&(system.to_owned(), code.to_owned()))
        {
            return Member::No;
        }
        match self
            .open
            .iter()
            .find(|o| o.system == system || o.system.is_empty())
        {
            Some(o) => Member::Open(o),
            None => Member::No,
        }
    }

    /// Enumerated concepts with this code, in any system.
    pub fn by_code(&self, code: &str) -> impl Iterator<Item = &Entry> {
        self.by_code
            .get(code)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.entries.get(i))
    }

    fn push(&mut self, e: Entry) {
        let idx = self.entries.len();
        // Keys are copied only when new (a value set lists many codes of
        // few systems).
        if !self.by_system.contains_key(e.system.as_str()) {
            self.by_system.insert(e.system.clone(), HashMap::default());
        }
        let Some(codes) = self.by_system.get_mut(e.system.as_str()) else {
            return;
        };
        if codes.contains_key(e.code.as_str()) {
            return;
        }
        codes.insert(e.code.clone(), idx);
        match self.by_code.get_mut(e.code.as_str()) {
            Some(list) => list.push(idx),
            None => {
                self.by_code.insert(e.code.clone(), vec![idx]);
            }
        }
        self.entries.push(e);
    }
}

/// The parts one include or exclude contributes.
#[derive(Default)]
struct Part {
    entries: Vec<Entry>,
    open: Vec<OpenInclude>,
}

struct Ctx<'a> {
    tx: &'a Terminology,
    pins: &'a [(String, String)],
    limit: usize,
    url: String,
}

pub(crate) fn unavailable_message(system: &str, version: Option<&str>, def: &SystemDef) -> Message {
    match (version, def) {
        (Some(v), SystemDef::WrongVersion(valid)) if !valid.is_empty() => Message::new(
            Msg::TxSystemVersionUnavailableKnown,
            args![system, v, valid.join(", ")],
        ),
        (Some(v), _) => Message::new(Msg::TxSystemVersionUnavailable, args![system, v]),
        (None, _) => Message::new(Msg::TxSystemUnavailable, args![system]),
    }
}

/// Build the index of a value set, following imports (cycle safe).
pub(crate) fn build(
    tx: &Terminology,
    canonical: &str,
    pins: &[(String, String)],
    stack: &mut Vec<String>,
) -> Result<Arc<VsIndex>, TxError> {
    if stack.iter().any(|s| s == canonical) || stack.len() > 64 {
        return Err(TxError::Cycle(canonical.to_owned()));
    }
    let vs = match tx.source().value_set(canonical) {
        Some(vs) => vs,
        None => Arc::new(
            implicit_valueset(canonical)
                .ok_or_else(|| TxError::ValueSetNotFound(canonical.to_owned()))?,
        ),
    };
    stack.push(canonical.to_owned());
    let ctx = Ctx {
        tx,
        pins,
        limit: tx.options().max_index_size,
        url: canonical.to_owned(),
    };
    let built = build_from(&ctx, &vs, stack);
    stack.pop();
    built.map(Arc::new)
}

/// Build the index of a value set given as a resource (one contained in
/// another resource, so not in the source), known as `key`.
pub(crate) fn build_json(
    tx: &Terminology,
    key: &str,
    json: &Value,
) -> Result<Arc<VsIndex>, TxError> {
    let mut stack = vec![key.to_owned()];
    let ctx = Ctx {
        tx,
        pins: &[],
        limit: tx.options().max_index_size,
        url: key.to_owned(),
    };
    build_from(&ctx, &ValueSetDef::from_json(json), &mut stack).map(Arc::new)
}

/// Implicit value sets: `{system}?fhir_vs` (all codes of the system),
/// `{system}?fhir_vs=isa/{code}` (the code and its descendants) and
/// `{system}?fhir_vs=refset/{code}` (members of a reference set: only
/// checkable when the system is loaded with such a filter, so normally
/// "not checked").
fn implicit_valueset(canonical: &str) -> Option<ValueSetDef> {
    let url = canonical.split('|').next().unwrap_or(canonical);
    let (system, query) = url.split_once('?')?;
    let rest = query.strip_prefix("fhir_vs")?;
    let mut include = ConceptSet {
        system: Some(system.to_owned()),
        ..Default::default()
    };
    if !rest.is_empty() {
        let arg = rest.strip_prefix('=')?;
        let (op, code) = if let Some(code) = arg.strip_prefix("isa/") {
            ("is-a", code)
        } else if let Some(code) = arg.strip_prefix("refset/") {
            ("in-refset", code)
        } else {
            return None;
        };
        include.filters.push(ComposeFilter {
            property: "concept".into(),
            op: op.into(),
            value: code.into(),
        });
    }
    Some(ValueSetDef {
        url: Some(canonical.to_owned()),
        compose: Some(fhirreg_model::terminology::Compose {
            include: vec![include],
            ..Default::default()
        }),
        ..Default::default()
    })
}

fn import(
    ctx: &Ctx<'_>,
    canonical: &str,
    stack: &mut Vec<String>,
) -> Result<Arc<VsIndex>, TxError> {
    if stack.iter().any(|s| s == canonical) {
        return Err(TxError::Cycle(canonical.to_owned()));
    }
    if ctx.pins.is_empty() {
        // share the cache when no pins are in force
        if let Some(hit) = ctx.tx.cached_valueset(canonical) {
            return hit;
        }
        let built = build(ctx.tx, canonical, ctx.pins, stack);
        ctx.tx.cache_valueset(canonical, built.clone());
        return built;
    }
    build(ctx.tx, canonical, ctx.pins, stack)
}

fn build_from(
    ctx: &Ctx<'_>,
    vs: &ValueSetDef,
    stack: &mut Vec<String>,
) -> Result<VsIndex, TxError> {
    let mut idx = VsIndex {
        url: vs.url.clone().unwrap_or_else(|| ctx.url.clone()),
        version: vs.version.clone(),
        name: vs.title.clone().or_else(|| vs.name.clone()),
        ..Default::default()
    };
    idx.canonical = match &idx.version {
        Some(v) => format!("{}|{v}", idx.url),
        None => idx.url.clone(),
    };
    let header = [
        ("id", &vs.id),
        ("url", &vs.url),
        ("version", &vs.version),
        ("name", &vs.name),
        ("title", &vs.title),
        ("status", &vs.status),
    ];
    idx.header = header
        .into_iter()
        .filter_map(|(k, v)| Some((k, v.clone()?)))
        .collect();
    if let Some(contains) = &vs.expansion {
        for c in contains {
            if idx.entries.len() >= ctx.limit {
                return Err(TxError::TooCostly {
                    valueset: ctx.url.clone(),
                    limit: ctx.limit,
                });
            }
            idx.push(Entry {
                system: c.system.clone(),
                version: c.version.clone(),
                code: c.code.clone(),
                display: c.display.clone(),
                designations: c.designations.clone(),
                abstract_: c.is_abstract,
                inactive: c.inactive,
            });
        }
        return Ok(idx);
    }
    let Some(compose) = &vs.compose else {
        return Err(TxError::NotExpandable {
            valueset: ctx.url.clone(),
            reason: "it has neither a compose nor an expansion".into(),
        });
    };
    let mut excluded: HashSet<(String, String)> = HashSet::new();
    for exc in &compose.exclude {
        let part = include_part(ctx, exc, stack)?;
        excluded.extend(part.entries.into_iter().map(|e| (e.system, e.code)));
    }
    // compose.inactive = false leaves inactive concepts out
    let include_inactive = compose.inactive.unwrap_or(true);
    for inc in &compose.include {
        let part = include_part(ctx, inc, stack)?;
        for e in part.entries {
            if !include_inactive && e.inactive {
                continue;
            }
            if excluded.contains(&(e.system.clone(), e.code.clone())) {
                continue;
            }
            if idx.entries.len() >= ctx.limit {
                return Err(TxError::TooCostly {
                    valueset: ctx.url.clone(),
                    limit: ctx.limit,
                });
            }
            idx.push(e);
        }
        idx.open.extend(part.open);
    }
    idx.excluded = excluded;
    Ok(idx)
}

fn entry_from_cs(cs: &CompiledCodeSystem, i: usize) -> Option<Entry> {
    let c = cs.concept(i)?;
    Some(Entry {
        system: cs.url.clone(),
        version: cs.version.clone(),
        code: c.code.clone(),
        display: c.display.clone(),
        designations: c.designations.clone(),
        abstract_: c.is_abstract(),
        inactive: c.is_inactive(),
    })
}

fn include_part(ctx: &Ctx<'_>, inc: &ConceptSet, stack: &mut Vec<String>) -> Result<Part, TxError> {
    let mut imports = Vec::new();
    for c in &inc.value_sets {
        {
            match import(ctx, c, stack) {
                Ok(i) => imports.push(i),
                Err(TxError::ValueSetNotFound(missing)) => {
                    // Membership of anything this include could add is unknown.
                    return Ok(Part {
                        entries: Vec::new(),
                        open: vec![OpenInclude {
                            system: String::new(),
                            grammar: None,
                            filtered: true,
                            reason: Message::new(Msg::TxReasonValueSetMissing, args![missing]),
                        }],
                    });
                }
                Err(e) => return Err(e),
            }
        }
    }
    let Some(system) = inc.system.clone() else {
        // only value set imports: their intersection
        let mut part = Part::default();
        let Some((first, rest)) = imports.split_first() else {
            return Ok(part);
        };
        part.entries = first
            .entries
            .iter()
            .filter(|e| {
                rest.iter()
                    .all(|o| !matches!(o.member(&e.system, &e.code, false), Member::No))
            })
            .cloned()
            .collect();
        part.open = first.open.clone();
        return Ok(part);
    };
    let pinned = ctx
        .pins
        .iter()
        .find(|(s, _)| *s == system)
        .map(|(_, v)| v.clone());
    let version = inc.version.clone().or(pinned);
    let def = ctx.tx.system(&system, version.as_deref());
    let filters = &inc.filters;
    let mut part = Part::default();
    if let Some(concepts) = &inc.concepts {
        for c in concepts {
            let mut e = Entry {
                system: system.clone(),
                version: version.clone(),
                code: c.code.clone(),
                display: c.display.clone(),
                designations: c.designations.clone(),
                abstract_: false,
                inactive: false,
            };
            if let SystemDef::Resource(cs) = &def {
                if let Some(from) = cs.find(&e.code).and_then(|(i, _)| entry_from_cs(cs, i)) {
                    e.display = e.display.or(from.display);
                    e.designations.extend(from.designations);
                    e.abstract_ = from.abstract_;
                    e.inactive = from.inactive;
                    e.version = e.version.or(from.version);
                }
            }
            part.entries.push(e);
        }
    } else {
        match &def {
            SystemDef::Resource(cs) if cs.content != crate::Content::NotPresent => {
                let preds = filters
                    .iter()
                    .map(|f| compile_filter(ctx, cs, f))
                    .collect::<Result<Vec<_>, _>>()?;
                for i in cs.in_order() {
                    if preds.iter().all(|p| p.contains(&i)) {
                        if part.entries.len() >= ctx.limit {
                            return Err(TxError::TooCostly {
                                valueset: ctx.url.clone(),
                                limit: ctx.limit,
                            });
                        }
                        if let Some(mut e) = entry_from_cs(cs, i) {
                            // A code system named by an alias (a Volven
                            // OID it carries in `identifier`): codings
                            // use the name the value set uses.
                            if e.system != system {
                                e.system.clone_from(&system);
                            }
                            part.entries.push(e);
                        }
                    }
                }
                if !cs.content.is_complete() {
                    part.open.push(OpenInclude {
                        system: system.clone(),
                        grammar: None,
                        filtered: !filters.is_empty(),
                        reason: Message::new(
                            Msg::TxReasonPartialSystem,
                            args![&system, cs.content.code()],
                        ),
                    });
                }
            }
            SystemDef::Grammar(g) => match g.enumerate() {
                Some(all) if filters.is_empty() => {
                    part.entries
                        .extend(all.into_iter().map(|(code, display)| Entry {
                            system: system.clone(),
                            version: None,
                            code,
                            display: Some(display),
                            designations: Vec::new(),
                            abstract_: false,
                            inactive: false,
                        }));
                }
                _ => part.open.push(OpenInclude {
                    system: system.clone(),
                    grammar: Some(*g),
                    filtered: !filters.is_empty(),
                    reason: Message::new(Msg::TxReasonRuleNotLocal, args![&ctx.url, &system]),
                }),
            },
            other => part.open.push(OpenInclude {
                system: system.clone(),
                grammar: None,
                filtered: !filters.is_empty(),
                reason: unavailable_message(&system, version.as_deref(), other),
            }),
        }
    }
    if !imports.is_empty() {
        part.entries.retain(|e| {
            imports
                .iter()
                .all(|o| !matches!(o.member(&e.system, &e.code, false), Member::No))
        });
    }
    Ok(part)
}

/// Compile one `compose.include.filter` against a code system into the set
/// of matching concept indices.
fn compile_filter(
    ctx: &Ctx<'_>,
    cs: &CompiledCodeSystem,
    f: &ComposeFilter,
) -> Result<HashSet<usize>, TxError> {
    let (property, op, value) = (f.property.as_str(), f.op.as_str(), f.value.as_str());
    let all = || (0..cs.concepts.len()).collect::<HashSet<usize>>();
    let find = |code: &str| cs.find(code).map(|x| x.0);
    let list: Vec<&str> = value.split(',').map(str::trim).collect();
    let invalid = |m: String| TxError::Invalid {
        what: format!("filter in value set '{}'", ctx.url),
        message: m,
    };
    let regex = || {
        regex::RegexBuilder::new(&format!("^(?:{value})$"))
            .size_limit(1 << 20)
            .build()
            .map_err(|e| invalid(format!("bad regex '{value}': {e}")))
    };
    let hierarchical = matches!(property, "concept" | "code");
    let set: HashSet<usize> = match (op, hierarchical) {
        ("is-a", true) => find(value)
            .map(|i| cs.descendants_or_self(i))
            .unwrap_or_default(),
        ("descendent-of", true) => find(value)
            .map(|i| {
                let mut s = cs.descendants_or_self(i);
                s.remove(&i);
                s
            })
            .unwrap_or_default(),
        ("is-not-a", true) => {
            let sub = find(value)
                .map(|i| cs.descendants_or_self(i))
                .unwrap_or_default();
            all().difference(&sub).copied().collect()
        }
        ("generalizes", true) => find(value)
            .map(|i| cs.ancestors_or_self(i))
            .unwrap_or_default(),
        ("child-of", true) => find(value)
            .and_then(|i| cs.concept(i))
            .map(|c| c.children.iter().copied().collect())
            .unwrap_or_default(),
        ("=", true) => find(value).into_iter().collect(),
        ("in", true) => list.iter().filter_map(|c| find(c)).collect(),
        ("not-in", true) => {
            let sub: HashSet<usize> = list.iter().filter_map(|c| find(c)).collect();
            all().difference(&sub).copied().collect()
        }
        ("regex", true) => {
            let re = regex()?;
            (0..cs.concepts.len())
                .filter(|&i| cs.concept(i).is_some_and(|c| re.is_match(&c.code)))
                .collect()
        }
        ("exists", true) => all(),
        (op, true) => {
            return Err(invalid(format!(
                "unsupported filter op '{op}' on '{property}'"
            )))
        }
        (op, false) => {
            let values = |i: usize| -> Vec<String> {
                let Some(c) = cs.concept(i) else {
                    return Vec::new();
                };
                match property {
                    "display" => c.display.iter().cloned().collect(),
                    "parent" => c
                        .parents
                        .iter()
                        .filter_map(|&p| cs.concept(p).map(|x| x.code.clone()))
                        .collect(),
                    "child" => c
                        .children
                        .iter()
                        .filter_map(|&p| cs.concept(p).map(|x| x.code.clone()))
                        .collect(),
                    _ => c.property_strings(property).collect(),
                }
            };
            let re = if op == "regex" { Some(regex()?) } else { None };
            let test = |vals: Vec<String>| -> Result<bool, TxError> {
                Ok(match op {
                    "=" => vals.iter().any(|v| v == value),
                    "in" => vals.iter().any(|v| list.contains(&v.as_str())),
                    "not-in" => !vals.iter().any(|v| list.contains(&v.as_str())),
                    "exists" => vals.is_empty() != (value == "true"),
                    "regex" => re
                        .as_ref()
                        .is_some_and(|re| vals.iter().any(|v| re.is_match(v))),
                    other => {
                        return Err(invalid(format!(
                            "unsupported filter op '{other}' on '{property}'"
                        )))
                    }
                })
            };
            let mut out = HashSet::new();
            for i in 0..cs.concepts.len() {
                if test(values(i))? {
                    out.insert(i);
                }
            }
            out
        }
    };
    Ok(set)
}

fn matches_text(e: &Entry, words: &[String]) -> bool {
    words.iter().all(|w| {
        e.code.to_lowercase().contains(w)
            || e.display
                .as_ref()
                .is_some_and(|d| d.to_lowercase().contains(w))
            || e.designations
                .iter()
                .any(|d| d.value.to_lowercase().contains(w))
    })
}

/// `$expand` over a built index.
pub(crate) fn expand(
    tx: &Terminology,
    vs: &VsIndex,
    params: &ExpandParams,
) -> Result<Value, TxError> {
    if let Some(o) = vs.open.first() {
        return Err(TxError::NotExpandable {
            valueset: vs.versioned().to_owned(),
            reason: o.reason.to_string(),
        });
    }
    let limit = params.max_size.unwrap_or(tx.options().max_expansion_size);
    let words: Vec<String> = params
        .filter
        .as_deref()
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    let selected: Vec<&Entry> = vs
        .entries
        .iter()
        .filter(|e| !(params.active_only && e.inactive))
        .filter(|e| words.is_empty() || matches_text(e, &words))
        .collect();
    if selected.len() > limit {
        return Err(TxError::TooCostly {
            valueset: vs.versioned().to_owned(),
            limit,
        });
    }
    let total = selected.len();
    let page = selected
        .iter()
        .skip(params.offset)
        .take(params.count.unwrap_or(usize::MAX));
    let contains: Vec<Value> = page
        .map(|e| {
            let mut c = Map::new();
            c.insert("system".into(), json!(e.system));
            if let Some(v) = &e.version {
                c.insert("version".into(), json!(v));
            }
            if e.abstract_ {
                c.insert("abstract".into(), json!(true));
            }
            if e.inactive {
                c.insert("inactive".into(), json!(true));
            }
            c.insert("code".into(), json!(e.code));
            if let Some(d) = &e.display {
                c.insert("display".into(), json!(d));
            }
            if params.include_designations && !e.designations.is_empty() {
                let ds: Vec<Value> = e
                    .designations
                    .iter()
                    .map(|d| {
                        let mut o = Map::new();
                        if let Some(l) = &d.language {
                            o.insert("language".into(), json!(l));
                        }
                        if d.use_system.is_some() || d.use_code.is_some() {
                            o.insert(
                                "use".into(),
                                json!({"system": d.use_system, "code": d.use_code}),
                            );
                        }
                        o.insert("value".into(), json!(d.value));
                        Value::Object(o)
                    })
                    .collect();
                c.insert("designation".into(), Value::Array(ds));
            }
            Value::Object(c)
        })
        .collect();
    let mut parameters = Vec::new();
    let mut used: Vec<String> = Vec::new();
    for e in &vs.entries {
        let u = match &e.version {
            Some(v) => format!("{}|{v}", e.system),
            None => e.system.clone(),
        };
        if !used.contains(&u) {
            used.push(u);
        }
    }
    for u in used {
        parameters.push(json!({"name": "used-codesystem", "valueUri": u}));
    }
    if let Some(f) = &params.filter {
        parameters.push(json!({"name": "filter", "valueString": f}));
    }
    parameters.push(json!({"name": "offset", "valueInteger": params.offset}));
    if let Some(c) = params.count {
        parameters.push(json!({"name": "count", "valueInteger": c}));
    }
    let mut out = Map::new();
    out.insert("resourceType".into(), json!("ValueSet"));
    for (k, v) in &vs.header {
        out.insert((*k).to_owned(), Value::String(v.clone()));
    }
    out.insert(
        "expansion".into(),
        json!({
            "timestamp": crate::now_datetime(),
            "total": total,
            "offset": params.offset,
            "parameter": parameters,
            "contains": contains,
        }),
    );
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamp_shape() {
        let t = crate::now_datetime();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.starts_with("20"), "{t}");
        assert!(t.ends_with('Z'));
    }
}
