//! Norwegian national identifiers: their format, control digits and
//! birth dates, and the FHIR identifier systems they are used with.
//!
//! | module | identifier | rule |
//! |---|---|---|
//! | [`fnr`] | fødselsnummer | 11 digits `DDMMYYIIIKK`, two mod-11 control digits, a real birth date |
//! | [`dnr`] | D-nummer | as a fødselsnummer, day + 40 |
//! | [`hnr`] | H-nummer (local help number) | as a fødselsnummer, month + 40 |
//! | [`fhn`] | felles hjelpenummer | 11 digits, first digit 8 or 9, no date, mod-11 control digits |
//! | [`duf`] | DUF-nummer (UDI) | 12 digits, the last two the mod-11 remainder of the first ten |
//! | [`orgnr`] | organisasjonsnummer | 9 digits, one mod-11 control digit |
//! | [`kommune`], [`bydel`] | kommunenummer, bydelsnummer | 4 and 6 digits |
//!
//! The birth date of a fødselsnummer, D-nummer or H-nummer must be a real
//! date once the offsets are taken off, with the century given by the
//! individual number (`III`): 000–499 1900–1999; 500–749 with year 54–99
//! 1854–1899; 500–999 with year 00–39 2000–2039; 900–999 with year 40–99
//! 1940–1999. Both control-digit rules are accepted: the classic one, and
//! Skatteetaten's rule for the numbers issued from 2032 (the first control
//! digit is valid when the weighted sum plus the digit is 0, 1, 2 or 3
//! modulo 11).
//!
//! Synthetic test numbers are valid and flagged ([`Synthetic`]): Test
//! Norge/Tenor numbers add 80 to the month, NAV's synthetic numbers add 40.
//! NAV's numbers look exactly like H-numbers, so the kind a number is
//! validated as decides: month + 40 is NAV-synthetic for [`fnr`] and
//! [`dnr`], and the H offset for [`hnr`].
//!
//! ```
//! use fhirreg_no::{fnr, IdError, IdKind, Synthetic};
//! let n = fnr::validate("01019000083").unwrap();
//! assert_eq!(n.kind, IdKind::Fnr);
//! assert_eq!(n.birth_date.to_string(), "1990-01-01");
//! assert_eq!(n.synthetic, None);
//!
//! // Test Norge (Tenor): month + 80
//! let t = fnr::validate("01859000009").unwrap();
//! assert_eq!(t.synthetic, Some(Synthetic::TestNorge));
//! assert_eq!(t.birth_date.to_string(), "1990-05-01");
//!
//! assert_eq!(fnr::validate("01019000084"), Err(IdError::ControlDigit { position: 11 }));
//! assert_eq!(fnr::validate("0101900008"), Err(IdError::Length { expected: 11, found: 10 }));
//! ```
//!
//! Identifier systems are recognised by OID and by the hl7.no NamingSystem
//! URI aliases:
//!
//! ```
//! use fhirreg_no::{system_kind, IdKind};
//! assert_eq!(system_kind("urn:oid:2.16.578.1.12.4.1.4.1"), Some(IdKind::Fnr));
//! assert_eq!(system_kind("http://hl7.no/fhir/NamingSystem/DNR"), Some(IdKind::Dnr));
//! assert_eq!(system_kind("urn:oid:2.16.578.1.12.4.1.4.101"), Some(IdKind::Orgnr));
//! assert_eq!(system_kind("http://example.org/mrn"), None);
//! let checked = fhirreg_no::validate(IdKind::Orgnr, "974760673").unwrap();
//! assert_eq!(checked.kind, IdKind::Orgnr);
//! ```

use std::fmt;

mod person;

pub use person::Fnr;

/// A kind of Norwegian identifier (and the identifier system it belongs
/// to).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum IdKind {
    /// Fødselsnummer (national identity number).
    Fnr,
    /// D-nummer (temporary number: day + 40).
    Dnr,
    /// H-nummer (the health services' local help number: month + 40).
    Hnr,
    /// Felles hjelpenummer (common help number: first digit 8 or 9).
    Fhn,
    /// DUF-nummer (UDI's registration number).
    Duf,
    /// Organisasjonsnummer (Enhetsregisteret).
    Orgnr,
    /// HPR-nummer (Helsepersonellregisteret): digits.
    Hpr,
    /// HER-id (Adresseregisteret): digits.
    HerId,
    /// RESH-id (Register for enheter i spesialisthelsetjenesten).
    Resh,
    /// Apotekets konsesjonsnummer.
    Konsesjon,
    /// Kommunenummer: 4 digits.
    Kommune,
    /// Bydelsnummer: 6 digits.
    Bydel,
}

