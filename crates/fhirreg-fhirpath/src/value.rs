//! FHIRPath values: System primitives and references into the element tree.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use fhirreg_element::{Element, ValueKind};
use rust_decimal::Decimal;

use crate::model::ElementType;
pub use crate::temporal::{parse_date, parse_datetime, parse_time, PartialDateTime, Precision};

/// A quantity: an exact decimal value and a unit. Calendar duration units
/// (`year`, `month`, `week`, `day`, `hour`, `minute`, `second`,
/// `millisecond`) are kept by their singular keyword; anything else is a
/// UCUM unit (`'mg'`, `'wk'`).
#[derive(Clone, Debug, PartialEq)]
pub struct Quantity {
    pub value: Decimal,
    pub unit: String,
}

const CALENDAR: [&str; 8] = [
    "year",
    "month",
    "week",
    "day",
    "hour",
    "minute",
    "second",
    "millisecond",
];

impl Quantity {
    /// The singular keyword of a calendar unit written in an expression (`days` -> `day`).
    pub fn calendar_unit_name(word: &str) -> &str {
        let w = word.strip_suffix('s').unwrap_or(word);
        CALENDAR.iter().find(|c| **c == w).copied().unwrap_or(word)
    }

    /// True when the unit is a calendar duration keyword.
    pub fn is_calendar(&self) -> bool {
        CALENDAR.contains(&self.unit.as_str())
    }

    fn ucum_unit(&self) -> Cow<'_, str> {
        // Calendar units of a week and below are equal to their UCUM units.
        match self.unit.as_str() {
            "week" => "wk".into(),
            "day" => "d".into(),
            "hour" => "h".into(),
            "minute" => "min".into(),
            "second" => "s".into(),
            "millisecond" => "ms".into(),
            u => u.into(),
        }
    }

    /// The value in canonical base units with its dimensions.
    pub(crate) fn canonical(&self) -> Option<(Decimal, fhirreg_ucum::Dims)> {
        if self.unit == "year" || self.unit == "month" {
            return None;
        }
        let factor = unit_factor(&self.ucum_unit())?;
        Some((self.value.checked_mul(factor.0)?, factor.1))
    }

    /// Compare two quantities, converting units when both are known; `None`
    /// when they are not comparable.
    pub fn compare(&self, other: &Quantity) -> Option<Ordering> {
        if self.ucum_unit() == other.ucum_unit() {
            return Some(self.value.cmp(&other.value));
        }
        if (self.unit == "year" && other.unit == "month")
            || (self.unit == "month" && other.unit == "year")
        {
            let months = |q: &Quantity| {
                if q.unit == "year" {
                    q.value * Decimal::from(12)
                } else {
                    q.value
                }
            };
            return Some(months(self).cmp(&months(other)));
        }
        let (a, da) = self.canonical()?;
        let (b, db) = other.canonical()?;
        (da == db).then(|| a.normalize().cmp(&b.normalize()))
    }

    /// Equivalence: units converted, values compared at the precision of the less precise one.
    pub fn equivalent(&self, other: &Quantity) -> bool {
        let pair = if self.ucum_unit() == other.ucum_unit() {
            Some((self.value, other.value))
        } else {
            match (self.canonical(), other.canonical()) {
                (Some((a, da)), Some((b, db))) if da == db => {
                    // Scale relative to the original precision of each side.
                    Some((a, b))
                }
                _ => None,
            }
        };
        match pair {
            Some((a, b)) => decimal_equivalent(a, b, self.value.scale().min(other.value.scale())),
            None => false,
        }
    }
}

/// The factor of a UCUM unit to its canonical base units, with their
/// dimensions: `None` for an invalid unit and for a special one (a
/// temperature, a logarithm, an arbitrary unit), which is not a ratio.
pub(crate) fn unit_factor(unit: &str) -> Option<(Decimal, fhirreg_ucum::Dims)> {
    let unit = unit.trim();
    let u = if unit.contains('μ') {
        // `μ` for micro, as people write it (UCUM's is `u`)
        fhirreg_ucum::parse(&unit.replace('μ', "u"))
    } else {
        fhirreg_ucum::parse(unit)
    }
    .ok()?;
    if u.special || u.factor.is_zero() {
        return None;
    }
    Some((u.factor.to_decimal()?, u.dims))
}

/// Decimal equivalence: equal when rounded to `scale` digits.
pub(crate) fn decimal_equivalent(a: Decimal, b: Decimal, scale: u32) -> bool {
    a.round_dp(scale) == b.round_dp(scale)
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_calendar() {
            let plural = if self.value == Decimal::ONE { "" } else { "s" };
            write!(f, "{} {}{}", self.value, self.unit, plural)
        } else {
            write!(f, "{} '{}'", self.value, self.unit)
        }
    }
}

/// A constant in a compiled expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Boolean(bool),
    Integer(i64),
    Decimal(Decimal),
    String(String),
    Date(PartialDateTime),
    DateTime(PartialDateTime),
    Time(PartialDateTime),
    Quantity(Quantity),
}

