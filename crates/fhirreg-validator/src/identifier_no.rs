//! Norwegian national identifiers (`fhirreg-no`) on every Identifier
//! whose system is one of theirs (by OID or hl7.no NamingSystem alias),
//! wherever it appears: any profile or none, contained resources, Bundle
//! entries, extensions. An invalid number is an error at
//! `...identifier[n].value` naming the identifier and what is wrong; a
//! synthetic test number is an information issue, or an error with
//! [`crate::ValidatorOptions::no_synthetic_ids`].

use fhirreg_element::message::{Args, Message};
use fhirreg_element::{args, Element, Msg};
use fhirreg_no::{Id, IdError, IdKind};

use crate::Walk;

/// The message for the outcome of checking a number of `kind`: `None`
/// for a valid number that is not synthetic. `no_synthetic` makes a
/// synthetic number an error.
///
/// ```
/// use fhirreg_element::Msg;
/// use fhirreg_no::IdKind;
/// let r = fhirreg_no::validate(IdKind::Fnr, "01019000084");
/// let m = fhirreg_validator::identifier_no::message(IdKind::Fnr, &r, false).unwrap();
/// assert_eq!(m.msg, Msg::NoIdControlDigit);
/// assert_eq!(m.arg("type"), Some("fødselsnummer"));
/// let ok = fhirreg_no::validate(IdKind::Fnr, "01019000083");
/// assert!(fhirreg_validator::identifier_no::message(IdKind::Fnr, &ok, false).is_none());
/// ```
pub fn message(kind: IdKind, result: &Result<Id, IdError>, no_synthetic: bool) -> Option<Message> {
    let name = kind.name();
    let (msg, args): (Msg, Args) = match result {
        Ok(id) => {
            let s = id.synthetic?;
            let msg = if no_synthetic {
                Msg::NoIdSyntheticNotAllowed
            } else {
                Msg::NoIdSynthetic
            };
            (msg, args![name, s.source()])
        }
        Err(e) => match e {
            // (an empty value is reported by the core rules)
            IdError::Empty => (Msg::NoIdLength, args![name, kind.length().unwrap_or(1), 0]),
            IdError::Length { expected, found } => {
                (Msg::NoIdLength, args![name, *expected, *found])
            }
            IdError::NotDigits { position } => (Msg::NoIdNotDigit, args![name, *position]),
            IdError::ControlDigit { position } => (Msg::NoIdControlDigit, args![name, *position]),
            IdError::Digit { position, allowed } => {
                (Msg::NoIdDigit, args![name, *position, *allowed])
            }
            IdError::WrongKind { found } => {
                let system = found
                    .oid()
                    .map(|o| format!("urn:oid:{o}"))
                    .unwrap_or_default();
                (Msg::NoIdWrongKind, args![name, found.name(), system])
            }
            IdError::Century { individual, year } => (
                Msg::NoIdCentury,
                args![name, format!("{individual:03}"), format!("{year:02}")],
            ),
            IdError::Date { year, month, day } => (
                Msg::NoIdDate,
                args![name, format!("{year:04}-{month:02}-{day:02}")],
            ),
            _ => (Msg::NoIdControlDigit, args![name, 0]),
        },
    };
    Some(Message::new(msg, args))
}

impl<'v> Walk<'v> {
    /// The Norwegian rules for an Identifier with `system`.
    pub(crate) fn norwegian_identifier(&mut self, node: Element<'v>, system: &str) {
        // (a bare OID is no system: reported as relative by the core rules)
        let Some(kind) = fhirreg_no::system_kind(system).filter(|_| system.contains(':')) else {
            return;
        };
        let Some(value) = node.child_value("value").filter(|v| !v.is_empty()) else {
            return;
        };
        let result = fhirreg_no::validate(kind, value);
        if let Some(m) = message(kind, &result, self.v.options.no_synthetic_ids) {
            self.at_child(node, "value", m.msg, m.args);
        }
    }
}
