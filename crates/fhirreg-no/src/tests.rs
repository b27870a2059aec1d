//! Unit tests, with generated numbers whose control digits are computed
//! here independently of the crate (as the weighted sum, control digits
//! included with weight 1, that must be 0 modulo 11).

use super::*;

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn digit(&mut self) -> u8 {
        self.below(10) as u8
    }
}

/// The full weight vectors: the control digits carry weight 1.
const FULL_K1: [u32; 10] = [3, 7, 6, 1, 8, 9, 4, 5, 2, 1];
const FULL_K2: [u32; 11] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2, 1];

fn dot(d: &[u8], w: &[u32]) -> u32 {
    d.iter().zip(w).map(|(&a, &b)| u32::from(a) * b).sum()
}

/// The digit `k` that makes `dot(prefix + k, weights)` ≡ `residue`
/// (mod 11), by trying all ten; `None` when none does.
fn solve(prefix: &[u8], weights: &[u32], residue: u32) -> Option<u8> {
    (0..10u8).find(|&k| {
        let mut v = prefix.to_vec();
        v.push(k);
        dot(&v, weights) % 11 == residue
    })
}

/// The 11 digits of `nine` followed by its control digits; K1 chosen so
/// that the K1 sum has remainder `k1_residue` (0: the classic rule).
fn with_controls(nine: &[u8], k1_residue: u32) -> Option<[u8; 11]> {
    let k1 = solve(nine, &FULL_K1, k1_residue)?;
    let mut ten = nine.to_vec();
    ten.push(k1);
    let k2 = solve(&ten, &FULL_K2, 0)?;
    ten.push(k2);
    ten.try_into().ok()
}

fn text(d: &[u8]) -> String {
    d.iter().map(|x| char::from(b'0' + x)).collect()
}

fn is_leap(y: u16) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

fn days_in(y: u16, m: u8) -> u8 {
    [
        31,
        if is_leap(y) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ][usize::from(m - 1)]
}

/// An individual number that gives `year` its century.
fn individual_for(rng: &mut Rng, year: u16) -> u16 {
    let options: &[(u16, u16)] = match year {
        1854..=1899 => &[(500, 749)],
        1900..=1939 => &[(0, 499)],
        1940..=1999 => &[(0, 499), (900, 999)],
        2000..=2039 => &[(500, 999)],
        _ => unreachable!(),
    };
    let (lo, hi) = options[rng.below(options.len() as u64) as usize];
    lo + rng.below(u64::from(hi - lo + 1)) as u16
}

struct Generated {
    value: String,
    kind: IdKind,
    date: BirthDate,
    synthetic: Option<Synthetic>,
    new_rule: bool,
}

/// A random valid fødselsnummer, D-nummer or H-nummer.
fn generate(rng: &mut Rng) -> Generated {
    loop {
        let year = 1854 + rng.below(2039 - 1854 + 1) as u16;
        let month = 1 + rng.below(12) as u8;
        let day = 1 + rng.below(u64::from(days_in(year, month))) as u8;
        let kind = [IdKind::Fnr, IdKind::Dnr, IdKind::Hnr][rng.below(3) as usize];
        let synthetic = match (kind, rng.below(4)) {
            (IdKind::Hnr, _) | (_, 0 | 1) => None,
            (_, 2) => Some(Synthetic::TestNorge),
            _ => Some(Synthetic::Nav),
        };
        let dd = day + if kind == IdKind::Dnr { 40 } else { 0 };
        let mm = month
            + match (kind, synthetic) {
                (IdKind::Hnr, _) => 40,
                (_, Some(Synthetic::TestNorge)) => 80,
                (_, Some(Synthetic::Nav)) => 40,
                _ => 0,
            };
        let yy = (year % 100) as u8;
        let ind = individual_for(rng, year);
        let nine = [
            dd / 10,
            dd % 10,
            mm / 10,
            mm % 10,
            yy / 10,
            yy % 10,
            (ind / 100) as u8,
            (ind / 10 % 10) as u8,
            (ind % 10) as u8,
        ];
        let residue = if rng.below(5) == 0 {
            1 + rng.below(3) as u32
        } else {
            0
        };
        if let Some(d) = with_controls(&nine, residue) {
            return Generated {
                value: text(&d),
                kind,
                date: BirthDate { year, month, day },
                synthetic,
                new_rule: residue != 0,
            };
        }
    }
}