impl Literal {
    pub(crate) fn to_value(&self) -> Value<'_> {
        match self {
            Literal::Boolean(b) => Value::Boolean(*b),
            Literal::Integer(i) => Value::Integer(*i),
            Literal::Decimal(d) => Value::Decimal(*d),
            Literal::String(s) => Value::String(Cow::Borrowed(s)),
            Literal::Date(d) => Value::Date(*d),
            Literal::DateTime(d) => Value::DateTime(*d),
            Literal::Time(d) => Value::Time(*d),
            Literal::Quantity(q) => Value::Quantity(q.clone()),
        }
    }
}

/// A node of the element tree with its FHIR type when known.
#[derive(Clone, Debug)]
pub struct Node<'a> {
    pub element: Element<'a>,
    pub element_type: Option<Arc<ElementType>>,
}

impl<'a> Node<'a> {
    /// The FHIR type name (`HumanName`, `date`, `Patient`) when known.
    pub fn type_name(&self) -> Option<&str> {
        if let Some(rt) = self.element.resource_type() {
            return Some(rt);
        }
        self.element_type.as_ref().map(|t| t.type_name.as_str())
    }
}

/// One item of a FHIRPath collection.
#[derive(Clone, Debug)]
pub enum Value<'a> {
    Boolean(bool),
    Integer(i64),
    Decimal(Decimal),
    String(Cow<'a, str>),
    Date(PartialDateTime),
    DateTime(PartialDateTime),
    Time(PartialDateTime),
    Quantity(Quantity),
    /// An element of the tree (a resource, a complex value, or a FHIR primitive).
    Node(Node<'a>),
    /// The result of `type()`.
    Type(TypeInfo),
}

/// A type's namespace and name, as given by `type()` (`System.Integer`, `FHIR.Patient`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeInfo {
    pub namespace: String,
    pub name: String,
}

/// FHIR primitive types whose FHIRPath value is a String.
const STRING_TYPES: [&str; 13] = [
    "string",
    "code",
    "id",
    "uri",
    "url",
    "canonical",
    "oid",
    "uuid",
    "markdown",
    "base64Binary",
    "xhtml",
    "integer64",
    "System.String",
];

/// FHIR types that are Quantity specialisations.
pub(crate) const QUANTITY_TYPES: [&str; 7] = [
    "Quantity",
    "Age",
    "Duration",
    "Distance",
    "Count",
    "SimpleQuantity",
    "MoneyQuantity",
];

impl<'a> Value<'a> {
    /// A node value without type information.
    pub fn node(element: Element<'a>) -> Value<'a> {
        Value::Node(Node {
            element,
            element_type: None,
        })
    }

    /// The System type name of a primitive (`Boolean`, `Integer`, ...), or
    /// the FHIR type of a node (`FHIR.` omitted) when known.
    pub fn type_name(&self) -> Option<&str> {
        Some(match self {
            Value::Boolean(_) => "Boolean",
            Value::Integer(_) => "Integer",
            Value::Decimal(_) => "Decimal",
            Value::String(_) => "String",
            Value::Date(_) => "Date",
            Value::DateTime(_) => "DateTime",
            Value::Time(_) => "Time",
            Value::Quantity(_) => "Quantity",
            Value::Node(n) => return n.type_name(),
            Value::Type(_) => "TypeInfo",
        })
    }

    /// True for System (non-node) values.
    pub fn is_system(&self) -> bool {
        !matches!(self, Value::Node(_))
    }

    /// The value as a System primitive: nodes holding a FHIR primitive are
    /// converted by their FHIR type (or, without type information, by how
    /// the value was written); FHIR Quantities become System Quantities.
    /// `None` for complex nodes and unreadable primitives.
    pub fn to_primitive(&self) -> Option<Value<'a>> {
        let n = match self {
            Value::Node(n) => n,
            other => return Some(other.clone()),
        };
        let ty = n.element_type.as_ref().map(|t| t.type_name.as_str());
        if let Some(t) = ty {
            if QUANTITY_TYPES.contains(&t) {
                return node_quantity(n.element).map(Value::Quantity);
            }
        }
        let text: &'a str = n.element.value()?;
        match ty {
            Some("boolean") => match text {
                "true" => Some(Value::Boolean(true)),
                "false" => Some(Value::Boolean(false)),
                _ => None,
            },
            Some("integer" | "positiveInt" | "unsignedInt") => {
                text.parse().ok().map(Value::Integer)
            }
            Some("decimal") => Decimal::from_str_exact(text)
                .ok()
                .or_else(|| Decimal::from_scientific(text).ok())
                .map(Value::Decimal),
            Some("date") => parse_date(text).map(Value::Date),
            Some("dateTime" | "instant") => parse_datetime(text).map(|d| {
                if d.precision <= Precision::Day && !text.contains('T') && ty == Some("date") {
                    Value::Date(d)
                } else {
                    Value::DateTime(d)
                }
            }),
            Some("time") => parse_time(text).map(Value::Time),
            Some(t) if STRING_TYPES.contains(&t) => Some(Value::String(Cow::Borrowed(text))),
            _ => match n.element.value_kind() {
                ValueKind::Boolean => Some(Value::Boolean(text == "true")),
                ValueKind::Number => {
                    if text.contains(['.', 'e', 'E']) {
                        Decimal::from_str_exact(text).ok().map(Value::Decimal)
                    } else {
                        text.parse().ok().map(Value::Integer)
                    }
                }
                ValueKind::String => Some(Value::String(Cow::Borrowed(text))),
            },
        }
    }

