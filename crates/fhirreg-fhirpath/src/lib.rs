//! FHIRPath (R4, normative N1) for fhirreg: a pest grammar -> AST ->
//! compiled [`Expression`], evaluated over the fhirreg element tree.
//!
//! An [`Expression`] is compiled once, is `Send + Sync`, and is evaluated
//! many times, on any thread, against any resource. Evaluation never clones
//! the tree: element values borrow from it ([`Value::Node`]). Type
//! information (FHIR types of properties, choice types, subtypes) comes from
//! a [`ModelInfo`], normally the registry's `FhirPathModel` over its
//! StructureDefinitions. Terminology (`memberOf`), reference resolution
//! (`resolve()`) and profile checks (`conformsTo`) are hooks on the
//! [`EvalContext`].
//!
//! ```
//! use fhirreg_element::{Document, Position, ValueKind};
//! use fhirreg_fhirpath::{EvalContext, Expression};
//!
//! let mut doc = Document::new("Patient");
//! let active = doc.add_child(doc.root().id(), "active", Position::default());
//! doc.set_value(active, "true", ValueKind::String);
//!
//! let expr = Expression::compile("Patient.active = 'true' and 1 + 1 = 2").unwrap();
//! assert_eq!(expr.evaluate_bool(&EvalContext::new(doc.root())).unwrap(), Some(true));
//! ```

mod ast;
mod boundary;
mod context;
mod distinct;
mod eval;
mod functions;
pub mod model;
mod parser;
mod strings;
mod temporal;
pub mod value;

pub use ast::TypeSpec;
pub use context::{
    ConformanceHook, EvalContext, Limits, ReferenceResolver, TerminologyHook, TraceHook,
};
pub use model::{ElementType, ModelInfo};
/// The calendar arithmetic of the workspace (the validator's date check and
/// the terminology timestamps use it too).
pub use temporal::{days_in_month, now_utc};
pub use value::{Literal, Node, PartialDateTime, Precision, Quantity, TypeInfo, Value};

/// An expression that cannot be compiled: a syntax error, an unknown
/// function or a wrong number of arguments, with its place in the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at {line}:{col} (offset {offset})")]
pub struct CompileError {
    pub message: String,
    /// Byte offset in the expression text.
    pub offset: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub col: usize,
}

impl CompileError {
    pub(crate) fn new(message: impl Into<String>, src: &str, offset: usize) -> Self {
        let offset = offset.min(src.len());
        let mut cut = offset;
        while !src.is_char_boundary(cut) {
            cut -= 1;
        }
        let before = &src[..cut];
        let line = before.matches('\n').count() + 1;
        let col = before
            .rsplit('\n')
            .next()
            .map(|l| l.chars().count())
            .unwrap_or(0)
            + 1;
        CompileError {
            message: message.into(),
            offset,
            line,
            col,
        }
    }
}

/// A failure during evaluation: a type error, a collection where a single
/// item is required, an exceeded [`Limits`] bound, ...
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    pub message: String,
}

impl EvalError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        EvalError {
            message: message.into(),
        }
    }
}

/// A compiled FHIRPath expression. `Send + Sync`; compile once, evaluate often.
#[derive(Debug, Clone)]
pub struct Expression {
    source: String,
    expr: ast::Expr,
    /// The native form of a common invariant shape (see `eval/native.rs`).
    native: Option<eval::Native>,
}

/// Maximum number of operator characters (`.`, `(`, `+`, ...) in an
/// expression; bounds the depth of the syntax tree.
pub const MAX_OPERATORS: usize = 1500;

/// Maximum length of an expression's text.
pub const MAX_EXPRESSION_LEN: usize = 64 * 1024;