/// Identifier systems: the kind, its OID, and the URI aliases.
const SYSTEMS: &[(IdKind, &str, &[&str])] = &[
    (IdKind::Fnr, "2.16.578.1.12.4.1.4.1", &["http://hl7.no/fhir/NamingSystem/FNR"]),
    (IdKind::Dnr, "2.16.578.1.12.4.1.4.2", &["http://hl7.no/fhir/NamingSystem/DNR"]),
    (IdKind::Fhn, "2.16.578.1.12.4.1.4.3", &["http://hl7.no/fhir/NamingSystem/FHNR"]),
    (IdKind::Hpr, "2.16.578.1.12.4.1.4.4", &["http://hl7.no/fhir/NamingSystem/HPR"]),
    (IdKind::Duf, "2.16.578.1.12.4.1.4.5", &["http://hl7.no/fhir/NamingSystem/DUFN"]),
    (IdKind::Orgnr, "2.16.578.1.12.4.1.4.101", &["http://data.brreg.no/begrep/28155"]),
    (IdKind::Resh, "2.16.578.1.12.4.1.4.102", &["http://hl7.no/fhir/NamingSystem/RESHid"]),
    (IdKind::Konsesjon, "2.16.578.1.12.4.1.4.107", &["http://hl7.no/fhir/NamingSystem/AKO"]),
    (IdKind::HerId, "2.16.578.1.12.4.1.2", &["http://hl7.no/fhir/NamingSystem/HERid"]),
    (
        IdKind::Kommune,
        "2.16.578.1.12.4.1.1.3402",
        &[
            "http://hl7.no/fhir/NamingSystem/kommunenummer",
            "https://register.geonorge.no/subregister/sosi-kodelister/kartverket/kommunenummer-alle",
        ],
    ),
    (
        IdKind::Bydel,
        "2.16.578.1.12.4.1.1.3403",
        &[
            "http://hl7.no/fhir/NamingSystem/bydelsnummer",
            "http://data.ssb.no/api/klass/v1/versions/919",
        ],
    ),
];

