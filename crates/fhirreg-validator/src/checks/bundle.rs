//! Bundles and the references that resolve inside them, as the HL7 Java
//! validator checks them:
//!
//! * a reference in a Bundle entry resolves against the entries' fullUrls
//!   (relative references against the base of the entry's own fullUrl,
//!   versioned references against `meta.versionId`); several matches, a
//!   relative reference in an entry without fullUrl, a match of the wrong
//!   type are errors (`getFromBundle`);
//! * a reference in `Parameters.parameter.resource` resolves to another
//!   parameter resource by `Type/id`;
//! * a resolved (bundled or contained) target must be of a target type of
//!   the element and conform to one of its non-core target profiles;
//! * documents and messages: the first entry is the Composition /
//!   MessageHeader, its references resolve in the bundle, and every entry is
//!   reachable from it by following references (`resolveInBundle`,
//!   `checkAllInterlinked`); stylesheet links resolve.

pub(crate) mod links;
pub(crate) mod search;

use crate::has_scheme;
use crate::walk::Walk;
use fhirreg_element::message::{Args, Msg};
use fhirreg_element::{args, Element, NodeId, Severity};
// foldhash in the maps looked up per reference (keys can come from the
// validated resource: seeded per process).
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::rc::Rc;

/// A resource that is the `resource` of a Bundle entry: (entry, bundle).
pub(crate) fn entry_of<'t>(res: Element<'t>) -> Option<(Element<'t>, Element<'t>)> {
    res.resource_type()?;
    let entry = res.parent().filter(|e| e.name() == "entry")?;
    let bundle = entry
        .parent()
        .filter(|b| b.resource_type() == Some("Bundle"))?;
    Some((entry, bundle))
}

/// A reference (or uri) found in an entry of a document or message, for
/// the reachability check.
pub(crate) struct BundleRef {
    /// The Reference / uri element.
    node: NodeId,
    reference: String,
    /// The element's path in the Java validator's element form
    /// (`Bundle.entry[3].resource.extension[0].value[x]`).
    path: String,
}

/// The walk path as an element path: no `/*Type/id*/` comments, choice
/// elements as `[x]`.
pub(crate) fn element_path(walk_path: &str) -> String {
    let mut out = String::with_capacity(walk_path.len());
    let mut rest = walk_path;
    while let Some(i) = rest.find("/*") {
        out.push_str(&rest[..i]);
        match rest[i + 2..].find("*/") {
            Some(j) => rest = &rest[i + 2 + j + 2..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    while let Some(i) = out.find(".ofType(") {
        let end = out[i..].find(')').map(|j| i + j + 1).unwrap_or(out.len());
        out.replace_range(i..end, "[x]");
    }
    out
}

/// `[A-Za-z0-9\-\.]{1,64}`
fn is_rest_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

/// The entries of a Bundle by fullUrl (also `fullUrl/_history/versionId`)
/// and by `Type/id` (also versioned).
pub(crate) struct EntryIndex<'t> {
    entries: Vec<Element<'t>>,
    /// Entries without a fullUrl are under `None`.
    by_full: HashMap<Option<String>, Vec<usize>>,
    by_rel: HashMap<String, Vec<usize>>,
}

impl<'t> EntryIndex<'t> {
    fn new(bundle: Element<'t>) -> Self {
        let entries: Vec<Element<'_>> = bundle.children_named("entry").collect();
        let mut by_full: HashMap<Option<String>, Vec<usize>> = HashMap::new();
        let mut by_rel: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, entry) in entries.iter().enumerate() {
            let fu = entry.child_value("fullUrl").map(str::to_string);
            by_full.entry(fu.clone()).or_default().push(i);
            let Some(res) = entry.child("resource") else {
                continue;
            };
            let rt = res.resource_type().unwrap_or(res.name());
            let rel = res.child_value("id").map(|id| format!("{rt}/{id}"));
            if let Some(rel) = &rel {
                by_rel.entry(rel.clone()).or_default().push(i);
            }
            let version = res
                .child("meta")
                .and_then(|m| m.child_value("versionId"))
                .map(str::to_string);
            if let Some(v) = version {
                // (as the Java validator: a missing fullUrl reads as "null")
                let fv = format!("{}/_history/{v}", fu.as_deref().unwrap_or("null"));
                by_full.entry(Some(fv)).or_default().push(i);
                if let Some(rel) = rel {
                    by_rel
                        .entry(format!("{rel}/_history/{v}"))
                        .or_default()
                        .push(i);
                }
            }
        }
        EntryIndex {
            entries,
            by_full,
            by_rel,
        }
    }
}

/// Where a bundle-level finding is reported.
pub(crate) struct At<'a> {
    pub(crate) path: &'a str,
    pub(crate) node: Element<'a>,
}

