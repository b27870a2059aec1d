//! The message catalogue: every kind of finding the readers, the
//! validator and the terminology engine report, as one enum [`Msg`].
//!
//! Each message has
//!
//! * a stable id of ours ([`Msg::id`]): lower-case ASCII words joined by
//!   `-` (`unknown-property`), unique, never changed or reused once
//!   released; filters and translations key on it;
//! * the HL7 Java validator's message key where it has one
//!   ([`Msg::java_key`]), kept only as a cross-reference;
//! * a default severity and issue type ([`Msg::severity`],
//!   [`Msg::issue_type`]) that a report may override (a binding's strength
//!   decides error or warning, for instance);
//! * its arguments, named ([`Msg::placeholders`]), given in that order:
//!   values ([`Arg::Text`]: names, numbers, URLs, codes) or other messages
//!   quoted in this one ([`Arg::Msgs`]: the findings a binding message
//!   reports, the finding a multi-profile check names its profiles for),
//!   rendered in the same language;
//! * a template per language in `messages/<lang>.tsv` (one line per
//!   message: the id, a tab, the template; `#` starts a comment line). A
//!   template names its arguments in braces (`{name}`); `{{` and `}}` are
//!   literal braces. The templates are our own words.
//!
//! Adding a language is a data change: a `messages/<lang>.tsv` file and
//! a [`Lang`] variant (listed in [`Lang::ALL`], with its file and its
//! cache in `message.rs`). A message missing from a language falls back to
//! English; [`check_catalogue`] (run by the tests) reports what a language
//! file lacks or gets wrong.
//!
//! Logic compares [`Msg`] values and arguments, never rendered text.
//!
//! ```
//! use fhirreg_element::message::{Lang, Msg};
//! use fhirreg_element::{args, IssueType, Severity};
//! let msg = Msg::JsonDuplicateProperty;
//! assert_eq!(msg.id(), "json-duplicate-property");
//! assert_eq!(msg.placeholders(), ["name"]);
//! assert_eq!(msg.severity(), Severity::Error);
//! assert_eq!(msg.issue_type(), IssueType::Structure);
//! assert_eq!(
//!     msg.render(Lang::En, &args!["active"]),
//!     "The property 'active' appears more than once in this object; only the first occurrence is read"
//! );
//! assert_eq!(Msg::from_id("json-duplicate-property"), Some(msg));
//! ```

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::{IssueType, Severity};

/// A language the messages are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Lang {
    /// English (the default, and the fallback of every other language).
    #[default]
    En,
    /// Norwegian bokmål (`nb`; `no` and `nn` are read as bokmål too, which
    /// Norwegian readers of either written form understand).
    Nb,
}

impl Lang {
    /// Every language, with its template file.
    pub const ALL: &'static [Lang] = &[Lang::En, Lang::Nb];

    /// The BCP 47 tag (`en`, `nb`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Nb => "nb",
        }
    }

    /// The language of a BCP 47 tag (`en`, `en-GB`, `nb-NO`), by its
    /// primary subtag; `no` (Norwegian) and `nn` (nynorsk) give bokmål.
    ///
    /// ```
    /// use fhirreg_element::Lang;
    /// assert_eq!(Lang::parse("nb-NO"), Some(Lang::Nb));
    /// assert_eq!(Lang::parse("no"), Some(Lang::Nb));
    /// assert_eq!(Lang::parse("EN_gb"), Some(Lang::En));
    /// assert_eq!(Lang::parse("sv"), None);
    /// ```
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or("");
        if ["no", "nn"].iter().any(|n| n.eq_ignore_ascii_case(primary)) {
            return Some(Lang::Nb);
        }
        Lang::ALL
            .iter()
            .copied()
            .find(|l| l.code().eq_ignore_ascii_case(primary))
    }

    /// The template file of the language (`id<TAB>template` lines).
    fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("../messages/en.tsv"),
            Lang::Nb => include_str!("../messages/nb.tsv"),
        }
    }
}

/// One argument of a message: a value (a name, a number, a URL, ...) or
/// other messages quoted inside this one (the findings a binding message
/// reports, for instance), rendered in the same language and joined with
/// `"; "`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Arg {
    Text(Box<str>),
    Msgs(Box<[Message]>),
}

/// The arguments of a message, in the order of [`Msg::placeholders`].
pub type Args = Box<[Arg]>;

