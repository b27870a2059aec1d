//! The element tree: one arena per document.
//!
//! A [`Document`] owns every node of the tree in one vector, every name and
//! value in one string buffer, and the child lists in one index vector:
//! reading a resource makes a handful of allocations, not one per node.
//! Nodes know their parent, so checks and FHIRPath can go up the tree
//! without an index of their own. An [`Element`] is a copyable handle
//! (document, node id) with the accessors the validator and FHIRPath use.
//!
//! ```
//! use fhirreg_element::{Document, Position, ValueKind};
//! let mut doc = Document::new("Patient");
//! let root = doc.root().id();
//! let active = doc.add_child(root, "active", Position::new(1, 27));
//! doc.set_value(active, "true", ValueKind::Boolean);
//! let patient = doc.root();
//! assert_eq!(patient.resource_type(), Some("Patient"));
//! let active = patient.child("active").unwrap();
//! assert_eq!(active.value(), Some("true"));
//! assert_eq!(active.parent(), Some(patient));
//! ```

use crate::{Issue, Position, ValueKind};

/// The index of a node in its [`Document`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(u32);

impl NodeId {
    /// The index as a number (dense: `0..document.len()`).
    pub fn index(self) -> usize {
        self.0 as usize
    }

    pub(crate) fn from_raw(id: u32) -> NodeId {
        NodeId(id)
    }
}

/// A string in the document's buffer (`len == NONE`: absent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    start: u32,
    len: u32,
}

const NONE: u32 = u32::MAX;

impl Span {
    const ABSENT: Span = Span {
        start: 0,
        len: NONE,
    };

    fn is_absent(self) -> bool {
        self.len == NONE
    }
}

const IN_ARRAY: u8 = 1;
const PRIMITIVE: u8 = 2;
const KIND_SHIFT: u8 = 2;
const KIND_MASK: u8 = 3 << KIND_SHIFT;
/// On the root: the document was read from JSON.
const FROM_JSON: u8 = 16;

#[derive(Clone, Debug)]
struct NodeData {
    name: Span,
    value: Span,
    resource_type: Span,
    pos: Position,
    parent: u32,
    /// The node's children: `kids[first..first + count]`.
    first: u32,
    count: u32,
    flags: u8,
}

/// A parsed (or built) FHIR document: the element tree plus the
/// non-fatal issues found while reading it (FHIR serialisation rule
/// violations).
#[derive(Clone, Debug, Default)]
pub struct Document {
    text: String,
    nodes: Vec<NodeData>,
    kids: Vec<u32>,
    root: u32,
    /// What the reader found wrong (FHIR JSON/XML rules).
    pub issues: Vec<Issue>,
}

/// Handle on one node of a [`Document`]: cheap to copy, compared by
/// identity (same document, same node).
///
/// * A resource (the root, `contained`, `Bundle.entry.resource`, ...) has a
///   [`Element::resource_type`]; its children are the resource's
///   properties. The XML wrapper element (`<contained><Patient>`) is folded
///   into one node.
/// * A primitive has a [`Element::value`] (absent when only `id`/`extension`
///   are given) and its `id`/`extension` as children (from JSON `_name`
///   siblings).
/// * A repeating property appears as several sibling nodes with the same
///   name, in document order.
/// * Choice elements keep their full name (`valueQuantity`).
/// * The narrative `div` is a primitive whose value is the XHTML text.
#[derive(Clone, Copy)]
pub struct Element<'d> {
    doc: &'d Document,
    id: u32,
}

impl PartialEq for Element<'_> {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.doc, other.doc) && self.id == other.id
    }
}

impl Eq for Element<'_> {}

impl std::hash::Hash for Element<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self.doc as *const Document as usize).hash(state);
        self.id.hash(state);
    }
}

impl std::fmt::Debug for Element<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("Element");
        s.field("name", &self.name());
        if let Some(v) = self.value() {
            s.field("value", &v);
        }
        if let Some(rt) = self.resource_type() {
            s.field("resource_type", &rt);
        }
        s.field("pos", &self.pos());
        if self.child_count() > 0 {
            s.field("children", &self.children().collect::<Vec<_>>());
        }
        s.finish()
    }
}

