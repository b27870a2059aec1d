//! The evaluator: walks the compiled AST over the element tree.

use std::borrow::Cow;
use std::cell::{Cell, OnceCell, RefCell};
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::Arc;

use fhirreg_element::Element;
use rust_decimal::prelude::{FromPrimitive, MathematicalOps, ToPrimitive};
use rust_decimal::Decimal;

use crate::ast::{BinOp, Expr, TypeSpec};
use crate::context::EvalContext;
use crate::distinct::{classify, has_convertible, Class, FastHasher, Key};
use crate::functions::Func;
use crate::model::{ElementType, ModelInfo};
use crate::temporal::{now_utc, Precision};
use crate::value::{
    decimal_equivalent, parse_date, parse_datetime, parse_quantity, parse_time, Node,
    PartialDateTime, Quantity, Value, QUANTITY_TYPES,
};
use crate::EvalError;

mod native;
pub(crate) use native::Native;

type R<T> = Result<T, EvalError>;
type Coll<'a> = Vec<Value<'a>>;

/// Collections up to this size are made distinct by pairwise comparison;
/// larger ones through hash keys ([`crate::distinct`]).
const PAIRWISE_MAX: usize = 8;

const SYSTEM_TYPES: [&str; 8] = [
    "Boolean", "Integer", "Decimal", "String", "Date", "DateTime", "Time", "Quantity",
];

/// FHIR primitive type names (lower-case first letter).
const FHIR_PRIMITIVES: [&str; 20] = [
    "boolean",
    "integer",
    "string",
    "decimal",
    "uri",
    "url",
    "canonical",
    "base64Binary",
    "instant",
    "date",
    "dateTime",
    "time",
    "code",
    "oid",
    "id",
    "markdown",
    "unsignedInt",
    "positiveInt",
    "uuid",
    "xhtml",
];

#[derive(Clone, Copy)]
struct Scope<'s, 'a> {
    this: &'s [Value<'a>],
    index: Option<usize>,
    total: Option<&'s [Value<'a>]>,
}

/// Children of one element by name (indices into `children`).
type ChildIndex<'a> = HashMap<&'a str, Vec<u32>, FastHasher>;

/// Elements with at least this many children get a [`ChildIndex`] when
/// navigated more than once in an evaluation (a Bundle's `entry` list,
/// navigated for `%resource.type` once per entry).
const WIDE: usize = 32;

/// What the model says about property `name` of one parent type, asked once
/// for a run of items of that type.
struct NavInfo {
    /// Keeps the parent type alive, so that its address (the key) is not reused.
    parent: Arc<ElementType>,
    expansion: Option<bool>,
    child: Option<Option<Arc<ElementType>>>,
    is_choice: Option<bool>,
}

impl NavInfo {
    fn expansion(&mut self, m: &dyn ModelInfo, name: &str) -> bool {
        let p = &self.parent;
        *self
            .expansion
            .get_or_insert_with(|| m.is_choice_expansion(p, name))
    }

    fn child(&mut self, m: &dyn ModelInfo, name: &str) -> Option<Arc<ElementType>> {
        let p = &self.parent;
        self.child
            .get_or_insert_with(|| m.child_type(p, name))
            .clone()
    }

    fn is_choice(&mut self, m: &dyn ModelInfo, name: &str) -> bool {
        let p = &self.parent;
        *self.is_choice.get_or_insert_with(|| m.is_choice(p, name))
    }
}

type NavKey = (usize, usize, usize);

/// [`NavInfo`] by key: a short list searched in order (the usual few
/// entries), indexed by a hash map once it grows.
#[derive(Default)]
struct NavMemo {
    items: Vec<(NavKey, NavInfo)>,
    index: HashMap<NavKey, usize, FastHasher>,
}

impl NavMemo {
    const LINEAR: usize = 16;

    fn position(&self, key: &NavKey) -> Option<usize> {
        if self.items.len() <= Self::LINEAR {
            self.items.iter().position(|(k, _)| k == key)
        } else {
            self.index.get(key).copied()
        }
    }

    fn get_or_insert(&mut self, key: NavKey, make: impl FnOnce() -> NavInfo) -> &mut NavInfo {
        let i = match self.position(&key) {
            Some(i) => i,
            None => {
                self.items.push((key, make()));
                let i = self.items.len() - 1;
                if self.items.len() == Self::LINEAR + 1 {
                    for (j, (k, _)) in self.items.iter().enumerate() {
                        self.index.insert(*k, j);
                    }
                } else if self.items.len() > Self::LINEAR + 1 {
                    self.index.insert(key, i);
                }
                i
            }
        };
        &mut self.items[i].1
    }
}

pub(crate) struct Evaluator<'c, 'a> {
    ctx: &'c EvalContext<'a>,
    /// The clock, read on first use of `now()`, `today()` or `timeOfDay()`.
    now: OnceCell<PartialDateTime>,
    /// Wide elements seen by navigation: `None` after the first visit, the
    /// index from the second on.
    wide: RefCell<HashMap<Element<'a>, Option<Rc<ChildIndex<'a>>>, FastHasher>>,
    /// Navigation answers by parent type address and property name
    /// (address and length: names borrow from the expression, for `'a`).
    nav: RefCell<NavMemo>,
    /// How many `where()`/`all()`/`select()`/... bodies are being
    /// evaluated: inside one, a path from a `%constant` is the same for
    /// every item.
    lambda_depth: Cell<u32>,
    /// Those paths (`%resource.type` in `entry.all(... %resource.type ...)`),
    /// evaluated on first use in a body and reused for the other items.
    invariant_paths: RefCell<Vec<(*const Expr, Coll<'a>)>>,
    /// Types of the resources met, by resource type; the last one first.
    #[allow(clippy::type_complexity)]
    resource_types: RefCell<(
        Option<(&'a str, Option<Arc<ElementType>>)>,
        HashMap<&'a str, Option<Arc<ElementType>>, FastHasher>,
    )>,
}

/// True for `%name` and member paths from it (`%resource.type`): the same
/// collection wherever it is evaluated in one evaluation (constants are
/// fixed by the context; navigation reads the tree and the model).
fn from_constant(e: &Expr) -> bool {
    match e {
        Expr::Constant(_) => true,
        Expr::Member(Some(base), _) => from_constant(base),
        _ => false,
    }
}

fn err<T>(msg: impl Into<String>) -> R<T> {
    Err(EvalError::new(msg))
}

fn same_node(a: &Value<'_>, b: &Value<'_>) -> bool {
    matches!((a, b), (Value::Node(x), Value::Node(y)) if x.element == y.element)
}

fn str_val<'a>(s: impl Into<Cow<'a, str>>) -> Value<'a> {
    Value::String(s.into())
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

impl<'c, 'a> Evaluator<'c, 'a> {
    pub(crate) fn new(ctx: &'c EvalContext<'a>) -> Self {
        Evaluator {
            ctx,
            now: OnceCell::new(),
            wide: RefCell::default(),
            nav: RefCell::default(),
            lambda_depth: Cell::new(0),
            invariant_paths: RefCell::default(),
            resource_types: RefCell::default(),
        }
    }

    fn now(&self) -> PartialDateTime {
        *self
            .now
            .get_or_init(|| self.ctx.now.unwrap_or_else(now_utc))
    }

    /// Call `f` on each child of `el` named `name`, in document order.
    fn each_child_named(&self, el: Element<'a>, name: &str, mut f: impl FnMut(Element<'a>)) {
        if el.child_count() >= WIDE {
            let index = {
                let mut wide = self.wide.borrow_mut();
                match wide.get_mut(&el) {
                    None => {
                        wide.insert(el, None);
                        None
                    }
                    Some(Some(ix)) => Some(ix.clone()),
                    Some(slot) => {
                        let mut ix = ChildIndex::default();
                        for (i, c) in el.children().enumerate() {
                            ix.entry(c.name())
                                .or_default()
                                .push(u32::try_from(i).unwrap_or(u32::MAX));
                        }
                        let ix = Rc::new(ix);
                        *slot = Some(ix.clone());
                        Some(ix)
                    }
                }
            };
            if let Some(ix) = index {
                let mut kids = el.children();
                let mut at = 0usize;
                for &i in ix.get(name).map(Vec::as_slice).unwrap_or(&[]) {
                    // Indexes ascend: advance the child iterator to each.
                    let i = i as usize;
                    if let Some(c) = kids.nth(i.saturating_sub(at)) {
                        f(c);
                    }
                    at = i + 1;
                }
                return;
            }
        }
        for c in el.children().filter(|c| c.name() == name) {
            f(c);
        }
    }

