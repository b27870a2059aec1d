//! Snapshot generation: a StructureDefinition's differential applied to its
//! base's snapshot.
//!
//! Covers what profiles use in practice: constraining elements, expanding
//! datatypes (and type profiles such as extension definitions) when the
//! differential reaches into them, slices (new slices are copied from the
//! sliced element), renamed choice elements (`valueQuantity` becomes the
//! type slice `value[x]:valueQuantity`, as the HL7 tools write it),
//! `contentReference` expansion, and specializations (logical models) that
//! add elements. Differential elements that cannot be placed are reported
//! as warnings, not errors.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::{Registry, Resource, Summary};

type El = Map<String, Value>;

/// Bound on baseDefinition chains (also stops cycles).
const MAX_BASE_DEPTH: usize = 32;

/// A snapshot could not be generated at all (base not found, a cycle of
/// baseDefinitions, no baseDefinition).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot generate the snapshot of {url}: {message}")]
pub struct SnapshotError {
    /// The StructureDefinition's url (empty when it has none).
    pub url: String,
    /// What went wrong.
    pub message: String,
}

/// A StructureDefinition with a generated snapshot, and what could not be
/// applied.
#[derive(Debug, Clone)]
pub struct GeneratedSnapshot {
    /// The StructureDefinition with `snapshot.element` filled in.
    pub structure_definition: Value,
    /// Differential elements that could not be placed, and similar notes.
    pub warnings: Vec<String>,
}

fn id_of(e: &El) -> &str {
    e.get("id").and_then(Value::as_str).unwrap_or("")
}

fn path_of(e: &El) -> &str {
    e.get("path").and_then(Value::as_str).unwrap_or("")
}

fn type_codes(e: &El) -> Vec<&str> {
    e.get("type")
        .and_then(Value::as_array)
        .map(|ts| ts.iter().filter_map(|t| t.get("code")?.as_str()).collect())
        .unwrap_or_default()
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The elements of a snapshot (or differential) as maps.
fn elements(sd: &Value, part: &str) -> Option<Vec<El>> {
    let list = sd.get(part)?.get("element")?.as_array()?;
    Some(list.iter().filter_map(|e| e.as_object().cloned()).collect())
}

/// Is `id` inside the subtree of `root` (children or slices)?
fn within(id: &str, root: &str) -> bool {
    id.len() > root.len()
        && id.starts_with(root)
        && matches!(id.as_bytes().get(root.len()), Some(b'.') | Some(b':'))
}

/// The segments of an element id (`Extension.extension:a.value[x]`:
/// `Extension`, `extension:a`, `value[x]`). Slice names with dots are not
/// supported (none are used in practice).
fn segments(id: &str) -> Vec<&str> {
    id.split('.').collect()
}

struct Gen<'a> {
    registry: &'a Registry,
    els: Vec<El>,
    warnings: Vec<String>,
    depth: usize,
    /// Choice elements already narrowed by a renamed choice.
    restricted: Vec<String>,
}

impl Registry {
    /// Generate the snapshot of a StructureDefinition from its differential
    /// and its base (resolved in this registry, generating the base's
    /// snapshot too when it has none).
    ///
    /// ```
    /// let registry = fhirreg_registry::Registry::builder().build().unwrap();
    /// let profile = serde_json::json!({
    ///     "resourceType": "StructureDefinition", "url": "http://example.org/sd/p",
    ///     "type": "Patient", "kind": "resource", "abstract": false, "derivation": "constraint",
    ///     "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
    ///     "differential": {"element": [
    ///         {"id": "Patient.name", "path": "Patient.name", "min": 1},
    ///         {"id": "Patient.name.family", "path": "Patient.name.family", "min": 1}
    ///     ]}
    /// });
    /// let generated = registry.generate_snapshot(&profile).unwrap();
    /// assert!(generated.warnings.is_empty());
    /// let elements = generated.structure_definition["snapshot"]["element"].as_array().unwrap();
    /// let family = elements.iter().find(|e| e["id"] == "Patient.name.family").unwrap();
    /// assert_eq!(family["min"], 1);
    /// ```
    pub fn generate_snapshot(&self, sd: &Value) -> Result<GeneratedSnapshot, SnapshotError> {
        self.generate_at(sd, 0).map_err(|message| SnapshotError {
            url: sd
                .get("url")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            message,
        })
    }