impl<'d> Element<'d> {
    fn data(&self) -> &'d NodeData {
        // Ids come from the document itself; `root` exists in every document.
        &self.doc.nodes[self.id as usize]
    }

    /// The node's id in its document.
    pub fn id(&self) -> NodeId {
        NodeId(self.id)
    }

    /// The document the node belongs to.
    pub fn document(&self) -> &'d Document {
        self.doc
    }

    /// The property name (`identifier`), or the resource type for the root.
    pub fn name(&self) -> &'d str {
        self.doc.str(self.data().name).unwrap_or_default()
    }

    /// The primitive value as written.
    pub fn value(&self) -> Option<&'d str> {
        self.doc.str(self.data().value)
    }

    /// Set when this node is a resource.
    pub fn resource_type(&self) -> Option<&'d str> {
        self.doc.str(self.data().resource_type)
    }

    /// True for a resource node.
    pub fn is_resource(&self) -> bool {
        !self.data().resource_type.is_absent()
    }

    /// Where the node starts: JSON: the property name (the value for
    /// array items); XML: the start tag.
    pub fn pos(&self) -> Position {
        self.data().pos
    }

    /// How the primitive value was written (JSON string/number/boolean).
    pub fn value_kind(&self) -> ValueKind {
        match (self.data().flags & KIND_MASK) >> KIND_SHIFT {
            1 => ValueKind::Number,
            2 => ValueKind::Boolean,
            _ => ValueKind::String,
        }
    }

    /// JSON: the node was an item of an array. XML readers leave it false
    /// and the typing pass sets it from the definitions (max > 1).
    pub fn in_array(&self) -> bool {
        self.data().flags & IN_ARRAY != 0
    }

    /// The node is a FHIR primitive. Readers set it when there is a value
    /// (JSON also for a `_name` without `name`); the typing pass sets it
    /// for primitives that have only `id`/`extension` in XML. The JSON
    /// writer needs it to write such a value-less primitive as `_name`.
    pub fn primitive(&self) -> bool {
        self.data().flags & PRIMITIVE != 0
    }

    /// The root of a document the JSON reader made: the JSON rules (array
    /// form, value kinds) apply to its tree, even where it has no array or
    /// non-string value to show it.
    pub fn read_from_json(&self) -> bool {
        self.data().flags & FROM_JSON != 0
    }

    /// The parent node (`None` for the root).
    pub fn parent(&self) -> Option<Element<'d>> {
        let p = self.data().parent;
        (p != NONE).then_some(Element {
            doc: self.doc,
            id: p,
        })
    }

    /// The child nodes in document order.
    pub fn children(&self) -> Children<'d> {
        let d = self.data();
        let ids = self
            .doc
            .kids
            .get(d.first as usize..(d.first as usize).saturating_add(d.count as usize))
            .unwrap_or_default();
        Children {
            doc: self.doc,
            ids: ids.iter(),
        }
    }

    /// The number of child nodes.
    pub fn child_count(&self) -> usize {
        self.data().count as usize
    }

    /// True when the node has children.
    pub fn has_children(&self) -> bool {
        self.data().count > 0
    }

    /// The first child with this name.
    pub fn child(&self, name: &str) -> Option<Element<'d>> {
        self.children().find(|c| c.name() == name)
    }

    /// All children with this name, in document order.
    pub fn children_named<'n>(&self, name: &'n str) -> impl Iterator<Item = Element<'d>> + 'n
    where
        'd: 'n,
    {
        self.children().filter(move |c| c.name() == name)
    }

    /// The primitive value of the first child with this name.
    pub fn child_value(&self, name: &str) -> Option<&'d str> {
        self.child(name).and_then(|c| c.value())
    }

    /// True when both subtrees hold the same content: names, values,
    /// resource types, value kinds, array and primitive flags, and children
    /// in the same order. Positions are not compared.
    ///
    /// ```
    /// use fhirreg_element::{json, ParseOptions};
    /// let a = json::parse(br#"{"resourceType":"Basic","id":"x"}"#, &ParseOptions::default()).unwrap();
    /// let b = json::parse(b"{\n \"resourceType\": \"Basic\",\n \"id\": \"x\"\n}", &ParseOptions::default()).unwrap();
    /// assert!(a.root().same_content(b.root()));
    /// ```
    pub fn same_content(&self, other: Element<'_>) -> bool {
        let mut stack = vec![(*self, other)];
        while let Some((a, b)) = stack.pop() {
            if a.name() != b.name()
                || a.value() != b.value()
                || a.resource_type() != b.resource_type()
                || a.value_kind() != b.value_kind()
                || a.in_array() != b.in_array()
                || a.primitive() != b.primitive()
                || a.child_count() != b.child_count()
            {
                return false;
            }
            stack.extend(a.children().zip(b.children()));
        }
        true
    }

    /// Every node below this one (not itself), depth first, in document
    /// order. Iterative: no recursion on the tree's depth.
    pub fn descendants(&self) -> impl Iterator<Item = Element<'d>> {
        let doc = self.doc;
        let mut stack: Vec<Element<'d>> = self.children().rev().collect();
        std::iter::from_fn(move || {
            let next = stack.pop()?;
            stack.extend(next.children().rev());
            let _ = doc;
            Some(next)
        })
    }
}

