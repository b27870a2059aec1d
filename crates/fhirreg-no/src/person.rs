//! The 11-digit person numbers: fødselsnummer, D-nummer, H-nummer and
//! felles hjelpenummer.

use crate::{digits, mod11, weighted, BirthDate, IdError, IdKind, Synthetic};

const W1: [u32; 9] = [3, 7, 6, 1, 8, 9, 4, 5, 2];
const W2: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];

/// A valid fødselsnummer, D-nummer or H-nummer, and what it tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Fnr {
    /// [`IdKind::Fnr`], [`IdKind::Dnr`] or [`IdKind::Hnr`].
    pub kind: IdKind,
    /// The birth date, the offsets taken off.
    pub birth_date: BirthDate,
    /// Set for synthetic test numbers.
    pub synthetic: Option<Synthetic>,
    /// The individual number (`III`, digits 7–9).
    pub individual: u16,
    /// The first control digit is valid only under the rule for numbers
    /// issued from 2032.
    pub new_k1_rule: bool,
}

/// Which first control digits a number may have.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Only the classic one.
    Classic,
    /// The classic one or one of the 2032 rule.
    From2032,
}

/// Check the two control digits; `Ok(true)` when K1 is valid only under
/// the 2032 rule.
fn control_digits(d: &[u8; 11], rule: Rule) -> Result<bool, IdError> {
    let s1 = weighted(&d[..9], &W1);
    let k1 = d[9];
    let classic = mod11(s1) == Some(k1);
    let new_rule = !classic && rule == Rule::From2032 && (s1 + u32::from(k1)) % 11 <= 3;
    if !classic && !new_rule {
        return Err(IdError::ControlDigit { position: 10 });
    }
    if mod11(weighted(&d[..10], &W2)) != Some(d[10]) {
        return Err(IdError::ControlDigit { position: 11 });
    }
    Ok(new_rule)
}

/// The full year of a two-digit year, by the individual number.
fn century(individual: u16, yy: u8) -> Option<u16> {
    let yy16 = u16::from(yy);
    match (individual, yy) {
        (0..=499, _) => Some(1900 + yy16),
        (500..=749, 54..=99) => Some(1800 + yy16),
        (500..=999, 0..=39) => Some(2000 + yy16),
        (900..=999, 40..=99) => Some(1900 + yy16),
        _ => None,
    }
}

/// The date, synthetic flag and kind of digits whose control digits
/// are right, read as `kind`.
fn read(d: &[u8; 11], kind: IdKind, new_k1_rule: bool) -> Result<Fnr, IdError> {
    let mut day = d[0] * 10 + d[1];
    let mut month = d[2] * 10 + d[3];
    let yy = d[4] * 10 + d[5];
    let individual = u16::from(d[6]) * 100 + u16::from(d[7]) * 10 + u16::from(d[8]);
    match kind {
        IdKind::Dnr => {
            if !(4..=7).contains(&d[0]) {
                return Err(other_kind(d, kind).unwrap_or(IdError::Digit {
                    position: 1,
                    allowed: "4–7",
                }));
            }
            day -= 40;
        }
        IdKind::Fnr if d[0] > 3 => {
            return Err(other_kind(d, kind).unwrap_or(IdError::Digit {
                position: 1,
                allowed: "0–3",
            }));
        }
        IdKind::Hnr => {
            if !(40..=59).contains(&month) {
                return Err(other_kind(d, kind).unwrap_or(IdError::Digit {
                    position: 3,
                    allowed: "4–5",
                }));
            }
            month -= 40;
        }
        _ => {}
    }
    let mut synthetic = None;
    if kind != IdKind::Hnr {
        // (a month beyond the offset's range is still read with the
        // offset taken off, so the date error names month 13, not 93)
        if month >= 80 {
            synthetic = Some(Synthetic::TestNorge);
            month -= 80;
        } else if month >= 40 {
            synthetic = Some(Synthetic::Nav);
            month -= 40;
        }
    }
    let year = century(individual, yy).ok_or(IdError::Century {
        individual,
        year: yy,
    })?;
    let birth_date = BirthDate::new(year, month, day).ok_or(IdError::Date { year, month, day })?;
    Ok(Fnr {
        kind,
        birth_date,
        synthetic,
        individual,
        new_k1_rule,
    })
}

/// The kind a number with the wrong offsets for `expected` is valid as
/// (a D-nummer given as a fødselsnummer).
fn other_kind(d: &[u8; 11], expected: IdKind) -> Option<IdError> {
    let candidates: &[IdKind] = match d[0] {
        8 | 9 => &[IdKind::Fhn],
        4..=7 => &[IdKind::Dnr],
        _ => &[IdKind::Fnr],
    };
    candidates
        .iter()
        .copied()
        .filter(|&k| k != expected)
        .find(|&k| match k {
            IdKind::Fhn => control_digits(d, Rule::Classic).is_ok(),
            _ => control_digits(d, Rule::From2032).is_ok_and(|new| read(d, k, new).is_ok()),
        })
        .map(|found| IdError::WrongKind { found })
}

/// Validate an 11-digit number as a fødselsnummer, D-nummer or H-nummer.
pub(crate) fn validate(value: &str, kind: IdKind) -> Result<Fnr, IdError> {
    let d = digits::<11>(value)?;
    let new_k1_rule = control_digits(&d, Rule::From2032)?;
    read(&d, kind, new_k1_rule)
}

/// Validate a felles hjelpenummer.
pub(crate) fn validate_fhn(value: &str) -> Result<(), IdError> {
    let d = digits::<11>(value)?;
    if d[0] < 8 {
        if control_digits(&d, Rule::From2032).is_ok() {
            if let Some(e) = other_kind(&d, IdKind::Fhn) {
                return Err(e);
            }
        }
        return Err(IdError::Digit {
            position: 1,
            allowed: "8–9",
        });
    }
    control_digits(&d, Rule::Classic).map(|_| ())
}