impl IdKind {
    /// Every kind.
    pub const ALL: &'static [IdKind] = &[
        IdKind::Fnr,
        IdKind::Dnr,
        IdKind::Hnr,
        IdKind::Fhn,
        IdKind::Duf,
        IdKind::Orgnr,
        IdKind::Hpr,
        IdKind::HerId,
        IdKind::Resh,
        IdKind::Konsesjon,
        IdKind::Kommune,
        IdKind::Bydel,
    ];

    /// A short code (`fnr`, `dnr`, `hnr`, `fhn`, `duf`, `orgnr`, `hpr`,
    /// `her`, `resh`, `ako`, `kommune`, `bydel`), as the CLI's
    /// `check-id --type` takes it.
    pub const fn code(self) -> &'static str {
        match self {
            IdKind::Fnr => "fnr",
            IdKind::Dnr => "dnr",
            IdKind::Hnr => "hnr",
            IdKind::Fhn => "fhn",
            IdKind::Duf => "duf",
            IdKind::Orgnr => "orgnr",
            IdKind::Hpr => "hpr",
            IdKind::HerId => "her",
            IdKind::Resh => "resh",
            IdKind::Konsesjon => "ako",
            IdKind::Kommune => "kommune",
            IdKind::Bydel => "bydel",
        }
    }

    /// The kind of a [code](Self::code) (case-insensitive; `fhnr`,
    /// `dufnr`, `enh`, `kommunenummer` and `bydelsnummer` are accepted too).
    ///
    /// ```
    /// use fhirreg_no::IdKind;
    /// assert_eq!(IdKind::from_code("FNR"), Some(IdKind::Fnr));
    /// assert_eq!(IdKind::from_code("enh"), Some(IdKind::Orgnr));
    /// assert_eq!(IdKind::from_code("ssn"), None);
    /// ```
    pub fn from_code(code: &str) -> Option<IdKind> {
        let c = code.to_ascii_lowercase();
        let alias = match c.as_str() {
            "fhnr" => Some(IdKind::Fhn),
            "dufnr" | "dufn" => Some(IdKind::Duf),
            "enh" | "orgnummer" => Some(IdKind::Orgnr),
            "herid" | "her-id" => Some(IdKind::HerId),
            "kommunenummer" => Some(IdKind::Kommune),
            "bydelsnummer" => Some(IdKind::Bydel),
            _ => None,
        };
        alias.or_else(|| IdKind::ALL.iter().copied().find(|k| k.code() == c))
    }

    /// The Norwegian name (`fødselsnummer`, `D-nummer`, ...), as messages
    /// name the identifier in every language.
    pub const fn name(self) -> &'static str {
        match self {
            IdKind::Fnr => "fødselsnummer",
            IdKind::Dnr => "D-nummer",
            IdKind::Hnr => "H-nummer",
            IdKind::Fhn => "felles hjelpenummer",
            IdKind::Duf => "DUF-nummer",
            IdKind::Orgnr => "organisasjonsnummer",
            IdKind::Hpr => "HPR-nummer",
            IdKind::HerId => "HER-id",
            IdKind::Resh => "RESH-id",
            IdKind::Konsesjon => "apotekets konsesjonsnummer",
            IdKind::Kommune => "kommunenummer",
            IdKind::Bydel => "bydelsnummer",
        }
    }

    /// The OID of the identifier system (`2.16.578.1.12.4.1.4.1`); none
    /// for the H-nummer, which is local to each health service.
    pub fn oid(self) -> Option<&'static str> {
        SYSTEMS.iter().find(|s| s.0 == self).map(|s| s.1)
    }

    /// The NamingSystem URI aliases of the identifier system.
    pub fn aliases(self) -> &'static [&'static str] {
        SYSTEMS
            .iter()
            .find(|s| s.0 == self)
            .map(|s| s.2)
            .unwrap_or(&[])
    }

    /// The number of digits the identifier has, when fixed.
    pub const fn length(self) -> Option<usize> {
        match self {
            IdKind::Fnr | IdKind::Dnr | IdKind::Hnr | IdKind::Fhn => Some(11),
            IdKind::Duf => Some(12),
            IdKind::Orgnr => Some(9),
            IdKind::Kommune => Some(4),
            IdKind::Bydel => Some(6),
            IdKind::Hpr | IdKind::HerId | IdKind::Resh | IdKind::Konsesjon => None,
        }
    }
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The kind of identifier an `Identifier.system` names: its OID as
/// `urn:oid:...` (or bare), or one of its NamingSystem URI aliases.
///
/// ```
/// use fhirreg_no::{system_kind, IdKind};
/// assert_eq!(system_kind("urn:oid:2.16.578.1.12.4.1.4.3"), Some(IdKind::Fhn));
/// assert_eq!(system_kind("http://hl7.no/fhir/NamingSystem/FHNR"), Some(IdKind::Fhn));
/// assert_eq!(system_kind("urn:oid:2.16.578.1.12.4.1.1.3402"), Some(IdKind::Kommune));
/// assert_eq!(system_kind("urn:oid:2.16.578.1.12.4.1.4.1.1"), None);
/// ```
pub fn system_kind(uri: &str) -> Option<IdKind> {
    let oid = uri.strip_prefix("urn:oid:").unwrap_or(uri);
    SYSTEMS
        .iter()
        .find(|(_, o, aliases)| *o == oid || aliases.contains(&uri))
        .map(|s| s.0)
}

/// A synthetic test number: valid, but not a real person's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Synthetic {
    /// Skatteetaten's Test Norge (Tenor) numbers: month + 80.
    TestNorge,
    /// NAV's synthetic numbers: month + 40.
    Nav,
}

impl Synthetic {
    /// What is added to the month.
    pub const fn month_offset(self) -> u8 {
        match self {
            Synthetic::TestNorge => 80,
            Synthetic::Nav => 40,
        }
    }

    /// Who makes such numbers (`Test Norge (Tenor)`, `NAV`).
    pub const fn source(self) -> &'static str {
        match self {
            Synthetic::TestNorge => "Test Norge (Tenor)",
            Synthetic::Nav => "NAV",
        }
    }
}

impl fmt::Display for Synthetic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.source())
    }
}

/// A calendar date (a birth date of a number).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BirthDate {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl BirthDate {
    /// The date, when it is a real (proleptic Gregorian) date.
    ///
    /// ```
    /// use fhirreg_no::BirthDate;
    /// assert!(BirthDate::new(2000, 2, 29).is_some());
    /// assert!(BirthDate::new(1900, 2, 29).is_none());
    /// assert!(BirthDate::new(1990, 4, 31).is_none());
    /// ```
    pub fn new(year: u16, month: u8, day: u8) -> Option<BirthDate> {
        let leap =
            (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days)
            .contains(&day)
            .then_some(BirthDate { year, month, day })
    }
}