fn validate_as(kind: IdKind, value: &str) -> Result<Fnr, IdError> {
    match kind {
        IdKind::Fnr => fnr::validate(value),
        IdKind::Dnr => dnr::validate(value),
        IdKind::Hnr => hnr::validate(value),
        _ => unreachable!(),
    }
}

#[test]
fn generated_person_numbers_are_valid_with_their_date_and_flags() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut seen_new_rule = 0;
    for _ in 0..20_000 {
        let g = generate(&mut rng);
        let n = validate_as(g.kind, &g.value)
            .unwrap_or_else(|e| panic!("{} as {:?}: {e}", g.value, g.kind));
        assert_eq!(n.kind, g.kind, "{}", g.value);
        assert_eq!(n.birth_date, g.date, "{}", g.value);
        assert_eq!(n.synthetic, g.synthetic, "{}", g.value);
        // (a residue 1–3 K1 can coincide with no classic digit only)
        assert_eq!(n.new_k1_rule, g.new_rule, "{}", g.value);
        seen_new_rule += usize::from(g.new_rule);
        let any = validate(g.kind, &g.value).unwrap();
        assert_eq!(any.birth_date, Some(g.date));
    }
    assert!(seen_new_rule > 1000);
}

#[test]
fn every_single_digit_change_is_caught() {
    let mut rng = Rng(0x0dd_ba11);
    for _ in 0..2_000 {
        let g = generate(&mut rng);
        let bytes = g.value.as_bytes();
        for i in 0..11 {
            for c in b'0'..=b'9' {
                if c == bytes[i] {
                    continue;
                }
                let mut v = bytes.to_vec();
                v[i] = c;
                let v = String::from_utf8(v).unwrap();
                assert!(validate_as(g.kind, &v).is_err(), "{} -> {v}", g.value);
            }
        }
        for i in 0..10 {
            if bytes[i] == bytes[i + 1] {
                continue;
            }
            let mut v = bytes.to_vec();
            v.swap(i, i + 1);
            let v = String::from_utf8(v).unwrap();
            assert!(validate_as(g.kind, &v).is_err(), "{} -> {v}", g.value);
        }
    }
}

#[test]
fn wrong_control_digits_are_reported_by_position() {
    let mut rng = Rng(42);
    for _ in 0..5_000 {
        let nine: Vec<u8> = (0..9).map(|_| rng.digit()).collect();
        let s1 = dot(&nine, &FULL_K1[..9]);
        for k1 in 0..10u8 {
            let r = (s1 + u32::from(k1)) % 11;
            let mut ten = nine.clone();
            ten.push(k1);
            let Some(k2) = solve(&ten, &FULL_K2, 0) else {
                continue;
            };
            ten.push(k2);
            let value = text(&ten);
            let got = fnr::validate(&value);
            if r > 3 {
                assert_eq!(got, Err(IdError::ControlDigit { position: 10 }), "{value}");
            } else {
                assert_ne!(got, Err(IdError::ControlDigit { position: 10 }), "{value}");
                assert_ne!(got, Err(IdError::ControlDigit { position: 11 }), "{value}");
            }
        }
    }
}