    /// Like [`Registry::resolve`], but a StructureDefinition without a
    /// snapshot comes back with a generated one (made once, then cached;
    /// warnings are dropped: use [`Registry::generate_snapshot`] to see
    /// them). `None` when not found or when generation fails.
    pub fn resolve_with_snapshot(&self, canonical: &str) -> Option<Arc<Resource>> {
        let entry = self.inner.entries.get(self.find(canonical)?)?;
        let resource = entry.resource()?;
        if resource.resource_type != "StructureDefinition"
            || resource.json.get("snapshot").is_some()
        {
            return Some(resource);
        }
        entry
            .snapshot
            .get_or_init(|| {
                let generated = self.generate_at(&resource.json, 0).ok()?;
                Resource::from_json(generated.structure_definition).map(Arc::new)
            })
            .clone()
    }

    /// The snapshot elements of `url`, generating (without caching, so a
    /// cycle cannot re-enter a cache cell) when needed.
    fn snapshot_elements(&self, url: &str, depth: usize) -> Result<Vec<El>, String> {
        if depth > MAX_BASE_DEPTH {
            return Err(format!(
                "baseDefinition chain too deep (or a cycle) at {url}"
            ));
        }
        let i = self
            .find(url)
            .ok_or_else(|| format!("cannot resolve {url}"))?;
        let entry = self
            .inner
            .entries
            .get(i)
            .ok_or_else(|| format!("cannot resolve {url}"))?;
        if let Some(Some(done)) = entry.snapshot.get() {
            if let Some(els) = elements(&done.json, "snapshot") {
                return Ok(els);
            }
        }
        let resource = entry
            .resource()
            .ok_or_else(|| format!("cannot decode {url}"))?;
        if let Some(els) = elements(&resource.json, "snapshot") {
            return Ok(els);
        }
        let generated = self.generate_at(&resource.json, depth + 1)?;
        elements(&generated.structure_definition, "snapshot")
            .ok_or_else(|| format!("no snapshot for {url}"))
    }

    pub(crate) fn generate_at(
        &self,
        sd: &Value,
        depth: usize,
    ) -> Result<GeneratedSnapshot, String> {
        let base_url = sd
            .get("baseDefinition")
            .and_then(Value::as_str)
            .ok_or("no baseDefinition")?;
        let mut els = match self.snapshot_elements(base_url, depth) {
            Ok(els) => els,
            // R5's `Base` (used by logical models) has no R4 definition: it
            // is a bare root element.
            Err(_) if base_url == "http://hl7.org/fhir/StructureDefinition/Base" => {
                let mut root = El::new();
                root.insert("id".into(), Value::String("Base".into()));
                root.insert("path".into(), Value::String("Base".into()));
                root.insert("min".into(), Value::from(0));
                root.insert("max".into(), Value::String("*".into()));
                vec![root]
            }
            Err(e) => return Err(e),
        };
        let diff = elements(sd, "differential").unwrap_or_default();
        let specialization = sd.get("derivation").and_then(Value::as_str) == Some("specialization");
        if specialization {
            // Re-root the base elements on the new type's name.
            let new_root = diff
                .first()
                .map(|e| path_of(e).split('.').next().unwrap_or("").to_owned())
                .filter(|r| !r.is_empty())
                .or_else(|| {
                    sd.get("type")
                        .and_then(Value::as_str)
                        .map(|t| t.rsplit('/').next().unwrap_or(t).to_owned())
                })
                .ok_or("specialization without type")?;
            let old_root = els
                .first()
                .map(|e| path_of(e).to_owned())
                .unwrap_or_default();
            for e in &mut els {
                for key in ["id", "path"] {
                    if let Some(v) = e.get(key).and_then(Value::as_str) {
                        if let Some(rest) = v.strip_prefix(&old_root) {
                            let nv = format!("{new_root}{rest}");
                            e.insert(key.into(), Value::String(nv));
                        }
                    }
                }
            }
        }
        // As the HL7 snapshot generator writes them: a profile's content
        // references name the element of the type's own definition, so
        // that what the profile says of the target does not apply at each
        // level of the recursion (Parameters.parameter.part).
        let type_url = sd
            .get("type")
            .and_then(Value::as_str)
            .and_then(|t| self.type_summary(t))
            .and_then(Summary::url)
            .filter(|_| !specialization)
            .map(str::to_owned);
        if let Some(type_url) = &type_url {
            absolute_content_references(&mut els, type_url);
        }
        let mut gen = Gen {
            registry: self,
            els,
            warnings: Vec::new(),
            depth,
            restricted: Vec::new(),
        };
        let mut slice_ids: Vec<(String, String)> = Vec::new();
        for d in &diff {
            let id = diff_id(d, &mut slice_ids);
            let located = match gen.locate(&id) {
                Ok(i) => Some(i),
                Err(_) if specialization => gen.add_new(&id, d),
                Err(e) => {
                    gen.warnings.push(e);
                    None
                }
            };
            if let Some(i) = located {
                if let Some(target) = gen.els.get_mut(i) {
                    merge(target, d);
                    if d.contains_key("type") {
                        narrow_to_extension_max(self, target, depth);
                    }
                    // An element a specialization adds is its own base.
                    if !target.contains_key("base") {
                        let base = serde_json::json!({
                            "path": target.get("path").cloned().unwrap_or(Value::Null),
                            "min": target.get("min").cloned().unwrap_or(Value::from(0)),
                            "max": target.get("max").cloned().unwrap_or(Value::from("*")),
                        });
                        target.insert("base".into(), base);
                    }
                }
            }
        }
        if let Some(type_url) = &type_url {
            // Copies made while expanding carry their definition's own.
            absolute_content_references(&mut gen.els, type_url);
        }
        let mut out = sd.clone();
        if let Some(obj) = out.as_object_mut() {
            let list = gen.els.into_iter().map(Value::Object).collect();
            let mut snapshot = Map::new();
            snapshot.insert("element".into(), Value::Array(list));
            obj.insert("snapshot".into(), Value::Object(snapshot));
        }
        Ok(GeneratedSnapshot {
            structure_definition: out,
            warnings: gen.warnings,
        })
    }
}