impl fmt::Display for BirthDate {
    /// ISO 8601 (`1990-01-31`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Why a number is not a valid identifier of its kind.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IdError {
    /// No characters at all.
    Empty,
    /// The wrong number of characters.
    Length { expected: usize, found: usize },
    /// A character that is not an ASCII digit, at `position` (1-based,
    /// in characters).
    NotDigits { position: usize },
    /// The control digit at `position` (1-based) does not match the
    /// digits before it (or no digit can: the remainder is 10).
    ControlDigit { position: usize },
    /// The digit at `position` (1-based) is not one the kind allows there
    /// (a felles hjelpenummer starts with 8 or 9, a D-nummer with 4–7).
    Digit {
        position: usize,
        allowed: &'static str,
    },
    /// The number is valid, but as another kind (a D-nummer given as a
    /// fødselsnummer, for instance).
    WrongKind { found: IdKind },
    /// The individual number and the two-digit year give no century.
    Century { individual: u16, year: u8 },
    /// The date part, the offsets taken off, is not a real date.
    Date { year: u16, month: u8, day: u8 },
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdError::Empty => f.write_str("the number is empty"),
            IdError::Length { expected, found } => {
                write!(f, "{found} characters where {expected} digits are expected")
            }
            IdError::NotDigits { position } => {
                write!(f, "character {position} is not a digit")
            }
            IdError::ControlDigit { position } => {
                write!(f, "the control digit (digit {position}) does not match")
            }
            IdError::Digit { position, allowed } => {
                write!(f, "digit {position} must be {allowed}")
            }
            IdError::WrongKind { found } => write!(f, "the number is a {found}"),
            IdError::Century { individual, year } => write!(
                f,
                "individual number {individual:03} with year {year:02} gives no century"
            ),
            IdError::Date { year, month, day } => write!(
                f,
                "the date part is not a real date ({year:04}-{month:02}-{day:02})"
            ),
        }
    }
}

impl std::error::Error for IdError {}

/// A valid identifier of any kind, with what the number tells.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Id {
    pub kind: IdKind,
    /// The birth date, for fødselsnummer, D-nummer and H-nummer.
    pub birth_date: Option<BirthDate>,
    /// Set for synthetic test numbers.
    pub synthetic: Option<Synthetic>,
}

impl From<Fnr> for Id {
    fn from(n: Fnr) -> Id {
        Id {
            kind: n.kind,
            birth_date: Some(n.birth_date),
            synthetic: n.synthetic,
        }
    }
}

impl Id {
    fn plain(kind: IdKind) -> Id {
        Id {
            kind,
            birth_date: None,
            synthetic: None,
        }
    }
}

/// Validate `value` as an identifier of `kind`. Kinds without a public
/// rule are only checked for what is known: HPR-nummer and HER-id are
/// digits; RESH-id and konsesjonsnummer are not checked.
///
/// ```
/// use fhirreg_no::{validate, IdError, IdKind};
/// assert!(validate(IdKind::Kommune, "0301").is_ok());
/// assert_eq!(validate(IdKind::Bydel, "03010"), Err(IdError::Length { expected: 6, found: 5 }));
/// assert_eq!(validate(IdKind::Hpr, "12a"), Err(IdError::NotDigits { position: 3 }));
/// let d = validate(IdKind::Dnr, "41127000059").unwrap();
/// assert_eq!(d.birth_date.unwrap().to_string(), "1970-12-01");
/// ```
pub fn validate(kind: IdKind, value: &str) -> Result<Id, IdError> {
    match kind {
        IdKind::Fnr => fnr::validate(value).map(Id::from),
        IdKind::Dnr => dnr::validate(value).map(Id::from),
        IdKind::Hnr => hnr::validate(value).map(Id::from),
        IdKind::Fhn => fhn::validate(value).map(|()| Id::plain(kind)),
        IdKind::Duf => duf::validate(value).map(|()| Id::plain(kind)),
        IdKind::Orgnr => orgnr::validate(value).map(|()| Id::plain(kind)),
        IdKind::Kommune => kommune::validate(value).map(|()| Id::plain(kind)),
        IdKind::Bydel => bydel::validate(value).map(|()| Id::plain(kind)),
        IdKind::Hpr | IdKind::HerId => {
            if value.is_empty() {
                return Err(IdError::Empty);
            }
            digits_only(value)?;
            Ok(Id::plain(kind))
        }
        IdKind::Resh | IdKind::Konsesjon => Ok(Id::plain(kind)),
    }
}