impl Arg {
    /// The value, when this is a plain value.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Arg::Text(t) => Some(t),
            Arg::Msgs(_) => None,
        }
    }

    fn write(&self, lang: Lang, out: &mut String) {
        match self {
            Arg::Text(t) => out.push_str(t),
            Arg::Msgs(ms) => {
                for (i, m) in ms.iter().enumerate() {
                    if i > 0 {
                        out.push_str("; ");
                    }
                    m.msg.write(lang, &m.args, out);
                }
            }
        }
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg::Text(s.into_boxed_str())
    }
}

impl From<&String> for Arg {
    fn from(s: &String) -> Self {
        Arg::Text(s.as_str().into())
    }
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Text(s.into())
    }
}

impl From<&&str> for Arg {
    fn from(s: &&str) -> Self {
        Arg::Text((*s).into())
    }
}

impl From<Box<str>> for Arg {
    fn from(s: Box<str>) -> Self {
        Arg::Text(s)
    }
}

impl From<std::borrow::Cow<'_, str>> for Arg {
    fn from(s: std::borrow::Cow<'_, str>) -> Self {
        Arg::Text(s.into())
    }
}

impl From<char> for Arg {
    fn from(c: char) -> Self {
        Arg::Text(c.to_string().into())
    }
}

macro_rules! arg_from_number {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(n: $t) -> Self {
                Arg::Text(n.to_string().into())
            }
        }
    )*};
}
arg_from_number!(u8, u16, u32, u64, usize, i32, i64, f64);

impl From<Message> for Arg {
    fn from(m: Message) -> Self {
        Arg::Msgs(Box::new([m]))
    }
}

impl From<Vec<Message>> for Arg {
    fn from(ms: Vec<Message>) -> Self {
        Arg::Msgs(ms.into_boxed_slice())
    }
}

/// The arguments of a message: `args![name, count]`, each converted with
/// `Arg::from` (strings, numbers, [`Message`]s).
#[macro_export]
macro_rules! args {
    ($($e:expr),* $(,)?) => {{
        let a: $crate::message::Args = ::std::boxed::Box::new([$($crate::message::Arg::from($e)),*]);
        a
    }};
}

/// A message with its arguments, not yet rendered.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Message {
    pub msg: Msg,
    pub args: Args,
}

impl Message {
    pub fn new(msg: Msg, args: Args) -> Self {
        Message { msg, args }
    }

    /// The text in `lang`.
    pub fn render(&self, lang: Lang) -> String {
        self.msg.render(lang, &self.args)
    }

    /// The value of the argument `name` (a placeholder of the message).
    pub fn arg(&self, name: &str) -> Option<&str> {
        self.msg.arg(&self.args, name)
    }
}

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(Lang::En))
    }
}

/// Declares [`Msg`]: `Variant = "id", java key, severity, issue type,
/// [placeholders];`.
macro_rules! catalogue {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident = $id:literal, $java:expr, $sev:ident, $ty:ident, [$($ph:literal),* $(,)?];
    )*) => {
        /// A kind of message. See the [module documentation](self).
        ///
        /// ```
        /// use fhirreg_element::{args, Lang, Msg};
        /// let m = Msg::TooFewOccurrences;
        /// assert_eq!(m.id(), "too-few-occurrences");
        /// assert_eq!(m.java_key(), Some("Validation_VAL_Profile_Minimum"));
        /// assert_eq!(m.placeholders(), ["element", "min", "count", "profile"]);
        /// let args = args!["Patient.name", 1, 0, "http://example.org/p"];
        /// assert_eq!(
        ///     m.render(Lang::En, &args),
        ///     "Patient.name: at least 1 required, but 0 found (profile http://example.org/p)"
        /// );
        /// assert_eq!(m.arg(&args, "count"), Some("0"));
        /// ```
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Msg {
            $( $(#[doc = $doc])* $name, )*
        }

        impl Msg {
            /// Every message, in declaration order.
            pub const ALL: &'static [Msg] = &[$(Msg::$name),*];

            /// Our stable id (`unknown-property`).
            pub const fn id(self) -> &'static str {
                match self { $(Msg::$name => $id,)* }
            }

            /// The HL7 Java validator's key for the same finding, kept as a
            /// cross-reference (its sentences are not used).
            pub const fn java_key(self) -> Option<&'static str> {
                match self { $(Msg::$name => $java,)* }
            }

            /// The severity the message is reported with unless the report
            /// says otherwise.
            pub const fn severity(self) -> Severity {
                match self { $(Msg::$name => Severity::$sev,)* }
            }

            /// The OperationOutcome issue type of the message.
            pub const fn issue_type(self) -> IssueType {
                match self { $(Msg::$name => IssueType::$ty,)* }
            }

            /// The names of the arguments, in the order they are given.
            pub const fn placeholders(self) -> &'static [&'static str] {
                match self { $(Msg::$name => &[$($ph),*],)* }
            }
        }
    };
}