/// Ids equal to `fragment` among the nodes below `e` (element and resource
/// ids, and ids in narrative XHTML).
fn count_fragment(e: Element<'_>, fragment: &str) -> usize {
    let mut n = 0;
    let mut stack = vec![e];
    while let Some(x) = stack.pop() {
        if x.child_value("id") == Some(fragment) {
            n += 1;
        }
        if x.name() == "div" {
            if let Some(div) = x.value() {
                n += xhtml_id_count(div, fragment);
            }
        }
        stack.extend(x.children());
    }
    n
}

fn xhtml_id_count(div: &str, id: &str) -> usize {
    let mut n = 0;
    for q in ['"', '\''] {
        let needle = format!("id={q}{id}{q}");
        let mut from = 0;
        while let Some(i) = div[from..].find(&needle) {
            let at = from + i;
            let before = div[..at].chars().last();
            if before.is_some_and(char::is_whitespace) {
                n += 1;
            }
            from = at + needle.len();
        }
    }
    n
}

impl<'v> Walk<'v> {
    /// The entry index of a Bundle of the tree (built once per Bundle).
    fn entry_index(&mut self, bundle: Element<'v>) -> Rc<EntryIndex<'v>> {
        if let Some(x) = self.entry_indexes.get(&bundle.id()) {
            return x.clone();
        }
        let x = Rc::new(EntryIndex::new(bundle));
        self.entry_indexes.insert(bundle.id(), x.clone());
        x
    }

    /// `reference` names no entry of the bundle (`warning`: reported as
    /// information only).
    fn entry_not_found(&mut self, reference: &str, name: &str, warning: bool, at: &At<'_>) {
        let severity = if warning {
            Severity::Information
        } else {
            Severity::Error
        };
        let args = args![reference, name];
        self.issue_at(severity, Msg::BundleEntryNotFound, args, at);
    }

    /// `reference` matches `count` entries of the bundle.
    fn multiple_entries(&mut self, reference: &str, name: &str, count: usize, at: &At<'_>) {
        let args = args![reference, name, count];
        self.issue_at(Severity::Error, Msg::BundleEntryFoundMultiple, args, at);
    }

    /// [`Walk::report_at`] at an [`At`].
    pub(crate) fn issue_at(&mut self, severity: Severity, msg: Msg, args: Args, at: &At<'_>) {
        self.report_at(severity, msg, args, at.path, at.node);
    }

    /// Start collecting the references of a Bundle's entries (documents and
    /// messages need them for the reachability check).
    pub(crate) fn enter_bundle(&mut self, node: Element<'v>) {
        let btype = node.child_value("type").unwrap_or("");
        let collect = matches!(btype, "document" | "message");
        self.bundle_refs.push(collect.then(Vec::new));
    }

    /// A Reference (or uri) met in the walk, for the enclosing document or
    /// message.
    pub(crate) fn collect_bundle_ref(&mut self, node: Element<'v>, reference: &str) {
        if reference.starts_with('#') {
            return;
        }
        if let Some(Some(list)) = self.bundle_refs.last_mut() {
            list.push(BundleRef {
                node: node.id(),
                reference: reference.to_string(),
                path: element_path(&self.path),
            });
        }
    }

    /// Bundle rules that need the whole bundle: links, documents, messages.
    pub(crate) fn bundle_graph(&mut self, node: Element<'v>) {
        let refs = self.bundle_refs.pop().flatten().unwrap_or_default();
        let btype = node.child_value("type").unwrap_or("").to_string();
        let bundle = node;
        let base = self.path.clone();
        let index = self.entry_index(bundle);
        self.bundle_links(bundle, &btype, &index, &base);
        if btype != "document" && btype != "message" {
            return;
        }
        let Some(first) = index.entries.first().copied() else {
            self.issue_at(
                Severity::Error,
                Msg::DocumentEmpty,
                args![],
                &At {
                    path: &base,
                    node: bundle,
                },
            );
            return;
        };
        let Some(res) = first.child("resource") else {
            let p = format!("{base}.entry[0]");
            self.issue_at(
                Severity::Error,
                Msg::DocumentFirstNoResource,
                args![],
                &At {
                    path: &p,
                    node: first,
                },
            );
            return;
        };
        let rpath = format!("{base}.entry[0].resource");
        let full_url = first.child_value("fullUrl");
        let id = res.child_value("id");
        let rt = res.resource_type().unwrap_or("");
        let at = At {
            path: &rpath,
            node: res,
        };
        if btype == "document" {
            if rt != "Composition" {
                self.issue_at(
                    Severity::Error,
                    Msg::DocumentFirstNotComposition,
                    args![],
                    &at,
                );
            } else {
                let d = DocCtx {
                    index: &index,
                    full_url,
                    ty: "Composition",
                    id,
                };
                for (prop, title, many) in [
                    ("subject", "Composition", false),
                    ("author", "Composition", true),
                    ("encounter", "Composition", false),
                    ("custodian", "Composition", false),
                ] {
                    self.document_refs(&d, res, &rpath, prop, title, many);
                }
                for (parent, prop, many) in
                    [("attester", "party", false), ("event", "detail", true)]
                {
                    for (i, elem) in res.children_named(parent).enumerate() {
                        let p = format!("{rpath}.{parent}[{i}]");
                        let title = format!("Composition.{parent}");
                        self.document_refs(&d, elem, &p, prop, &title, many);
                    }
                }
                self.sections(&d, res, &rpath);
            }
        } else if rt != "MessageHeader" {
            self.issue_at(Severity::Error, Msg::MessageFirstNotHeader, args![], &at);
        } else {
            let d = DocCtx {
                index: &index,
                full_url,
                ty: "MessageHeader",
                id,
            };
            for f in res.children_named("focus") {
                let p = format!("{rpath}.focus");
                self.bundle_reference(&d, f, &p, "MessageHeader Data");
            }
        }
        self.interlinked(bundle, &index, &refs, &base, btype == "message");
    }

    /// Composition (or section) references named `prop`.
    fn document_refs(
        &mut self,
        d: &DocCtx<'_, '_>,
        focus: Element<'v>,
        path: &str,
        prop: &str,
        title: &str,
        many: bool,
    ) {
        let name = format!("{title}.{prop}");
        for (i, elem) in focus.children_named(prop).enumerate() {
            let p = if many {
                format!("{path}.{prop}[{i}]")
            } else {
                format!("{path}.{prop}")
            };
            self.bundle_reference(d, elem, &p, &name);
            if !many {
                break;
            }
        }
    }

    fn sections(&mut self, d: &DocCtx<'_, '_>, focus: Element<'v>, path: &str) {
        // (the Java validator reports section authors and focus at the
        // Composition's path)
        for (i, section) in focus.children_named("section").enumerate() {
            let sp = format!("{path}.section[{i}]");
            self.document_refs(d, section, path, "author", "Section", true);
            self.document_refs(d, section, path, "focus", "Section", false);
            for (j, e) in section.children_named("entry").enumerate() {
                let p = format!("{sp}.entry[{j}]");
                self.bundle_reference(d, e, &p, "Section Entry");
            }
            self.sections(d, section, &sp);
        }
    }

    fn bundle_reference(&mut self, d: &DocCtx<'_, '_>, elem: Element<'v>, path: &str, name: &str) {
        let Some(r) = elem.child_value("reference").filter(|r| !r.is_empty()) else {
            return;
        };
        if r.starts_with('#') {
            return;
        }
        let at = At { path, node: elem };
        self.resolve_in_bundle(d, r, &at, name, elem.id(), false, false);
    }

    /// Resolve `reference` among the entries by the Bundle rules
    /// (`resolveInBundle`); problems are reported once per source element.
    #[allow(clippy::too_many_arguments)]
    fn resolve_in_bundle(
        &mut self,
        d: &DocCtx<'_, '_>,
        reference: &str,
        at: &At<'_>,
        name: &str,
        source: NodeId,
        warning: bool,
        nl_link: bool,
    ) -> Option<usize> {
        let (reference, fragment) = match reference.split_once('#') {
            Some((r, f)) => (r, Some(f)),
            None => (reference, None),
        };
        let fresh = !self.bundle_reported.contains(&source);
        if has_scheme(reference) {
            match d.index.by_full.get(&Some(reference.to_string())) {
                None => {
                    let known = self.v.summary(reference).is_some()
                        || self
                            .restful_parts(reference)
                            .is_some_and(|(t, _)| crate::CANONICAL_RESOURCES.contains(&t.as_str()));
                    if !known && fresh {
                        self.bundle_reported.insert(source);
                        self.entry_not_found(reference, name, warning, at);
                    }
                    None
                }
                Some(el) if el.len() == 1 => {
                    let i = el[0];
                    if let (Some(f), Some(entry)) = (fragment, d.index.entries.get(i)) {
                        let n = count_fragment(*entry, f);
                        if n == 0 {
                            self.bundle_reported.insert(source);
                            let sev = if nl_link {
                                Severity::Error
                            } else {
                                Severity::Information
                            };
                            let args = args![reference, f];
                            self.issue_at(sev, Msg::BundleFragmentNotFound, args, at);
                        } else if n > 1 {
                            self.bundle_reported.insert(source);
                            let args = args![f, reference, name, n];
                            self.issue_at(Severity::Error, Msg::BundleFragmentMultiple, args, at);
                        }
                    }
                    Some(i)
                }
                Some(el) => {
                    if fresh {
                        self.bundle_reported.insert(source);
                        self.multiple_entries(reference, name, el.len(), at);
                    }
                    None
                }
            }
        } else {
            // Relative: against the base of the source's RESTful fullUrl.
            let tail = format!("{}/{}", d.ty, d.id.unwrap_or("null"));
            let target = d
                .full_url
                .filter(|fu| self.restful_parts(fu).is_some() && fu.ends_with(&tail))
                .map(|fu| format!("{}{reference}", &fu[..fu.len() - tail.len()]));
            match d.index.by_full.get(&target).filter(|el| !el.is_empty()) {
                Some(el) if el.len() == 1 => return Some(el[0]),
                Some(el) => {
                    if fresh {
                        self.bundle_reported.insert(source);
                        self.multiple_entries(reference, name, el.len(), at);
                    }
                    return None;
                }
                None => {}
            }
            let parts: Vec<&str> = reference.split('/').collect();
            if parts.len() < 2 || !self.v.is_resource_type(parts[0]) || !fresh {
                return None;
            }
            self.bundle_reported.insert(source);
            match d.index.by_rel.get(&format!("{}/{}", parts[0], parts[1])) {
                Some(el) => {
                    let mut found: Vec<&str> = el
                        .iter()
                        .map(|&i| {
                            d.index
                                .entries
                                .get(i)
                                .and_then(|e| e.child_value("fullUrl"))
                                .unwrap_or("<missing>")
                        })
                        .collect();
                    found.sort_unstable();
                    found.dedup();
                    let list = found.join(", ");
                    let src = d.full_url.unwrap_or("null");
                    let (msg, args) = match (&target, el.len()) {
                        (Some(t), 1) => {
                            (Msg::BundleEntrySameIdOther, args![reference, name, t, list])
                        }
                        (Some(t), n) => (
                            Msg::BundleEntrySameIdOthers,
                            args![reference, name, n, t, list],
                        ),
                        (None, 1) => (
                            Msg::BundleEntrySameIdNoBase,
                            args![reference, name, list, src],
                        ),
                        (None, n) => (
                            Msg::BundleEntrySameIdsNoBase,
                            args![reference, name, n, list, src],
                        ),
                    };
                    self.issue_at(Severity::Error, msg, args, at);
                }
                None => self.entry_not_found(reference, name, warning, at),
            }
            None
        }
    }

    /// `[http(s)://host/path/]Type/id[/_history/v]` (the Java validator's
    /// RESTful URL pattern): the type and id.
    pub(crate) fn restful_parts(&self, u: &str) -> Option<(String, String)> {
        let rest = u
            .strip_prefix("http://")
            .or_else(|| u.strip_prefix("https://"));
        let absolute = rest.is_some();
        let parts: Vec<&str> = rest.unwrap_or(u).split('/').collect();
        let n = parts.len();
        let prefix_ok = |segs: &[&str]| {
            (absolute || segs.is_empty())
                && segs.iter().all(|s| {
                    s.chars().all(|c| {
                        c.is_ascii_alphanumeric() || matches!(c, '\\' | '.' | ':' | '%' | '$')
                    })
                })
        };
        let mut shapes = Vec::new();
        if n >= 4 && parts[n - 2] == "_history" && is_rest_id(parts[n - 1]) {
            shapes.push(n - 4);
        }
        if n >= 2 {
            shapes.push(n - 2);
        }
        shapes.into_iter().find_map(|t| {
            let (ty, id) = (parts[t], parts[t + 1]);
            (prefix_ok(&parts[..t]) && is_rest_id(id) && self.v.is_resource_type(ty))
                .then(|| (ty.to_string(), id.to_string()))
        })
    }

    /// Bundle.link rules by bundle type (documents: stylesheets).
    fn bundle_links(
        &mut self,
        bundle: Element<'v>,
        btype: &str,
        index: &EntryIndex<'_>,
        base: &str,
    ) {
        if btype != "document" {
            return;
        }
        for (i, link) in bundle.children_named("link").enumerate() {
            if link.child_value("relation") != Some("stylesheet") {
                continue;
            }
            let Some(url_node) = link.child("url") else {
                continue;
            };
            let Some(url) = url_node.value() else {
                continue;
            };
            let p = format!("{base}.link[{i}].url");
            let at = At {
                path: &p,
                node: url_node,
            };
            if has_scheme(url) {
                if url == "https://hl7.org/fhir/fhir.css" {
                    continue;
                }
                self.issue_at(Severity::Warning, Msg::StylesheetExternal, args![], &at);
                if url.starts_with("http://") {
                    self.issue_at(Severity::Warning, Msg::StylesheetInsecure, args![], &at);
                }
            } else {
                let found = index
                    .entries
                    .iter()
                    .any(|e| entry_rel(*e).as_deref() == Some(url));
                if !found {
                    self.issue_at(Severity::Error, Msg::StylesheetNotFound, args![], &at);
                }
            }
        }
    }

    /// Every entry of a document (message) is reachable from the first by
    /// following references, forwards or (with a warning) backwards.
    fn interlinked(
        &mut self,
        bundle: Element<'v>,
        index: &EntryIndex<'v>,
        refs: &[BundleRef],
        base: &str,
        message: bool,
    ) {
        // The entries with a resource, and the references found in each.
        let with_res: Vec<usize> = (0..index.entries.len())
            .filter(|&i| index.entries[i].child("resource").is_some())
            .collect();
        let entry_pos: HashMap<NodeId, usize> = index
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id(), i))
            .collect();
        let mut per_entry: HashMap<usize, Vec<&BundleRef>> = HashMap::new();
        for r in refs {
            // the entry of this bundle the reference is in
            let mut cur = bundle.document().get(r.node);
            let mut guard = 0;
            while let Some(n) = cur {
                if let Some(&i) = entry_pos.get(&n.id()) {
                    let list = per_entry.entry(i).or_default();
                    // (one check per distinct reference in an entry)
                    if !list.iter().any(|x| x.reference == r.reference) {
                        list.push(r);
                    }
                    break;
                }
                if n == bundle || guard > 10_000 {
                    break;
                }
                guard += 1;
                cur = n.parent();
            }
        }
        let mut targets: HashMap<usize, Vec<usize>> = HashMap::new();
        for &i in &with_res {
            let entry = index.entries[i];
            let Some(res) = entry.child("resource") else {
                continue;
            };
            let d = DocCtx {
                index,
                full_url: entry.child_value("fullUrl"),
                ty: res.resource_type().unwrap_or(""),
                id: res.child_value("id"),
            };
            for r in per_entry.get(&i).cloned().unwrap_or_default() {
                let nl_link = bundle
                    .document()
                    .get(r.node)
                    .and_then(|n| n.parent())
                    .is_some_and(|ext| {
                        ext.name() == "extension"
                            && ext.child_value("url")
                                == Some("http://hl7.org/fhir/StructureDefinition/narrativeLink")
                    });
                let at = At {
                    path: base,
                    node: bundle,
                };
                let name = r.path.clone();
                // (unresolved references are hints here: the walk reports them)
                if let Some(t) =
                    self.resolve_in_bundle(&d, &r.reference, &at, &name, r.node, true, nl_link)
                {
                    if t != i && index.entries[t].child("resource").is_some() {
                        targets.entry(i).or_default().push(t);
                    }
                }
            }
        }
        let mut visited: HashSet<usize> = HashSet::new();
        if let Some(&first) = with_res.first() {
            visit(&mut visited, &targets, first);
        }
        for link in bundle.children_named("link") {
            if link.child_value("relation") == Some("stylesheet") {
                if let Some(url) = link.child_value("url") {
                    if let Some(&i) = with_res
                        .iter()
                        .find(|&&i| entry_rel(index.entries[i]).as_deref() == Some(url))
                    {
                        visited.insert(i);
                    }
                }
            }
        }
        let describe = |i: usize| {
            index.entries[i]
                .child_value("fullUrl")
                .map(|u| format!("'{u}'"))
                .unwrap_or_default()
        };
        loop {
            let mut found = false;
            for &i in &with_res {
                if visited.contains(&i) {
                    continue;
                }
                let back = targets
                    .get(&i)
                    .is_some_and(|ts| ts.iter().any(|t| visited.contains(t)));
                if !back {
                    continue;
                }
                let rt = index.entries[i]
                    .child("resource")
                    .and_then(|r| r.resource_type())
                    .unwrap_or("");
                if rt != "Provenance" {
                    let p = format!("{base}.entry[{i}]");
                    let at = At {
                        path: &p,
                        node: index.entries[i],
                    };
                    let (sev, msg) = if message {
                        (Severity::Information, Msg::MessageEntryBackward)
                    } else {
                        (Severity::Warning, Msg::DocumentEntryBackward)
                    };
                    self.issue_at(sev, msg, args![describe(i)], &at);
                }
                found = true;
                visit(&mut visited, &targets, i);
            }
            if !found {
                break;
            }
        }
        for &i in &with_res {
            if visited.contains(&i) {
                continue;
            }
            let p = format!("{base}.entry[{i}]");
            let at = At {
                path: &p,
                node: index.entries[i],
            };
            let (sev, msg) = if message {
                (Severity::Warning, Msg::MessageEntryOrphan)
            } else {
                (Severity::Error, Msg::DocumentEntryOrphan)
            };
            self.issue_at(sev, msg, args![describe(i)], &at);
        }
    }
}