/// The digits of `value`, which must have `len` of them and nothing else.
fn digits<const N: usize>(value: &str) -> Result<[u8; N], IdError> {
    if value.is_empty() {
        return Err(IdError::Empty);
    }
    let found = value.chars().count();
    if found != N {
        return Err(IdError::Length { expected: N, found });
    }
    digits_only(value)?;
    let mut d = [0u8; N];
    for (slot, b) in d.iter_mut().zip(value.bytes()) {
        *slot = b - b'0';
    }
    Ok(d)
}

fn digits_only(value: &str) -> Result<(), IdError> {
    match value.chars().position(|c| !c.is_ascii_digit()) {
        Some(i) => Err(IdError::NotDigits { position: i + 1 }),
        None => Ok(()),
    }
}

/// The weighted sum of `digits`.
fn weighted(digits: &[u8], weights: &[u32]) -> u32 {
    digits
        .iter()
        .zip(weights)
        .map(|(&d, &w)| u32::from(d) * w)
        .sum()
}

/// The classic mod-11 control digit of a weighted sum: 11 − (sum mod 11),
/// 11 meaning 0; `None` for 10 (no digit fits).
fn mod11(sum: u32) -> Option<u8> {
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        k => Some(k as u8),
    }
}

/// Fødselsnummer (`urn:oid:2.16.578.1.12.4.1.4.1`).
pub mod fnr {
    use super::{person, Fnr, IdError, IdKind};

    /// Validate a fødselsnummer: 11 digits, the control digits, a real
    /// birth date. Test Norge (month + 80) and NAV (month + 40) synthetic
    /// numbers are valid with [`Fnr::synthetic`] set; a D-nummer or a
    /// felles hjelpenummer is [`IdError::WrongKind`].
    ///
    /// ```
    /// use fhirreg_no::{fnr, IdError, IdKind, Synthetic};
    /// assert_eq!(fnr::validate("29020050088").unwrap().birth_date.to_string(), "2000-02-29");
    /// // individual number 000: 1900, not a leap year
    /// assert!(matches!(fnr::validate("29020000064"), Err(IdError::Date { year: 1900, .. })));
    /// assert_eq!(fnr::validate("01459000026").unwrap().synthetic, Some(Synthetic::Nav));
    /// assert_eq!(fnr::validate("41127000059"), Err(IdError::WrongKind { found: IdKind::Dnr }));
    /// // valid only under the control-digit rule for numbers issued from 2032
    /// assert!(fnr::validate("30108299939").unwrap().new_k1_rule);
    /// ```
    pub fn validate(value: &str) -> Result<Fnr, IdError> {
        person::validate(value, IdKind::Fnr)
    }
}

/// D-nummer (`urn:oid:2.16.578.1.12.4.1.4.2`): day + 40.
pub mod dnr {
    use super::{person, Fnr, IdError, IdKind};

    /// Validate a D-nummer: as a fødselsnummer, with 40 added to the day
    /// (first digit 4–7). Synthetic numbers as for [`crate::fnr`].
    ///
    /// ```
    /// use fhirreg_no::{dnr, IdError, IdKind};
    /// assert_eq!(dnr::validate("41127000059").unwrap().kind, IdKind::Dnr);
    /// assert_eq!(dnr::validate("01019000083"), Err(IdError::WrongKind { found: IdKind::Fnr }));
    /// ```
    pub fn validate(value: &str) -> Result<Fnr, IdError> {
        person::validate(value, IdKind::Dnr)
    }
}

/// H-nummer: the health services' local help number, month + 40.
pub mod hnr {
    use super::{person, Fnr, IdError, IdKind};

    /// Validate an H-nummer: as a fødselsnummer, with 40 added to the
    /// month (third digit 4 or 5). It has no national identifier system,
    /// so FHIR validation never applies this rule by itself.
    ///
    /// ```
    /// use fhirreg_no::{hnr, IdKind};
    /// let h = hnr::validate("01459000026").unwrap();
    /// assert_eq!((h.kind, h.synthetic), (IdKind::Hnr, None));
    /// assert_eq!(h.birth_date.to_string(), "1990-05-01");
    /// ```
    pub fn validate(value: &str) -> Result<Fnr, IdError> {
        person::validate(value, IdKind::Hnr)
    }
}

