//! Native evaluation of common invariant shapes.
//!
//! The core invariants that run on nearly every element (`dom-2`
//! `contained.contained.empty()`, `dom-6` `text.`div`.exists()`, `ele-1`
//! `hasValue() or (children().count() > id.count())`, `ref-1`
//! `reference.startsWith('#').not() or (...)`, the `x.empty() or
//! y.exists()` family, ...) are boolean combinations of a few leaf tests on
//! short paths from the focus. [`Native::recognize`] finds that shape in the
//! compiled syntax tree (the shape, never a constraint key: any expression
//! of the same shape gets the same treatment), and [`Evaluator::native`]
//! evaluates it directly over the element tree: no collections, no model
//! lookups while a path is unambiguous.
//!
//! The result is the interpreter's, errors included. Each leaf computes
//! natively only what it can tell without the interpreter's type
//! information; where the answer could depend on it (a path step that may
//! be a choice type, `valueQuantity` for `value`; a name the model could
//! call a choice expansion; a collection beyond [`Limits::max_items`];
//! several items where one is expected) the leaf is evaluated by the
//! interpreter instead, which is exact by definition. The boolean
//! operators short-circuit exactly as the interpreter's do, so that errors
//! and `trace()` calls happen in the same cases. Strict evaluation, and
//! limits too tight for the expression's nesting, use the interpreter
//! throughout.
//!
//! [`Limits::max_items`]: crate::Limits::max_items

use std::cmp::Ordering;
use std::sync::Arc;

use fhirreg_element::Element;

use super::{logic, short_circuit, Evaluator, Scope, R};
use crate::ast::{BinOp, Expr};
use crate::functions::Func;
use crate::value::{Literal, Node, Value};

/// The native form of an expression whose result is always empty or one boolean.
#[derive(Clone, Debug)]
pub(crate) struct Native {
    cond: Cond,
    /// The depth of the syntax tree: evaluation with a smaller
    /// `max_depth` is left to the interpreter (which fails where that
    /// depth is reached).
    height: usize,
}

