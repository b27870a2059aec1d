//! Where a walk's findings go.
//!
//! A finding already reported at the same place with the same message and
//! arguments is not added again: a type's own plan and a profile can find
//! the same thing, and it is one finding. With [`Sink::first_error`] the
//! sink marks itself stopped at the first error, and the walk gives up
//! there: the `is_valid` path, which needs the verdict, not the list.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};

use fhirreg_element::Issue;

type Fast = foldhash::fast::FixedState;

#[derive(Default)]
pub(crate) struct Sink {
    issues: Vec<Issue>,
    /// Hash of (expression, message, arguments) -> index of the first
    /// issue with it (collisions are compared in full).
    seen: HashMap<u64, usize, Fast>,
    stop_at_error: bool,
    stopped: bool,
}

fn key(issue: &Issue) -> u64 {
    let mut h = Fast::default().build_hasher();
    issue.expression.hash(&mut h);
    issue.msg.hash(&mut h);
    issue.args.hash(&mut h);
    h.finish()
}

fn same(a: &Issue, b: &Issue) -> bool {
    a.expression == b.expression && a.msg == b.msg && a.args == b.args
}

impl Sink {
    /// A sink that stops at the first error.
    pub(crate) fn first_error() -> Sink {
        Sink {
            stop_at_error: true,
            ..Sink::default()
        }
    }

    /// True once an error was reported to a first-error sink.
    pub(crate) fn stopped(&self) -> bool {
        self.stopped
    }

    /// Add a finding (unless the same one is already there).
    pub(crate) fn push(&mut self, issue: Issue) {
        let k = key(&issue);
        match self.seen.get(&k) {
            Some(&i) if self.issues.get(i).is_some_and(|f| same(f, &issue)) => return,
            // A hash collision: compare with everything (rare).
            Some(_) if self.issues.iter().any(|f| same(f, &issue)) => return,
            Some(_) => {}
            None => {
                self.seen.insert(k, self.issues.len());
            }
        }
        if self.stop_at_error && issue.severity.is_error() {
            self.stopped = true;
        }
        self.issues.push(issue);
    }

    pub(crate) fn extend(&mut self, issues: impl IntoIterator<Item = Issue>) {
        for i in issues {
            self.push(i);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.issues.len()
    }

    pub(crate) fn has_error(&self) -> bool {
        self.issues.iter().any(|i| i.severity.is_error())
    }

    /// Drop the findings after the first `len` (a tentative check undone).
    pub(crate) fn truncate(&mut self, len: usize) {
        if len < self.issues.len() {
            self.issues.truncate(len);
            self.seen.retain(|_, &mut i| i < len);
        }
    }

    /// The findings.
    pub(crate) fn into_issues(self) -> Vec<Issue> {
        self.issues
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fhirreg_element::{args, Msg};

    fn issue(expr: &str, name: &str) -> Issue {
        Issue::new(Msg::UnknownProperty, args![name], expr, None)
    }

    #[test]
    fn the_same_finding_is_kept_once() {
        let mut s = Sink::default();
        s.push(issue("Patient.a", "a"));
        s.push(issue("Patient.a", "a"));
        s.push(issue("Patient.a", "b"));
        s.push(issue("Patient.b", "a"));
        assert_eq!(s.len(), 3);
        s.truncate(1);
        s.push(issue("Patient.a", "b"));
        assert_eq!(s.len(), 2);
        assert!(!s.stopped());
    }

    #[test]
    fn a_first_error_sink_stops_at_an_error() {
        let mut s = Sink::first_error();
        s.push(issue("Patient.a", "a").with_severity(fhirreg_element::Severity::Warning));
        assert!(!s.stopped());
        s.push(issue("Patient.a", "b"));
        assert!(s.stopped() && s.has_error());
    }
}
