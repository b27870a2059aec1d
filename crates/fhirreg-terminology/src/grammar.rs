//! Code systems defined by a grammar or an external list rather than a
//! CodeSystem resource: UCUM, BCP-47 language tags, MIME types, ISO 3166
//! countries and ISO 4217 currencies. Plus the well-known systems that
//! cannot be shipped (SNOMED CT, LOINC, ICD ...), which are "not checked".

use crate::data::iso;
use fhirreg_ucum as ucum;

/// The canonical URL of UCUM.
pub const UCUM: &str = "http://unitsofmeasure.org";
/// The canonical URL of BCP-47 language tags.
pub const BCP47: &str = "urn:ietf:bcp:47";
/// The canonical URL of MIME types (BCP-13).
pub const BCP13: &str = "urn:ietf:bcp:13";
/// The canonical URL of ISO 3166 country codes.
pub const ISO3166: &str = "urn:iso:std:iso:3166";
/// The canonical URL of ISO 4217 currency codes.
pub const ISO4217: &str = "urn:iso:std:iso:4217";

/// A code system implemented in code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrammarSystem {
    /// `http://unitsofmeasure.org`
    Ucum,
    /// `urn:ietf:bcp:47`
    Bcp47,
    /// `urn:ietf:bcp:13`
    Mime,
    /// `urn:iso:std:iso:3166`
    Iso3166,
    /// `urn:iso:std:iso:4217`
    Iso4217,
}

impl GrammarSystem {
    /// The grammar system for a canonical URL, if it is one.
    pub fn for_url(url: &str) -> Option<GrammarSystem> {
        match url {
            UCUM => Some(GrammarSystem::Ucum),
            BCP47 => Some(GrammarSystem::Bcp47),
            BCP13 => Some(GrammarSystem::Mime),
            ISO3166 => Some(GrammarSystem::Iso3166),
            ISO4217 => Some(GrammarSystem::Iso4217),
            _ => None,
        }
    }

    /// The canonical URL.
    pub fn url(self) -> &'static str {
        match self {
            GrammarSystem::Ucum => UCUM,
            GrammarSystem::Bcp47 => BCP47,
            GrammarSystem::Mime => BCP13,
            GrammarSystem::Iso3166 => ISO3166,
            GrammarSystem::Iso4217 => ISO4217,
        }
    }

    /// A human name of the system.
    pub fn name(self) -> &'static str {
        match self {
            GrammarSystem::Ucum => "Unified Code for Units of Measure (UCUM)",
            GrammarSystem::Bcp47 => "IETF language tags (BCP 47)",
            GrammarSystem::Mime => "Mime Types (BCP 13)",
            GrammarSystem::Iso3166 => "ISO 3166 country codes",
            GrammarSystem::Iso4217 => "ISO 4217 currency codes",
        }
    }

    /// Whether codes are compared case sensitively.
    pub fn case_sensitive(self) -> bool {
        matches!(
            self,
            GrammarSystem::Ucum | GrammarSystem::Iso3166 | GrammarSystem::Iso4217
        )
    }

    /// Check a code: `Ok(display)` when valid, `Err(reason)` when not.
    pub fn check(self, code: &str) -> Result<String, String> {
        match self {
            GrammarSystem::Ucum => match ucum::parse(code) {
                Ok(_) => Ok(ucum::display(code).unwrap_or_else(|| code.to_owned())),
                Err(e) => Err(e.to_string()),
            },
            GrammarSystem::Bcp47 => check_bcp47(code),
            GrammarSystem::Mime => check_mime(code),
            GrammarSystem::Iso3166 => country(code)
                .map(str::to_owned)
                .ok_or_else(|| format!("'{code}' is not a valid ISO 3166 country code")),
            GrammarSystem::Iso4217 => iso::ISO4217
                .iter()
                .find(|(a, n, _)| *a == code || *n == code)
                .map(|(_, _, name)| (*name).to_owned())
                .ok_or_else(|| format!("'{code}' is not a valid ISO 4217 currency code")),
        }
    }

    /// All codes with displays, when the system is a finite shipped list.
    pub fn enumerate(self) -> Option<Vec<(String, String)>> {
        match self {
            GrammarSystem::Iso3166 => Some(
                iso::ISO3166
                    .iter()
                    .map(|(a2, _, _, n, _)| ((*a2).to_owned(), (*n).to_owned()))
                    .collect(),
            ),
            GrammarSystem::Iso4217 => Some(
                iso::ISO4217
                    .iter()
                    .map(|(a, _, n)| ((*a).to_owned(), (*n).to_owned()))
                    .collect(),
            ),
            _ => None,
        }
    }
}

type CountryRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

fn country_row(code: &str) -> Option<&'static CountryRow> {
    match code.len() {
        2 => iso::ISO3166
            .binary_search_by(|e| e.0.cmp(code))
            .ok()
            .and_then(|i| iso::ISO3166.get(i)),
        3 if code.bytes().all(|b| b.is_ascii_digit()) => iso::ISO3166.iter().find(|e| e.2 == code),
        3 => iso::ISO3166.iter().find(|e| e.1 == code),
        _ => None,
    }
}

/// The English name of an ISO 3166-1 country by alpha-2, alpha-3 or numeric code.
pub fn country(code: &str) -> Option<&'static str> {
    country_row(code).map(|e| e.3)
}

/// Other accepted names of a country (official and common names), e.g.
/// `United States of America` for `US`.
pub fn country_other_names(code: &str) -> Vec<&'static str> {
    country_row(code)
        .map(|e| e.4.split('|').filter(|s| !s.is_empty()).collect())
        .unwrap_or_default()
}

/// Whether `display` names the country `code`: its preferred name or one
/// of its other names, compared case- and space-insensitively. ISO 3166-1
/// itself writes some English short names with the article in brackets
/// ("United States of America (the)", "Netherlands (the)"); that form is
/// the same name.
pub fn is_country_name(code: &str, display: &str) -> bool {
    let fold = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    let wanted = fold(display);
    let wanted = wanted.strip_suffix(" (the)").unwrap_or(&wanted);
    country(code)
        .into_iter()
        .chain(country_other_names(code))
        .any(|name| fold(name) == wanted)
}