/// `Type/id` of an entry's resource.
fn entry_rel(entry: Element<'_>) -> Option<String> {
    let res = entry.child("resource")?;
    Some(format!(
        "{}/{}",
        res.resource_type()?,
        res.child_value("id").unwrap_or("null")
    ))
}

/// Mark `from` and everything reachable from it (iterative: no recursion
/// depth limit on long chains).
fn visit(visited: &mut HashSet<usize>, targets: &HashMap<usize, Vec<usize>>, from: usize) {
    let mut stack = vec![from];
    while let Some(i) = stack.pop() {
        if visited.insert(i) {
            if let Some(ts) = targets.get(&i) {
                stack.extend(ts.iter().copied());
            }
        }
    }
}

/// The source of a bundle resolution: the index, and the fullUrl, type and
/// id of the resource the reference is in.
struct DocCtx<'a, 't> {
    index: &'a EntryIndex<'t>,
    full_url: Option<&'a str>,
    ty: &'a str,
    id: Option<&'a str>,
}

/// A `[type]?[name]=[value](&...)` search URL of a known resource type.
fn is_search_url(walk: &Walk<'_>, r: &str) -> bool {
    let Some((ty, query)) = r.split_once('?') else {
        return false;
    };
    walk.v.is_resource_type(ty)
        && query.split('&').all(|p| {
            p.split_once('=').is_some_and(|(k, v)| {
                k.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !v.contains('=')
            })
        })
}