/// The children of an [`Element`].
#[derive(Clone)]
pub struct Children<'d> {
    doc: &'d Document,
    ids: std::slice::Iter<'d, u32>,
}

impl<'d> Iterator for Children<'d> {
    type Item = Element<'d>;

    fn next(&mut self) -> Option<Element<'d>> {
        let &id = self.ids.next()?;
        Some(Element { doc: self.doc, id })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.ids.size_hint()
    }

    fn nth(&mut self, n: usize) -> Option<Element<'d>> {
        let &id = self.ids.nth(n)?;
        Some(Element { doc: self.doc, id })
    }
}

impl DoubleEndedIterator for Children<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let &id = self.ids.next_back()?;
        Some(Element { doc: self.doc, id })
    }
}

impl ExactSizeIterator for Children<'_> {}

impl Document {
    /// A document whose root is a resource of type `resource_type` (with
    /// nothing in it yet).
    pub fn new(resource_type: &str) -> Document {
        let mut doc = Document::default();
        let name = doc.push_str(resource_type);
        let root = doc.new_node(name, Position::default());
        doc.set_resource_type_span(root, name);
        doc.root = root;
        doc
    }

    /// The root node.
    pub fn root(&self) -> Element<'_> {
        Element {
            doc: self,
            id: self.root,
        }
    }

    /// The node with this id (`None` when it is not one of this document's).
    pub fn get(&self, id: NodeId) -> Option<Element<'_>> {
        (id.index() < self.nodes.len()).then_some(Element {
            doc: self,
            id: id.0,
        })
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when the document has no nodes (only [`Document::default`]).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Add a child named `name` at the end of `parent`'s children. Meant
    /// for building small trees by hand (readers build in one pass).
    pub fn add_child(&mut self, parent: NodeId, name: &str, pos: Position) -> NodeId {
        let span = self.push_str(name);
        let child = self.new_node(span, pos);
        let Some(p) = self.nodes.get(parent.index()) else {
            return NodeId(child);
        };
        // The child list is moved to the end of `kids` with the new child.
        let (first, count) = (p.first as usize, p.count as usize);
        let start = self.kids.len();
        let existing: Vec<u32> = self
            .kids
            .get(first..first + count)
            .map(<[u32]>::to_vec)
            .unwrap_or_default();
        self.kids.extend(existing);
        self.kids.push(child);
        if let Some(p) = self.nodes.get_mut(parent.index()) {
            p.first = start as u32;
            p.count += 1;
        }
        if let Some(c) = self.nodes.get_mut(child as usize) {
            c.parent = parent.0;
        }
        NodeId(child)
    }

    /// Set a node's primitive value and how it is written in JSON (marks
    /// it primitive).
    pub fn set_value(&mut self, id: NodeId, value: &str, kind: ValueKind) {
        let span = self.push_str(value);
        if let Some(n) = self.nodes.get_mut(id.index()) {
            n.value = span;
            n.flags |= PRIMITIVE;
        }
        self.set_value_kind(id, kind);
    }

    /// Make a node a resource of this type.
    pub fn set_resource_type(&mut self, id: NodeId, resource_type: &str) {
        let span = self.push_str(resource_type);
        self.set_resource_type_span(id.0, span);
    }

    /// Mark the document as read from JSON (see [`Element::read_from_json`]).
    pub fn mark_read_from_json(&mut self) {
        let root = self.root as usize;
        if let Some(n) = self.nodes.get_mut(root) {
            n.flags |= FROM_JSON;
        }
    }

    /// Set how the node's value is written in JSON.
    pub fn set_value_kind(&mut self, id: NodeId, kind: ValueKind) {
        if let Some(n) = self.nodes.get_mut(id.index()) {
            let bits = match kind {
                ValueKind::String => 0,
                ValueKind::Number => 1,
                ValueKind::Boolean => 2,
            };
            n.flags = (n.flags & !KIND_MASK) | (bits << KIND_SHIFT);
        }
    }

    /// Mark a node as (not) an array item.
    pub fn set_in_array(&mut self, id: NodeId, in_array: bool) {
        self.set_flag(id, IN_ARRAY, in_array);
    }

    /// Mark a node as (not) a FHIR primitive.
    pub fn set_primitive(&mut self, id: NodeId, primitive: bool) {
        self.set_flag(id, PRIMITIVE, primitive);
    }

    fn set_flag(&mut self, id: NodeId, flag: u8, on: bool) {
        if let Some(n) = self.nodes.get_mut(id.index()) {
            if on {
                n.flags |= flag;
            } else {
                n.flags &= !flag;
            }
        }
    }

    // ---- building (readers)

    fn str(&self, span: Span) -> Option<&str> {
        if span.is_absent() {
            return None;
        }
        let start = span.start as usize;
        self.text.get(start..start + span.len as usize)
    }

    pub(crate) fn with_capacity(nodes: usize, text: usize) -> Document {
        Document {
            text: String::with_capacity(text),
            nodes: Vec::with_capacity(nodes),
            kids: Vec::with_capacity(nodes),
            root: 0,
            issues: Vec::new(),
        }
    }

    /// A document whose buffer starts with the source text, so that the
    /// reader's names and values that need no unescaping are spans of it
    /// ([`Self::source_span`]) rather than copies; `extra` is room for the
    /// rest (unescaped strings).
    pub(crate) fn over_source(source: &str, nodes: usize, extra: usize) -> Document {
        let mut text = String::with_capacity(source.len().saturating_add(extra));
        text.push_str(source);
        Document {
            text,
            nodes: Vec::with_capacity(nodes),
            kids: Vec::with_capacity(nodes),
            root: 0,
            issues: Vec::new(),
        }
    }

    /// The span of `len` bytes at `start` of the buffer (see
    /// [`Self::over_source`]); `None` when it is not within the buffer.
    pub(crate) fn source_span(&self, start: usize, len: usize) -> Option<StrRef> {
        let end = start.checked_add(len)?;
        if end > self.text.len() {
            return None;
        }
        match (u32::try_from(start), u32::try_from(len)) {
            (Ok(a), Ok(l)) if l != NONE => Some(Span { start: a, len: l }),
            _ => None,
        }
    }

    /// Copy a string into the buffer. Documents are limited in size well
    /// below 4 GiB ([`crate::DEFAULT_MAX_SIZE`]); a longer buffer gives
    /// an empty string rather than a wrong one.
    pub(crate) fn push_str(&mut self, s: &str) -> StrRef {
        let start = self.text.len();
        match (u32::try_from(start), u32::try_from(s.len())) {
            (Ok(a), Ok(l)) if l != NONE && a.checked_add(l).is_some() => {
                self.text.push_str(s);
                Span { start: a, len: l }
            }
            _ => Span { start: 0, len: 0 },
        }
    }

    pub(crate) fn new_node(&mut self, name: StrRef, pos: Position) -> u32 {
        let id = self.nodes.len() as u32;
        self.nodes.push(NodeData {
            name,
            value: Span::ABSENT,
            resource_type: Span::ABSENT,
            pos,
            parent: NONE,
            first: 0,
            count: 0,
            flags: 0,
        });
        id
    }

    /// Give node `id` the children `kids` (in order). A node gets its
    /// children once, when they are all known.
    pub(crate) fn set_children(&mut self, id: u32, kids: &[u32]) {
        let first = self.kids.len() as u32;
        self.kids.extend_from_slice(kids);
        for &k in kids {
            if let Some(c) = self.nodes.get_mut(k as usize) {
                c.parent = id;
            }
        }
        if let Some(n) = self.nodes.get_mut(id as usize) {
            n.first = first;
            n.count = kids.len() as u32;
        }
    }

    pub(crate) fn set_value_span(&mut self, id: u32, value: StrRef, kind: ValueKind) {
        if let Some(n) = self.nodes.get_mut(id as usize) {
            n.value = value;
            n.flags |= PRIMITIVE;
        }
        self.set_value_kind(NodeId(id), kind);
    }

    pub(crate) fn set_resource_type_span(&mut self, id: u32, rt: StrRef) {
        if let Some(n) = self.nodes.get_mut(id as usize) {
            n.resource_type = rt;
        }
    }

    pub(crate) fn set_root(&mut self, id: u32) {
        self.root = id;
    }

    pub(crate) fn node_name(&self, id: u32) -> &str {
        self.nodes
            .get(id as usize)
            .and_then(|n| self.str(n.name))
            .unwrap_or_default()
    }

    pub(crate) fn node_flags(&mut self, id: u32, flags: u8) {
        if let Some(n) = self.nodes.get_mut(id as usize) {
            n.flags |= flags;
        }
    }

    pub(crate) fn has_value(&self, id: u32) -> bool {
        self.nodes
            .get(id as usize)
            .is_some_and(|n| !n.value.is_absent())
    }
}