/// `#path` content references become `type_url#path`.
fn absolute_content_references(els: &mut [El], type_url: &str) {
    for e in els {
        if let Some(cr) = e.get("contentReference").and_then(Value::as_str) {
            if cr.starts_with('#') {
                let absolute = format!("{type_url}{cr}");
                e.insert("contentReference".into(), Value::String(absolute));
            }
        }
    }
}

/// The id of a differential element; old profiles give only `path` and
/// `sliceName`, in which case the slice context of earlier elements is used.
fn diff_id(d: &El, slices: &mut Vec<(String, String)>) -> String {
    if let Some(id) = d.get("id").and_then(Value::as_str) {
        return id.to_owned();
    }
    let path = path_of(d).to_owned();
    // The innermost slice whose element is an ancestor of (or is) this path.
    slices.retain(|(p, _)| path == *p || path.starts_with(&format!("{p}.")));
    let mut id = match slices.last() {
        Some((p, sid)) => format!("{sid}{}", path.get(p.len()..).unwrap_or("")),
        None => path.clone(),
    };
    if let Some(name) = d.get("sliceName").and_then(Value::as_str) {
        if let Some((p, _)) = slices.last() {
            if *p == path {
                slices.pop();
                id = match slices.last() {
                    Some((p, sid)) => format!("{sid}{}", path.get(p.len()..).unwrap_or("")),
                    None => path.clone(),
                };
            }
        }
        id = format!("{id}:{name}");
        slices.push((path, id.clone()));
    }
    id
}

/// An element holding one extension definition (one type profile) can be
/// no wider than the definition's root allows (an extension defined as
/// 0..1 stays single in every profile using it, as the IG publisher does).
fn narrow_to_extension_max(registry: &Registry, e: &mut El, depth: usize) {
    let profile = match e.get("type").and_then(Value::as_array).map(Vec::as_slice) {
        Some([t]) if t.get("code").and_then(Value::as_str) == Some("Extension") => {
            match t
                .get("profile")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
            {
                Some([p]) => p.as_str().map(str::to_owned),
                _ => None,
            }
        }
        _ => None,
    };
    let Some(profile) = profile else { return };
    let Ok(els) = registry.snapshot_elements(&profile, depth + 1) else {
        return;
    };
    let Some(root_max) = els
        .first()
        .and_then(|r| r.get("max"))
        .and_then(Value::as_str)
    else {
        return;
    };
    let Ok(limit) = root_max.parse::<u64>() else {
        return;
    };
    let wider = match e.get("max").and_then(Value::as_str) {
        Some("*") | None => true,
        Some(m) => m.parse::<u64>().is_ok_and(|m| m > limit),
    };
    if wider {
        e.insert("max".into(), Value::String(root_max.to_owned()));
    }
}