/// Felles hjelpenummer (`urn:oid:2.16.578.1.12.4.1.4.3`).
pub mod fhn {
    use super::{person, IdError};

    /// Validate a felles hjelpenummer: 11 digits, the first 8 or 9, the
    /// two mod-11 control digits (classic rule); no date part.
    ///
    /// ```
    /// use fhirreg_no::{fhn, IdError};
    /// assert!(fhn::validate("80000000098").is_ok());
    /// assert_eq!(fhn::validate("80000000099"), Err(IdError::ControlDigit { position: 11 }));
    /// ```
    pub fn validate(value: &str) -> Result<(), IdError> {
        person::validate_fhn(value)
    }
}

/// DUF-nummer (`urn:oid:2.16.578.1.12.4.1.4.5`): UDI's registration
/// number.
pub mod duf {
    use super::{digits, weighted, IdError};

    const WEIGHTS: [u32; 10] = [4, 6, 3, 2, 4, 6, 3, 2, 7, 5];

    /// Validate a DUF-nummer: 12 digits; the last two, read as a number,
    /// are the weighted sum of the first ten (weights 4, 6, 3, 2, 4, 6, 3,
    /// 2, 7, 5) modulo 11.
    ///
    /// ```
    /// use fhirreg_no::{duf, IdError};
    /// assert!(duf::validate("201012345610").is_ok());
    /// assert_eq!(duf::validate("201012345611"), Err(IdError::ControlDigit { position: 11 }));
    /// ```
    pub fn validate(value: &str) -> Result<(), IdError> {
        let d = digits::<12>(value)?;
        let want = weighted(&d[..10], &WEIGHTS) % 11;
        let have = u32::from(d[10]) * 10 + u32::from(d[11]);
        if want != have {
            return Err(IdError::ControlDigit { position: 11 });
        }
        Ok(())
    }
}

/// Organisasjonsnummer (`urn:oid:2.16.578.1.12.4.1.4.101`).
pub mod orgnr {
    use super::{digits, mod11, weighted, IdError};

    const WEIGHTS: [u32; 8] = [3, 2, 7, 6, 5, 4, 3, 2];

    /// Validate an organisasjonsnummer: 9 digits, the last the mod-11
    /// control digit of the first eight (weights 3, 2, 7, 6, 5, 4, 3, 2).
    ///
    /// ```
    /// use fhirreg_no::{orgnr, IdError};
    /// assert!(orgnr::validate("974760673").is_ok());
    /// assert_eq!(orgnr::validate("974760672"), Err(IdError::ControlDigit { position: 9 }));
    /// ```
    pub fn validate(value: &str) -> Result<(), IdError> {
        let d = digits::<9>(value)?;
        match mod11(weighted(&d[..8], &WEIGHTS)) {
            Some(k) if k == d[8] => Ok(()),
            _ => Err(IdError::ControlDigit { position: 9 }),
        }
    }
}

/// Kommunenummer (`urn:oid:2.16.578.1.12.4.1.1.3402`): the format; the
/// list of municipalities is a code system (SSB/Kartverket).
pub mod kommune {
    use super::{digits, IdError};

    /// Validate the format of a kommunenummer: 4 digits.
    ///
    /// ```
    /// assert!(fhirreg_no::kommune::validate("0301").is_ok());
    /// assert!(fhirreg_no::kommune::validate("301").is_err());
    /// ```
    pub fn validate(value: &str) -> Result<(), IdError> {
        digits::<4>(value).map(|_| ())
    }
}

/// Bydelsnummer (`urn:oid:2.16.578.1.12.4.1.1.3403`): the format; the
/// list of urban districts is a code system (SSB).
pub mod bydel {
    use super::{digits, IdError};

    /// Validate the format of a bydelsnummer: 6 digits (the kommunenummer
    /// and two more).
    ///
    /// ```
    /// assert!(fhirreg_no::bydel::validate("030101").is_ok());
    /// assert!(fhirreg_no::bydel::validate("0301-01").is_err());
    /// ```
    pub fn validate(value: &str) -> Result<(), IdError> {
        digits::<6>(value).map(|_| ())
    }
}

#[cfg(test)]
mod tests;