impl<'v> Walk<'v> {
    /// A reference resolved by the Bundle's entries (`getFromBundle`).
    pub(crate) fn get_from_bundle(
        &mut self,
        bundle: Element<'v>,
        reference: &str,
        full_url: Option<&str>,
        node: Element<'v>,
    ) -> Option<Element<'v>> {
        let btype = bundle.child_value("type").unwrap_or("");
        let mut version: Option<&str> = None;
        let mut rtype: Option<&str> = None;
        let target = if reference.starts_with("http:")
            || reference.starts_with("urn:")
            || has_scheme(reference)
        {
            match reference.find("/_history/") {
                Some(i) => {
                    version = Some(&reference[i + 10..]);
                    reference[..i].to_string()
                }
                None => reference.to_string(),
            }
        } else if let Some(fu) = full_url {
            let slashes = reference.matches('/').count();
            if slashes != 1 && slashes != 3 {
                if matches!(btype, "transaction" | "batch") {
                    if !is_search_url(self, reference) {
                        self.report(Msg::ReferenceFormatOrSearch, args![reference], node);
                    }
                } else {
                    self.report(Msg::ReferenceFormat, args![reference], node);
                }
                return None;
            }
            let base = if fu.starts_with("urn") {
                match fu.rfind(':') {
                    Some(i) => fu[..=i].to_string(),
                    None => String::new(),
                }
            } else {
                // The fullUrl without its last two steps (type and id):
                // up to and with the second `/` from the end.
                let trimmed = fu.trim_end_matches('/');
                let end = trimmed.rmatch_indices('/').nth(1).map_or(0, |(i, _)| i + 1);
                trimmed[..end].to_string()
            };
            if let Some(i) = reference.find("/_history/") {
                version = Some(&reference[i + 10..]);
                let mut it = reference[..i].split('/');
                let ty = it.next().unwrap_or("");
                rtype = Some(ty);
                format!("{base}{ty}/{}", it.next().unwrap_or(""))
            } else if base.starts_with("urn") {
                let mut it = reference.split('/');
                rtype = it.next();
                format!("{base}{}", it.next().unwrap_or(""))
            } else {
                format!("{base}{reference}")
            }
        } else {
            if !matches!(btype, "batch-response" | "transaction-response")
                && !self.path.starts_with("Bundle.signature")
            {
                self.report(Msg::RelativeReferenceNoFullUrl, args![], node);
            }
            return None;
        };
        let index = self.entry_index(bundle);
        let entries = &index.entries;
        let candidates = index.by_full.get(&Some(target.clone()));
        let mut found: Option<Option<Element<'v>>> = None;
        for &i in candidates.into_iter().flatten() {
            let Some(e) = entries.get(i) else { continue };
            if e.child_value("fullUrl") != Some(target.as_str()) {
                continue;
            }
            let r = e.child("resource");
            let hit = match version {
                None => true,
                Some(v) => match r.and_then(|r| r.child("meta")) {
                    Some(m) => m.child_value("versionId") == Some(v),
                    None => {
                        self.report(Msg::EntryNeedsVersionId, args![&target], node);
                        false
                    }
                },
            };
            if hit {
                if found.is_some() {
                    self.report(Msg::BundleMultipleMatches, args![reference], node);
                }
                found = Some(r);
            }
        }
        let found = found.flatten();
        if let (Some(m), Some(rt)) = (found, rtype) {
            if m.resource_type() != Some(rt) {
                let found = m.resource_type().unwrap_or("");
                self.report(Msg::BundleMatchWrongType, args![reference, found], node);
            }
        }
        if found.is_none() {
            if reference.starts_with("urn") {
                self.report(Msg::UrnNotInBundle, args![reference], node);
            }
            if !has_scheme(reference) {
                let p: Vec<&str> = reference.split('/').collect();
                let mut ml = Vec::new();
                if p.len() >= 2 && self.v.is_resource_type(p[0]) && is_rest_id(p[1]) {
                    ml = index
                        .by_rel
                        .get(&format!("{}/{}", p[0], p[1]))
                        .cloned()
                        .unwrap_or_default();
                }
                if ml.len() > 1 {
                    self.report(Msg::BundlePossibleMatches, args![&target, reference], node);
                }
                for i in ml {
                    let (msg, args) = match entries[i].child_value("fullUrl") {
                        None => (Msg::BundlePossibleMatchNoFullUrl, args![i, reference]),
                        Some(fu) => (
                            Msg::BundlePossibleMatchOtherFullUrl,
                            args![i, reference, fu, &target],
                        ),
                    };
                    self.report(msg, args, node);
                }
            }
        }
        found
    }
}