/// A node whose result is empty or one boolean.
#[derive(Clone, Debug)]
enum Cond {
    /// `and`, `or`, `xor`, `implies`.
    Logic(BinOp, Box<Cond>, Box<Cond>),
    /// `x.not()`.
    Not(Box<Cond>),
    /// `path.exists()`, `path.empty()`, `path.hasValue()`; `expr` is the
    /// whole call, for the interpreter.
    Test {
        test: Test,
        path: Vec<String>,
        expr: Expr,
    },
    /// `a = b` / `a != b` of two tests that always give one boolean.
    BoolEq(bool, Box<Cond>, Box<Cond>),
    /// `count > count`, with `children().count()`, `path.count()` or an integer.
    CountCmp {
        op: BinOp,
        l: Count,
        r: Count,
        expr: Expr,
    },
    /// `name.startsWith('x')`, `endsWith`, `contains` on the focus
    /// (`name`: `None`) or a child of it.
    Str {
        name: Option<String>,
        func: Func,
        args: Vec<Expr>,
        expr: Expr,
    },
    /// `name = literal` / `name != literal` on a child of the focus.
    EqLit {
        ne: bool,
        name: String,
        lit: Literal,
        expr: Expr,
    },
    /// Anything else, as an operand of a boolean operator: interpreted.
    Interp(Expr),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Test {
    Exists,
    Empty,
    HasValue,
}

#[derive(Clone, Debug)]
enum Count {
    /// `children().count()` of the focus.
    Children,
    /// `path.count()`.
    Path(Vec<String>),
    Lit(i64),
}

/// The member names of `a.b.c` from the focus; `Some(vec![])` for no base.
fn path_of(base: Option<&Expr>) -> Option<Vec<String>> {
    let mut names = Vec::new();
    let mut cur = base;
    while let Some(e) = cur {
        match e {
            Expr::Member(b, name) => {
                // An upper-case first letter may name a type (`Patient.x`).
                if name.is_empty() || name.starts_with(|c: char| c.is_ascii_uppercase()) {
                    return None;
                }
                names.push(name.clone());
                cur = b.as_deref();
            }
            _ => return None,
        }
    }
    names.reverse();
    Some(names)
}

/// The member name of `name` (a single step from the focus).
fn single_name(base: Option<&Expr>) -> Option<Option<String>> {
    match path_of(base)?.as_slice() {
        [] => Some(None),
        [n] => Some(Some(n.clone())),
        _ => None,
    }
}

/// The height of `e`'s tree, when it is at most `limit` (the walk stops
/// below that, so a pathologically deep expression costs no stack here).
fn height_within(e: &Expr, limit: usize) -> Option<usize> {
    let below = limit.checked_sub(1)?;
    let b = |x: &Expr| height_within(x, below);
    let ob = |x: &Option<Box<Expr>>| x.as_deref().map_or(Some(0), b);
    let children = match e {
        Expr::Empty
        | Expr::Literal(_)
        | Expr::Pattern(..)
        | Expr::Constant(_)
        | Expr::This
        | Expr::Index
        | Expr::Total => 0,
        Expr::Chain(x, y) | Expr::Indexer(x, y) | Expr::Binary(_, x, y) => b(x)?.max(b(y)?),
        Expr::Member(x, _) | Expr::TypeFunc(x, _, _) => ob(x)?,
        Expr::Func(x, _, args) => {
            let mut h = ob(x)?;
            for a in args {
                h = h.max(b(a)?);
            }
            h
        }
        Expr::Neg(x) | Expr::Is(x, _) | Expr::As(x, _) => b(x)?,
    };
    Some(1 + children)
}

/// The tallest expression given a native form. The invariants of the R4
/// core are far lower; taller ones stay with the interpreter, whose
/// recursion grows its stack on the heap (the recognizer's does not).
const MAX_NATIVE_HEIGHT: usize = 64;

impl Cond {
    /// The native form of `e`, when its result is always empty or one boolean.
    fn of(e: &Expr) -> Option<Cond> {
        Some(match e {
            Expr::Binary(op @ (BinOp::And | BinOp::Or | BinOp::Xor | BinOp::Implies), l, r) => {
                Cond::Logic(*op, Box::new(Cond::operand(l)), Box::new(Cond::operand(r)))
            }
            Expr::Func(Some(b), Func::Not, args) if args.is_empty() => {
                Cond::Not(Box::new(Cond::operand(b)))
            }
            Expr::Func(base, f @ (Func::Exists | Func::Empty | Func::HasValue), args)
                if args.is_empty() =>
            {
                let test = match f {
                    Func::Exists => Test::Exists,
                    Func::Empty => Test::Empty,
                    _ => Test::HasValue,
                };
                Cond::Test {
                    test,
                    path: path_of(base.as_deref())?,
                    expr: e.clone(),
                }
            }
            Expr::Func(base, f @ (Func::StartsWith | Func::EndsWith | Func::Contains), args)
                if matches!(args.as_slice(), [Expr::Literal(Literal::String(_))]) =>
            {
                Cond::Str {
                    name: single_name(base.as_deref())?,
                    func: *f,
                    args: args.clone(),
                    expr: e.clone(),
                }
            }
            Expr::Binary(op @ (BinOp::Eq | BinOp::Ne), l, r) => {
                if let (Some(a), Some(b)) = (Cond::of(l), Cond::of(r)) {
                    if a.one_boolean() && b.one_boolean() {
                        return Some(Cond::BoolEq(*op == BinOp::Ne, Box::new(a), Box::new(b)));
                    }
                }
                if let (Some(lc), Some(rc)) = (Count::of(l), Count::of(r)) {
                    return Some(Cond::CountCmp {
                        op: *op,
                        l: lc,
                        r: rc,
                        expr: e.clone(),
                    });
                }
                match (l.as_ref(), r.as_ref()) {
                    (Expr::Member(None, name), Expr::Literal(lit))
                        if !name.is_empty()
                            && !name.starts_with(|c: char| c.is_ascii_uppercase()) =>
                    {
                        Cond::EqLit {
                            ne: *op == BinOp::Ne,
                            name: name.clone(),
                            lit: lit.clone(),
                            expr: e.clone(),
                        }
                    }
                    _ => return None,
                }
            }
            Expr::Binary(op @ (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge), l, r) => {
                Cond::CountCmp {
                    op: *op,
                    l: Count::of(l)?,
                    r: Count::of(r)?,
                    expr: e.clone(),
                }
            }
            _ => return None,
        })
    }

