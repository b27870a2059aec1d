//! Pest grammar -> AST.

use std::sync::OnceLock;

use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser;

use crate::ast::{BinOp, Expr, TypeSpec};
use crate::functions::Func;
use crate::value::{parse_date, parse_datetime, parse_time, Literal, Quantity};
use crate::CompileError;

#[derive(pest_derive::Parser)]
#[grammar = "fhirpath.pest"]
struct FhirPathParser;

/// Maximum nesting depth of an expression; deeper ones are a compile error
/// (so that hostile input cannot exhaust the stack).
pub(crate) const MAX_NESTING: usize = 200;

fn pratt() -> &'static PrattParser<Rule> {
    static P: OnceLock<PrattParser<Rule>> = OnceLock::new();
    P.get_or_init(|| {
        PrattParser::new()
            .op(Op::infix(Rule::kw_implies, Assoc::Left))
            .op(Op::infix(Rule::kw_or, Assoc::Left) | Op::infix(Rule::kw_xor, Assoc::Left))
            .op(Op::infix(Rule::kw_and, Assoc::Left))
            .op(Op::infix(Rule::kw_in, Assoc::Left) | Op::infix(Rule::kw_contains, Assoc::Left))
            .op(Op::infix(Rule::op_eq, Assoc::Left)
                | Op::infix(Rule::op_equiv, Assoc::Left)
                | Op::infix(Rule::op_ne, Assoc::Left)
                | Op::infix(Rule::op_nequiv, Assoc::Left))
            .op(Op::infix(Rule::op_le, Assoc::Left)
                | Op::infix(Rule::op_lt, Assoc::Left)
                | Op::infix(Rule::op_ge, Assoc::Left)
                | Op::infix(Rule::op_gt, Assoc::Left))
            .op(Op::infix(Rule::op_union, Assoc::Left))
            .op(Op::postfix(Rule::type_is) | Op::postfix(Rule::type_as))
            .op(Op::infix(Rule::op_add, Assoc::Left)
                | Op::infix(Rule::op_sub, Assoc::Left)
                | Op::infix(Rule::op_concat, Assoc::Left))
            .op(Op::infix(Rule::op_mul, Assoc::Left)
                | Op::infix(Rule::op_div, Assoc::Left)
                | Op::infix(Rule::kw_div, Assoc::Left)
                | Op::infix(Rule::kw_mod, Assoc::Left))
            .op(Op::prefix(Rule::neg) | Op::prefix(Rule::pos))
            .op(Op::postfix(Rule::invoke) | Op::postfix(Rule::indexer))
    })
}