/// The element path of the Bundle entry the path is in
/// (`Bundle.entry[1].resource.subject` -> `Bundle.entry[1]`).
pub(crate) fn entry_path(element_path: &str) -> String {
    let mut best = None;
    for (i, _) in element_path.match_indices(".resource") {
        let head = &element_path[..i];
        if head.ends_with(']') {
            if let Some(j) = head.rfind(".entry[") {
                if head[j + 7..head.len() - 1]
                    .chars()
                    .all(|c| c.is_ascii_digit())
                {
                    best = Some(i);
                }
            }
        }
    }
    match best {
        Some(i) => element_path[..i].to_string(),
        None => element_path.to_string(),
    }
}

impl<'v> Walk<'v> {
    /// Bundle rules: fullUrl present and absolute, RESTful fullUrls match
    /// the resource.
    pub(crate) fn bundle(&mut self, node: Element<'v>) {
        self.bundle_link_relations(node);
        self.search_bundle_rules(node);
        let btype = node.child_value("type").unwrap_or("");
        let search_types = if btype == "searchset" {
            self.search_types(node)
        } else {
            Vec::new()
        };
        let len = self.path.len();
        for (i, entry) in node.children_named("entry").enumerate() {
            self.path.push_str(".entry[");
            self.path.push_str(&i.to_string());
            self.path.push(']');
            let resource = entry.child("resource");
            match entry.child_value("fullUrl") {
                Some(u) if !has_scheme(u) => {
                    self.report(Msg::FullUrlNotAbsolute, args![u], entry);
                }
                Some(u) => {
                    if let Some(res) = resource {
                        self.restful_full_url(entry, u, res);
                        self.canonical_full_url(entry, u, res);
                    }
                }
                None => {
                    // Search outcome entries (OperationOutcome in a
                    // searchset) are not resources with an identity.
                    let outcome = btype == "searchset"
                        && resource.and_then(|r| r.resource_type()) == Some("OperationOutcome");
                    let exempt = outcome
                        || matches!(
                            btype,
                            "transaction" | "batch" | "transaction-response" | "batch-response"
                        );
                    if resource.is_some() && !exempt {
                        self.report(Msg::FullUrlMissing, args![], entry);
                    }
                }
            }
            if btype == "searchset" {
                if let Some(res) = resource {
                    self.search_entry(entry, res, &search_types);
                }
            }
            self.path.truncate(len);
        }
    }