    /// An operand of a boolean operator or of `not()`: the interpreter's
    /// result is read as a boolean there, so any expression may stand in it.
    fn operand(e: &Expr) -> Cond {
        Cond::of(e).unwrap_or_else(|| Cond::Interp(e.clone()))
    }

    /// True when the result is always exactly one boolean.
    fn one_boolean(&self) -> bool {
        match self {
            Cond::Test { .. } => true,
            Cond::Not(c) => c.one_boolean(),
            _ => false,
        }
    }

    /// True when something in it is evaluated natively.
    fn has_native(&self) -> bool {
        match self {
            Cond::Logic(_, a, b) => a.has_native() || b.has_native(),
            Cond::Not(c) => c.has_native(),
            Cond::Interp(_) => false,
            _ => true,
        }
    }
}

impl Count {
    fn of(e: &Expr) -> Option<Count> {
        match e {
            Expr::Literal(Literal::Integer(i)) => Some(Count::Lit(*i)),
            Expr::Func(Some(b), Func::Count, args) if args.is_empty() => match b.as_ref() {
                Expr::Func(None, Func::Children, a) if a.is_empty() => Some(Count::Children),
                _ => Some(Count::Path(path_of(Some(b))?)),
            },
            _ => None,
        }
    }
}

impl Native {
    /// The native form of a compiled expression, when it has one.
    pub(crate) fn recognize(e: &Expr) -> Option<Native> {
        let height = height_within(e, MAX_NATIVE_HEIGHT)?;
        let cond = Cond::of(e)?;
        cond.has_native().then_some(Native { cond, height })
    }

    /// True when the native form may stand for the interpreter in `ctx`:
    /// not in strict mode, nor with a depth limit the expression reaches.
    pub(crate) fn applies(&self, ctx: &crate::EvalContext<'_>) -> bool {
        !ctx.strict && self.height <= ctx.limits.max_depth
    }
}

/// The nodes a path reaches, counted without their types.
struct Reach<'a> {
    count: usize,
    first: Option<Element<'a>>,
}

/// True when a name may be read by the model as a choice expansion
/// (`valueQuantity`): an upper-case letter after the first.
fn may_expand(name: &str) -> bool {
    name.bytes().skip(1).any(|c| c.is_ascii_uppercase())
}

/// The children of `el` named `name`: `None` when there are none but some
/// child's name is `name` followed by an upper-case letter (a choice
/// element's value, `valueString` for `value`): what navigation gives then
/// depends on the types.
fn exact_children<'a>(el: Element<'a>, name: &str, mut f: impl FnMut(Element<'a>)) -> Option<()> {
    let mut found = false;
    let mut choice = false;
    for c in el.children() {
        let n = c.name();
        if n == name {
            found = true;
            f(c);
        } else if !found
            && n.strip_prefix(name)
                .is_some_and(|s| s.starts_with(|ch: char| ch.is_ascii_uppercase()))
        {
            choice = true;
        }
    }
    (found || !choice).then_some(())
}