/// Parse an expression text into an AST.
pub(crate) fn parse(src: &str) -> Result<Expr, CompileError> {
    // Cheap guard against stack exhaustion in pest's recursive descent.
    let mut depth = 0usize;
    let mut max = 0usize;
    for c in src.chars() {
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                max = max.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if max > MAX_NESTING {
        return Err(CompileError::new("expression nested too deeply", src, 0));
    }
    if max > 16 {
        // pest's recursive descent uses several frames per nesting level:
        // parse deeply nested expressions on a stack of their own.
        #[cfg(not(target_family = "wasm"))]
        return stacker::grow(64 << 20, || parse_nested(src));
    }
    parse_nested(src)
}

fn parse_nested(src: &str) -> Result<Expr, CompileError> {
    let mut pairs = FhirPathParser::parse(Rule::root, src).map_err(|e| {
        let offset = match e.location {
            pest::error::InputLocation::Pos(p) => p,
            pest::error::InputLocation::Span((s, _)) => s,
        };
        let msg = match &e.variant {
            pest::error::ErrorVariant::ParsingError { .. } => "syntax error".to_string(),
            pest::error::ErrorVariant::CustomError { message } => message.clone(),
        };
        CompileError::new(msg, src, offset)
    })?;
    let root = pairs
        .next()
        .ok_or_else(|| CompileError::new("empty expression", src, 0))?;
    let expr = root
        .into_inner()
        .next()
        .ok_or_else(|| CompileError::new("empty expression", src, 0))?;
    build_expr(expr, src, 0)
}

fn build_expr(pair: Pair<'_, Rule>, src: &str, depth: usize) -> Result<Expr, CompileError> {
    if depth > MAX_NESTING {
        return Err(CompileError::new(
            "expression nested too deeply",
            src,
            pair.as_span().start(),
        ));
    }
    build_pratt(pair.into_inner(), src, depth)
}

fn build_pratt(pairs: Pairs<'_, Rule>, src: &str, depth: usize) -> Result<Expr, CompileError> {
    pratt()
        .map_primary(|p| build_term(p, src, depth))
        .map_prefix(|op, rhs| {
            let rhs = rhs?;
            Ok(match op.as_rule() {
                Rule::neg => Expr::Neg(Box::new(rhs)),
                _ => rhs,
            })
        })
        .map_postfix(|lhs, op| {
            let lhs = lhs?;
            let start = op.as_span().start();
            match op.as_rule() {
                Rule::invoke => build_invocation(Some(lhs), first_inner(op, src)?, src, depth),
                Rule::indexer => {
                    let idx = build_expr(first_inner(op, src)?, src, depth + 1)?;
                    Ok(Expr::Indexer(Box::new(lhs), Box::new(idx)))
                }
                Rule::type_is | Rule::type_as => {
                    let is = op.as_rule() == Rule::type_is;
                    let spec = op
                        .into_inner()
                        .find(|p| p.as_rule() == Rule::type_specifier)
                        .ok_or_else(|| CompileError::new("missing type", src, start))?;
                    let ts = type_spec(spec, src)?;
                    Ok(if is {
                        Expr::Is(Box::new(lhs), ts)
                    } else {
                        Expr::As(Box::new(lhs), ts)
                    })
                }
                _ => Err(CompileError::new("unexpected postfix", src, start)),
            }
        })
        .map_infix(|lhs, op, rhs| {
            let (lhs, rhs) = (lhs?, rhs?);
            let bop = match op.as_rule() {
                Rule::op_mul => BinOp::Mul,
                Rule::op_div => BinOp::Div,
                Rule::kw_div => BinOp::IntDiv,
                Rule::kw_mod => BinOp::Mod,
                Rule::op_add => BinOp::Add,
                Rule::op_sub => BinOp::Sub,
                Rule::op_concat => BinOp::Concat,
                Rule::op_union => BinOp::Union,
                Rule::op_le => BinOp::Le,
                Rule::op_lt => BinOp::Lt,
                Rule::op_ge => BinOp::Ge,
                Rule::op_gt => BinOp::Gt,
                Rule::op_eq => BinOp::Eq,
                Rule::op_equiv => BinOp::Equiv,
                Rule::op_ne => BinOp::Ne,
                Rule::op_nequiv => BinOp::NotEquiv,
                Rule::kw_in => BinOp::In,
                Rule::kw_contains => BinOp::Contains,
                Rule::kw_and => BinOp::And,
                Rule::kw_or => BinOp::Or,
                Rule::kw_xor => BinOp::Xor,
                Rule::kw_implies => BinOp::Implies,
                _ => {
                    return Err(CompileError::new(
                        "unexpected operator",
                        src,
                        op.as_span().start(),
                    ))
                }
            };
            Ok(Expr::Binary(bop, Box::new(lhs), Box::new(rhs)))
        })
        .parse(pairs)
}

fn first_inner<'i>(pair: Pair<'i, Rule>, src: &str) -> Result<Pair<'i, Rule>, CompileError> {
    let start = pair.as_span().start();
    pair.into_inner()
        .next()
        .ok_or_else(|| CompileError::new("incomplete expression", src, start))
}