impl Expression {
    /// Compile an expression.
    ///
    /// ```
    /// use fhirreg_fhirpath::Expression;
    /// assert!(Expression::compile("name.where(use = 'official').given.first()").is_ok());
    /// let err = Expression::compile("name.where(use = ").unwrap_err();
    /// assert_eq!((err.line, err.col), (1, 18));
    /// ```
    pub fn compile(src: &str) -> Result<Expression, CompileError> {
        let mut e = Expression::compile_interpreted(src)?;
        e.native = eval::Native::recognize(&e.expr);
        Ok(e)
    }

    /// Compile for the tree-walking interpreter only, without the native
    /// evaluation of common invariant shapes that [`compile`] adds (which
    /// gives the same results; this is the reference to test it against).
    ///
    /// [`compile`]: Expression::compile
    pub fn compile_interpreted(src: &str) -> Result<Expression, CompileError> {
        if src.len() > MAX_EXPRESSION_LEN {
            return Err(CompileError::new(
                "expression too long",
                src,
                MAX_EXPRESSION_LEN,
            ));
        }
        let ops = src
            .bytes()
            .filter(|b| b".[+-*/&|<>=~!(".contains(b))
            .count();
        if ops > MAX_OPERATORS {
            return Err(CompileError::new("expression too complex", src, 0));
        }
        let expr = parser::parse(src)?;
        Ok(Expression {
            source: src.to_string(),
            expr,
            native: None,
        })
    }

    /// The expression text as compiled.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// True when the expression has a native form: a boolean combination
    /// of `exists()`, `empty()`, `hasValue()`, `count()` comparisons and
    /// string tests on short paths from the focus, evaluated directly over
    /// the element tree (with the interpreter's results and errors).
    pub fn is_native(&self) -> bool {
        self.native.is_some()
    }

    /// Evaluate; the result borrows from the element tree and from this expression.
    ///
    /// ```
    /// use fhirreg_fhirpath::{EvalContext, Expression, Value};
    /// let e = Expression::compile("(1 | 2 | 2).count() + 0.5").unwrap();
    /// let out = e.evaluate(&EvalContext::empty()).unwrap();
    /// assert!(matches!(out.as_slice(), [Value::Decimal(d)] if d.to_string() == "2.5"));
    /// ```
    pub fn evaluate<'a>(&'a self, ctx: &EvalContext<'a>) -> Result<Vec<Value<'a>>, EvalError> {
        match &self.native {
            Some(n) if n.applies(ctx) => Ok(eval::Evaluator::new(ctx)
                .native(n)?
                .map(Value::Boolean)
                .into_iter()
                .collect()),
            _ => eval::Evaluator::new(ctx).run(&self.expr),
        }
    }

    /// Evaluate as a boolean (for invariants): empty -> `None`, a single
    /// boolean -> `Some(b)`; anything else is an error.
    ///
    /// ```
    /// use fhirreg_fhirpath::{EvalContext, Expression};
    /// let ctx = EvalContext::empty();
    /// assert_eq!(Expression::compile("{}").unwrap().evaluate_bool(&ctx).unwrap(), None);
    /// assert_eq!(Expression::compile("1 < 2").unwrap().evaluate_bool(&ctx).unwrap(), Some(true));
    /// assert!(Expression::compile("1 | 2").unwrap().evaluate_bool(&ctx).is_err());
    /// ```
    pub fn evaluate_bool<'a>(&'a self, ctx: &EvalContext<'a>) -> Result<Option<bool>, EvalError> {
        if let Some(n) = &self.native {
            if n.applies(ctx) {
                return eval::Evaluator::new(ctx).native(n);
            }
        }
        let out = self.evaluate(ctx)?;
        match out.as_slice() {
            [] => Ok(None),
            [v] => match v.to_primitive() {
                Some(Value::Boolean(b)) => Ok(Some(b)),
                _ => Err(EvalError::new("expression did not give a boolean")),
            },
            _ => Err(EvalError::new("expression gave more than one item")),
        }
    }
}

#[cfg(test)]
mod send_sync {
    #[test]
    fn expression_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<super::Expression>();
    }
}