include!("message/catalogue.rs");

impl Msg {
    /// The message with this id.
    pub fn from_id(id: &str) -> Option<Msg> {
        static BY_ID: OnceLock<HashMap<&'static str, Msg>> = OnceLock::new();
        BY_ID
            .get_or_init(|| Msg::ALL.iter().map(|&m| (m.id(), m)).collect())
            .get(id)
            .copied()
    }

    /// The template in `lang` (English when the language lacks it).
    pub fn template(self, lang: Lang) -> Option<&'static str> {
        templates(lang)
            .get(self as usize)
            .copied()
            .flatten()
            .or_else(|| templates(Lang::En).get(self as usize).copied().flatten())
    }

    /// The text of the message in `lang` with `args` filled in. An
    /// argument that is missing renders as nothing; a message without a
    /// template (never in a release: a test checks) renders as its id and
    /// arguments.
    pub fn render(self, lang: Lang, args: &[Arg]) -> String {
        let mut out = String::new();
        self.write(lang, args, &mut out);
        out
    }

    /// The value of the argument `name` among `args`.
    pub fn arg<'a>(self, args: &'a [Arg], name: &str) -> Option<&'a str> {
        let i = self.placeholders().iter().position(|p| *p == name)?;
        args.get(i)?.as_text()
    }

    fn write(self, lang: Lang, args: &[Arg], out: &mut String) {
        let Some(template) = self.template(lang) else {
            out.push_str(self.id());
            for a in args {
                out.push_str(" | ");
                a.write(lang, out);
            }
            return;
        };
        let names = self.placeholders();
        let mut rest = template;
        while let Some(i) = rest.find(['{', '}']) {
            out.push_str(&rest[..i]);
            let tail = &rest[i..];
            if tail.starts_with("{{") || tail.starts_with("}}") {
                out.push_str(&tail[..1]);
                rest = &tail[2..];
                continue;
            }
            if let Some(end) = tail.strip_prefix('{').and_then(|t| t.find('}')) {
                let name = &tail[1..1 + end];
                if let Some(k) = names.iter().position(|n| *n == name) {
                    if let Some(a) = args.get(k) {
                        a.write(lang, out);
                    }
                    rest = &tail[end + 2..];
                    continue;
                }
            }
            // A lone brace: kept as written.
            out.push_str(&tail[..1]);
            rest = &tail[1..];
        }
        out.push_str(rest);
    }
}

impl std::fmt::Display for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// The `(id, template)` lines of a template file, in file order.
fn lines(source: &str) -> impl Iterator<Item = (&str, &str)> {
    source.lines().filter_map(|line| {
        if line.trim().is_empty() || line.starts_with('#') {
            return None;
        }
        Some(line.split_once('\t').unwrap_or((line, "")))
    })
}

/// The templates of a language, indexed by `Msg as usize`.
fn templates(lang: Lang) -> &'static [Option<&'static str>] {
    static EN: OnceLock<Vec<Option<&'static str>>> = OnceLock::new();
    static NB: OnceLock<Vec<Option<&'static str>>> = OnceLock::new();
    let cell = match lang {
        Lang::En => &EN,
        Lang::Nb => &NB,
    };
    cell.get_or_init(|| {
        let mut table = vec![None; Msg::ALL.len()];
        for (id, template) in lines(lang.source()) {
            if let Some(m) = Msg::from_id(id) {
                if let Some(slot) = table.get_mut(m as usize) {
                    slot.get_or_insert(template);
                }
            }
        }
        table
    })
}

/// The names a template uses in braces, in order (with repeats).
fn template_names(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            rest = &tail[2..];
            continue;
        }
        if let Some(end) = tail.strip_prefix('{').and_then(|t| t.find('}')) {
            names.push(&tail[1..1 + end]);
            rest = &tail[end + 2..];
            continue;
        }
        rest = &tail[1..];
    }
    names
}