fn type_spec(pair: Pair<'_, Rule>, src: &str) -> Result<TypeSpec, CompileError> {
    let mut parts = Vec::new();
    for p in pair.into_inner() {
        parts.push(identifier_text(p, src)?);
    }
    match parts.len() {
        1 => Ok(TypeSpec {
            namespace: None,
            name: parts.remove(0),
        }),
        2 => {
            let name = parts.remove(1);
            Ok(TypeSpec {
                namespace: Some(parts.remove(0)),
                name,
            })
        }
        _ => Err(CompileError::new("invalid type specifier", src, 0)),
    }
}

fn identifier_text(pair: Pair<'_, Rule>, src: &str) -> Result<String, CompileError> {
    match pair.as_rule() {
        Rule::delimited_identifier => {
            let inner = first_inner(pair, src)?;
            unescape(inner.as_str(), src, inner.as_span().start())
        }
        Rule::any_member => identifier_text(first_inner(pair, src)?, src),
        _ => Ok(pair.as_str().to_string()),
    }
}

fn build_term(pair: Pair<'_, Rule>, src: &str, depth: usize) -> Result<Expr, CompileError> {
    let start = pair.as_span().start();
    match pair.as_rule() {
        Rule::paren => build_expr(first_inner(pair, src)?, src, depth + 1),
        Rule::null_lit => Ok(Expr::Empty),
        Rule::bool_lit => Ok(Expr::Literal(Literal::Boolean(pair.as_str() == "true"))),
        Rule::string_lit => {
            let inner = first_inner(pair, src)?;
            Ok(Expr::Literal(Literal::String(unescape(
                inner.as_str(),
                src,
                inner.as_span().start(),
            )?)))
        }
        Rule::number => number_literal(pair.as_str(), src, start),
        Rule::date_lit => parse_date(&pair.as_str()[1..])
            .map(|d| Expr::Literal(Literal::Date(d)))
            .ok_or_else(|| CompileError::new("invalid date literal", src, start)),
        Rule::datetime_lit => parse_datetime(&pair.as_str()[1..])
            .map(|d| Expr::Literal(Literal::DateTime(d)))
            .ok_or_else(|| CompileError::new("invalid dateTime literal", src, start)),
        Rule::time_lit => parse_time(&pair.as_str()[2..])
            .map(|d| Expr::Literal(Literal::Time(d)))
            .ok_or_else(|| CompileError::new("invalid time literal", src, start)),
        Rule::quantity => {
            let mut inner = pair.into_inner();
            let num = inner
                .next()
                .ok_or_else(|| CompileError::new("invalid quantity", src, start))?;
            let value = rust_decimal::Decimal::from_str_exact(num.as_str())
                .map_err(|_| CompileError::new("number out of range", src, start))?;
            let unit_pair = inner
                .next()
                .and_then(|u| u.into_inner().next())
                .ok_or_else(|| CompileError::new("invalid quantity unit", src, start))?;
            let unit = match unit_pair.as_rule() {
                Rule::calendar_unit => Quantity::calendar_unit_name(unit_pair.as_str()).to_string(),
                _ => {
                    let inner = first_inner(unit_pair, src)?;
                    unescape(inner.as_str(), src, inner.as_span().start())?
                }
            };
            Ok(Expr::Literal(Literal::Quantity(Quantity { value, unit })))
        }
        Rule::external_constant => {
            let inner = first_inner(pair, src)?;
            let name = match inner.as_rule() {
                Rule::string_lit | Rule::dq_string => {
                    let s = first_inner(inner, src)?;
                    unescape(s.as_str(), src, s.as_span().start())?
                }
                _ => identifier_text(inner, src)?,
            };
            Ok(Expr::Constant(name))
        }
        Rule::this_inv | Rule::index_inv | Rule::total_inv | Rule::function | Rule::member => {
            build_invocation(None, pair, src, depth)
        }
        _ => Err(CompileError::new("unexpected term", src, start)),
    }
}