fn lookup_sorted(list: &'static [(&'static str, &'static str)], key: &str) -> Option<&'static str> {
    list.binary_search_by(|e| e.0.cmp(key))
        .ok()
        .and_then(|i| list.get(i))
        .map(|e| e.1)
}

/// Validate a BCP-47 language tag (RFC 5646 syntax; the primary language,
/// script and region subtags checked against ISO 639, ISO 15924, ISO 3166
/// and UN M.49). Returns a display such as `Norwegian Bokmål (Norway)`.
pub fn check_bcp47(tag: &str) -> Result<String, String> {
    let bad = |why: &str| Err(format!("'{tag}' is not a valid language tag: {why}"));
    if tag.is_empty() {
        return bad("it is empty");
    }
    let lower = tag.to_ascii_lowercase();
    // grandfathered / private use tags
    if lower.starts_with("x-") {
        return Ok(format!("private use ({tag})"));
    }
    if matches!(
        lower.as_str(),
        "i-default" | "i-klingon" | "en-gb-oed" | "i-navajo" | "art-lojban"
    ) {
        return Ok(tag.to_owned());
    }
    let subtags: Vec<&str> = lower.split('-').collect();
    if subtags
        .iter()
        .any(|s| s.is_empty() || s.len() > 8 || !s.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        return bad("subtags must be 1 to 8 letters or digits separated by '-'");
    }
    let mut it = subtags.iter().peekable();
    let Some(lang) = it.next() else {
        return bad("it is empty");
    };
    if !lang.bytes().all(|b| b.is_ascii_alphabetic()) || !(2..=8).contains(&lang.len()) {
        return bad(&format!("'{lang}' is not a language subtag"));
    }
    let lang_name = match lang.len() {
        2 => lookup_sorted(iso::LANG2, lang),
        3 => lookup_sorted(iso::LANG3, lang),
        _ => None,
    };
    let Some(lang_name) = lang_name else {
        return bad(&format!("the language '{lang}' is unknown"));
    };
    let mut parts: Vec<String> = Vec::new();
    // extlang
    let mut extlangs = 0;
    while let Some(s) = it.peek() {
        if s.len() == 3 && s.bytes().all(|b| b.is_ascii_alphabetic()) && extlangs < 3 {
            extlangs += 1;
            it.next();
        } else {
            break;
        }
    }
    if let Some(s) = it.peek() {
        if s.len() == 4 && s.bytes().all(|b| b.is_ascii_alphabetic()) {
            let mut title = String::new();
            for (i, c) in s.chars().enumerate() {
                title.push(if i == 0 { c.to_ascii_uppercase() } else { c });
            }
            match lookup_sorted(iso::SCRIPTS, &title) {
                Some(n) => parts.push(n.to_owned()),
                None => return bad(&format!("the script '{s}' is unknown")),
            }
            it.next();
        }
    }
    if let Some(s) = it.peek() {
        if s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()) {
            match country(&s.to_ascii_uppercase()) {
                Some(n) => parts.push(n.to_owned()),
                None => return bad(&format!("the region '{s}' is unknown")),
            }
            it.next();
        } else if s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()) {
            parts.push(format!("region {s}"));
            it.next();
        }
    }
    // variants, extensions, private use
    while let Some(s) = it.next() {
        let is_variant = (s.len() >= 5 && s.len() <= 8)
            || (s.len() == 4 && s.bytes().next().is_some_and(|b| b.is_ascii_digit()));
        if is_variant {
            continue;
        }
        if s.len() == 1 {
            // singleton: extension or private use; needs at least one following subtag
            let private = *s == "x";
            let mut n = 0;
            while let Some(t) = it.peek() {
                if t.len() == 1 && !private {
                    break;
                }
                if !private && t.len() < 2 {
                    break;
                }
                n += 1;
                it.next();
            }
            if n == 0 {
                return bad(&format!("the singleton '{s}' has no subtags"));
            }
            continue;
        }
        return bad(&format!("the subtag '{s}' is out of place"));
    }
    if parts.is_empty() {
        Ok(lang_name.to_owned())
    } else {
        Ok(format!("{lang_name} ({})", parts.join(", ")))
    }
}

const MIME_TOP: &[&str] = &[
    "application",
    "audio",
    "example",
    "font",
    "haptics",
    "image",
    "message",
    "model",
    "multipart",
    "text",
    "video",
];

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_graphic()
                && !matches!(
                    b,
                    b'(' | b')'
                        | b'<'
                        | b'>'
                        | b'@'
                        | b','
                        | b';'
                        | b':'
                        | b'\\'
                        | b'"'
                        | b'/'
                        | b'['
                        | b']'
                        | b'?'
                        | b'='
                )
        })
}

/// Validate a MIME type `type/subtype[; param=value]*` (RFC 2045/6838).
pub fn check_mime(code: &str) -> Result<String, String> {
    let bad = |why: &str| Err(format!("'{code}' is not a valid mime type: {why}"));
    let mut parts = code.split(';');
    let main = parts.next().unwrap_or("").trim();
    let Some((ty, sub)) = main.split_once('/') else {
        return bad("it must have the form type/subtype");
    };
    let ty_l = ty.to_ascii_lowercase();
    if !MIME_TOP.contains(&ty_l.as_str()) && !ty_l.starts_with("x-") {
        return bad(&format!("'{ty}' is not a registered top-level type"));
    }
    if !is_token(sub) {
        return bad(&format!("'{sub}' is not a valid subtype"));
    }
    for p in parts {
        let Some((k, v)) = p.trim().split_once('=') else {
            return bad(&format!("the parameter '{}' has no value", p.trim()));
        };
        let v = v.trim();
        let quoted = v.len() >= 2 && v.starts_with('"') && v.ends_with('"');
        // RFC 2045 wants a token or a quoted string; real documents (and the
        // HL7 validator) also use unquoted values with '/' or ':' in them
        // (`variant=XDA/XDS`), so any run of visible ASCII is accepted.
        let visible = !v.is_empty() && v.bytes().all(|b| b.is_ascii_graphic() && b != b'"');
        if !is_token(k.trim()) || !(quoted || visible) {
            return bad(&format!("the parameter '{}' is malformed", p.trim()));
        }
    }
    Ok(main.to_owned())
}