    /// True when this node's type is unknown and it holds a value written as a string.
    pub(crate) fn is_untyped_string_node(&self) -> bool {
        matches!(self, Value::Node(n) if n.element_type.is_none()
            && !n.element.is_resource()
            && n.element.value().is_some()
            && n.element.value_kind() == ValueKind::String)
    }

    /// Render as FHIRPath `toString()` text; `None` for complex nodes.
    pub fn to_text(&self) -> Option<Cow<'a, str>> {
        Some(match self.to_primitive()? {
            Value::Boolean(b) => Cow::Borrowed(if b { "true" } else { "false" }),
            Value::Integer(i) => Cow::Owned(i.to_string()),
            Value::Decimal(d) => Cow::Owned(d.to_string()),
            Value::String(s) => s,
            Value::Date(d) | Value::DateTime(d) | Value::Time(d) => Cow::Owned(d.to_string()),
            Value::Quantity(q) => Cow::Owned(q.to_string()),
            Value::Node(_) | Value::Type(_) => return None,
        })
    }

    /// The element when this is a node.
    pub fn as_element(&self) -> Option<Element<'a>> {
        match self {
            Value::Node(n) => Some(n.element),
            _ => None,
        }
    }
}

/// Read a FHIR Quantity element as a System Quantity (UCUM code preferred).
pub(crate) fn node_quantity(e: Element<'_>) -> Option<Quantity> {
    let v = e.child_value("value")?;
    let value = Decimal::from_str_exact(v).ok()?;
    let is_ucum = e.child_value("system") == Some("http://unitsofmeasure.org");
    let unit = match (e.child_value("code"), e.child_value("unit")) {
        (Some(c), _) if is_ucum || e.child_value("system").is_none() => c.to_string(),
        (_, Some(u)) => u.to_string(),
        (Some(c), None) => c.to_string(),
        (None, None) => "1".to_string(),
    };
    Some(Quantity { value, unit })
}

/// Parse a quantity from text (`1 day`, `1.5 'mg'`, `4`).
pub fn parse_quantity(s: &str) -> Option<Quantity> {
    let s = s.trim();
    let (num, rest) = match s.find(' ') {
        Some(i) => (&s[..i], s[i..].trim()),
        None => (s, ""),
    };
    let num_ok = {
        let b = num.strip_prefix(['+', '-']).unwrap_or(num);
        !b.is_empty()
            && b.bytes().all(|c| c.is_ascii_digit() || c == b'.')
            && !b.starts_with('.')
            && !b.ends_with('.')
            && b.bytes().filter(|c| *c == b'.').count() <= 1
    };
    if !num_ok {
        return None;
    }
    let value = Decimal::from_str(num).ok()?;
    let unit = if rest.is_empty() {
        "1".to_string()
    } else if let Some(u) = rest.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        u.to_string()
    } else {
        let cal = Quantity::calendar_unit_name(rest);
        if CALENDAR.contains(&cal) {
            cal.to_string()
        } else {
            return None;
        }
    };
    Some(Quantity { value, unit })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(value: &str, unit: &str) -> Quantity {
        Quantity {
            value: value.parse().unwrap(),
            unit: unit.to_string(),
        }
    }

    #[test]
    fn quantities_compare_through_ucum() {
        assert_eq!(q("4", "g").compare(&q("4000", "mg")), Some(Ordering::Equal));
        assert_eq!(
            q("1", "μg").compare(&q("0.001", "mg")),
            Some(Ordering::Equal)
        );
        assert_eq!(q("7", "day").compare(&q("1", "wk")), Some(Ordering::Equal));
        assert_eq!(q("1", "m").compare(&q("99", "cm")), Some(Ordering::Greater));
        assert_eq!(q("1", "g").compare(&q("1", "m")), None);
        // special units are not ratios: only the same unit compares
        assert_eq!(q("37", "Cel").compare(&q("310.15", "K")), None);
        assert_eq!(
            q("37", "Cel").compare(&q("38", "Cel")),
            Some(Ordering::Less)
        );
        assert_eq!(q("1", "[iU]").compare(&q("1", "1")), None);
        assert!(q("4", "g").equivalent(&q("4000", "mg")));
    }
}
