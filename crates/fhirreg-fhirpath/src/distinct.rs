//! Hash keys for FHIRPath equality, so that `distinct()`, `isDistinct()`,
//! `union`, `intersect()`, `exclude()`, `subsetOf()` and `repeat()` are
//! linear on ordinary collections.
//!
//! A [`Key`] is built only for items whose `=` is an equivalence relation
//! that a hash can express exactly: booleans, numbers (Integer and Decimal
//! by value), strings, and complex elements (by structure, as `deep_eq`).
//! Two keyed items are `=` exactly when their keys are equal, and a keyed
//! item is never `=` to an item of another key class. Everything else
//! (dates and times, whose equality may be empty; quantities, whose units
//! convert; strings of unknown type, which may convert to the type of the
//! other side) is compared pairwise with the evaluator's own equality.

use std::borrow::Cow;
use std::hash::{BuildHasher, Hash, Hasher};

use fhirreg_element::Element;
use rust_decimal::Decimal;

use crate::value::Value;

pub(crate) type FastHasher = foldhash::fast::FixedState;

/// How an item takes part in equality.
pub(crate) enum Class<'v> {
    /// Equal exactly to the items with the same key.
    Keyed(Key<'v>),
    /// Equal to nothing at all (`TypeInfo` values).
    Unique,
    /// Compared pairwise.
    Other,
}

#[derive(Debug)]
pub(crate) enum Key<'v> {
    Bool(bool),
    Num(Decimal),
    Str(&'v str),
    Tree(u64, Element<'v>),
}

impl PartialEq for Key<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Key::Bool(a), Key::Bool(b)) => a == b,
            (Key::Num(a), Key::Num(b)) => a == b,
            (Key::Str(a), Key::Str(b)) => a == b,
            (Key::Tree(h, a), Key::Tree(g, b)) => {
                h == g && (a == b || crate::eval::deep_eq(*a, *b, false))
            }
            _ => false,
        }
    }
}

impl Eq for Key<'_> {}

impl Hash for Key<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Key::Bool(b) => {
                state.write_u8(0);
                b.hash(state);
            }
            Key::Num(d) => {
                state.write_u8(1);
                // Equal decimals (1, 1.0, 1.00) normalize to the same parts.
                let n = if d.is_zero() {
                    Decimal::ZERO
                } else {
                    d.normalize()
                };
                n.serialize().hash(state);
            }
            Key::Str(s) => {
                state.write_u8(2);
                s.hash(state);
            }
            Key::Tree(h, _) => {
                state.write_u8(3);
                state.write_u64(*h);
            }
        }
    }
}

/// A structural hash agreeing with `deep_eq(_, _, false)`: the value and
/// the children (names and structure, in order).
fn tree_hash(e: Element<'_>) -> u64 {
    let mut h = FastHasher::default().build_hasher();
    // Pre-order, iterative: each child's name, then its subtree.
    let mut stack = vec![(e, false)];
    while let Some((e, named)) = stack.pop() {
        if named {
            e.name().hash(&mut h);
        }
        e.value().hash(&mut h);
        h.write_usize(e.child_count());
        stack.extend(e.children().rev().map(|c| (c, true)));
    }
    h.finish()
}

/// True when some item is a primitive that an untyped string could be
/// converted to for `=` (see `Evaluator::coerce`): then strings of unknown
/// type cannot be keyed as strings.
pub(crate) fn has_convertible<'x, 'a: 'x>(items: impl IntoIterator<Item = &'x Value<'a>>) -> bool {
    items.into_iter().any(|v| match v {
        Value::Boolean(_)
        | Value::Integer(_)
        | Value::Decimal(_)
        | Value::Date(_)
        | Value::DateTime(_)
        | Value::Time(_) => true,
        Value::String(_) | Value::Quantity(_) | Value::Type(_) => false,
        Value::Node(_) => matches!(
            v.to_primitive(),
            Some(
                Value::Boolean(_)
                    | Value::Integer(_)
                    | Value::Decimal(_)
                    | Value::Date(_)
                    | Value::DateTime(_)
                    | Value::Time(_)
            )
        ),
    })
}

/// The class of an item. `key_untyped`: strings of unknown type may be keyed
/// as strings (nothing they could convert to is around).
pub(crate) fn classify<'v, 'a: 'v>(v: &'v Value<'a>, key_untyped: bool) -> Class<'v> {
    if !key_untyped && v.is_untyped_string_node() {
        return Class::Other;
    }
    let prim = match v {
        Value::String(s) => return Class::Keyed(Key::Str(s)),
        Value::Type(_) => return Class::Unique,
        Value::Node(n) => match v.to_primitive() {
            None => return Class::Keyed(Key::Tree(tree_hash(n.element), n.element)),
            Some(p) => p,
        },
        other => other.clone(),
    };
    match prim {
        Value::Boolean(b) => Class::Keyed(Key::Bool(b)),
        Value::Integer(i) => Class::Keyed(Key::Num(Decimal::from(i))),
        Value::Decimal(d) => Class::Keyed(Key::Num(d)),
        Value::String(Cow::Borrowed(s)) => Class::Keyed(Key::Str(s)),
        Value::Type(_) => Class::Unique,
        _ => Class::Other,
    }
}