#[test]
fn k2_of_ten_makes_a_number_impossible() {
    // 9 digits whose K2 would be 10: no last digit makes them valid
    let mut rng = Rng(7);
    let mut found = 0;
    while found < 200 {
        let nine: Vec<u8> = (0..9).map(|_| rng.digit()).collect();
        let Some(k1) = solve(&nine, &FULL_K1, 0) else {
            continue;
        };
        let mut ten = nine.clone();
        ten.push(k1);
        if solve(&ten, &FULL_K2, 0).is_some() {
            continue;
        }
        found += 1;
        for k2 in 0..10 {
            let mut v = ten.clone();
            v.push(k2);
            assert_eq!(
                fnr::validate(&text(&v)),
                Err(IdError::ControlDigit { position: 11 })
            );
        }
    }
}

/// A number with right control digits for the given date digits.
fn number(dd: u8, mm: u8, yy: u8, ind: u16) -> Option<String> {
    let nine = [
        dd / 10,
        dd % 10,
        mm / 10,
        mm % 10,
        yy / 10,
        yy % 10,
        (ind / 100) as u8,
        (ind / 10 % 10) as u8,
        (ind % 10) as u8,
    ];
    (0..4)
        .find_map(|r| with_controls(&nine, r))
        .map(|d| text(&d))
}

#[test]
fn dates_must_be_real() {
    /// (day, month, two-digit year, individual number) digits and the
    /// date the error names.
    type Case = (u8, u8, u8, u16, (u16, u8, u8));
    let cases: &[Case] = &[
        (31, 4, 90, 100, (1990, 4, 31)),
        (29, 2, 1, 100, (1901, 2, 29)),
        (29, 2, 0, 100, (1900, 2, 29)),
        (0, 1, 90, 100, (1990, 1, 0)),
        (12, 13, 90, 100, (1990, 13, 12)),
        (12, 0, 90, 100, (1990, 0, 12)),
        (32, 1, 90, 100, (1990, 1, 32)),
    ];
    for &(dd, mm, yy, ind, (y, m, d)) in cases {
        let v = number(dd, mm, yy, ind).unwrap();
        assert_eq!(
            fnr::validate(&v),
            Err(IdError::Date {
                year: y,
                month: m,
                day: d
            }),
            "{v}"
        );
    }
    // 2000 is a leap year (individual number 500–999 with year 00)
    let v = number(29, 2, 0, 600).unwrap();
    assert_eq!(
        fnr::validate(&v).unwrap().birth_date.to_string(),
        "2000-02-29"
    );
    // D-nummer: day 71 is the 31st; 72 is not a day
    let v = number(71, 1, 90, 100).unwrap();
    assert_eq!(dnr::validate(&v).unwrap().birth_date.day, 31);
    let v = number(72, 1, 90, 100).unwrap();
    assert!(matches!(
        dnr::validate(&v),
        Err(IdError::Date { day: 32, .. })
    ));
    // Tenor month 93 is month 13
    let v = number(1, 93, 90, 100).unwrap();
    assert!(matches!(
        fnr::validate(&v),
        Err(IdError::Date { month: 13, .. })
    ));
}

#[test]
fn the_individual_number_gives_the_century() {
    let cases: &[(u16, u8, Option<u16>)] = &[
        (0, 0, Some(1900)),
        (499, 99, Some(1999)),
        (500, 54, Some(1854)),
        (749, 99, Some(1899)),
        (500, 39, Some(2039)),
        (999, 0, Some(2000)),
        (900, 40, Some(1940)),
        (999, 99, Some(1999)),
        (750, 40, None),
        (899, 99, None),
        (500, 40, None),
        (749, 53, None),
    ];
    for &(ind, yy, want) in cases {
        let v = number(15, 6, yy, ind).unwrap();
        match want {
            Some(y) => assert_eq!(fnr::validate(&v).unwrap().birth_date.year, y, "{v}"),
            None => assert_eq!(
                fnr::validate(&v),
                Err(IdError::Century {
                    individual: ind,
                    year: yy
                }),
                "{v}"
            ),
        }
    }
}

