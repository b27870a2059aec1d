//! A CodeSystem (the typed definition from the registry) indexed by code
//! for lookups, with its supplements merged.

use std::collections::VecDeque;
use std::sync::Arc;

// foldhash in the code index, looked up per validated code (see lib.rs).
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use fhirreg_model::{CodeSystemDef, ConceptDef, Designation};

pub(crate) type Concept = ConceptDef;

/// A CodeSystem ready for lookups: the typed definition (with its
/// supplements merged) and its concepts indexed by code.
#[derive(Debug)]
pub(crate) struct CompiledCodeSystem {
    def: Arc<CodeSystemDef>,
    index: HashMap<String, usize>,
    lower_index: HashMap<String, usize>,
}

impl std::ops::Deref for CompiledCodeSystem {
    type Target = CodeSystemDef;
    fn deref(&self) -> &CodeSystemDef {
        &self.def
    }
}

impl CompiledCodeSystem {
    /// Index a code system, merging the given supplements (their displays
    /// become designations in the supplement's language; designations and
    /// properties are added).
    pub fn compile(
        def: Arc<CodeSystemDef>,
        supplements: &[Arc<CodeSystemDef>],
    ) -> CompiledCodeSystem {
        let mut index = HashMap::with_capacity(def.concepts.len());
        for (i, c) in def.concepts.iter().enumerate() {
            index.entry(c.code.clone()).or_insert(i);
        }
        let mut cs = CompiledCodeSystem {
            def,
            index,
            lower_index: HashMap::new(),
        };
        if !supplements.is_empty() {
            let mut merged = CodeSystemDef::clone(&cs.def);
            for sup in supplements {
                cs.merge_supplement(&mut merged, sup);
            }
            cs.def = Arc::new(merged);
        }
        if !cs.def.case_sensitive {
            for (code, &i) in &cs.index {
                cs.lower_index.entry(code.to_lowercase()).or_insert(i);
            }
        }
        cs
    }

    fn merge_supplement(&self, into: &mut CodeSystemDef, sup: &CodeSystemDef) {
        for c in &sup.concepts {
            let Some(concept) = self
                .index
                .get(&c.code)
                .and_then(|&i| into.concepts.get_mut(i))
            else {
                continue;
            };
            if let Some(d) = &c.display {
                concept.designations.push(Designation {
                    language: sup.language.clone(),
                    use_system: None,
                    use_code: None,
                    value: d.clone(),
                });
            }
            concept.designations.extend(c.designations.iter().cloned());
            concept.properties.extend(c.properties.iter().cloned());
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
}
