//! The compiled form of an expression.

use crate::functions::Func;
use crate::value::Literal;

/// A type name as written in `is`/`as`/`ofType` (`Quantity`, `FHIR.Quantity`, `System.String`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeSpec {
    pub namespace: Option<String>,
    pub name: String,
}

impl std::fmt::Display for TypeSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{ns}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinOp {
    Mul,
    Div,
    IntDiv,
    Mod,
    Add,
    Sub,
    Concat,
    Union,
    Le,
    Lt,
    Ge,
    Gt,
    Eq,
    Equiv,
    Ne,
    NotEquiv,
    In,
    Contains,
    And,
    Or,
    Xor,
    Implies,
}

#[derive(Clone, Debug)]
pub(crate) enum Expr {
    /// `{}`
    Empty,
    Literal(Literal),
    /// A string literal given as the pattern of `matches()`,
    /// `matchesFull()` or `replaceMatches()`, with its regex compiled for
    /// that function (`None`: invalid, reported when evaluated).
    Pattern(String, Option<Box<regex::Regex>>),
    /// `%name`
    Constant(String),
    This,
    Index,
    Total,
    /// `base.$this` and friends.
    Chain(Box<Expr>, Box<Expr>),
    /// `base.name`, or `name` on the focus when base is None.
    Member(Option<Box<Expr>>, String),
    Func(Option<Box<Expr>>, Func, Vec<Expr>),
    /// `ofType(T)`, `is(T)`, `as(T)`.
    TypeFunc(Option<Box<Expr>>, Func, TypeSpec),
    Indexer(Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Is(Box<Expr>, TypeSpec),
    As(Box<Expr>, TypeSpec),
}