impl<'a> Evaluator<'_, 'a> {
    /// Evaluate a native form on the focus (where it [applies](Native::applies)).
    pub(crate) fn native(&self, n: &'a Native) -> R<Option<bool>> {
        self.at_focus(|scope| self.cond(&n.cond, scope, 0))
    }

    /// The interpreter's result of `e` (empty or one boolean) as a boolean.
    fn interp(&self, e: &'a Expr, scope: Scope<'_, 'a>, d: usize) -> R<Option<bool>> {
        self.to_bool(&self.eval(e, scope, d)?)
    }

    fn cond(&self, c: &'a Cond, scope: Scope<'_, 'a>, d: usize) -> R<Option<bool>> {
        // `d`: the depth the interpreter evaluates this node at; its
        // operands are one deeper.
        let inner = d + 1;
        match c {
            Cond::Interp(e) => self.interp(e, scope, d),
            Cond::Logic(op, l, r) => {
                let a = self.cond(l, scope, inner)?;
                if let Some(known) = short_circuit(*op, a) {
                    return Ok(Some(known));
                }
                let b = self.cond(r, scope, inner)?;
                Ok(logic(*op, a, b))
            }
            Cond::Not(x) => Ok(self.cond(x, scope, inner)?.map(|b| !b)),
            Cond::BoolEq(ne, l, r) => {
                let a = self.cond(l, scope, inner)?;
                let b = self.cond(r, scope, inner)?;
                Ok(match (a, b) {
                    (Some(x), Some(y)) => Some((x == y) != *ne),
                    _ => None,
                })
            }
            Cond::Test { test, path, expr } => {
                let Some(reach) = self.reach(scope.this, path) else {
                    return self.interp(expr, scope, d);
                };
                Ok(Some(match test {
                    Test::Exists => reach.count > 0,
                    Test::Empty => reach.count == 0,
                    Test::HasValue => {
                        reach.count == 1 && reach.first.is_some_and(|e| e.value().is_some())
                    }
                }))
            }
            Cond::CountCmp { op, l, r, expr } => {
                let (Some(a), Some(b)) = (self.count(l, scope.this), self.count(r, scope.this))
                else {
                    return self.interp(expr, scope, d);
                };
                let o = a.cmp(&b);
                Ok(Some(match op {
                    BinOp::Lt => o == Ordering::Less,
                    BinOp::Le => o != Ordering::Greater,
                    BinOp::Gt => o == Ordering::Greater,
                    BinOp::Ge => o != Ordering::Less,
                    BinOp::Eq => o == Ordering::Equal,
                    _ => o != Ordering::Equal,
                }))
            }
            Cond::Str {
                name,
                func,
                args,
                expr,
            } => {
                let one: [Value<'a>; 1];
                let input: &[Value<'a>] = match name {
                    None => scope.this,
                    Some(name) => match self.typed_children(scope.this, name) {
                        Some(None) => &[],
                        Some(Some(v)) => {
                            one = [v];
                            &one
                        }
                        None => return self.interp(expr, scope, d),
                    },
                };
                let out = self.call(*func, input, args, scope, inner)?;
                self.to_bool(&out)
            }
            Cond::EqLit {
                ne,
                name,
                lit,
                expr,
            } => {
                let v = match self.typed_children(scope.this, name) {
                    Some(Some(v)) => v,
                    Some(None) => return Ok(None),
                    None => return self.interp(expr, scope, d),
                };
                let eq = self.equals(&v, &lit.to_value());
                Ok(if *ne { eq.map(|x| !x) } else { eq })
            }
        }
    }

    /// A count, or `None` when the interpreter must tell.
    fn count(&self, c: &Count, this: &[Value<'a>]) -> Option<i64> {
        match c {
            Count::Lit(i) => Some(*i),
            Count::Children => {
                let n: usize = this
                    .iter()
                    .map(|v| match v {
                        Value::Node(n) => n.element.child_count(),
                        _ => 0,
                    })
                    .sum();
                (n <= self.ctx.limits.max_items).then_some(n as i64)
            }
            Count::Path(p) => self.reach(this, p).map(|r| r.count as i64),
        }
    }

    /// What navigating `path` from `this` reaches, when that does not
    /// depend on types (see [`exact_children`]) and stays within the limits.
    fn reach(&self, this: &[Value<'a>], path: &[String]) -> Option<Reach<'a>> {
        // Items of other kinds than nodes never come from the focus; leave
        // them to the interpreter.
        if !this.iter().all(|v| matches!(v, Value::Node(_))) {
            return None;
        }
        let Some((last, steps)) = path.split_last() else {
            return Some(Reach {
                count: this.len(),
                first: this.first().and_then(Value::as_element),
            });
        };
        let mut counts = [0usize; 8];
        if path.len() > counts.len() {
            return None;
        }
        let mut reach = Reach {
            count: 0,
            first: None,
        };
        for v in this {
            let Value::Node(n) = v else { continue };
            self.walk(n.element, steps, last, 0, &mut counts, &mut reach)?;
        }
        let max = self.ctx.limits.max_items;
        if counts[..path.len()].iter().any(|&c| c > max) {
            return None;
        }
        // A name the model may call a choice expansion (an error), asked
        // only where there were items to navigate from: the model answers
        // for the first step (the focus's types are known), later steps
        // are left to the interpreter.
        if self.ctx.model.is_some() {
            let mut input = this.len();
            for (i, name) in path.iter().enumerate() {
                if input > 0 && may_expand(name) && (i > 0 || self.expansion(this, name)) {
                    return None;
                }
                input = counts[i];
            }
        }
        Some(reach)
    }

    fn walk(
        &self,
        el: Element<'a>,
        steps: &[String],
        last: &str,
        level: usize,
        counts: &mut [usize; 8],
        reach: &mut Reach<'a>,
    ) -> Option<()> {
        match steps.split_first() {
            None => exact_children(el, last, |c| {
                counts[level] += 1;
                reach.count += 1;
                reach.first.get_or_insert(c);
            }),
            Some((name, rest)) => {
                let mut ok = true;
                exact_children(el, name, |c| {
                    counts[level] += 1;
                    if ok && self.walk(c, rest, last, level + 1, counts, reach).is_none() {
                        ok = false;
                    }
                })?;
                ok.then_some(())
            }
        }
    }

    /// Whether the model reads `name`, navigated from a node of `this`, as
    /// a choice expansion (`valueQuantity`: the interpreter's error), as
    /// the interpreter asks it (a node of unknown type: never). Items other
    /// than nodes: `true` (the interpreter tells).
    fn expansion(&self, this: &[Value<'a>], name: &str) -> bool {
        let Some(m) = self.ctx.model else {
            return false;
        };
        this.iter().any(|v| {
            let Value::Node(n) = v else { return true };
            let parent = if n.element.is_resource() {
                self.node_type(n)
            } else {
                n.element_type.clone()
            };
            let Some(p) = parent else { return false };
            let key = (Arc::as_ptr(&p) as usize, name.as_ptr() as usize, name.len());
            let mut nav = self.nav.borrow_mut();
            nav.get_or_insert(key, || super::NavInfo {
                parent: p.clone(),
                expansion: None,
                child: None,
                is_choice: None,
            })
            .expansion(m, name)
        })
    }

    /// The child `name` of the single focus, typed as the interpreter types
    /// it: `Some(None)` for none, `None` when the interpreter must tell
    /// (several, a possible choice type, an item that is not a node).
    fn typed_children(&self, this: &[Value<'a>], name: &str) -> Option<Option<Value<'a>>> {
        let n = match this {
            [] => return Some(None),
            [Value::Node(n)] => n,
            _ => return None,
        };
        if may_expand(name) && self.expansion(this, name) {
            return None;
        }
        let mut found: Option<Element<'a>> = None;
        let mut several = false;
        exact_children(n.element, name, |c| {
            if found.is_some() {
                several = true;
            }
            found.get_or_insert(c);
        })?;
        if several {
            return None;
        }
        let Some(c) = found else {
            return Some(None);
        };
        // As navigation types a child (see `navigate_inner`).
        let element_type = if c.is_resource() {
            None
        } else {
            let pty = if n.element.is_resource() {
                self.node_type(n)
            } else {
                n.element_type.clone()
            };
            match (self.ctx.model, pty) {
                (Some(m), Some(p)) => m.child_type(&p, name),
                _ => None,
            }
        };
        Some(Some(Value::Node(Node {
            element: c,
            element_type,
        })))
    }
}
