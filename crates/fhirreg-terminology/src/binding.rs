//! Turning a value set validation into the binding issue a validator
//! reports: a message by binding strength and element kind.

use crate::{CodingRef, IssueKind, Severity, TxIssue, ValidateResult};
use fhirreg_element::args;
use fhirreg_element::message::{Message, Msg};

/// `ElementDefinition.binding.strength`: the definition model's.
pub use fhirreg_registry::model::BindingStrength;

/// The severity of a value outside the value set of a binding of `strength`.
fn severity(strength: BindingStrength) -> Option<Severity> {
    match strength {
        BindingStrength::Required => Some(Severity::Error),
        BindingStrength::Extensible => Some(Severity::Warning),
        BindingStrength::Preferred => Some(Severity::Information),
        BindingStrength::Example => None,
    }
}

/// The bound element's value, as validated.
#[derive(Debug, Clone, Copy)]
pub enum BoundValue<'a> {
    /// A `code` element (no system).
    Code(&'a str),
    /// A `Coding` (or Quantity unit).
    Coding(CodingRef<'a>),
    /// A `CodeableConcept`'s codings.
    CodeableConcept(&'a [CodingRef<'a>]),
}

impl ValidateResult {
    /// The issues a validator reports for a binding: when the value is not
    /// in the value set, one issue whose message quotes the errors found
    /// (severity by strength: required error, extensible warning, preferred
    /// information, example nothing), followed by this result's warnings
    /// and information (wrong display, system not available ...).
    ///
    /// ```
    /// use fhirreg_terminology::{BindingStrength, BoundValue, CodingRef, MemorySource, Severity, Terminology};
    /// let mut src = MemorySource::new();
    /// src.add(serde_json::json!({"resourceType": "ValueSet", "url": "http://x/vs", "version": "1", "title": "X",
    ///     "compose": {"include": [{"system": "http://x/cs", "concept": [{"code": "a"}]}]}}))?;
    /// let tx = Terminology::with_source(src);
    /// let r = tx.validate_code("http://x/vs", &CodingRef::code("b"))?;
    /// let issues = r.binding_issues(BindingStrength::Required, BoundValue::Code("b"));
    /// assert_eq!(issues[0].severity, Severity::Error);
    /// assert_eq!(issues[0].message.msg, fhirreg_element::Msg::TxBindingCodeRequired);
    /// assert_eq!(issues[0].message.arg("valueset"), Some("http://x/vs|1"));
    /// assert!(issues[0].message.to_string().starts_with("The code 'b' is not in the value set 'X' (http://x/vs|1), and the binding requires a code from it ("));
    /// # Ok::<(), fhirreg_terminology::TxError>(())
    /// ```
    pub fn binding_issues(&self, strength: BindingStrength, value: BoundValue<'_>) -> Vec<TxIssue> {
        let mut out = Vec::new();
        let absorbed = |k: IssueKind| {
            matches!(
                k,
                IssueKind::NotInValueSet | IssueKind::NoSystem | IssueKind::UnknownCode
            )
        };
        if !self.valid && !self.unknown {
            if let Some(severity) = severity(strength) {
                out.push(TxIssue {
                    severity,
                    kind: IssueKind::NotInValueSet,
                    message: self.binding_message(strength, value),
                });
            }
        }
        for i in &self.issues {
            if i.severity == Severity::Error && absorbed(i.kind) {
                continue;
            }
            if i.severity == Severity::Error && strength != BindingStrength::Required {
                // errors of the code itself stay errors only for required bindings
                if i.kind == IssueKind::InvalidDisplay {
                    out.push(i.clone());
                }
                continue;
            }
            out.push(i.clone());
        }
        out
    }

    fn binding_message(&self, strength: BindingStrength, value: BoundValue<'_>) -> Message {
        let name = self
            .valueset_name
            .clone()
            .or_else(|| self.valueset.clone())
            .unwrap_or_default();
        let vs = self.valueset.clone().unwrap_or_default();
        let inner: Vec<Message> = self
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .map(|i| i.message.clone())
            .collect();
        let (msg, args) = match value {
            BoundValue::Code(code) => {
                let msg = match strength {
                    BindingStrength::Required => Msg::TxBindingCodeRequired,
                    BindingStrength::Extensible => Msg::TxBindingCodeExtensible,
                    _ => Msg::TxBindingCodePreferred,
                };
                (msg, args![code, name, vs, inner])
            }
            BoundValue::Coding(c) => {
                let token = c.to_token();
                match strength {
                    BindingStrength::Required => {
                        (Msg::TxBindingCodingRequired, args![token, name, vs, inner])
                    }
                    BindingStrength::Extensible => {
                        (Msg::TxBindingCodingExtensible, args![token, name, vs])
                    }
                    _ => (Msg::TxBindingCodingPreferred, args![token, name, vs]),
                }
            }
            BoundValue::CodeableConcept(codings) => {
                let codes: Vec<String> = codings.iter().map(CodingRef::to_token).collect();
                let msg = match strength {
                    BindingStrength::Required => Msg::TxBindingConceptRequired,
                    BindingStrength::Extensible => Msg::TxBindingConceptExtensible,
                    _ => Msg::TxBindingConceptPreferred,
                };
                (msg, args![name, vs, codes.join(", ")])
            }
        };
        Message::new(msg, args)
    }
}