#[test]
fn numbers_of_another_kind_are_named() {
    let fnr_value = number(1, 1, 90, 0).unwrap();
    let dnr_value = number(41, 1, 90, 0).unwrap();
    let hnr_value = number(1, 41, 90, 0).unwrap();
    assert_eq!(
        dnr::validate(&fnr_value),
        Err(IdError::WrongKind { found: IdKind::Fnr })
    );
    assert_eq!(
        hnr::validate(&fnr_value),
        Err(IdError::WrongKind { found: IdKind::Fnr })
    );
    assert_eq!(
        fnr::validate(&dnr_value),
        Err(IdError::WrongKind { found: IdKind::Dnr })
    );
    assert_eq!(
        hnr::validate(&dnr_value),
        Err(IdError::WrongKind { found: IdKind::Dnr })
    );
    assert_eq!(
        fhn::validate(&fnr_value),
        Err(IdError::WrongKind { found: IdKind::Fnr })
    );
    // month + 40 with the fødselsnummer system: NAV's synthetic numbers
    assert_eq!(
        fnr::validate(&hnr_value).unwrap().synthetic,
        Some(Synthetic::Nav)
    );
    assert_eq!(hnr::validate(&hnr_value).unwrap().synthetic, None);
    assert_eq!(
        fnr::validate("80000000098"),
        Err(IdError::WrongKind { found: IdKind::Fhn })
    );
    // first digits that fit no kind
    let v = number(85, 1, 90, 0).unwrap();
    if fhn::validate(&v).is_err() {
        assert_eq!(
            fnr::validate(&v),
            Err(IdError::Digit {
                position: 1,
                allowed: "0–3"
            })
        );
    }
}

#[test]
fn felles_hjelpenummer() {
    let mut rng = Rng(99);
    let mut n = 0;
    while n < 5_000 {
        let mut nine: Vec<u8> = (0..9).map(|_| rng.digit()).collect();
        nine[0] = 8 + rng.below(2) as u8;
        let Some(d) = with_controls(&nine, 0) else {
            continue;
        };
        n += 1;
        let v = text(&d);
        assert_eq!(fhn::validate(&v), Ok(()), "{v}");
        assert_eq!(validate(IdKind::Fhn, &v).unwrap().birth_date, None);
        // the 2032 rule is not the felles hjelpenummer's
        if let Some(d) = with_controls(&nine, 2) {
            assert_eq!(
                fhn::validate(&text(&d)),
                Err(IdError::ControlDigit { position: 10 })
            );
        }
        let mut bad = d;
        bad[0] = rng.below(8) as u8;
        assert!(fhn::validate(&text(&bad)).is_err());
    }
}

#[test]
fn duf_numbers() {
    const W: [u32; 10] = [4, 6, 3, 2, 4, 6, 3, 2, 7, 5];
    let mut rng = Rng(2024);
    for _ in 0..5_000 {
        let ten: Vec<u8> = (0..10).map(|_| rng.digit()).collect();
        let c = ten
            .iter()
            .zip(W)
            .fold(0, |acc, (&d, w)| (acc + u32::from(d) * w) % 11);
        let v = format!("{}{c:02}", text(&ten));
        assert_eq!(duf::validate(&v), Ok(()), "{v}");
        for wrong in (0..100).filter(|&x| x != c).take(3) {
            let w = format!("{}{wrong:02}", text(&ten));
            assert_eq!(
                duf::validate(&w),
                Err(IdError::ControlDigit { position: 11 })
            );
        }
        let bytes = v.as_bytes();
        for i in 0..10 {
            let mut m = bytes.to_vec();
            m[i] = b'0' + (bytes[i] - b'0' + 1 + rng.below(9) as u8) % 10;
            assert!(duf::validate(std::str::from_utf8(&m).unwrap()).is_err());
        }
    }
    assert_eq!(
        duf::validate("2010123456"),
        Err(IdError::Length {
            expected: 12,
            found: 10
        })
    );
}