/// A check of the catalogue: the problems found (empty when sound).
/// Used by the tests; public so that a translation can be checked
/// the same way.
pub fn check_catalogue() -> Vec<String> {
    let mut problems = Vec::new();
    let mut ids = std::collections::HashSet::new();
    let mut keys = std::collections::HashSet::new();
    for (i, &m) in Msg::ALL.iter().enumerate() {
        if m as usize != i {
            problems.push(format!("{m:?}: out of order in Msg::ALL"));
        }
        let id = m.id();
        let well_formed = !id.is_empty()
            && !id.starts_with('-')
            && !id.ends_with('-')
            && !id.contains("--")
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !well_formed {
            problems.push(format!(
                "{m:?}: id '{id}' is not lower-case words joined by '-'"
            ));
        }
        if !ids.insert(id) {
            problems.push(format!("{m:?}: id '{id}' is not unique"));
        }
        if let Some(k) = m.java_key() {
            if !keys.insert(k) {
                problems.push(format!("{m:?}: Java key '{k}' is given twice"));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for p in m.placeholders() {
            if !seen.insert(p) {
                problems.push(format!("{m:?}: placeholder '{p}' is listed twice"));
            }
        }
    }
    for &lang in Lang::ALL {
        let mut found = std::collections::HashSet::new();
        for (id, template) in lines(lang.source()) {
            let Some(m) = Msg::from_id(id) else {
                problems.push(format!("{}.tsv: unknown id '{id}'", lang.code()));
                continue;
            };
            if !found.insert(m) {
                problems.push(format!("{}.tsv: '{id}' is given twice", lang.code()));
            }
            if template.trim().is_empty() {
                problems.push(format!("{}.tsv: '{id}' has no template", lang.code()));
            }
            let mut used: Vec<&str> = template_names(template);
            used.sort_unstable();
            used.dedup();
            let mut want: Vec<&str> = m.placeholders().to_vec();
            want.sort_unstable();
            if used != want {
                problems.push(format!(
                    "{}.tsv: '{id}' uses {used:?} but the message has {want:?}",
                    lang.code()
                ));
            }
        }
        for &m in Msg::ALL {
            if !found.contains(&m) {
                problems.push(format!("{}.tsv: no template for '{}'", lang.code(), m.id()));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_is_sound() {
        let problems = check_catalogue();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn every_message_renders_its_arguments_in_every_language() {
        for &lang in Lang::ALL {
            for &m in Msg::ALL {
                let args: Vec<Arg> = m
                    .placeholders()
                    .iter()
                    .map(|p| Arg::from(format!("<{p}>")))
                    .collect();
                let text = m.render(lang, &args);
                for p in m.placeholders() {
                    assert!(
                        text.contains(&format!("<{p}>")),
                        "{lang:?} {}: {text}",
                        m.id()
                    );
                }
                assert!(!text.contains('\t'), "{lang:?} {}: {text}", m.id());
                // the template is the language's own, not the fallback
                let own = lines(lang.source()).any(|(id, _)| id == m.id());
                assert!(own, "{}.tsv has no text for '{}'", lang.code(), m.id());
            }
        }
    }

    #[test]
    fn bokmal_is_a_translation() {
        // Every bokmål text differs from the English one unless it is
        // only placeholders and punctuation; a copied English line fails.
        for &m in Msg::ALL {
            let (Some(en), Some(nb)) = (
                lines(Lang::En.source())
                    .find(|(id, _)| *id == m.id())
                    .map(|l| l.1),
                lines(Lang::Nb.source())
                    .find(|(id, _)| *id == m.id())
                    .map(|l| l.1),
            ) else {
                panic!("'{}' lacks a template", m.id());
            };
            let words = |t: &str| {
                let mut rest = t.to_string();
                for p in m.placeholders() {
                    rest = rest.replace(&format!("{{{p}}}"), "");
                }
                rest.chars().any(|c| c.is_alphabetic())
            };
            if words(en) {
                assert_ne!(en, nb, "'{}' is English in nb.tsv", m.id());
            }
        }
        let text = Msg::JsonDuplicateProperty.render(Lang::Nb, &crate::args!["active"]);
        assert!(
            text.contains("'active'") && text.contains("mer enn én gang"),
            "{text}"
        );
    }

    #[test]
    fn braces_and_nesting() {
        let inner = Message::new(Msg::JsonDuplicateProperty, crate::args!["a"]);
        let two = Arg::from(vec![inner.clone(), inner.clone()]);
        let mut out = String::new();
        two.write(Lang::En, &mut out);
        assert_eq!(out, format!("{inner}; {inner}"));
        assert_eq!(template_names("a {{b}} {c} {"), ["c"]);
        assert_eq!(Lang::parse("en-GB"), Some(Lang::En));
        assert_eq!(Lang::parse("xx"), None);
    }

    #[test]
    fn missing_arguments_render_empty() {
        assert_eq!(
            Msg::JsonDuplicateProperty.render(Lang::En, &[]),
            "The property '' appears more than once in this object; only the first occurrence is read"
        );
    }
}