/// Well-known code systems that are too large or licensed, so never shipped:
/// codes in them are reported as not checked rather than invalid.
pub fn is_unshippable(system: &str) -> bool {
    matches!(
        system,
        "http://snomed.info/sct"
            | "http://loinc.org"
            | "http://hl7.org/fhir/sid/icd-10"
            | "http://hl7.org/fhir/sid/icd-10-cm"
            | "http://hl7.org/fhir/sid/icd-9-cm"
            | "http://www.nlm.nih.gov/research/umls/rxnorm"
            | "http://hl7.org/fhir/sid/ndc"
            | "http://hl7.org/fhir/sid/cvx"
            | "http://www.ama-assn.org/go/cpt"
            | "http://www.whocc.no/atc"
            | "http://fdasis.nlm.nih.gov"
            | "http://dicom.nema.org/resources/ontology/DCM"
            | "urn:iso:std:iso:11073:10101"
            | "http://nucc.org/provider-taxonomy"
    ) || system.starts_with("http://snomed.info/")
        || system.starts_with("http://hl7.org/fhir/sid/icd-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcp47() {
        assert_eq!(
            check_bcp47("nb-NO").as_deref(),
            Ok("Norwegian Bokmål (Norway)")
        );
        assert_eq!(
            check_bcp47("en-US").as_deref(),
            Ok("English (United States)")
        );
        assert!(check_bcp47("en").is_ok());
        assert!(check_bcp47("zh-Hant-TW").is_ok());
        assert!(check_bcp47("es-419").is_ok());
        assert!(check_bcp47("de-CH-1901").is_ok());
        assert!(check_bcp47("en-US-x-twain").is_ok());
        assert!(check_bcp47("sgn-ase").is_ok());
        assert!(check_bcp47("xx-123456789").is_err());
        assert!(check_bcp47("en-ZZ").is_err());
        assert!(check_bcp47("qqq").is_err());
        assert!(check_bcp47("en--US").is_err());
        assert!(check_bcp47("").is_err());
        assert!(check_bcp47("en-a").is_err());
    }

    #[test]
    fn mime() {
        assert!(check_mime("application/fhir+json").is_ok());
        assert!(check_mime("text/plain; charset=UTF-8").is_ok());
        assert!(check_mime("image/png").is_ok());
        assert!(check_mime("text").is_err());
        assert!(check_mime("foo/bar").is_err());
        assert!(check_mime("text/pl ain").is_err());
        assert!(check_mime("text/plain; charset").is_err());
        assert!(check_mime("application/hl7-sda+xml; variant=XDA/XDS").is_ok());
        assert!(check_mime("text/plain; name=\"a b\"").is_ok());
        assert!(check_mime("text/plain; name=a b").is_err());
    }

    #[test]
    fn iso_lists() {
        assert_eq!(country("NO"), Some("Norway"));
        assert_eq!(country("NOR"), Some("Norway"));
        assert_eq!(country("578"), Some("Norway"));
        assert_eq!(country("BD"), Some("Bangladesh"));
        assert_eq!(country("XX"), None);
        assert_eq!(country("US"), Some("United States"));
        assert!(country_other_names("US").contains(&"United States of America"));
        assert!(is_country_name("US", "United States of America (the)"));
        assert!(is_country_name("NO", "norway"));
        assert!(!is_country_name("NO", "Sweden"));
        assert_eq!(
            GrammarSystem::Iso4217.check("NOK").as_deref(),
            Ok("Norwegian Krone")
        );
        assert!(GrammarSystem::Iso4217.check("XYZ").is_err());
        assert!(iso::ISO3166.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(iso::LANG3.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(iso::LANG2.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(iso::SCRIPTS.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
