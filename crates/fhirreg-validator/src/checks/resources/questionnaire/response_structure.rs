//! The structure of a QuestionnaireResponse against its Questionnaire
//! (questionnaireresponse.html): items come in the order of the
//! Questionnaire's items; an item that does not repeat appears once; a
//! group holds items, not answers; a question's nested items are inside
//! its answers.

use crate::walk::Walk;
use fhirreg_element::message::Msg;
use fhirreg_element::{args, Element, Severity};
use serde_json::Value;

impl<'v> Walk<'v> {
    /// The items of `parent` (at the current path) against the
    /// Questionnaire items `qitems` of that level: order and repetition.
    pub(crate) fn qr_item_structure(&mut self, parent: Element<'v>, qitems: &[Value]) {
        let index_of = |link: &str| {
            qitems
                .iter()
                .position(|q| q.get("linkId").and_then(Value::as_str) == Some(link))
        };
        let mut last: Option<usize> = None;
        let mut counts: Vec<(usize, usize, Element<'v>)> = Vec::new();
        for it in parent.children_named("item") {
            let Some(link) = it.child_value("linkId") else {
                continue;
            };
            let Some(k) = index_of(link) else {
                continue; // reported as not in the Questionnaire
            };
            if last.is_some_and(|l| k < l) {
                self.report(Msg::QrItemOrder, args![link], it);
            }
            last = Some(last.map_or(k, |l| l.max(k)));
            match counts.iter_mut().find(|(q, _, _)| *q == k) {
                Some((_, n, _)) => *n += 1,
                None => counts.push((k, 1, it)),
            }
        }
        for (k, n, _) in counts {
            let Some(qi) = qitems.get(k) else { continue };
            let repeats = qi.get("repeats").and_then(Value::as_bool) == Some(true);
            if n > 1 && !repeats {
                let link = qi.get("linkId").and_then(Value::as_str).unwrap_or_default();
                // (at the second occurrence, as the HL7 validator reports it)
                let second = parent
                    .children_named("item")
                    .filter(|i| i.child_value("linkId") == Some(link))
                    .nth(1)
                    .unwrap_or(parent);
                self.report(Msg::QrItemRepeated, args![link, n], second);
            }
        }
    }

    /// A group item (at the current path) with answers.
    pub(crate) fn qr_group_answers(&mut self, it: Element<'v>) {
        for a in it.children_named("answer") {
            self.report(Msg::QrGroupAnswered, args![], a);
        }
    }

    /// A question (at the current path) with items beside its answers.
    pub(crate) fn qr_items_outside_answers(&mut self, it: Element<'v>) {
        if it.child("item").is_some() {
            let link = it.child_value("linkId").unwrap_or_default();
            self.report(Msg::QrItemsOutsideAnswers, args![link], it);
        }
    }
}

impl<'v> Walk<'v> {
    /// An item's text, when given, is the text of its Questionnaire item.
    pub(crate) fn qr_item_text(&mut self, it: Element<'v>, qi: &Value) {
        let Some(text) = it.child_value("text").filter(|t| !t.is_empty()) else {
            return;
        };
        if qi.get("text").and_then(Value::as_str) != Some(text) {
            let link = qi.get("linkId").and_then(Value::as_str).unwrap_or_default();
            self.report(Msg::QrItemText, args![link], it);
        }
    }

    /// A Questionnaire the response names that cannot be found: a warning
    /// (information for example.org, whose resources are not meant to
    /// exist); the answers cannot be checked.
    pub(crate) fn qr_questionnaire_not_found(&mut self, qr: Element<'v>, canonical: &str) {
        let at = qr.child("questionnaire").unwrap_or(qr);
        let example = canonical.starts_with("http://example.org")
            || canonical.starts_with("https://example.org");
        let severity = if example {
            Severity::Information
        } else {
            Severity::Warning
        };
        let path = self.path.clone();
        self.report_at(
            severity,
            Msg::QrQuestionnaireNotFound,
            args![canonical],
            &path,
            at,
        );
    }
}

/// How a missing required answer is reported: an error once the response
/// is completed (or amended), a warning while it is still being filled in.
pub(crate) fn required_answer_severity(scope: &[Element<'_>]) -> Severity {
    let status = scope.first().and_then(|qr| qr.child_value("status"));
    if matches!(status, Some("completed" | "amended")) {
        Severity::Error
    } else {
        Severity::Warning
    }
}