/// Apply a differential element's properties to a snapshot element.
fn merge(target: &mut El, d: &El) {
    for (k, v) in d {
        match k.as_str() {
            // Slices are made by `locate` (named by the id); a sliceName on
            // an element whose id names no slice is a mistake of the
            // differential, not a reason to turn the element into a slice.
            "id" | "path" | "sliceName" => {}
            "constraint" | "mapping" | "condition" | "alias" => {
                let list = target
                    .entry(k.clone())
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let (Value::Array(have), Value::Array(add)) = (list, v) {
                    for item in add {
                        let dup = match k.as_str() {
                            "constraint" => have.iter().any(|h| h.get("key") == item.get("key")),
                            _ => have.contains(item),
                        };
                        if !dup {
                            have.push(item.clone());
                        }
                    }
                }
            }
            k if k.starts_with("fixed") || k.starts_with("pattern") => {
                target.retain(|key, _| !key.starts_with("fixed") && !key.starts_with("pattern"));
                target.insert(k.to_owned(), v.clone());
            }
            _ => {
                target.insert(k.clone(), v.clone());
            }
        }
    }
}

impl Gen<'_> {
    fn find(&self, id: &str) -> Option<usize> {
        self.els.iter().position(|e| id_of(e) == id)
    }

    fn has_children(&self, i: usize) -> bool {
        let Some(id) = self.els.get(i).map(id_of) else {
            return false;
        };
        let prefix = format!("{id}.");
        self.els.iter().any(|e| id_of(e).starts_with(&prefix))
    }

    /// The index of the element `id`, expanding datatypes and creating
    /// slices on the way.
    fn locate(&mut self, id: &str) -> Result<usize, String> {
        if let Some(i) = self.find(id) {
            return Ok(i);
        }
        let segs = segments(id);
        let Some((first, rest)) = segs.split_first() else {
            return Err(format!("{id}: empty element id"));
        };
        let mut cur = self
            .find(first)
            .ok_or_else(|| format!("{id}: no root element {first}"))?;
        for seg in rest {
            let (name, slice) = match seg.split_once(':') {
                Some((n, s)) => (n, Some(s.to_owned())),
                None => (*seg, None),
            };
            let parent_id = self.els.get(cur).map(id_of).unwrap_or("").to_owned();
            let mut child = format!("{parent_id}.{name}");
            let mut slice = slice;
            let mut restrict = None;
            if self.find(&child).is_none() && !self.has_children(cur) {
                self.expand(cur, name)?;
            }
            if self.find(&child).is_none() {
                // A renamed choice: `valueQuantity` -> `value[x]:valueQuantity`.
                let renamed = name.char_indices().skip(1).find_map(|(i, c)| {
                    if !c.is_ascii_uppercase() {
                        return None;
                    }
                    let (base, suffix) = name.split_at(i);
                    let choice_id = format!("{parent_id}.{base}[x]");
                    let e = self.els.get(self.find(&choice_id)?)?;
                    let t = type_codes(e)
                        .into_iter()
                        .find(|t| upper_first(t) == suffix)?;
                    Some((choice_id, t.to_owned()))
                });
                match renamed {
                    Some((choice_id, t)) if slice.is_none() => {
                        self.restrict_choice(&choice_id, &t);
                        child = choice_id;
                        slice = Some(name.to_owned());
                        restrict = Some(t);
                    }
                    _ => return Err(format!("{id}: no element {child}")),
                }
            }
            cur = self
                .find(&child)
                .ok_or_else(|| format!("{id}: no element {child}"))?;
            if let Some(s) = slice {
                let sid = format!("{child}:{s}");
                cur = match self.find(&sid) {
                    Some(i) => i,
                    None if restrict.is_none() && self.is_single_unsliced(cur) => {
                        self.name_in_place(cur, &s);
                        cur
                    }
                    None => self.create_slice(cur, &s, restrict.as_deref()),
                };
            }
        }
        Ok(cur)
    }

    /// Insert the children of element `i` from its type (or type profile,
    /// or contentReference). `wanted` is the child the caller looks for: an
    /// element of several types is expanded with the only complex type that
    /// has such a child (`Observation.value[x].value`: Quantity).
    fn expand(&mut self, i: usize, wanted: &str) -> Result<(), String> {
        let Some(e) = self.els.get(i) else {
            return Ok(());
        };
        let (pid, ppath) = (id_of(e).to_owned(), path_of(e).to_owned());
        // A slice takes the children of the element it slices, when that
        // has any (backbone elements always do).
        if let Some((sliced, _)) = pid.rsplit_once(':').filter(|(_, s)| !s.contains('.')) {
            let prefix = format!("{sliced}.");
            let copies: Vec<El> = self
                .els
                .iter()
                .filter(|c| id_of(c).starts_with(&prefix))
                .map(|c| rebase(c, sliced, &pid, &ppath, &ppath))
                .collect();
            if !copies.is_empty() {
                self.els.splice(i + 1..i + 1, copies);
                return Ok(());
            }
        }
        if let Some(reference) = e.get("contentReference").and_then(Value::as_str) {
            let (url, target) = reference.rsplit_once('#').unwrap_or(("", reference));
            let target = target.to_owned();
            let prefix = format!("{target}.");
            // A reference with a url takes the target's children from that
            // definition (unconstrained), a local one from this snapshot.
            let source = if url.is_empty() {
                None
            } else {
                Some(self.registry.snapshot_elements(url, self.depth + 1)?)
            };
            let copies: Vec<El> = source
                .as_ref()
                .unwrap_or(&self.els)
                .iter()
                .filter(|c| id_of(c).starts_with(&prefix) && !id_of(c).contains(':'))
                .map(|c| rebase(c, &target, &pid, &target, &ppath))
                .collect();
            self.els.splice(i + 1..i + 1, copies);
            // Expanded: the element now has its own children (and the type
            // of the element it reused), as the HL7 generator writes it.
            if let Some(e) = self.els.get_mut(i) {
                e.remove("contentReference");
                e.entry("type")
                    .or_insert_with(|| serde_json::json!([{"code": "BackboneElement"}]));
            }
            return Ok(());
        }
        let types: Vec<&Value> = e
            .get("type")
            .and_then(Value::as_array)
            .map(|t| t.iter().collect())
            .unwrap_or_default();
        let t = match types.as_slice() {
            [t] => *t,
            several => {
                let fitting: Vec<&Value> = several
                    .iter()
                    .copied()
                    .filter(|t| self.type_has_child(t, wanted))
                    .collect();
                match fitting.as_slice() {
                    [t] => *t,
                    _ => {
                        return Err(format!(
                            "{pid}: cannot expand an element with {} types",
                            several.len()
                        ))
                    }
                }
            }
        };
        let code = t.get("code").and_then(Value::as_str).unwrap_or("");
        let profile = t
            .get("profile")
            .and_then(Value::as_array)
            .and_then(|p| match p.as_slice() {
                [one] => one.as_str(),
                _ => None,
            });
        let source = match profile {
            Some(p) => self.registry.snapshot_elements(p, self.depth + 1),
            None => self
                .registry
                .type_summary(code)
                .and_then(|s| s.canonical())
                .ok_or_else(|| format!("{pid}: unknown type {code}"))
                .and_then(|c| self.registry.snapshot_elements(&c, self.depth + 1)),
        }?;
        let Some((root, children)) = source.split_first() else {
            return Ok(());
        };
        let (rid, rpath) = (id_of(root).to_owned(), path_of(root).to_owned());
        let copies: Vec<El> = children
            .iter()
            .map(|c| rebase(c, &rid, &pid, &rpath, &ppath))
            .collect();
        self.els.splice(i + 1..i + 1, copies);
        Ok(())
    }

    /// A renamed choice (`valueQuantity`) limits the choice element to the
    /// types the profile renames: the first rename narrows it to that type,
    /// later ones add theirs.
    fn restrict_choice(&mut self, choice_id: &str, t: &str) {
        let Some(i) = self.find(choice_id) else {
            return;
        };
        let first = !self.restricted.iter().any(|c| c == choice_id);
        let Some(Value::Array(types)) = self.els.get_mut(i).and_then(|e| e.get_mut("type")) else {
            return;
        };
        let Some(chosen) = types
            .iter()
            .find(|x| x.get("code").and_then(Value::as_str) == Some(t))
            .cloned()
        else {
            return;
        };
        if first {
            types.clear();
            self.restricted.push(choice_id.to_owned());
        }
        if !types.contains(&chosen) {
            types.push(chosen);
        }
    }

    /// Does the complex type `t` (a type entry) have a child `name`?
    fn type_has_child(&self, t: &Value, name: &str) -> bool {
        let Some(code) = t.get("code").and_then(Value::as_str) else {
            return false;
        };
        if code.starts_with(|c: char| c.is_ascii_lowercase()) {
            return false;
        }
        let Some(url) = self.registry.type_summary(code).and_then(|s| s.canonical()) else {
            return false;
        };
        let Ok(els) = self.registry.snapshot_elements(&url, self.depth + 1) else {
            return false;
        };
        let Some(root) = els.first().map(path_of) else {
            return false;
        };
        let child = format!("{root}.{name}");
        els.iter().any(|e| path_of(e) == child)
    }

    /// A single (`max` 1), unsliced element.
    fn is_single_unsliced(&self, i: usize) -> bool {
        self.els.get(i).is_some_and(|e| {
            e.get("max").and_then(Value::as_str) == Some("1")
                && !e.contains_key("slicing")
                && !e.contains_key("sliceName")
        })
    }

    /// A "slice" of a single unsliced element only names it (as the R4
    /// core profiles do: `FamilyMemberHistory.sex:Sex`): rename the element
    /// and its subtree instead of adding a slice.
    fn name_in_place(&mut self, i: usize, name: &str) {
        let Some(e) = self.els.get(i) else { return };
        let old = id_of(e).to_owned();
        let new = format!("{old}:{name}");
        let prefix = format!("{old}.");
        for e in &mut self.els {
            let id = id_of(e);
            if id == old || id.starts_with(&prefix) {
                let renamed = format!("{new}{}", id.get(old.len()..).unwrap_or(""));
                e.insert("id".into(), Value::String(renamed));
            }
        }
        if let Some(e) = self.els.get_mut(i) {
            e.insert("sliceName".into(), Value::String(name.to_owned()));
        }
    }

    /// A new slice `name` of element `i`, placed after the element's
    /// subtree and existing slices; `restrict` narrows it to one type.
    fn create_slice(&mut self, i: usize, name: &str, restrict: Option<&str>) -> usize {
        let Some(base) = self.els.get(i) else {
            return i;
        };
        let base_id = id_of(base).to_owned();
        let mut slice = base.clone();
        slice.remove("slicing");
        slice.insert("id".into(), Value::String(format!("{base_id}:{name}")));
        slice.insert("sliceName".into(), Value::String(name.to_owned()));
        slice.insert("min".into(), Value::from(0));
        if let Some(t) = restrict {
            if let Some(Value::Array(types)) = slice.get_mut("type") {
                types.retain(|x| x.get("code").and_then(Value::as_str) == Some(t));
            }
            if let Some(b) = self.els.get_mut(i) {
                b.entry("slicing").or_insert_with(|| {
                    serde_json::json!({"discriminator": [{"type": "type", "path": "$this"}], "ordered": false, "rules": "open"})
                });
            }
        }
        let mut at = i + 1;
        while self.els.get(at).is_some_and(|e| within(id_of(e), &base_id)) {
            at += 1;
        }
        self.els.insert(at, slice);
        at
    }

    /// Specializations: a new element, after its parent's subtree.
    fn add_new(&mut self, id: &str, d: &El) -> Option<usize> {
        let (parent, _) = id.rsplit_once('.')?;
        let Some(p) = self.find(parent) else {
            self.warnings
                .push(format!("{id}: no parent element {parent}"));
            return None;
        };
        let mut at = p + 1;
        while self.els.get(at).is_some_and(|e| within(id_of(e), parent)) {
            at += 1;
        }
        let mut e = El::new();
        e.insert("id".into(), Value::String(id.to_owned()));
        e.insert(
            "path".into(),
            d.get("path")
                .cloned()
                .unwrap_or_else(|| Value::String(id.to_owned())),
        );
        self.els.insert(at, e);
        Some(at)
    }
}

/// A copy of `e` moved from under (`from_id`, `from_path`) to under
/// (`to_id`, `to_path`).
fn rebase(e: &El, from_id: &str, to_id: &str, from_path: &str, to_path: &str) -> El {
    let mut c = e.clone();
    if let Some(rest) = id_of(e).strip_prefix(from_id) {
        c.insert("id".into(), Value::String(format!("{to_id}{rest}")));
    }
    if let Some(rest) = path_of(e).strip_prefix(from_path) {
        c.insert("path".into(), Value::String(format!("{to_path}{rest}")));
    }
    c
}
