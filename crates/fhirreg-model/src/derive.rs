//! A profile without a snapshot, compiled from its base's model with the
//! differential applied.

use super::compile::str_of;
use super::{ElementDef, StructureDef};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

impl StructureDef {
    /// The base's model with the differential of `sd` applied. Elements
    /// inside datatypes are expanded from the datatype's model
    /// (`type_def`) when the differential constrains them; slices the
    /// differential names are created.
    pub fn derive(
        base: &StructureDef,
        sd: &Value,
        type_def: &dyn Fn(&str) -> Option<Arc<StructureDef>>,
    ) -> Option<StructureDef> {
        let diff = sd
            .get("differential")
            .and_then(|d| d.get("element"))
            .and_then(Value::as_array)?;
        let header = StructureDef::header(sd).ok()?;
        let mut def = base.clone();
        // Recursive elements (contentReference) point at a pristine copy of
        // their target, so that constraints on the first level do not apply
        // at every level of the recursion.
        let refs: Vec<(usize, usize)> = def
            .elements
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.content_ref.map(|t| (i, t)))
            .collect();
        let mut copies: HashMap<usize, usize> = HashMap::new();
        for (i, t) in refs {
            let root = match copies.get(&t) {
                Some(&r) => r,
                None => {
                    let r = def.copy_detached(t);
                    copies.insert(t, r);
                    r
                }
            };
            if let Some(e) = def.elements.get_mut(i) {
                e.content_ref = Some(root);
            }
        }
        def.url = header.url;
        def.version = header.version;
        def.base = header.base;
        def.derivation = header.derivation;
        def.is_abstract = header.is_abstract;
        def.ext_context = header.ext_context;
        // Differential elements without ids belong to the slice last
        // opened on their path or a parent path (the ids a snapshot
        // generator gives them).
        let mut open_slices: Vec<(String, String)> = Vec::new();
        for ed in diff {
            let Some(path) = str_of(ed, "path") else {
                continue;
            };
            let id = match (str_of(ed, "id"), str_of(ed, "sliceName")) {
                (Some(id), _) => id.to_string(),
                (None, slice) => {
                    // Close slices on this path or below it: a new element
                    // (or slice) of the path starts.
                    open_slices.retain(|(p, _)| !(p == path || p.starts_with(&format!("{path}."))));
                    let mut id = path.to_string();
                    // Longest open slice path that prefixes this path.
                    if let Some((p, sid)) = open_slices
                        .iter()
                        .filter(|(p, _)| path.starts_with(&format!("{p}.")))
                        .max_by_key(|(p, _)| p.len())
                    {
                        id = format!("{sid}{}", &path[p.len()..]);
                    }
                    if let Some(sn) = slice {
                        id = format!("{id}:{sn}");
                        open_slices.push((path.to_string(), id.clone()));
                    }
                    id
                }
            };
            if id.contains("@default") {
                continue;
            }
            if let Some(idx) = def.locate(&id, base, type_def) {
                if let Some(e) = def.elements.get_mut(idx) {
                    e.constrain(ed);
                }
            }
        }
        def.resolve_contained_bindings(sd);
        def.reindex();
        Some(def)
    }

    /// Find (expanding datatypes as needed, creating slices named in the
    /// id) the element of an id (`Observation.component:sys.code`). `base`
    /// is the definition the profile derives from: a new slice starts from
    /// its element, not from the sliced element as this profile constrains
    /// it.
    fn locate(
        &mut self,
        id: &str,
        base: &StructureDef,
        type_def: &dyn Fn(&str) -> Option<Arc<StructureDef>>,
    ) -> Option<usize> {
        let mut segs = id.split('.');
        let root = segs.next()?;
        if self.elements.first()?.path != root {
            return None;
        }
        let mut cur = 0usize;
        for seg in segs {
            self.materialize(cur);
            let (name, slice) = match seg.split_once(':') {
                Some((n, s)) => (n, Some(s)),
                None => (seg, None),
            };
            let name = name.strip_suffix("[x]").unwrap_or(name);
            let content = self.content_of(cur);
            if self.elements.get(content)?.children.is_empty() {
                let [t] = self.elements.get(content)?.types.as_slice() else {
                    return None;
                };
                let tp = type_def(&t.code)?;
                self.expand(content, &tp);
            }
            let content = self.content_of(cur);
            let child = match self.find_child(content, name) {
                Some((c, _)) => c,
                None => self.child_named(content, name)?,
            };
            cur = match slice {
                None => child,
                Some(sn) => self.slice_of(child, sn, cur, base),
            };
        }
        Some(cur)
    }

    /// Give a recursive element (contentReference) its own copy of the
    /// target's children, so that a profile can constrain them here only.
    fn materialize(&mut self, at: usize) {
        let Some(t) = self.elements.get(at).and_then(|e| e.content_ref) else {
            return;
        };
        if let Some(e) = self.elements.get_mut(at) {
            e.content_ref = None;
        }
        let kids = self.children_of(t);
        for k in kids {
            self.copy_within(at, k, usize::MAX, usize::MAX);
        }
    }

    fn children_of(&self, at: usize) -> Vec<usize> {
        self.elements
            .get(at)
            .map(|e| e.children.clone())
            .unwrap_or_default()
    }

    /// The slice `name` of element `sliced`, created (as a copy of the
    /// sliced element) when the profile introduces it. As in the HL7
    /// snapshot generator, a new slice has the cardinality the element had
    /// in the base profile (`original`), not the one this profile gives the
    /// sliced element: `identifier` 1..* with an optional slice `dnr` keeps
    /// `dnr` 0..*.
    fn slice_of(
        &mut self,
        sliced: usize,
        name: &str,
        parent: usize,
        original: &StructureDef,
    ) -> usize {
        let existing = self.elements.get(sliced).and_then(|e| {
            e.slices
                .iter()
                .copied()
                .find(|&s| self.elements.get(s).and_then(|x| x.slice_name.as_deref()) == Some(name))
        });
        if let Some(s) = existing {
            return s;
        }
        let Some(mut def) = self.elements.get(sliced).cloned() else {
            return sliced;
        };
        let parent_id = self
            .elements
            .get(parent)
            .map(|p| p.id.clone())
            .unwrap_or_default();
        def.id = format!("{parent_id}.{}:{name}", def.name_in_path());
        if let Some(before) = original.elements.get(sliced) {
            def.min = before.min;
            def.max = before.max;
        }
        def.slice_name = Some(name.to_string());
        def.slicing = None;
        def.slices = Vec::new();
        def.children = Vec::new();
        let idx = self.elements.len();
        self.elements.push(def);
        if let Some(e) = self.elements.get_mut(sliced) {
            e.slices.push(idx);
        }
        for k in self.children_of(sliced) {
            self.copy_within(idx, k, usize::MAX, usize::MAX);
        }
        idx
    }

    /// Copy the subtree of element `t` to new, unattached indices; inside
    /// the copy, references to `t` point at the copy. Returns the copy's root.
    fn copy_detached(&mut self, t: usize) -> usize {
        let root = self.elements.len();
        let Some(mut def) = self.elements.get(t).cloned() else {
            return t;
        };
        def.children = Vec::new();
        self.elements.push(def);
        for k in self.children_of(t) {
            self.copy_within(root, k, t, root);
        }
        root
    }

    fn copy_within(&mut self, parent: usize, src: usize, from: usize, to: usize) {
        let Some(mut def) = self.elements.get(src).cloned() else {
            return;
        };
        def.children = Vec::new();
        def.slices = Vec::new();
        let parent_id = self
            .elements
            .get(parent)
            .map(|p| p.id.clone())
            .unwrap_or_default();
        def.id = format!("{parent_id}.{}", def.name_in_path());
        if def.content_ref == Some(from) {
            def.content_ref = Some(to);
        }
        let idx = self.elements.len();
        self.elements.push(def);
        self.attach_child(parent, idx);
        for k in self.children_of(src) {
            self.copy_within(idx, k, from, to);
        }
    }

    /// Copy the element tree of a datatype under element `at`.
    fn expand(&mut self, at: usize, tp: &StructureDef) {
        let Some(root) = tp.elements.first() else {
            return;
        };
        let prefix = self
            .elements
            .get(at)
            .map(|e| e.path.clone())
            .unwrap_or_default();
        for c in root.children.clone() {
            self.copy_subtree(at, &prefix, tp, c);
        }
    }

    fn copy_subtree(&mut self, parent: usize, prefix: &str, tp: &StructureDef, src: usize) {
        let Some(source) = tp.elements.get(src) else {
            return;
        };
        let mut def: ElementDef = source.clone();
        let last = def.name_in_path();
        def.path = format!("{prefix}.{last}");
        let parent_id = self
            .elements
            .get(parent)
            .map(|p| p.id.clone())
            .unwrap_or_default();
        def.id = format!("{parent_id}.{last}");
        def.children = Vec::new();
        def.slices = Vec::new();
        def.content_ref = None;
        let path = def.path.clone();
        let idx = self.elements.len();
        self.elements.push(def);
        self.attach_child(parent, idx);
        for k in source.children.clone() {
            self.copy_subtree(idx, &path, tp, k);
        }
    }
}