#[test]
fn organisasjonsnummer() {
    const W: [u32; 9] = [3, 2, 7, 6, 5, 4, 3, 2, 1];
    let mut rng = Rng(1814);
    let mut n = 0;
    while n < 5_000 {
        let eight: Vec<u8> = (0..8).map(|_| rng.digit()).collect();
        let Some(k) = solve(&eight, &W, 0) else {
            // remainder 10: no organisasjonsnummer starts so
            for k in 0..10 {
                let mut v = eight.clone();
                v.push(k);
                assert!(orgnr::validate(&text(&v)).is_err());
            }
            continue;
        };
        n += 1;
        let mut v = eight.clone();
        v.push(k);
        assert_eq!(orgnr::validate(&text(&v)), Ok(()));
        for other in (0..10).filter(|&x| x != k) {
            v[8] = other;
            assert_eq!(
                orgnr::validate(&text(&v)),
                Err(IdError::ControlDigit { position: 9 })
            );
        }
    }
}

#[test]
fn length_digits_and_empty() {
    for kind in [
        IdKind::Fnr,
        IdKind::Dnr,
        IdKind::Hnr,
        IdKind::Fhn,
        IdKind::Duf,
        IdKind::Orgnr,
        IdKind::Kommune,
        IdKind::Bydel,
    ] {
        let len = kind.length().unwrap();
        assert_eq!(validate(kind, ""), Err(IdError::Empty));
        assert_eq!(
            validate(kind, &"1".repeat(len + 1)),
            Err(IdError::Length {
                expected: len,
                found: len + 1
            })
        );
        let mut v = "0".repeat(len - 1);
        v.insert(1, 'x');
        assert_eq!(validate(kind, &v), Err(IdError::NotDigits { position: 2 }));
        // characters, not bytes
        let v: String = "ø".repeat(len);
        assert_eq!(validate(kind, &v), Err(IdError::NotDigits { position: 1 }));
    }
    assert_eq!(
        fnr::validate("210377xxxxx"),
        Err(IdError::NotDigits { position: 7 })
    );
    assert_eq!(
        fnr::validate("010190 00083"),
        Err(IdError::Length {
            expected: 11,
            found: 12
        })
    );
    assert!(validate(IdKind::Hpr, "9144900").is_ok());
    assert!(validate(IdKind::HerId, "8142519").is_ok());
    assert_eq!(validate(IdKind::HerId, ""), Err(IdError::Empty));
    assert!(validate(IdKind::Resh, "any thing").is_ok());
}

#[test]
fn systems_and_codes() {
    for &kind in IdKind::ALL {
        assert_eq!(IdKind::from_code(kind.code()), Some(kind));
        assert_eq!(IdKind::from_code(&kind.code().to_uppercase()), Some(kind));
        match kind.oid() {
            Some(oid) => {
                assert_eq!(system_kind(&format!("urn:oid:{oid}")), Some(kind));
                assert_eq!(system_kind(oid), Some(kind));
            }
            None => assert_eq!(kind, IdKind::Hnr),
        }
        for a in kind.aliases() {
            assert_eq!(system_kind(a), Some(kind), "{a}");
        }
    }
    assert_eq!(
        system_kind("http://hl7.no/fhir/NamingSystem/FNR"),
        Some(IdKind::Fnr)
    );
    assert_eq!(
        system_kind("http://hl7.no/fhir/NamingSystem/DUFN"),
        Some(IdKind::Duf)
    );
    assert_eq!(system_kind("http://hl7.no/fhir/NamingSystem/fnr"), None);
    assert_eq!(system_kind("urn:oid:2.16.578.1.12.4.1.4"), None);
    assert_eq!(system_kind(""), None);
}

#[test]
fn errors_read_well() {
    assert_eq!(
        IdError::ControlDigit { position: 10 }.to_string(),
        "the control digit (digit 10) does not match"
    );
    assert_eq!(
        IdError::Date {
            year: 1990,
            month: 2,
            day: 30
        }
        .to_string(),
        "the date part is not a real date (1990-02-30)"
    );
    assert_eq!(
        IdError::WrongKind { found: IdKind::Dnr }.to_string(),
        "the number is a D-nummer"
    );
}
