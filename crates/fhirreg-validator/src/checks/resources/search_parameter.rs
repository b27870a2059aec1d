//! SearchParameter checks beyond the structure, as the HL7 Java
//! validator's `SearchParameterValidator` does them: a composite parameter
//! has components; a parameter derived from another (`derivedFrom`) keeps
//! its type and bases; the resource types an expression starts from are
//! among the bases.

use crate::walk::Walk;
use fhirreg_element::message::Msg;
use fhirreg_element::{args, Element};
use serde_json::Value;

const SD: &str = "http://hl7.org/fhir/StructureDefinition/";

/// The operands of the top-level unions (`a | b`) of a FHIRPath
/// expression, with their byte offsets; `|` inside parentheses or string
/// literals does not split.
fn union_operands(expr: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let (mut depth, mut quote, mut start) = (0usize, false, 0usize);
    for (i, c) in expr.char_indices() {
        match c {
            '\'' => quote = !quote,
            '(' | '[' if !quote => depth += 1,
            ')' | ']' if !quote => depth = depth.saturating_sub(1),
            '|' if !quote && depth == 0 => {
                out.push((start, &expr[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push((start, &expr[start..]));
    out
}

impl<'v> Walk<'v> {
    pub(crate) fn search_parameter(&mut self, sp: Element<'v>) {
        let ty = sp.child_value("type");
        if ty == Some("composite") && sp.children_named("component").count() < 2 {
            self.report(Msg::SearchParamComponents, args![], sp);
        }
        let bases: Vec<&str> = sp
            .children_named("base")
            .filter_map(|b| b.value())
            .collect();
        if let Some(e) = sp.child("expression") {
            if let Some(expr) = e.value() {
                self.search_expression(e, expr, &bases);
            }
        }
        let Some(master) = sp.child_value("derivedFrom").filter(|m| !m.is_empty()) else {
            return;
        };
        let Some(other) = self
            .v
            .resolve(master)
            .filter(|r| r.resource_type == "SearchParameter")
        else {
            self.report(Msg::SearchParamBaseUnknown, args![master], sp);
            return;
        };
        let other_bases: Vec<&str> = other
            .json
            .get("base")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        for b in &bases {
            if !other_bases.iter().any(|o| o == b || *o == "Resource") {
                self.report(Msg::SearchParamBaseNotListed, args![*b, master], sp);
            }
        }
        let other_type = other.str("type").unwrap_or("");
        if let Some(t) = ty.filter(|t| *t != other_type) {
            let args = args![t, other_type, master];
            self.report(Msg::SearchParamTypeDiffers, args, sp);
        }
    }

    /// Each union operand that starts with a resource type name must start
    /// with one of the bases (FHIRPath type checking against the bases, for
    /// the leading name).
    fn search_expression(&mut self, node: Element<'v>, expr: &str, bases: &[&str]) {
        if bases.is_empty()
            || bases
                .iter()
                .any(|b| matches!(*b, "Resource" | "DomainResource"))
        {
            return;
        }
        for (at, operand) in union_operands(expr) {
            let trimmed = operand.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
            let offset = at + (operand.len() - trimmed.len());
            let name: &str = trimmed
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("");
            if name.is_empty()
                || !name.starts_with(|c: char| c.is_ascii_uppercase())
                || bases.contains(&name)
                || !self.v.is_resource_type(name)
            {
                continue;
            }
            let types: Vec<String> = bases.iter().map(|b| format!("{SD}{b}")).collect();
            let args = args![expr, name, types.join(", "), offset + 1];
            let len = self.path.len();
            self.path.push_str(".expression");
            self.report(Msg::SearchParamExpressionType, args, node);
            self.path.truncate(len);
            return; // the first error stops the evaluation
        }
    }
}

#[cfg(test)]
mod tests {
    use super::union_operands;

    #[test]
    fn unions_split_at_top_level() {
        let ops: Vec<&str> = union_operands("A.b | A.c.where(x | y) | 'p|q'")
            .into_iter()
            .map(|(_, s)| s.trim())
            .collect();
        assert_eq!(ops, ["A.b", "A.c.where(x | y)", "'p|q'"]);
    }
}