    /// The resource types a searchset's self link searches for.
    fn search_types(&self, bundle: Element<'v>) -> Vec<String> {
        let Some(url) = bundle
            .children_named("link")
            .find(|l| l.child_value("relation") == Some("self"))
            .and_then(|l| l.child_value("url"))
        else {
            return Vec::new();
        };
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        if let Some(t) = query.split('&').find_map(|p| p.strip_prefix("_type=")) {
            return t.split(',').map(String::from).collect();
        }
        let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        if self.v.is_resource_type(last) {
            vec![last.to_string()]
        } else {
            Vec::new()
        }
    }

    /// Searchset entries: matches have ids and the searched type, outcomes
    /// are OperationOutcomes.
    fn search_entry(&mut self, entry: Element<'v>, res: Element<'v>, types: &[String]) {
        let mode = entry.child("search").and_then(|s| s.child_value("mode"));
        let rt = res.resource_type().unwrap_or("");
        let len = self.path.len();
        self.path.push_str(".resource");
        if mode == Some("outcome") {
            if rt != "OperationOutcome" {
                self.report(Msg::SearchOutcomeNotOutcome, args![rt], res);
            }
        } else if mode == Some("match") {
            if res.child_value("id").is_none() {
                self.report(Msg::SearchMatchNoId, args![], res);
            }
            if !types.is_empty() && !types.iter().any(|t| t == rt) {
                let args = args![rt, types.join(", ")];
                self.report(Msg::SearchMatchWrongType, args, res);
            }
        }
        self.path.truncate(len);
    }