/// A string in a document's buffer (for the readers).
pub(crate) type StrRef = Span;

/// Flag bits the readers set directly.
pub(crate) mod flags {
    pub const IN_ARRAY: u8 = super::IN_ARRAY;
    pub const PRIMITIVE: u8 = super::PRIMITIVE;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_by_hand() {
        let mut doc = Document::new("Bundle");
        let root = doc.root().id();
        let a = doc.add_child(root, "entry", Position::new(2, 3));
        let b = doc.add_child(root, "entry", Position::new(5, 3));
        let r = doc.add_child(a, "resource", Position::new(3, 5));
        doc.set_resource_type(r, "Patient");
        let active = doc.add_child(r, "active", Position::new(4, 7));
        doc.set_value(active, "true", ValueKind::Boolean);
        doc.set_in_array(a, true);
        doc.set_in_array(b, true);
        let root = doc.root();
        assert_eq!(root.child_count(), 2);
        let entries: Vec<_> = root.children_named("entry").collect();
        assert_eq!(entries.len(), 2);
        assert!(entries.iter().all(|e| e.in_array()));
        let patient = entries[0].child("resource").unwrap();
        assert!(patient.is_resource());
        assert_eq!(patient.resource_type(), Some("Patient"));
        let active = patient.child("active").unwrap();
        assert_eq!(active.value(), Some("true"));
        assert_eq!(active.value_kind(), ValueKind::Boolean);
        assert!(active.primitive());
        assert_eq!(active.parent().and_then(|p| p.parent()), Some(entries[0]));
        assert_eq!(root.parent(), None);
        let names: Vec<&str> = root.descendants().map(|e| e.name()).collect();
        assert_eq!(names, ["entry", "resource", "active", "entry"]);
        assert_ne!(entries[0], entries[1]);
        assert_eq!(doc.get(active.id()), Some(active));
    }
}