fn number_literal(text: &str, src: &str, start: usize) -> Result<Expr, CompileError> {
    if !text.contains('.') {
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Expr::Literal(Literal::Integer(i)));
        }
    }
    rust_decimal::Decimal::from_str_exact(text)
        .map(|d| Expr::Literal(Literal::Decimal(d)))
        .map_err(|_| CompileError::new("number out of range", src, start))
}

fn build_invocation(
    base: Option<Expr>,
    pair: Pair<'_, Rule>,
    src: &str,
    depth: usize,
) -> Result<Expr, CompileError> {
    let start = pair.as_span().start();
    let base = base.map(Box::new);
    match pair.as_rule() {
        Rule::this_inv => Ok(chain(base, Expr::This)),
        Rule::index_inv => Ok(chain(base, Expr::Index)),
        Rule::total_inv => Ok(chain(base, Expr::Total)),
        Rule::member | Rule::any_member => {
            let name = identifier_text(first_inner(pair, src)?, src)?;
            Ok(Expr::Member(base, name))
        }
        Rule::function => {
            let mut inner = pair.into_inner();
            let name_pair = inner
                .next()
                .ok_or_else(|| CompileError::new("missing function name", src, start))?;
            let name = identifier_text(name_pair, src)?;
            let mut args = Vec::new();
            for a in inner {
                args.push(build_expr(a, src, depth + 1)?);
            }
            let func =
                Func::lookup(&name, args.len()).map_err(|m| CompileError::new(m, src, start))?;
            // Type arguments of ofType/is/as are type specifiers, not expressions.
            if func.takes_type_argument() {
                let ts = args
                    .first()
                    .and_then(expr_as_type_spec)
                    .ok_or_else(|| CompileError::new("expected a type name", src, start))?;
                return Ok(Expr::TypeFunc(base, func, ts));
            }
            // A literal pattern is compiled once, here.
            if matches!(
                func,
                Func::Matches | Func::MatchesFull | Func::ReplaceMatches
            ) {
                if let Some(Expr::Literal(Literal::String(p))) = args.first() {
                    let re = crate::eval::build_regex(p, func == Func::MatchesFull).ok();
                    let p = p.clone();
                    args[0] = Expr::Pattern(p, re.map(Box::new));
                }
            }
            Ok(Expr::Func(base, func, args))
        }
        _ => Err(CompileError::new("unexpected invocation", src, start)),
    }
}

fn chain(base: Option<Box<Expr>>, e: Expr) -> Expr {
    match base {
        // `x.$this` is unusual; evaluate x and then $this in its scope.
        Some(b) => Expr::Chain(b, Box::new(e)),
        None => e,
    }
}

fn expr_as_type_spec(e: &Expr) -> Option<TypeSpec> {
    match e {
        Expr::Member(None, n) => Some(TypeSpec {
            namespace: None,
            name: n.clone(),
        }),
        Expr::Member(Some(b), n) => match b.as_ref() {
            Expr::Member(None, ns) => Some(TypeSpec {
                namespace: Some(ns.clone()),
                name: n.clone(),
            }),
            _ => None,
        },
        _ => None,
    }
}

/// Resolve FHIRPath escapes in string literals and delimited identifiers.
pub(crate) fn unescape(s: &str, src: &str, start: usize) -> Result<String, CompileError> {
    resolve_escapes(s).map_err(|why| CompileError::new(why, src, start))
}

/// `s` with its backslash escapes resolved (`\n`, `\r`, `\t`, `\f`,
/// `\uXXXX`; any other character after a backslash stands for itself), as
/// FHIRPath literals and JSON strings write them; the reason when a
/// backslash ends the text or a `\u` escape is not a character.
pub(crate) fn resolve_escapes(s: &str) -> Result<String, &'static str> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('f') => out.push('\u{000C}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let cp = u32::from_str_radix(&hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or("invalid unicode escape")?;
                out.push(cp);
            }
            Some(other) => out.push(other),
            None => return Err("dangling escape"),
        }
    }
    Ok(out)
}