    fn restful_full_url(&mut self, entry: Element<'v>, url: &str, res: Element<'v>) {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return;
        }
        let parts: Vec<&str> = url.split('/').collect();
        let n = parts.len();
        if n < 5 || !self.v.is_resource_type(parts[n - 2]) {
            return;
        }
        let rt = res.resource_type().unwrap_or("");
        match res.child_value("id") {
            None => self.report(Msg::FullUrlRestfulNoId, args![url], entry),
            Some(id) => {
                let tail = format!("/{rt}/{id}");
                if !url.ends_with(&tail) {
                    self.report(Msg::FullUrlRestfulMismatch, args![url, tail], entry);
                }
            }
        }
    }

    /// A canonical resource's url names the artefact wherever copies of
    /// it live; an entry's fullUrl names this copy. They are the same only
    /// on the server that publishes it, where the url is its RESTful
    /// address `[base]/Type/id`.
    fn canonical_full_url(&mut self, entry: Element<'v>, full_url: &str, res: Element<'v>) {
        let (Some(rt), Some(url)) = (res.resource_type(), res.child_value("url")) else {
            return;
        };
        if url != full_url || !crate::CANONICAL_RESOURCES.contains(&rt) {
            return;
        }
        let restful = res
            .child_value("id")
            .is_some_and(|id| url.ends_with(&format!("/{rt}/{id}")));
        if !restful {
            self.report(Msg::BundleEntryCanonical, args![url], entry);
        }
    }
}