    pub(crate) fn run(&self, e: &'a Expr) -> R<Coll<'a>> {
        self.at_focus(|scope| self.eval(e, scope, 0))
    }

    /// Run `f` in the top-level scope: `$this` is the context's focus
    /// (none when it has no focus).
    fn at_focus<T>(&self, f: impl FnOnce(Scope<'_, 'a>) -> T) -> T {
        let focus: [Value<'a>; 1];
        let this: &[Value<'a>] = match self.ctx.focus {
            Some(f) => {
                focus = [Value::Node(Node {
                    element: f,
                    element_type: self.focus_type(f),
                })];
                &focus
            }
            None => &[],
        };
        f(Scope {
            this,
            index: None,
            total: None,
        })
    }

    fn focus_type(&self, f: Element<'a>) -> Option<Arc<ElementType>> {
        if let Some(t) = &self.ctx.focus_type {
            return Some(t.clone());
        }
        let model = self.ctx.model?;
        if f.is_resource() {
            return self.node_type(&Node {
                element: f,
                element_type: None,
            });
        }
        // Walk up from the focus to the nearest resource, then down again
        // typing each step.
        let mut path: Vec<Element<'a>> = vec![f];
        let mut cur = f.parent()?;
        while !cur.is_resource() {
            path.push(cur);
            cur = cur.parent()?;
        }
        let mut ty = model.type_named(cur.resource_type()?)?;
        for el in path.into_iter().rev() {
            ty = match el.resource_type() {
                Some(rt) => model.type_named(rt)?,
                None => model.child_type(&ty, el.name())?,
            };
        }
        Some(ty)
    }

    fn check_len(&self, n: usize) -> R<()> {
        if n > self.ctx.limits.max_items {
            return err(format!(
                "collection exceeds the limit of {} items",
                self.ctx.limits.max_items
            ));
        }
        Ok(())
    }

    fn eval(&self, e: &'a Expr, scope: Scope<'_, 'a>, depth: usize) -> R<Coll<'a>> {
        if depth > self.ctx.limits.max_depth {
            return err("evaluation nested too deeply");
        }
        // Debug builds use large frames; grow the stack on the heap rather
        // than overflow when an expression nests deeply.
        #[cfg(not(target_family = "wasm"))]
        return stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
            self.eval_inner(e, scope, depth + 1)
        });
        #[cfg(target_family = "wasm")]
        self.eval_inner(e, scope, depth + 1)
    }

    fn eval_inner(&self, e: &'a Expr, scope: Scope<'_, 'a>, d: usize) -> R<Coll<'a>> {
        match e {
            Expr::Empty => Ok(Vec::new()),
            Expr::Pattern(p, _) => Ok(vec![str_val(p.as_str())]),
            Expr::Literal(l) => Ok(vec![l.to_value()]),
            Expr::Constant(name) => self.constant(name, scope),
            Expr::This => Ok(scope.this.to_vec()),
            Expr::Index => Ok(scope
                .index
                .map(|i| Value::Integer(i as i64))
                .into_iter()
                .collect()),
            Expr::Total => Ok(scope.total.map(|t| t.to_vec()).unwrap_or_default()),
            Expr::Chain(base, inner) => {
                let b = self.eval(base, scope, d)?;
                let mut out = Vec::new();
                for (i, item) in b.iter().enumerate() {
                    let s = Scope {
                        this: std::slice::from_ref(item),
                        index: Some(i),
                        total: scope.total,
                    };
                    out.extend(self.eval(inner, s, d)?);
                }
                Ok(out)
            }
            Expr::Member(None, name) => self.member_root(scope.this, name),
            Expr::Member(Some(base), name)
                if self.lambda_depth.get() > 0 && from_constant(base) =>
            {
                let key = e as *const Expr;
                if let Some((_, v)) = self
                    .invariant_paths
                    .borrow()
                    .iter()
                    .find(|(k, _)| *k == key)
                {
                    return Ok(v.clone());
                }
                let b = self.eval(base, scope, d)?;
                let v = self.navigate(&b, name)?;
                self.invariant_paths.borrow_mut().push((key, v.clone()));
                Ok(v)
            }
            Expr::Member(Some(base), name) => {
                if self.ctx.strict {
                    if let (Expr::As(_, ts), Some(model)) = (base.as_ref(), self.ctx.model) {
                        if let Some(t) = model.type_named(&ts.name) {
                            if model.child_type(&t, name).is_none() && !model.is_choice(&t, name) {
                                return err(format!("{} has no property '{name}'", ts.name));
                            }
                        }
                    }
                }
                let b = self.eval(base, scope, d)?;
                self.navigate(&b, name)
            }
            // `children().count()` (ele-1): count without building the children.
            Expr::Func(Some(base), Func::Count, args) if args.is_empty() => match base.as_ref() {
                Expr::Func(inner, Func::Children, cargs) if cargs.is_empty() => {
                    let input = match inner {
                        Some(b) => Cow::Owned(self.eval(b, scope, d)?),
                        None => Cow::Borrowed(scope.this),
                    };
                    let n: usize = input
                        .iter()
                        .map(|v| match v {
                            Value::Node(n) => n.element.child_count(),
                            _ => 0,
                        })
                        .sum();
                    self.check_len(n)?;
                    Ok(vec![Value::Integer(n as i64)])
                }
                _ => {
                    let input = self.eval(base, scope, d)?;
                    Ok(vec![Value::Integer(input.len() as i64)])
                }
            },
            Expr::Func(base, f, args) => {
                let input = match base {
                    Some(b) => Cow::Owned(self.eval(b, scope, d)?),
                    None => Cow::Borrowed(scope.this),
                };
                self.call(*f, &input, args, scope, d)
            }
            Expr::TypeFunc(base, f, ts) => {
                let input = match base {
                    Some(b) => Cow::Owned(self.eval(b, scope, d)?),
                    None => Cow::Borrowed(scope.this),
                };
                self.type_func(*f, &input, ts)
            }
            Expr::Is(b, ts) => {
                let input = self.eval(b, scope, d)?;
                self.type_func(Func::Is, &input, ts)
            }
            Expr::As(b, ts) => {
                let input = self.eval(b, scope, d)?;
                self.type_func(Func::As, &input, ts)
            }
            Expr::Indexer(b, i) => {
                let base = self.eval(b, scope, d)?;
                let idx = self.eval(i, scope, d)?;
                match self.singleton(&idx)? {
                    None => Ok(Vec::new()),
                    Some(Value::Integer(i)) => Ok(usize::try_from(i)
                        .ok()
                        .and_then(|i| base.get(i).cloned())
                        .into_iter()
                        .collect()),
                    Some(_) => err("index must be an integer"),
                }
            }
            Expr::Neg(inner) => {
                let v = self.eval(inner, scope, d)?;
                match self.singleton(&v)? {
                    None => Ok(Vec::new()),
                    Some(Value::Integer(i)) => Ok(vec![Value::Integer(
                        i.checked_neg()
                            .ok_or_else(|| EvalError::new("integer overflow"))?,
                    )]),
                    Some(Value::Decimal(x)) => Ok(vec![Value::Decimal(-x)]),
                    Some(Value::Quantity(q)) => Ok(vec![Value::Quantity(Quantity {
                        value: -q.value,
                        unit: q.unit,
                    })]),
                    Some(_) => err("unary minus needs a number or quantity"),
                }
            }
            Expr::Binary(op, l, r) => self.binary(*op, l, r, scope, d),
        }
    }

    fn constant(&self, name: &str, scope: Scope<'_, 'a>) -> R<Coll<'a>> {
        let node = |e: Option<Element<'a>>| -> Coll<'a> {
            e.map(|el| {
                Value::Node(Node {
                    element: el,
                    element_type: el
                        .resource_type()
                        .and_then(|rt| self.ctx.model.and_then(|m| m.type_named(rt))),
                })
            })
            .into_iter()
            .collect()
        };
        if let Some(v) = self.ctx.variables.get(name) {
            return Ok(v.clone());
        }
        let _ = scope;
        Ok(match name {
            "context" => match self.ctx.focus {
                Some(f) => vec![Value::Node(Node {
                    element: f,
                    element_type: self.focus_type(f),
                })],
                None => Vec::new(),
            },
            "resource" => node(self.ctx.resource),
            "rootResource" => node(self.ctx.root_resource.or(self.ctx.resource)),
            "ucum" => vec![str_val("http://unitsofmeasure.org")],
            "sct" => vec![str_val("http://snomed.info/sct")],
            "loinc" => vec![str_val("http://loinc.org")],
            n => {
                if let Some(vs) = n.strip_prefix("vs-") {
                    vec![str_val(format!("http://hl7.org/fhir/ValueSet/{vs}"))]
                } else if let Some(ext) = n.strip_prefix("ext-") {
                    vec![str_val(format!(
                        "http://hl7.org/fhir/StructureDefinition/{ext}"
                    ))]
                } else {
                    return err(format!("unknown variable %{n}"));
                }
            }
        })
    }

    // ---------------------------------------------------------------- navigation

    fn node_type(&self, n: &Node<'a>) -> Option<Arc<ElementType>> {
        match n.element.resource_type() {
            Some(rt) => {
                let m = self.ctx.model?;
                let mut types = self.resource_types.borrow_mut();
                // Resources met in a row are often of one type (a Bundle's entries).
                if let Some((last, t)) = &types.0 {
                    if *last == rt {
                        return t.clone();
                    }
                }
                // The map is only needed from the second type on.
                let t = match types.0.take() {
                    None => m.type_named(rt),
                    Some((last, lt)) => {
                        types.1.insert(last, lt);
                        types
                            .1
                            .entry(rt)
                            .or_insert_with(|| m.type_named(rt))
                            .clone()
                    }
                };
                types.0 = Some((rt, t.clone()));
                t
            }
            None => n.element_type.clone(),
        }
    }

    fn typed_child(&self, parent: Option<&Arc<ElementType>>, c: Element<'a>) -> Value<'a> {
        let element_type = match (self.ctx.model, parent) {
            _ if c.is_resource() => None,
            (Some(m), Some(p)) => m.child_type(p, c.name()),
            _ => None,
        };
        Value::Node(Node {
            element: c,
            element_type,
        })
    }

    fn member_root(&self, this: &[Value<'a>], name: &'a str) -> R<Coll<'a>> {
        let upper = name.chars().next().is_some_and(|c| c.is_ascii_uppercase());
        if upper {
            let mut out = Vec::new();
            let mut any_match = false;
            for v in this {
                if let Value::Node(n) = v {
                    if let Some(t) = n.type_name() {
                        let matches = t == name
                            || self
                                .ctx
                                .model
                                .is_some_and(|m| n.element.is_resource() && m.is_subtype(t, name));
                        if matches {
                            out.push(v.clone());
                            any_match = true;
                        }
                    }
                }
            }
            if any_match {
                return Ok(out);
            }
            let nav = self.navigate_inner(this, name, false)?;
            if nav.is_empty() && self.ctx.strict && !this.is_empty() {
                return err(format!(
                    "'{name}' is neither the type of the context nor a property"
                ));
            }
            return Ok(nav);
        }
        self.navigate(this, name)
    }

    fn navigate(&self, input: &[Value<'a>], name: &'a str) -> R<Coll<'a>> {
        self.navigate_inner(input, name, self.ctx.strict)
    }

    fn navigate_inner(&self, input: &[Value<'a>], name: &'a str, strict: bool) -> R<Coll<'a>> {
        let mut out = Vec::new();
        let may_expand = name.bytes().skip(1).any(|c| c.is_ascii_uppercase());
        // Nothing below evaluates expressions: the memo stays borrowed.
        let mut nav = self.nav.borrow_mut();
        for v in input {
            if let Value::Type(t) = v {
                match name {
                    "name" => out.push(str_val(t.name.clone())),
                    "namespace" => out.push(str_val(t.namespace.clone())),
                    _ => {}
                }
                continue;
            }
            let Value::Node(n) = v else { continue };
            let el = n.element;
            // A resource's type comes from the model; any other node
            // carries its own (borrowed: no reference counting).
            let resource_type;
            let pty: Option<&Arc<ElementType>> = if n.element.is_resource() {
                resource_type = self.node_type(n);
                resource_type.as_ref()
            } else {
                n.element_type.as_ref()
            };
            // The model's answers, asked once per evaluation.
            let mut info = match (self.ctx.model, pty) {
                (Some(m), Some(p)) => {
                    let key = (Arc::as_ptr(p) as usize, name.as_ptr() as usize, name.len());
                    let i = nav.get_or_insert(key, || NavInfo {
                        parent: p.clone(),
                        expansion: None,
                        child: None,
                        is_choice: None,
                    });
                    if may_expand && i.expansion(m, name) {
                        return err(format!(
                            "'{name}' is a choice type; navigate by its name without the type suffix"
                        ));
                    }
                    if strict && i.child(m, name).is_none() && !i.is_choice(m, name) {
                        return err(format!("{} has no property '{name}'", p.type_name));
                    }
                    Some((m, i))
                }
                _ => None,
            };
            let before = out.len();
            self.each_child_named(el, name, |c| {
                let element_type = match &mut info {
                    _ if c.is_resource() => None,
                    Some((m, i)) => i.child(*m, name),
                    None => None,
                };
                out.push(Value::Node(Node {
                    element: c,
                    element_type,
                }));
            });
            if out.len() == before {
                let choice = match &mut info {
                    Some((m, i)) => i.is_choice(*m, name),
                    None => true,
                };
                if choice {
                    for c in el.children() {
                        if let Some(suffix) = c.name().strip_prefix(name) {
                            // `studyEffectiveDescription` is a property of
                            // its own, not a form of `studyEffective[x]`.
                            let own_property = match (self.ctx.model, pty) {
                                (Some(m), Some(p)) => {
                                    m.child_type(p, c.name()).is_some()
                                        && !m.is_choice_expansion(p, c.name())
                                }
                                _ => false,
                            };
                            if !own_property
                                && suffix
                                    .chars()
                                    .next()
                                    .is_some_and(|ch| ch.is_ascii_uppercase())
                            {
                                let mut v = self.typed_child(pty, c);
                                if let Value::Node(n) = &mut v {
                                    if n.element_type.is_none() {
                                        let lf = lower_first(suffix);
                                        let t = if FHIR_PRIMITIVES.contains(&lf.as_str()) {
                                            lf
                                        } else {
                                            suffix.to_string()
                                        };
                                        n.element_type = Some(Arc::new(ElementType::of_type(&t)));
                                    }
                                }
                                out.push(v);
                            }
                        }
                    }
                }
            }
            self.check_len(out.len())?;
        }
        Ok(out)
    }

    fn children_of(&self, v: &Value<'a>, out: &mut Coll<'a>) {
        if let Value::Node(n) = v {
            // A resource's type comes from the model; any other node
            // carries its own (borrowed: no reference counting).
            let resource_type;
            let pty: Option<&Arc<ElementType>> = if n.element.is_resource() {
                resource_type = self.node_type(n);
                resource_type.as_ref()
            } else {
                n.element_type.as_ref()
            };
            // Repeated children (arrays) are adjacent: reuse the last lookup.
            let mut last: Option<(&str, Option<Arc<ElementType>>)> = None;
            for c in n.element.children() {
                let element_type = match (self.ctx.model, pty) {
                    _ if c.is_resource() => None,
                    (Some(m), Some(p)) => match &last {
                        Some((name, t)) if *name == c.name() => t.clone(),
                        _ => {
                            let t = m.child_type(p, c.name());
                            last = Some((c.name(), t.clone()));
                            t
                        }
                    },
                    _ => None,
                };
                out.push(Value::Node(Node {
                    element: c,
                    element_type,
                }));
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    fn singleton(&self, c: &[Value<'a>]) -> R<Option<Value<'a>>> {
        match c {
            [] => Ok(None),
            [v] => Ok(Some(v.to_primitive().unwrap_or_else(|| v.clone()))),
            _ => err("expected a single item, got a collection"),
        }
    }

    fn to_bool(&self, c: &[Value<'a>]) -> R<Option<bool>> {
        match c {
            [] => Ok(None),
            [v] => match v.to_primitive() {
                Some(Value::Boolean(b)) => Ok(Some(b)),
                _ => Ok(Some(true)),
            },
            _ => err("expected a single boolean, got a collection"),
        }
    }

    fn strict_bool(&self, c: &[Value<'a>]) -> R<Option<bool>> {
        match c {
            [] => Ok(None),
            [v] => match v.to_primitive() {
                Some(Value::Boolean(b)) => Ok(Some(b)),
                _ => err("expected a boolean"),
            },
            _ => err("expected a single boolean, got a collection"),
        }
    }

    fn arg(&self, a: &'a Expr, scope: Scope<'_, 'a>, d: usize) -> R<Coll<'a>> {
        self.eval(a, scope, d)
    }

    fn arg_string(&self, a: &'a Expr, scope: Scope<'_, 'a>, d: usize) -> R<Option<Cow<'a, str>>> {
        let v = self.eval(a, scope, d)?;
        match self.singleton(&v)? {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Ok(other.to_text()),
        }
    }

    fn arg_int(&self, a: &'a Expr, scope: Scope<'_, 'a>, d: usize) -> R<Option<i64>> {
        let v = self.eval(a, scope, d)?;
        match self.singleton(&v)? {
            None => Ok(None),
            Some(Value::Integer(i)) => Ok(Some(i)),
            Some(_) => err("expected an integer argument"),
        }
    }

    /// The input as a single string for string functions.
    fn input_string(&self, input: &[Value<'a>]) -> R<Option<Cow<'a, str>>> {
        match input {
            [] => Ok(None),
            [v] => match v.to_primitive() {
                Some(Value::String(s)) => Ok(Some(s)),
                Some(p) => Ok(p.to_text()),
                None => err("string function applied to a complex element"),
            },
            _ => err("string function applied to a collection"),
        }
    }

    fn coerce(
        &self,
        a: &Value<'a>,
        pa: Value<'a>,
        b: &Value<'a>,
        pb: Value<'a>,
    ) -> (Value<'a>, Value<'a>) {
        fn conv<'x>(s: &str, like: &Value<'x>) -> Option<Value<'x>> {
            match like {
                Value::Date(_) => parse_date(s)
                    .map(Value::Date)
                    .or_else(|| parse_datetime(s).map(Value::DateTime)),
                Value::DateTime(_) => parse_datetime(s).map(Value::DateTime),
                Value::Time(_) => parse_time(s).map(Value::Time),
                Value::Integer(_) => s.parse().ok().map(Value::Integer),
                Value::Decimal(_) => Decimal::from_str_exact(s).ok().map(Value::Decimal),
                Value::Boolean(_) => match s {
                    "true" => Some(Value::Boolean(true)),
                    "false" => Some(Value::Boolean(false)),
                    _ => None,
                },
                _ => None,
            }
        }
        let pa2 = match (&pa, a.is_untyped_string_node()) {
            (Value::String(s), true) => conv(s, &pb).unwrap_or(pa),
            _ => pa,
        };
        let pb2 = match (&pb, b.is_untyped_string_node()) {
            (Value::String(s), true) => conv(s, &pa2).unwrap_or(pb),
            _ => pb,
        };
        (pa2, pb2)
    }

    fn equals(&self, a: &Value<'a>, b: &Value<'a>) -> Option<bool> {
        match (a.to_primitive(), b.to_primitive()) {
            (None, None) => match (a.as_element(), b.as_element()) {
                (Some(x), Some(y)) => Some(deep_eq(x, y, false)),
                _ => Some(false),
            },
            (Some(_), None) | (None, Some(_)) => Some(false),
            (Some(pa), Some(pb)) => {
                let (x, y) = self.coerce(a, pa, b, pb);
                prim_eq(&x, &y)
            }
        }
    }

    fn equivalent(&self, a: &Value<'a>, b: &Value<'a>) -> bool {
        match (a.to_primitive(), b.to_primitive()) {
            (None, None) => match (a.as_element(), b.as_element()) {
                (Some(x), Some(y)) => deep_eq(x, y, true),
                _ => false,
            },
            (Some(pa), Some(pb)) => {
                let (x, y) = self.coerce(a, pa, b, pb);
                prim_equiv(&x, &y)
            }
            _ => false,
        }
    }

    fn compare(&self, a: &Value<'a>, b: &Value<'a>) -> R<Option<Ordering>> {
        let (Some(pa), Some(pb)) = (a.to_primitive(), b.to_primitive()) else {
            return err("cannot compare complex elements");
        };
        let (x, y) = self.coerce(a, pa, b, pb);
        Ok(match (&x, &y) {
            (Value::Integer(i), Value::Integer(j)) => Some(i.cmp(j)),
            (Value::Integer(_) | Value::Decimal(_), Value::Integer(_) | Value::Decimal(_)) => {
                Some(as_dec(&x).cmp(&as_dec(&y)))
            }
            (Value::String(s), Value::String(t)) => Some(s.cmp(t)),
            (Value::Date(p) | Value::DateTime(p), Value::Date(q) | Value::DateTime(q)) => {
                p.compare(q)
            }
            (Value::Time(p), Value::Time(q)) => p.compare(q),
            (Value::Quantity(p), Value::Quantity(q)) => match p.compare(q) {
                Some(o) => Some(o),
                None => return err("quantities with incompatible units"),
            },
            _ => return err("cannot compare values of different types"),
        })
    }

    /// `v` is in the collection: the same node, or `=` gives true.
    fn item_eq(&self, x: &Value<'a>, v: &Value<'a>) -> bool {
        same_node(x, v) || self.equals(x, v) == Some(true)
    }

    fn contains_item(&self, coll: &[Value<'a>], v: &Value<'a>) -> bool {
        coll.iter().any(|x| self.item_eq(x, v))
    }

    fn distinct(&self, items: Coll<'a>) -> Coll<'a> {
        if items.len() < 2 {
            return items;
        }
        let keep = self.distinct_mask(&items);
        items
            .into_iter()
            .zip(keep)
            .filter_map(|(v, k)| k.then_some(v))
            .collect()
    }

    /// Which items `distinct()` keeps: those not `=` to an earlier kept one.
    fn distinct_mask(&self, items: &[Value<'a>]) -> Vec<bool> {
        let mut keep = vec![false; items.len()];
        if items.len() <= PAIRWISE_MAX {
            for (i, v) in items.iter().enumerate() {
                keep[i] = !(0..i).any(|j| keep[j] && self.item_eq(&items[j], v));
            }
            return keep;
        }
        let key_untyped = !has_convertible(items);
        let mut seen: HashSet<Key<'_>, FastHasher> =
            HashSet::with_capacity_and_hasher(items.len(), FastHasher::default());
        // Kept nodes (the same node is always `=`).
        let mut nodes: HashSet<Element<'a>, FastHasher> = HashSet::default();
        // Kept items compared pairwise.
        let mut others: Vec<usize> = Vec::new();
        for (i, v) in items.iter().enumerate() {
            match classify(v, key_untyped) {
                Class::Unique => keep[i] = true,
                Class::Keyed(k) => {
                    let node = v.as_element();
                    if !seen.contains(&k)
                        && !node.is_some_and(|p| nodes.contains(&p))
                        && !others.iter().any(|&j| self.item_eq(&items[j], v))
                    {
                        seen.insert(k);
                        nodes.extend(node);
                        keep[i] = true;
                    }
                }
                Class::Other => {
                    if !(0..i).any(|j| keep[j] && self.item_eq(&items[j], v)) {
                        keep[i] = true;
                        others.push(i);
                    }
                }
            }
        }
        keep
    }

    /// For each item of `items`: is it in `coll` (as [`Self::contains_item`])?
    fn membership(&self, items: &[Value<'a>], coll: &[Value<'a>]) -> Vec<bool> {
        if items.len().saturating_mul(coll.len()) <= PAIRWISE_MAX * PAIRWISE_MAX {
            return items.iter().map(|v| self.contains_item(coll, v)).collect();
        }
        let key_untyped = !has_convertible(items.iter().chain(coll));
        let mut set: HashSet<Key<'_>, FastHasher> =
            HashSet::with_capacity_and_hasher(coll.len(), FastHasher::default());
        let mut others: Vec<&Value<'a>> = Vec::new();
        let mut nodes: HashSet<Element<'a>, FastHasher> = HashSet::default();
        for x in coll {
            match classify(x, key_untyped) {
                Class::Keyed(k) => {
                    set.insert(k);
                    nodes.extend(x.as_element());
                }
                Class::Unique => {}
                Class::Other => others.push(x),
            }
        }
        items
            .iter()
            .map(|v| match classify(v, key_untyped) {
                Class::Keyed(k) => {
                    set.contains(&k)
                        || v.as_element().is_some_and(|e| nodes.contains(&e))
                        || others.iter().any(|x| self.item_eq(x, v))
                }
                Class::Unique => false,
                Class::Other => self.contains_item(coll, v),
            })
            .collect()
    }

    // ---------------------------------------------------------------- operators

    fn binary(
        &self,
        op: BinOp,
        l: &'a Expr,
        r: &'a Expr,
        scope: Scope<'_, 'a>,
        d: usize,
    ) -> R<Coll<'a>> {
        match op {
            BinOp::And | BinOp::Or | BinOp::Xor | BinOp::Implies => {
                let a = self.to_bool(&self.eval(l, scope, d)?)?;
                if let Some(known) = short_circuit(op, a) {
                    return Ok(vec![Value::Boolean(known)]);
                }
                let b = self.to_bool(&self.eval(r, scope, d)?)?;
                return Ok(logic(op, a, b).map(Value::Boolean).into_iter().collect());
            }
            _ => {}
        }
        let a = self.eval(l, scope, d)?;
        // A literal right operand (`use = 'official'`) needs no collection.
        let literal;
        let b: Cow<'_, [Value<'a>]> = match r {
            Expr::Literal(lit) => {
                literal = [lit.to_value()];
                Cow::Borrowed(&literal)
            }
            _ => Cow::Owned(self.eval(r, scope, d)?),
        };
        match op {
            BinOp::Union => {
                let mut all = a;
                all.extend(b.into_owned());
                self.check_len(all.len())?;
                Ok(self.distinct(all))
            }
            BinOp::Eq | BinOp::Ne => {
                if a.is_empty() || b.is_empty() {
                    return Ok(Vec::new());
                }
                let res = if a.len() != b.len() {
                    Some(false)
                } else {
                    let mut acc = Some(true);
                    for (x, y) in a.iter().zip(b.iter()) {
                        match self.equals(x, y) {
                            Some(true) => {}
                            Some(false) => {
                                acc = Some(false);
                                break;
                            }
                            None => acc = None,
                        }
                    }
                    acc
                };
                let res = if op == BinOp::Ne {
                    res.map(|x| !x)
                } else {
                    res
                };
                Ok(res.map(Value::Boolean).into_iter().collect())
            }
            BinOp::Equiv | BinOp::NotEquiv => {
                let res = if a.is_empty() && b.is_empty() {
                    true
                } else if a.len() != b.len() {
                    false
                } else {
                    a.iter().all(|x| b.iter().any(|y| self.equivalent(x, y)))
                };
                Ok(vec![Value::Boolean(if op == BinOp::Equiv {
                    res
                } else {
                    !res
                })])
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let (Some(x), Some(y)) = (self.single_raw(&a)?, self.single_raw(&b)?) else {
                    return Ok(Vec::new());
                };
                let Some(o) = self.compare(&x, &y)? else {
                    return Ok(Vec::new());
                };
                let r = match op {
                    BinOp::Lt => o == Ordering::Less,
                    BinOp::Le => o != Ordering::Greater,
                    BinOp::Gt => o == Ordering::Greater,
                    _ => o != Ordering::Less,
                };
                Ok(vec![Value::Boolean(r)])
            }
            BinOp::In | BinOp::Contains => {
                let (item, coll): (&[Value<'a>], &[Value<'a>]) =
                    if op == BinOp::In { (&a, &b) } else { (&b, &a) };
                match item {
                    [] => Ok(Vec::new()),
                    [v] => Ok(vec![Value::Boolean(self.contains_item(coll, v))]),
                    _ => err("membership test on a collection"),
                }
            }
            BinOp::Concat => {
                let s1 = self.input_string(&a)?.unwrap_or_default();
                let s2 = self.input_string(&b)?.unwrap_or_default();
                self.check_string(s1.len() + s2.len())?;
                Ok(vec![str_val(format!("{s1}{s2}"))])
            }
            _ => {
                let (Some(x), Some(y)) = (self.singleton(&a)?, self.singleton(&b)?) else {
                    return Ok(Vec::new());
                };
                let (x, y) = match (&a[..], &b[..]) {
                    ([ra], [rb]) => self.coerce(ra, x, rb, y),
                    _ => (x, y),
                };
                self.arith(op, x, y)
            }
        }
    }

    fn single_raw(&self, c: &[Value<'a>]) -> R<Option<Value<'a>>> {
        match c {
            [] => Ok(None),
            [v] => Ok(Some(v.clone())),
            _ => err("expected a single item, got a collection"),
        }
    }

    fn check_string(&self, n: usize) -> R<()> {
        if n > self.ctx.limits.max_string {
            return err("string exceeds the size limit");
        }
        Ok(())
    }

    fn arith(&self, op: BinOp, x: Value<'a>, y: Value<'a>) -> R<Coll<'a>> {
        use Value::*;
        let one = |v: Value<'a>| Ok(vec![v]);
        let none = || Ok(Vec::new());
        match (op, &x, &y) {
            (BinOp::Add, Integer(i), Integer(j)) => match i.checked_add(*j) {
                Some(r) => one(Integer(r)),
                None => err("integer overflow"),
            },
            (BinOp::Sub, Integer(i), Integer(j)) => match i.checked_sub(*j) {
                Some(r) => one(Integer(r)),
                None => err("integer overflow"),
            },
            (BinOp::Mul, Integer(i), Integer(j)) => match i.checked_mul(*j) {
                Some(r) => one(Integer(r)),
                None => err("integer overflow"),
            },
            (BinOp::IntDiv, Integer(i), Integer(j)) => match i.checked_div(*j) {
                Some(r) => one(Integer(r)),
                None => none(),
            },
            (BinOp::Mod, Integer(i), Integer(j)) => match i.checked_rem(*j) {
                Some(r) => one(Integer(r)),
                None => none(),
            },
            (_, Integer(_) | Decimal(_), Integer(_) | Decimal(_)) => {
                let (p, q) = (as_dec(&x), as_dec(&y));
                let r = match op {
                    BinOp::Add => p.checked_add(q),
                    BinOp::Sub => p.checked_sub(q),
                    BinOp::Mul => p.checked_mul(q),
                    BinOp::Div => {
                        if q.is_zero() {
                            return none();
                        }
                        p.checked_div(q)
                    }
                    BinOp::IntDiv => {
                        if q.is_zero() {
                            return none();
                        }
                        return match p.checked_div(q).and_then(|r| r.trunc().to_i64()) {
                            Some(r) => one(Integer(r)),
                            None => err("decimal overflow"),
                        };
                    }
                    BinOp::Mod => {
                        if q.is_zero() {
                            return none();
                        }
                        p.checked_rem(q)
                    }
                    _ => None,
                };
                match r {
                    Some(r) => one(Decimal(r)),
                    None => err("decimal overflow"),
                }
            }
            (BinOp::Add, String(s), String(t)) => {
                self.check_string(s.len() + t.len())?;
                one(str_val(format!("{s}{t}")))
            }
            (BinOp::Add | BinOp::Sub, Date(p) | DateTime(p) | Time(p), Quantity(q)) => {
                let unit =
                    date_unit(q).ok_or_else(|| EvalError::new("not a time-valued quantity"))?;
                if matches!(x, Time(_)) && matches!(unit, "year" | "month" | "week" | "day") {
                    return err("cannot add date units to a time");
                }
                let amount = if op == BinOp::Sub { -q.value } else { q.value };
                let r = match p.add(amount, unit) {
                    Some(r) => r,
                    None => return err("date/time arithmetic out of range"),
                };
                one(match x {
                    Date(_) => Date(r),
                    DateTime(_) => DateTime(r),
                    _ => Time(r),
                })
            }
            (BinOp::Add | BinOp::Sub, Quantity(p), Quantity(q)) => {
                let qv = if p.unit == q.unit {
                    q.value
                } else {
                    let (Some((a, da)), Some((b, db))) = (p.canonical(), q.canonical()) else {
                        return none();
                    };
                    if da != db || a.is_zero() && p.value.is_zero() {
                        return none();
                    }
                    // Convert q into p's unit.
                    let factor = a.checked_div(p.value).unwrap_or(rust_decimal::Decimal::ONE);
                    b.checked_div(factor).unwrap_or(q.value)
                };
                let v = if op == BinOp::Add {
                    p.value.checked_add(qv)
                } else {
                    p.value.checked_sub(qv)
                };
                match v {
                    Some(v) => one(Quantity(crate::value::Quantity {
                        value: v,
                        unit: p.unit.clone(),
                    })),
                    None => err("decimal overflow"),
                }
            }
            (BinOp::Mul | BinOp::Div, Quantity(p), Quantity(q)) => {
                let (Some((a, da)), Some((b, db))) = (p.canonical(), q.canonical()) else {
                    return none();
                };
                let mut dims: fhirreg_ucum::Dims = [0; 7];
                for i in 0..7 {
                    dims[i] = if op == BinOp::Mul {
                        da[i].saturating_add(db[i])
                    } else {
                        da[i].saturating_sub(db[i])
                    };
                }
                let v = if op == BinOp::Mul {
                    a.checked_mul(b)
                } else if b.is_zero() {
                    return none();
                } else {
                    a.checked_div(b)
                };
                match v {
                    Some(v) => one(Quantity(crate::value::Quantity {
                        value: v,
                        unit: fhirreg_ucum::canonical_unit(&dims),
                    })),
                    None => err("decimal overflow"),
                }
            }
            (BinOp::Mul | BinOp::Div, Quantity(p), Integer(_) | Decimal(_)) => {
                let k = as_dec(&y);
                let v = if op == BinOp::Mul {
                    p.value.checked_mul(k)
                } else if k.is_zero() {
                    return none();
                } else {
                    p.value.checked_div(k)
                };
                match v {
                    Some(v) => one(Quantity(crate::value::Quantity {
                        value: v,
                        unit: p.unit.clone(),
                    })),
                    None => err("decimal overflow"),
                }
            }
            (BinOp::Mul, Integer(_) | Decimal(_), Quantity(q)) => {
                match as_dec(&x).checked_mul(q.value) {
                    Some(v) => one(Quantity(crate::value::Quantity {
                        value: v,
                        unit: q.unit.clone(),
                    })),
                    None => err("decimal overflow"),
                }
            }
            _ => err(format!(
                "operator not defined for {} and {}",
                x.type_name().unwrap_or("element"),
                y.type_name().unwrap_or("element")
            )),
        }
    }

    // ---------------------------------------------------------------- types

    fn is_type(&self, v: &Value<'a>, ts: &TypeSpec) -> bool {
        self.is_type_inner(v, ts, true)
    }

    /// `exact_primitives`: FHIR primitives match only their own type (as the
    /// suite expects for `as`/`ofType`: `code` is not `as(string)`).
    fn is_type_inner(&self, v: &Value<'a>, ts: &TypeSpec, subtypes_of_primitives: bool) -> bool {
        let ns = ts.namespace.as_deref();
        let name = ts.name.as_str();
        match v {
            Value::Node(n) => {
                if ns == Some("System") {
                    return false;
                }
                let Some(t) = n.type_name() else { return false };
                let t = t.strip_prefix("System.").unwrap_or(t);
                if t == name {
                    return true;
                }
                if !subtypes_of_primitives && t.starts_with(|c: char| c.is_ascii_lowercase()) {
                    return false;
                }
                self.ctx.model.is_some_and(|m| m.is_subtype(t, name))
            }
            _ => {
                if ns == Some("FHIR") {
                    return false;
                }
                v.type_name() == Some(name)
            }
        }
    }

    fn check_type_known(&self, ts: &TypeSpec) -> R<()> {
        let Some(m) = self.ctx.model else {
            return Ok(());
        };
        let known = match ts.namespace.as_deref() {
            Some("System") => true,
            Some("FHIR") => m.type_named(&ts.name).is_some(),
            None => SYSTEM_TYPES.contains(&ts.name.as_str()) || m.type_named(&ts.name).is_some(),
            Some(_) => false,
        };
        if known {
            Ok(())
        } else {
            err(format!("unknown type {ts}"))
        }
    }

    fn type_func(&self, f: Func, input: &[Value<'a>], ts: &TypeSpec) -> R<Coll<'a>> {
        self.check_type_known(ts)?;
        match f {
            Func::OfType => Ok(input
                .iter()
                .filter(|v| self.is_type_inner(v, ts, false))
                .cloned()
                .collect()),
            Func::Is => match input {
                [] => Ok(Vec::new()),
                [v] => Ok(vec![Value::Boolean(self.is_type(v, ts))]),
                _ => err("is() on a collection"),
            },
            _ => match input {
                [] => Ok(Vec::new()),
                [v] => Ok(if self.is_type_inner(v, ts, false) {
                    vec![v.clone()]
                } else {
                    Vec::new()
                }),
                // The R4 core invariants (dom-3) apply as() to collections;
                // outside strict mode it filters like ofType().
                _ if !self.ctx.strict => Ok(input
                    .iter()
                    .filter(|v| self.is_type_inner(v, ts, false))
                    .cloned()
                    .collect()),
                _ => err("as() on a collection"),
            },
        }
    }

    // ---------------------------------------------------------------- functions

    fn lambda<F>(
        &self,
        input: &[Value<'a>],
        arg: &'a Expr,
        scope: Scope<'_, 'a>,
        d: usize,
        mut f: F,
    ) -> R<()>
    where
        F: FnMut(usize, &Value<'a>, Coll<'a>) -> R<bool>,
    {
        self.lambda_depth.set(self.lambda_depth.get() + 1);
        let result = (|| {
            for (i, item) in input.iter().enumerate() {
                let s = Scope {
                    this: std::slice::from_ref(item),
                    index: Some(i),
                    total: scope.total,
                };
                let r = self.eval(arg, s, d)?;
                if !f(i, item, r)? {
                    break;
                }
            }
            Ok(())
        })();
        self.lambda_depth.set(self.lambda_depth.get() - 1);
        result
    }

    fn call(
        &self,
        f: Func,
        input: &[Value<'a>],
        args: &'a [Expr],
        scope: Scope<'_, 'a>,
        d: usize,
    ) -> R<Coll<'a>> {
        use Func as F;
        let b = |x: bool| Ok(vec![Value::Boolean(x)]);
        let arg0 = args.first();
        match f {
            F::Empty => b(input.is_empty()),
            F::Exists => match arg0 {
                None => b(!input.is_empty()),
                Some(a) => {
                    let mut found = false;
                    self.lambda(input, a, scope, d, |_, _, r| {
                        if self.to_bool(&r)? == Some(true) {
                            found = true;
                            return Ok(false);
                        }
                        Ok(true)
                    })?;
                    b(found)
                }
            },
            F::All => {
                let mut all = true;
                if let Some(a) = arg0 {
                    self.lambda(input, a, scope, d, |_, _, r| {
                        if self.to_bool(&r)? != Some(true) {
                            all = false;
                            return Ok(false);
                        }
                        Ok(true)
                    })?;
                }
                b(all)
            }
            F::AllTrue | F::AnyTrue | F::AllFalse | F::AnyFalse => {
                let mut vals = Vec::with_capacity(input.len());
                for v in input {
                    match v.to_primitive() {
                        Some(Value::Boolean(x)) => vals.push(x),
                        _ => return err("expected booleans"),
                    }
                }
                b(match f {
                    F::AllTrue => vals.iter().all(|x| *x),
                    F::AnyTrue => vals.iter().any(|x| *x),
                    F::AllFalse => vals.iter().all(|x| !*x),
                    _ => vals.iter().any(|x| !*x),
                })
            }
            F::SubsetOf | F::SupersetOf => {
                let other = self.arg(at(args, 0)?, scope, d)?;
                let (small, big) = if f == F::SubsetOf {
                    (input, &other[..])
                } else {
                    (&other[..], input)
                };
                b(self.membership(small, big).into_iter().all(|x| x))
            }
            F::Count => Ok(vec![Value::Integer(input.len() as i64)]),
            F::Distinct => Ok(self.distinct(input.to_vec())),
            F::IsDistinct => b(input.len() < 2 || self.distinct_mask(input).into_iter().all(|x| x)),
            F::Where => {
                let mut out = Vec::new();
                self.lambda(input, at(args, 0)?, scope, d, |_, item, r| {
                    if self.to_bool(&r)? == Some(true) {
                        out.push(item.clone());
                    }
                    Ok(true)
                })?;
                Ok(out)
            }
            F::Select => {
                let mut out = Vec::new();
                self.lambda(input, at(args, 0)?, scope, d, |_, _, r| {
                    out.extend(r);
                    self.check_len(out.len())?;
                    Ok(true)
                })?;
                Ok(out)
            }
            F::Repeat => {
                let mut out: Coll<'a> = Vec::new();
                let mut frontier: Coll<'a> = input.to_vec();
                let mut level = 0;
                while !frontier.is_empty() {
                    level += 1;
                    if level + d > self.ctx.limits.max_depth * 50 {
                        return err("repeat() did not converge");
                    }
                    let mut next = Vec::new();
                    self.lambda(&frontier, at(args, 0)?, scope, d, |_, _, r| {
                        for v in r {
                            if !self.contains_item(&out, &v) {
                                out.push(v.clone());
                                next.push(v);
                            }
                        }
                        self.check_len(out.len())?;
                        Ok(true)
                    })?;
                    frontier = next;
                }
                Ok(out)
            }
            F::Single => match input {
                [] => Ok(Vec::new()),
                [v] => Ok(vec![v.clone()]),
                _ => err("single() on a collection of more than one item"),
            },
            F::First => Ok(input.first().cloned().into_iter().collect()),
            F::Last => Ok(input.last().cloned().into_iter().collect()),
            F::Tail => Ok(input.iter().skip(1).cloned().collect()),
            F::Skip | F::Take => {
                let Some(n) = self.arg_int(at(args, 0)?, scope, d)? else {
                    return Ok(if f == F::Skip {
                        input.to_vec()
                    } else {
                        Vec::new()
                    });
                };
                let n = usize::try_from(n.max(0)).unwrap_or(0);
                Ok(if f == F::Skip {
                    input.iter().skip(n).cloned().collect()
                } else {
                    input.iter().take(n).cloned().collect()
                })
            }
            F::Intersect => {
                let other = self.arg(at(args, 0)?, scope, d)?;
                let member = self.membership(input, &other);
                let items: Coll<'a> = input
                    .iter()
                    .zip(member)
                    .filter(|(_, m)| *m)
                    .map(|(v, _)| v.clone())
                    .collect();
                Ok(self.distinct(items))
            }
            F::Exclude => {
                let other = self.arg(at(args, 0)?, scope, d)?;
                let member = self.membership(input, &other);
                Ok(input
                    .iter()
                    .zip(member)
                    .filter(|(_, m)| !*m)
                    .map(|(v, _)| v.clone())
                    .collect())
            }
            F::Union | F::Combine => {
                let other = self.arg(at(args, 0)?, scope, d)?;
                let mut all = input.to_vec();
                all.extend(other);
                self.check_len(all.len())?;
                Ok(if f == F::Union {
                    self.distinct(all)
                } else {
                    all
                })
            }
            F::Iif => {
                if input.len() > 1 {
                    return err("iif() on a collection");
                }
                let s = if input.len() == 1 && !std::ptr::eq(input.as_ptr(), scope.this.as_ptr()) {
                    Scope {
                        this: input,
                        index: Some(0),
                        total: scope.total,
                    }
                } else {
                    scope
                };
                let c = self.eval(at(args, 0)?, s, d)?;
                let cond = if self.ctx.strict {
                    self.strict_bool(&c)?
                } else {
                    match c.as_slice() {
                        [] => None,
                        [v] => match v.to_primitive() {
                            Some(Value::Boolean(x)) => Some(x),
                            _ => return err("iif() criterion is not a boolean"),
                        },
                        _ => return err("iif() criterion is a collection"),
                    }
                };
                if cond == Some(true) {
                    self.eval(at(args, 1)?, s, d)
                } else {
                    match args.get(2) {
                        Some(e) => self.eval(e, s, d),
                        None => Ok(Vec::new()),
                    }
                }
            }
            F::ToBoolean | F::ConvertsToBoolean => {
                self.convert(f, input, |v| to_boolean(&v).map(Value::Boolean))
            }
            F::ToInteger | F::ConvertsToInteger => self.convert(f, input, |v| match v {
                Value::Integer(i) => Some(Value::Integer(i)),
                Value::Boolean(x) => Some(Value::Integer(i64::from(x))),
                Value::String(s) => {
                    let t = s.strip_prefix(['+', '-']).unwrap_or(&s);
                    if !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit()) {
                        s.parse().ok().map(Value::Integer)
                    } else {
                        None
                    }
                }
                _ => None,
            }),
            F::ToDecimal | F::ConvertsToDecimal => self.convert(f, input, |v| match v {
                Value::Integer(i) => Some(Value::Decimal(Decimal::from(i))),
                Value::Decimal(x) => Some(Value::Decimal(x)),
                Value::Boolean(x) => {
                    Some(Value::Decimal(if x { Decimal::ONE } else { Decimal::ZERO }))
                }
                Value::String(s) => {
                    let t = s.strip_prefix(['+', '-']).unwrap_or(&s);
                    let ok = !t.is_empty()
                        && t.bytes().all(|c| c.is_ascii_digit() || c == b'.')
                        && !t.starts_with('.')
                        && !t.ends_with('.')
                        && t.bytes().filter(|c| *c == b'.').count() <= 1;
                    if ok {
                        Decimal::from_str_exact(&s).ok().map(Value::Decimal)
                    } else {
                        None
                    }
                }
                _ => None,
            }),
            F::ToString | F::ConvertsToString => {
                self.convert(f, input, |v| v.to_text().map(Value::String))
            }
            F::ToDate | F::ConvertsToDate => self.convert(f, input, |v| match v {
                Value::Date(x) => Some(Value::Date(x)),
                Value::DateTime(x) => Some(Value::Date(x.to_date())),
                Value::String(s) => parse_date(&s)
                    .or_else(|| parse_datetime(&s).map(|x| x.to_date()))
                    .map(Value::Date),
                _ => None,
            }),
            F::ToDateTime | F::ConvertsToDateTime => self.convert(f, input, |v| match v {
                Value::Date(x) | Value::DateTime(x) => Some(Value::DateTime(x)),
                Value::String(s) => parse_datetime(&s).map(Value::DateTime),
                _ => None,
            }),
            F::ToTime | F::ConvertsToTime => self.convert(f, input, |v| match v {
                Value::Time(x) => Some(Value::Time(x)),
                Value::String(s) => parse_time(s.strip_prefix('T').unwrap_or(&s)).map(Value::Time),
                _ => None,
            }),
            F::ToQuantity | F::ConvertsToQuantity => {
                let target = match arg0 {
                    Some(a) => self.arg_string(a, scope, d)?,
                    None => None,
                };
                self.convert(f, input, |v| {
                    let q = match v {
                        Value::Quantity(q) => Some(q),
                        Value::Integer(i) => Some(Quantity {
                            value: Decimal::from(i),
                            unit: "1".into(),
                        }),
                        Value::Decimal(x) => Some(Quantity {
                            value: x,
                            unit: "1".into(),
                        }),
                        Value::Boolean(x) => Some(Quantity {
                            value: if x { Decimal::ONE } else { Decimal::ZERO },
                            unit: "1".into(),
                        }),
                        Value::String(s) => parse_quantity(&s),
                        _ => None,
                    }?;
                    match &target {
                        None => Some(Value::Quantity(q)),
                        Some(u) if *u == q.unit => Some(Value::Quantity(q)),
                        Some(u) => {
                            let (v, dims) = q.canonical()?;
                            let (factor, target_dims) = crate::value::unit_factor(u)?;
                            (target_dims == dims).then(|| {
                                Value::Quantity(Quantity {
                                    value: (v / factor).normalize(),
                                    unit: u.to_string(),
                                })
                            })
                        }
                    }
                })
            }
            F::IndexOf => {
                let Some(s) = self.input_string(input)? else {
                    return Ok(Vec::new());
                };
                let Some(sub) = self.arg_string(at(args, 0)?, scope, d)? else {
                    return Ok(Vec::new());
                };
                let idx = match s.find(&*sub) {
                    Some(byte) => s[..byte].chars().count() as i64,
                    None => -1,
                };
                Ok(vec![Value::Integer(idx)])
            }
            F::Substring => {
                let Some(s) = self.input_string(input)? else {
                    return Ok(Vec::new());
                };
                let Some(start) = self.arg_int(at(args, 0)?, scope, d)? else {
                    return Ok(Vec::new());
                };
                let len = match args.get(1) {
                    Some(a) => self.arg_int(a, scope, d)?,
                    None => None,
                };
                let n = s.chars().count() as i64;
                if start < 0 || start >= n {
                    return Ok(Vec::new());
                }
                let take = len.unwrap_or(n).max(0);
                let r: String = s
                    .chars()
                    .skip(start as usize)
                    .take(usize::try_from(take).unwrap_or(0))
                    .collect();
                Ok(vec![str_val(r)])
            }
            F::StartsWith | F::EndsWith | F::Contains => {
                let Some(s) = self.input_string(input)? else {
                    return Ok(Vec::new());
                };
                let Some(sub) = self.arg_string(at(args, 0)?, scope, d)? else {
                    return Ok(Vec::new());
                };
                b(match f {
                    F::StartsWith => s.starts_with(&*sub),
                    F::EndsWith => s.ends_with(&*sub),
                    _ => s.contains(&*sub),
                })
            }
            F::Upper | F::Lower | F::Trim | F::Length | F::ToChars => {
                let Some(s) = self.input_string(input)? else {
                    return Ok(Vec::new());
                };
                Ok(match f {
                    F::Upper => vec![str_val(s.to_uppercase())],
                    F::Lower => vec![str_val(s.to_lowercase())],
                    F::Trim => vec![str_val(s.trim().to_string())],
                    F::Length => vec![Value::Integer(s.chars().count() as i64)],
                    _ => s.chars().map(|c| str_val(c.to_string())).collect(),
                })
            }
            F::Replace => {
                let Some(s) = self.input_string(input)? else {
                    return Ok(Vec::new());
                };
                let (Some(p), Some(r)) = (
                    self.arg_string(at(args, 0)?, scope, d)?,
                    self.arg_string(at(args, 1)?, scope, d)?,
                ) else {
                    return Ok(Vec::new());
                };
                let est = if p.is_empty() {
                    s.len() + (s.len() + 1) * r.len()
                } else {
                    s.len() / p.len().max(1) * r.len() + s.len()
                };
                self.check_string(est)?;
                Ok(vec![str_val(s.replace(&*p, &r))])
            }
            F::Matches | F::MatchesFull | F::ReplaceMatches => {
                let Some(s) = self.input_string(input)? else {
                    return Ok(Vec::new());
                };
                let Some(p) = self.arg_string(at(args, 0)?, scope, d)? else {
                    return Ok(Vec::new());
                };
                let compiled;
                let re: &regex::Regex = match args.first() {
                    Some(Expr::Pattern(_, Some(re))) => re,
                    _ => {
                        compiled = cached_regex(&p, f == F::MatchesFull).map_err(|e| {
                            EvalError::new(format!("invalid regular expression: {e}"))
                        })?;
                        &compiled
                    }
                };
                if f == F::ReplaceMatches {
                    let Some(r) = self.arg_string(at(args, 1)?, scope, d)? else {
                        return Ok(Vec::new());
                    };
                    if p.is_empty() {
                        return Ok(vec![str_val(s)]);
                    }
                    let out = re.replace_all(&s, &*r).into_owned();
                    self.check_string(out.len())?;
                    return Ok(vec![str_val(out)]);
                }
                b(re.is_match(&s))
            }
            F::Split => {
                let Some(s) = self.input_string(input)? else {
                    return Ok(Vec::new());
                };
                let Some(sep) = self.arg_string(at(args, 0)?, scope, d)? else {
                    return Ok(Vec::new());
                };
                let parts: Coll<'a> = if sep.is_empty() {
                    s.chars().map(|c| str_val(c.to_string())).collect()
                } else {
                    s.split(&*sep).map(|p| str_val(p.to_string())).collect()
                };
                self.check_len(parts.len())?;
                Ok(parts)
            }
            F::Join => {
                let sep = match arg0 {
                    Some(a) => self.arg_string(a, scope, d)?.unwrap_or_default(),
                    None => Cow::Borrowed(""),
                };
                let mut parts = Vec::with_capacity(input.len());
                for v in input {
                    parts.push(
                        v.to_text()
                            .ok_or_else(|| EvalError::new("join() on a complex element"))?,
                    );
                }
                let total: usize = parts.iter().map(|p| p.len() + sep.len()).sum();
                self.check_string(total)?;
                Ok(vec![str_val(parts.join(&*sep))])
            }
            F::Encode | F::Decode | F::Escape | F::Unescape => {
                let Some(s) = self.input_string(input)? else {
                    return Ok(Vec::new());
                };
                let Some(kind) = self.arg_string(at(args, 0)?, scope, d)? else {
                    return Ok(Vec::new());
                };
                let r = crate::strings::transform(f, &s, &kind);
                Ok(r.map(str_val).into_iter().collect())
            }
            F::Abs
            | F::Ceiling
            | F::Exp
            | F::Floor
            | F::Ln
            | F::Sqrt
            | F::Truncate
            | F::Round
            | F::Log
            | F::Power => {
                let Some(v) = self.singleton(input)? else {
                    return Ok(Vec::new());
                };
                let extra = match arg0 {
                    Some(a) => {
                        let av = self.arg(a, scope, d)?;
                        match self.singleton(&av)? {
                            None => return Ok(Vec::new()),
                            Some(x) => Some(x),
                        }
                    }
                    None => None,
                };
                self.math(f, v, extra)
            }
            F::Children => {
                let mut out = Vec::new();
                for v in input {
                    self.children_of(v, &mut out);
                }
                self.check_len(out.len())?;
                Ok(out)
            }
            F::Descendants => {
                let mut out = Vec::new();
                let mut frontier: Coll<'a> = input.to_vec();
                let mut level = 0usize;
                while !frontier.is_empty() {
                    level += 1;
                    if level > self.ctx.limits.max_depth * 50 {
                        return err("descendants() too deep");
                    }
                    let mut next = Vec::new();
                    for v in &frontier {
                        self.children_of(v, &mut next);
                    }
                    out.extend(next.iter().cloned());
                    self.check_len(out.len())?;
                    frontier = next;
                }
                Ok(out)
            }
            F::Trace => {
                let name = self.arg_string(at(args, 0)?, scope, d)?.unwrap_or_default();
                if let Some(t) = self.ctx.tracer {
                    match args.get(1) {
                        Some(p) => {
                            let mut shown = Vec::new();
                            self.lambda(input, p, scope, d, |_, _, r| {
                                shown.extend(r);
                                Ok(true)
                            })?;
                            t.trace(&name, &shown);
                        }
                        None => t.trace(&name, input),
                    }
                }
                Ok(input.to_vec())
            }
            F::Now => Ok(vec![Value::DateTime(self.now())]),
            F::Today => Ok(vec![Value::Date(self.now().to_date())]),
            F::TimeOfDay => {
                let mut t = self.now();
                t.time_only = true;
                t.tz = None;
                Ok(vec![Value::Time(t)])
            }
            F::Aggregate => {
                let mut total: Coll<'a> = match args.get(1) {
                    Some(init) => self.eval(init, scope, d)?,
                    None => Vec::new(),
                };
                for (i, item) in input.iter().enumerate() {
                    let s = Scope {
                        this: std::slice::from_ref(item),
                        index: Some(i),
                        total: Some(&total),
                    };
                    let next = self.eval(at(args, 0)?, s, d)?;
                    total = next;
                }
                Ok(total)
            }
            F::Not => match self.to_bool(input)? {
                None => Ok(Vec::new()),
                Some(x) => b(!x),
            },
            F::Sort => self.sort(input, args, scope, d),
            F::Precision | F::LowBoundary | F::HighBoundary => {
                let Some(v) = self.singleton(input)? else {
                    return Ok(Vec::new());
                };
                let p = match arg0 {
                    Some(a) => self.arg_int(a, scope, d)?,
                    None => None,
                };
                Ok(crate::boundary::apply(f, &v, p).into_iter().collect())
            }
            F::Comparable => {
                let other = self.arg(at(args, 0)?, scope, d)?;
                let (Some(Value::Quantity(p)), Some(Value::Quantity(q))) =
                    (self.singleton(input)?, self.singleton(&other)?)
                else {
                    return Ok(Vec::new());
                };
                b(p.compare(&q).is_some())
            }
            F::Type => Ok(input
                .iter()
                .filter_map(|v| {
                    let t = v.type_name()?;
                    let (ns, name) = match (v, t.strip_prefix("System.")) {
                        (Value::Node(_), Some(s)) => ("System", s),
                        (Value::Node(_), None) => ("FHIR", t),
                        _ => ("System", t),
                    };
                    Some(Value::Type(crate::value::TypeInfo {
                        namespace: ns.to_string(),
                        name: name.to_string(),
                    }))
                })
                .collect()),
            F::Extension => {
                let Some(url) = self.arg_string(at(args, 0)?, scope, d)? else {
                    return Ok(Vec::new());
                };
                let exts = self.navigate_inner(input, "extension", false)?;
                Ok(exts
                    .into_iter()
                    .filter(|e| e.as_element().and_then(|el| el.child_value("url")) == Some(&*url))
                    .collect())
            }
            F::HasValue => b(matches!(input, [v] if match v {
                Value::Node(n) => n.element.value().is_some(),
                _ => true,
            })),
            F::GetValue => Ok(match input {
                [Value::Node(n)] if n.element.value().is_some() => {
                    Value::Node(n.clone()).to_primitive().into_iter().collect()
                }
                _ => Vec::new(),
            }),
            F::Resolve => {
                let mut out = Vec::new();
                for v in input {
                    if let Some(el) = self.resolve(v) {
                        let element_type = el
                            .resource_type()
                            .and_then(|rt| self.ctx.model.and_then(|m| m.type_named(rt)));
                        out.push(Value::Node(Node {
                            element: el,
                            element_type,
                        }));
                    }
                }
                Ok(out)
            }
            F::ConformsTo => {
                let Some(url) = self.arg_string(at(args, 0)?, scope, d)? else {
                    return Ok(Vec::new());
                };
                let mut out = Vec::new();
                for v in input {
                    let Some(el) = v.as_element() else {
                        return err("conformsTo() on a non-element");
                    };
                    let r = match self.ctx.conformance.and_then(|h| h.conforms_to(el, &url)) {
                        Some(r) => r,
                        None => {
                            match url.strip_prefix("http://hl7.org/fhir/StructureDefinition/") {
                                Some(t)
                                    if self.ctx.model.is_none_or(|m| m.type_named(t).is_some()) =>
                                {
                                    let rt = el.resource_type().unwrap_or("");
                                    rt == t || self.ctx.model.is_some_and(|m| m.is_subtype(rt, t))
                                }
                                _ => return err(format!("unknown profile {url}")),
                            }
                        }
                    };
                    out.push(Value::Boolean(r));
                }
                Ok(out)
            }
            F::MemberOf => {
                let Some(vs) = self.arg_string(at(args, 0)?, scope, d)? else {
                    return Ok(Vec::new());
                };
                let Some(hook) = self.ctx.terminology else {
                    return Ok(Vec::new());
                };
                match input {
                    [] => Ok(Vec::new()),
                    [v] => Ok(hook
                        .member_of(v, &vs)
                        .map(Value::Boolean)
                        .into_iter()
                        .collect()),
                    _ => err("memberOf() on a collection"),
                }
            }
            F::Subsumes | F::SubsumedBy => {
                let other = self.arg(at(args, 0)?, scope, d)?;
                let Some(hook) = self.ctx.terminology else {
                    return Ok(Vec::new());
                };
                match (input, other.as_slice()) {
                    ([a], [o]) => {
                        let r = if f == F::Subsumes {
                            hook.subsumes(a, o)
                        } else {
                            hook.subsumes(o, a)
                        };
                        Ok(r.map(Value::Boolean).into_iter().collect())
                    }
                    _ => Ok(Vec::new()),
                }
            }
            F::HtmlChecks | F::HtmlChecks2 => {
                b(input
                    .iter()
                    .all(|v| match v.as_element().and_then(|e| e.value()) {
                        Some(html) => crate::strings::html_ok(html),
                        None => true,
                    }))
            }
            F::ElementDefinition | F::Slice => Ok(Vec::new()),
            F::CheckModifiers => Ok(input.to_vec()),
            F::OfType | F::Is | F::As => err("type function without a type"),
        }
    }

    fn convert<F>(&self, f: crate::functions::Func, input: &[Value<'a>], conv: F) -> R<Coll<'a>>
    where
        F: Fn(Value<'a>) -> Option<Value<'a>>,
    {
        let v = match input {
            [] => return Ok(Vec::new()),
            [v] => v.to_primitive(),
            _ => return err("conversion of a collection"),
        };
        let r = v.and_then(conv);
        let checks = matches!(
            f,
            Func::ConvertsToBoolean
                | Func::ConvertsToInteger
                | Func::ConvertsToDecimal
                | Func::ConvertsToString
                | Func::ConvertsToDate
                | Func::ConvertsToDateTime
                | Func::ConvertsToTime
                | Func::ConvertsToQuantity
        );
        if checks {
            Ok(vec![Value::Boolean(r.is_some())])
        } else {
            Ok(r.into_iter().collect())
        }
    }

    fn math(&self, f: Func, v: Value<'a>, extra: Option<Value<'a>>) -> R<Coll<'a>> {
        use Func as F;
        let dec =
            |x: Option<Decimal>| -> R<Coll<'a>> { Ok(x.map(Value::Decimal).into_iter().collect()) };
        match (f, &v) {
            (F::Abs, Value::Integer(i)) => match i.checked_abs() {
                Some(r) => Ok(vec![Value::Integer(r)]),
                None => err("integer overflow"),
            },
            (F::Abs, Value::Decimal(x)) => dec(Some(x.abs())),
            (F::Abs, Value::Quantity(q)) => Ok(vec![Value::Quantity(Quantity {
                value: q.value.abs(),
                unit: q.unit.clone(),
            })]),
            (_, Value::Integer(_) | Value::Decimal(_)) => {
                let x = as_dec(&v);
                match f {
                    F::Ceiling => Ok(x.ceil().to_i64().map(Value::Integer).into_iter().collect()),
                    F::Floor => Ok(x.floor().to_i64().map(Value::Integer).into_iter().collect()),
                    F::Truncate => Ok(x.trunc().to_i64().map(Value::Integer).into_iter().collect()),
                    F::Exp => dec(x.checked_exp()),
                    F::Ln => dec(if x <= Decimal::ZERO {
                        None
                    } else {
                        x.checked_ln()
                    }),
                    F::Sqrt => dec(if x < Decimal::ZERO { None } else { x.sqrt() }),
                    F::Round => {
                        let p = match extra {
                            Some(Value::Integer(p)) if p >= 0 => p as u32,
                            Some(_) => {
                                return err("round() precision must be a non-negative integer")
                            }
                            None => 0,
                        };
                        dec(Some(x.round_dp_with_strategy(
                            p.min(28),
                            rust_decimal::RoundingStrategy::MidpointAwayFromZero,
                        )))
                    }
                    F::Log => {
                        let Some(base) = extra.map(|b| as_dec(&b)) else {
                            return Ok(Vec::new());
                        };
                        if x <= Decimal::ZERO || base <= Decimal::ZERO || base == Decimal::ONE {
                            return Ok(Vec::new());
                        }
                        let (Some(a), Some(bl)) = (x.checked_ln(), base.checked_ln()) else {
                            return Ok(Vec::new());
                        };
                        dec(a.checked_div(bl).map(|r| r.round_dp(20).normalize()))
                    }
                    F::Power => {
                        let Some(e) = extra else {
                            return Ok(Vec::new());
                        };
                        if let (Value::Integer(bi), Value::Integer(ei)) = (&v, &e) {
                            if *ei >= 0 {
                                let r = u32::try_from(*ei).ok().and_then(|e| bi.checked_pow(e));
                                return match r {
                                    Some(r) => Ok(vec![Value::Integer(r)]),
                                    None => err("integer overflow"),
                                };
                            }
                        }
                        let ed = as_dec(&e);
                        if x < Decimal::ZERO && ed.fract() != Decimal::ZERO {
                            return Ok(Vec::new());
                        }
                        let r = if ed.fract().is_zero() {
                            ed.to_i64().and_then(|n| x.checked_powi(n))
                        } else {
                            x.checked_powd(ed)
                        };
                        dec(r.map(|r| r.normalize()))
                    }
                    _ => err("unsupported math function"),
                }
            }
            _ => err("math function on a non-number"),
        }
    }

    fn sort(
        &self,
        input: &[Value<'a>],
        args: &'a [Expr],
        scope: Scope<'_, 'a>,
        d: usize,
    ) -> R<Coll<'a>> {
        let mut keyed: Vec<(Vec<Coll<'a>>, Value<'a>)> = Vec::with_capacity(input.len());
        let mut desc = Vec::new();
        let mut exprs: Vec<&'a Expr> = Vec::new();
        for a in args {
            match a {
                Expr::Neg(inner) => {
                    desc.push(true);
                    exprs.push(inner);
                }
                other => {
                    desc.push(false);
                    exprs.push(other);
                }
            }
        }
        for (i, item) in input.iter().enumerate() {
            let s = Scope {
                this: std::slice::from_ref(item),
                index: Some(i),
                total: scope.total,
            };
            let mut keys = Vec::new();
            if exprs.is_empty() {
                keys.push(vec![item.clone()]);
            }
            for e in &exprs {
                keys.push(self.eval(e, s, d)?);
            }
            keyed.push((keys, item.clone()));
        }
        let mut failure = None;
        keyed.sort_by(|a, b| {
            for (k, (ka, kb)) in a.0.iter().zip(b.0.iter()).enumerate() {
                let o = match (ka.first(), kb.first()) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Greater,
                    (Some(_), None) => Ordering::Less,
                    (Some(x), Some(y)) => match self.compare(x, y) {
                        Ok(Some(o)) => o,
                        Ok(None) => Ordering::Equal,
                        Err(e) => {
                            failure = Some(e);
                            Ordering::Equal
                        }
                    },
                };
                let o = if desc.get(k).copied().unwrap_or(false) {
                    o.reverse()
                } else {
                    o
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
        if let Some(e) = failure {
            return Err(e);
        }
        Ok(keyed.into_iter().map(|(_, v)| v).collect())
    }

    fn resolve(&self, v: &Value<'a>) -> Option<Element<'a>> {
        let reference: Cow<'a, str> = match v {
            Value::String(s) => s.clone(),
            Value::Node(n) => match n.element.child_value("reference") {
                Some(r) => Cow::Borrowed(r),
                None => Cow::Borrowed(n.element.value()?),
            },
            _ => return None,
        };
        if let Some(id) = reference.strip_prefix('#') {
            let res = self.ctx.resource?;
            if id.is_empty() {
                return Some(res);
            }
            return res
                .children_named("contained")
                .find(|c| c.child_value("id") == Some(id));
        }
        for root in [self.ctx.root_resource, self.ctx.resource]
            .into_iter()
            .flatten()
        {
            if root.resource_type() == Some("Bundle") {
                for entry in root.children_named("entry") {
                    let full = entry.child_value("fullUrl");
                    let Some(res) = entry.child("resource") else {
                        continue;
                    };
                    if full == Some(&*reference) {
                        return Some(res);
                    }
                    let local = match (res.resource_type(), res.child_value("id")) {
                        (Some(t), Some(id)) => format!("{t}/{id}"),
                        _ => continue,
                    };
                    if *reference == local
                        || reference.ends_with(&format!("/{local}"))
                        || full.is_some_and(|f| f.ends_with(&format!("/{reference}")))
                    {
                        return Some(res);
                    }
                }
            }
        }
        self.ctx.resolver.and_then(|r| r.resolve(&reference))
    }
}

/// Compile a FHIRPath regular expression (`.` matches newlines; `full`:
/// anchored at both ends, for `matchesFull()`), within a size limit since
/// patterns may come from the input.
pub(crate) fn build_regex(p: &str, full: bool) -> Result<regex::Regex, regex::Error> {
    let pat = if full {
        Cow::Owned(format!("^(?:{p})$"))
    } else {
        Cow::Borrowed(p)
    };
    regex::RegexBuilder::new(&pat)
        .dot_matches_new_line(true)
        .size_limit(1 << 20)
        .build()
}

/// Patterns computed at evaluation time: a small per-thread cache.
const REGEX_CACHE_MAX: usize = 64;

thread_local! {
    static REGEX_CACHE: RefCell<HashMap<(String, bool), Rc<regex::Regex>, FastHasher>> =
        RefCell::default();
}

fn cached_regex(p: &str, full: bool) -> Result<Rc<regex::Regex>, regex::Error> {
    let key = (p.to_string(), full);
    if let Some(re) = REGEX_CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return Ok(re);
    }
    let re = Rc::new(build_regex(p, full)?);
    REGEX_CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= REGEX_CACHE_MAX {
            c.clear();
        }
        c.insert(key, re.clone());
    });
    Ok(re)
}

fn date_unit(q: &Quantity) -> Option<&str> {
    if q.is_calendar() {
        return Some(&q.unit);
    }
    // Definite UCUM durations only (not 'a' or 'mo').
    Some(match q.unit.as_str() {
        "wk" => "week",
        "d" => "day",
        "h" => "hour",
        "min" => "minute",
        "s" => "second",
        "ms" => "millisecond",
        _ => return None,
    })
}

fn as_dec(v: &Value<'_>) -> Decimal {
    match v {
        Value::Integer(i) => Decimal::from(*i),
        Value::Decimal(d) => *d,
        _ => Decimal::ZERO,
    }
}

fn to_boolean(v: &Value<'_>) -> Option<bool> {
    match v {
        Value::Boolean(b) => Some(*b),
        Value::Integer(0) => Some(false),
        Value::Integer(1) => Some(true),
        Value::Decimal(d) if *d == Decimal::ZERO => Some(false),
        Value::Decimal(d) if *d == Decimal::ONE => Some(true),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "t" | "yes" | "y" | "1" | "1.0" => Some(true),
            "false" | "f" | "no" | "n" | "0" | "0.0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn prim_eq(x: &Value<'_>, y: &Value<'_>) -> Option<bool> {
    use Value::*;
    match (x, y) {
        (Boolean(a), Boolean(b)) => Some(a == b),
        (Integer(a), Integer(b)) => Some(a == b),
        (Integer(_) | Decimal(_), Integer(_) | Decimal(_)) => Some(as_dec(x) == as_dec(y)),
        (String(a), String(b)) => Some(a == b),
        (Date(a) | DateTime(a), Date(b) | DateTime(b)) | (Time(a), Time(b)) => {
            a.compare(b).map(|o| o == Ordering::Equal)
        }
        (Quantity(a), Quantity(b)) => a.compare(b).map(|o| o == Ordering::Equal),
        _ => Some(false),
    }
}

fn norm_ws(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn prim_equiv(x: &Value<'_>, y: &Value<'_>) -> bool {
    use Value::*;
    match (x, y) {
        (Integer(_) | Decimal(_), Integer(_) | Decimal(_)) => {
            let (a, b) = (as_dec(x), as_dec(y));
            decimal_equivalent(a, b, a.scale().min(b.scale()))
        }
        (String(a), String(b)) => norm_ws(a) == norm_ws(b),
        (Date(a) | DateTime(a), Date(b) | DateTime(b)) | (Time(a), Time(b)) => a.equivalent(b),
        (Quantity(a), Quantity(b)) => a.equivalent(b),
        _ => prim_eq(x, y) == Some(true),
    }
}

pub(crate) fn deep_eq(a: Element<'_>, b: Element<'_>, equiv: bool) -> bool {
    let val_eq = match (a.value(), b.value()) {
        (Some(x), Some(y)) => {
            if equiv {
                norm_ws(x) == norm_ws(y)
            } else {
                x == y
            }
        }
        (None, None) => true,
        _ => false,
    };
    if !val_eq {
        return false;
    }
    let keep = |c: &Element<'_>| !equiv || c.name() != "id";
    let (mut ca, mut cb) = (a.children().filter(keep), b.children().filter(keep));
    loop {
        match (ca.next(), cb.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x.name() == y.name() && deep_eq(x, y, equiv) => {}
            _ => return false,
        }
    }
}

#[allow(dead_code)]
fn dec_from_f64(f: f64) -> Option<Decimal> {
    Decimal::from_f64(f)
}

#[allow(dead_code)]
fn precision_of(p: &PartialDateTime) -> Precision {
    p.precision
}

#[allow(dead_code)]
fn quantity_type(name: &str) -> bool {
    QUANTITY_TYPES.contains(&name)
}

/// Argument `i`; the arity was checked at compile time, so a miss is an
/// internal error rather than a panic.
fn at(args: &[Expr], i: usize) -> R<&Expr> {
    args.get(i)
        .ok_or_else(|| EvalError::new("missing function argument"))
}

/// The result of a boolean operator that its left operand alone decides
/// (FHIRPath's three-valued logic; `None`: the right operand is needed).
pub(crate) fn short_circuit(op: BinOp, a: Option<bool>) -> Option<bool> {
    match (op, a) {
        (BinOp::And, Some(false)) => Some(false),
        (BinOp::Or, Some(true)) | (BinOp::Implies, Some(false)) => Some(true),
        _ => None,
    }
}

/// `and`, `or`, `xor` and `implies` on empty-or-boolean operands
/// (FHIRPath's three-valued logic; `None` is empty).
pub(crate) fn logic(op: BinOp, a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match op {
        BinOp::And => match (a, b) {
            (Some(true), Some(true)) => Some(true),
            (_, Some(false)) | (Some(false), _) => Some(false),
            _ => None,
        },
        BinOp::Or => match (a, b) {
            (Some(false), Some(false)) => Some(false),
            (_, Some(true)) | (Some(true), _) => Some(true),
            _ => None,
        },
        BinOp::Xor => match (a, b) {
            (Some(x), Some(y)) => Some(x != y),
            _ => None,
        },
        _ => match (a, b) {
            (Some(true), Some(x)) => Some(x),
            (None, Some(true)) => Some(true),
            _ => None,
        },
    }
}

#[cfg(test)]
mod distinct_tests {
    use super::*;
    use crate::value::parse_quantity;
    use fhirreg_element::{Document, NodeId, Position, ValueKind};

    /// A value node `name` under the root of `doc`.
    fn leaf(doc: &mut Document, name: &str, v: &str, kind: ValueKind) -> NodeId {
        let root = doc.root().id();
        let e = doc.add_child(root, name, Position::default());
        doc.set_value(e, v, kind);
        e
    }

    /// A complex node `name` with one value child.
    fn complex(doc: &mut Document, name: &str, child: &str) -> NodeId {
        let root = doc.root().id();
        let e = doc.add_child(root, name, Position::default());
        let c = doc.add_child(e, child, Position::default());
        doc.set_value(c, "1", ValueKind::String);
        e
    }

    fn typed<'a>(e: Element<'a>, ty: &str) -> Value<'a> {
        Value::Node(Node {
            element: e,
            element_type: Some(Arc::new(ElementType::of_type(ty))),
        })
    }

    /// The hashed paths agree with pairwise comparison on mixed collections.
    #[test]
    fn hashed_distinct_and_membership_agree_with_pairwise() {
        let mut doc = Document::new("Basic");
        let s1 = leaf(&mut doc, "a", "1", ValueKind::String);
        let s2 = leaf(&mut doc, "a", "x", ValueKind::String);
        let s3 = leaf(&mut doc, "a", "2020-01-01", ValueKind::String);
        let n1 = leaf(&mut doc, "a", "1", ValueKind::Number);
        let n2 = leaf(&mut doc, "a", "1.0", ValueKind::Number);
        let b1 = leaf(&mut doc, "a", "true", ValueKind::Boolean);
        let c1 = complex(&mut doc, "c", "x");
        let c2 = complex(&mut doc, "d", "x");
        let c3 = complex(&mut doc, "c", "y");
        let el = |id: NodeId| doc.get(id).unwrap();
        let d = |s: &str| Value::Decimal(Decimal::from_str_exact(s).unwrap());
        let pool: Vec<Value<'_>> = vec![
            str_val("1"),
            str_val("x"),
            str_val("X"),
            Value::Integer(1),
            Value::Integer(2),
            d("1.0"),
            d("2.00"),
            d("0"),
            d("-0.0"),
            Value::Boolean(true),
            Value::Boolean(false),
            Value::Date(parse_date("2020-01-01").unwrap()),
            Value::DateTime(parse_datetime("2020-01-01T10:00").unwrap()),
            Value::DateTime(parse_datetime("2020-01").unwrap()),
            Value::Quantity(parse_quantity("1 'cm'").unwrap()),
            Value::Quantity(parse_quantity("10 'mm'").unwrap()),
            Value::Type(crate::value::TypeInfo {
                namespace: "System".into(),
                name: "String".into(),
            }),
            Value::node(el(s1)),
            Value::node(el(s2)),
            Value::node(el(s3)),
            Value::node(el(n1)),
            Value::node(el(n2)),
            Value::node(el(b1)),
            typed(el(s1), "string"),
            typed(el(s1), "integer"),
            typed(el(s2), "code"),
            typed(el(s3), "date"),
            Value::node(el(c1)),
            Value::node(el(c2)),
            Value::node(el(c3)),
        ];
        let ctx = EvalContext::empty();
        let ev = Evaluator::new(&ctx);
        let pairwise_mask = |items: &[Value<'_>]| -> Vec<bool> {
            let ev = Evaluator::new(&ctx);
            let mut keep = vec![false; items.len()];
            for (i, v) in items.iter().enumerate() {
                keep[i] = !(0..i).any(|j| keep[j] && ev.item_eq(&items[j], v));
            }
            keep
        };
        // Deterministic pseudo-random collections over the pool.
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..2000 {
            let len = 9 + (next() % 24) as usize;
            // Some rounds draw only from the string-like part of the pool.
            let strings_only = round % 3 == 0;
            let pick: Vec<Value<'_>> = (0..len)
                .map(|_| {
                    let i = next() as usize % pool.len();
                    let v = &pool[i];
                    if strings_only && has_convertible(std::slice::from_ref(v)) {
                        pool[1].clone()
                    } else {
                        v.clone()
                    }
                })
                .collect();
            let (h, p) = (ev.distinct_mask(&pick), pairwise_mask(&pick));
            if h != p {
                for (i, x) in pick.iter().enumerate() {
                    for (j, y) in pick.iter().enumerate().skip(i + 1) {
                        if ev.item_eq(x, y) {
                            eprintln!("{i} = {j}: {x:?} = {y:?}");
                        }
                    }
                }
            }
            assert_eq!(h, p, "{pick:?}");
            let (a, b) = pick.split_at(len / 2);
            let want: Vec<bool> = a.iter().map(|v| ev.contains_item(b, v)).collect();
            assert_eq!(ev.membership(a, b), want, "{a:?} in {b:?}");
        }
    }
}
