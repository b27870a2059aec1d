//! What can be known locally about the large external code systems that
//! are never shipped (SNOMED CT, LOINC): the syntax of their identifiers,
//! the SNOMED CT filter properties, and the syntax of SNOMED CT Expression
//! Constraint Language (ECL). A code that breaks the identifier syntax can
//! not be a code of the system, so it is reported as unknown without the
//! code system content; everything else stays "not checked".

/// The canonical URL of SNOMED CT.
pub const SNOMED: &str = "http://snomed.info/sct";
/// The canonical URL of LOINC.
pub const LOINC: &str = "http://loinc.org";

// Verhoeff tables (dihedral group D5), as used by SCTID check digits.
const VERHOEFF_D: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const VERHOEFF_P: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/// Whether `code` is a well-formed SNOMED CT concept identifier: 6 to 18
/// digits, no leading zero, a concept partition (`00` or `10`) and a valid
/// Verhoeff check digit.
pub fn is_sctid_concept(code: &str) -> bool {
    let b = code.as_bytes();
    if !(6..=18).contains(&b.len()) || !b.iter().all(u8::is_ascii_digit) || b[0] == b'0' {
        return false;
    }
    let partition = &b[b.len() - 3..b.len() - 1];
    if partition != b"00" && partition != b"10" {
        return false;
    }
    let mut c = 0u8;
    for (i, d) in b.iter().rev().enumerate() {
        let p = VERHOEFF_P[i % 8][usize::from(d - b'0')];
        c = VERHOEFF_D[usize::from(c)][usize::from(p)];
    }
    c == 0
}

/// A SNOMED CT code that cannot be a concept: neither a concept identifier
/// nor a (post-coordinated) expression. Expressions are not judged here.
pub fn snomed_code_impossible(code: &str) -> bool {
    let expression = code
        .chars()
        .any(|c| matches!(c, ':' | '=' | '+' | '{' | '}' | '(' | ')' | '|' | ',' | ' '));
    !expression && !is_sctid_concept(code)
}

/// A LOINC code that cannot be one: LOINC codes are digits, a dash and a
/// mod-10 check digit (`8310-5`); parts, answers and groups carry a
/// two-letter prefix (`LP..`, `LA..`, `LG..`, `LL..`).
pub fn loinc_code_impossible(code: &str) -> bool {
    if code.starts_with("MTHU") {
        return false; // legacy hierarchy part codes (MTHU000040)
    }
    let (body, prefixed) = match code.as_bytes() {
        [b'L', p, ..] if p.is_ascii_uppercase() => (&code[2..], true),
        _ => (code, false),
    };
    let Some((num, check)) = body.split_once('-') else {
        return true;
    };
    if num.is_empty()
        || num.len() > 10
        || check.len() != 1
        || !num.bytes().all(|b| b.is_ascii_digit())
        || !check.bytes().all(|b| b.is_ascii_digit())
    {
        return true;
    }
    if prefixed {
        return false;
    }
    // Mod 10 (Luhn): from the right, odd positions doubled.
    let mut sum = 0u32;
    for (i, d) in num.bytes().rev().enumerate() {
        let v = u32::from(d - b'0');
        sum += if i % 2 == 0 {
            let x = v * 2;
            x / 10 + x % 10
        } else {
            v
        };
    }
    let expected = (10 - sum % 10) % 10;
    check.bytes().next().map(|b| u32::from(b - b'0')) != Some(expected)
}

/// Whether a code can be excluded from a never-shipped code system by its
/// syntax alone.
pub fn external_code_impossible(system: &str, code: &str) -> bool {
    match system {
        SNOMED => snomed_code_impossible(code),
        LOINC => loinc_code_impossible(code),
        _ => false,
    }
}

/// The filter properties SNOMED CT defines itself; besides these a filter
/// may name any concept model attribute by its concept id.
pub fn snomed_filter_properties() -> Vec<&'static str> {
    vec!["concept", "constraint", "expressions", "inactive"]
}

/// Whether `property` can be a SNOMED CT concept model attribute. Which
/// concepts are attributes is SNOMED content we do not ship, so any
/// well-formed concept id is accepted; ids that are malformed, or that name
/// a description or relationship (partition), cannot be.
pub fn is_snomed_attribute(property: &str) -> bool {
    is_sctid_concept(property)
}

/// Check the syntax of a SNOMED CT Expression Constraint (ECL 2.x, brief
/// and long forms). `Err` describes the first problem. Filter constraints
/// (`{{ ... }}`) are only checked for balance.
pub fn check_ecl(text: &str) -> Result<(), String> {
    let mut p = Ecl {
        s: text.as_bytes(),
        i: 0,
        depth: 0,
    };
    p.expression()?;
    p.ws();
    if p.i < p.s.len() {
        return Err(format!("unexpected text at position {}", p.i + 1));
    }
    Ok(())
}

/// Nesting limit of parentheses and groups (hostile input).
const MAX_ECL_DEPTH: usize = 64;

struct Ecl<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

type EclResult = Result<(), String>;

impl Ecl<'_> {
    fn ws(&mut self) {
        loop {
            while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
                self.i += 1;
            }
            // comments: /* ... */
            if self.s[self.i..].starts_with(b"/*") {
                match self.s[self.i + 2..].windows(2).position(|w| w == b"*/") {
                    Some(p) => self.i += p + 4,
                    None => self.i = self.s.len(),
                }
            } else {
                return;
            }
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, t: &[u8]) -> bool {
        if self.s[self.i..].starts_with(t) {
            self.i += t.len();
            true
        } else {
            false
        }
    }

    /// A case-insensitive keyword not followed by a letter or digit.
    fn keyword(&mut self, k: &str) -> bool {
        let end = self.i + k.len();
        if end > self.s.len() || !self.s[self.i..end].eq_ignore_ascii_case(k.as_bytes()) {
            return false;
        }
        if self.s.get(end).is_some_and(u8::is_ascii_alphanumeric) {
            return false;
        }
        self.i = end;
        true
    }

    fn err(&self, what: &str) -> EclResult {
        Err(format!("{what} expected at position {}", self.i + 1))
    }

    fn enter(&mut self) -> EclResult {
        self.depth += 1;
        if self.depth > MAX_ECL_DEPTH {
            return Err("expression nested too deeply".into());
        }
        Ok(())
    }

    /// expressionConstraint: refined, compound, dotted or simple.
    fn expression(&mut self) -> EclResult {
        self.enter()?;
        self.ws();
        self.sub()?;
        self.ws();
        if self.eat(b":") {
            self.refinement()?;
        } else if self.peek() == Some(b'.') {
            while {
                self.ws();
                self.eat(b".")
            } {
                self.ws();
                self.sub_no_filters()?;
            }
        } else {
            loop {
                self.ws();
                if self.keyword("AND")
                    || self.keyword("OR")
                    || self.keyword("MINUS")
                    || self.eat(b",")
                {
                    self.ws();
                    self.sub()?;
                } else {
                    break;
                }
            }
        }
        self.depth -= 1;
        Ok(())
    }

    fn constraint_operator(&mut self) {
        const BRIEF: [&[u8]; 10] = [
            b"<<!", b"<<", b"<!", b"<", b">>!", b">>", b">!", b">", b"!!>", b"!!<",
        ];
        for op in BRIEF {
            if self.eat(op) {
                return;
            }
        }
        for k in [
            "descendantOrSelfOf",
            "descendantOf",
            "childOrSelfOf",
            "childOf",
            "ancestorOrSelfOf",
            "ancestorOf",
            "parentOrSelfOf",
            "parentOf",
        ] {
            if self.keyword(k) {
                return;
            }
        }
    }

    fn sub(&mut self) -> EclResult {
        self.sub_no_filters()?;
        loop {
            self.ws();
            if self.s[self.i..].starts_with(b"{{") {
                self.filter()?;
            } else {
                return Ok(());
            }
        }
    }

    /// subExpressionConstraint without trailing filters.
    fn sub_no_filters(&mut self) -> EclResult {
        self.ws();
        self.constraint_operator();
        self.ws();
        if self.eat(b"^") || self.keyword("memberOf") {
            self.ws();
            if self.eat(b"[") {
                self.skip_until(b']')?;
            }
            self.ws();
        }
        self.focus()
    }

    fn focus(&mut self) -> EclResult {
        if self.eat(b"(") {
            self.expression()?;
            self.ws();
            if !self.eat(b")") {
                return self.err("')'");
            }
            return Ok(());
        }
        if self.eat(b"*") || self.keyword("ANY") {
            return Ok(());
        }
        self.concept_reference()
    }

    /// conceptId [ws "|" term "|"], or an alternate identifier `scheme#code`.
    fn concept_reference(&mut self) -> EclResult {
        let start = self.i;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
        let digits = self.i - start;
        if digits == 0 {
            return self.alternate_identifier();
        }
        if !(6..=18).contains(&digits) {
            self.i = start;
            return self.err("concept id");
        }
        let save = self.i;
        self.ws();
        if self.eat(b"|") {
            self.skip_until(b'|')?;
        } else {
            self.i = save;
        }
        Ok(())
    }

    fn alternate_identifier(&mut self) -> EclResult {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        {
            self.i += 1;
        }
        if self.i == start || !self.eat(b"#") {
            self.i = start;
            return self.err("concept reference");
        }
        if self.eat(b"\"") {
            return self.skip_until(b'"');
        }
        let code = self.i;
        while self
            .peek()
            .is_some_and(|b| !b.is_ascii_whitespace() && !matches!(b, b')' | b',' | b'{' | b'}'))
        {
            self.i += 1;
        }
        if self.i == code {
            return self.err("code");
        }
        Ok(())
    }

    /// Skip past the next `close` (the opening one is consumed).
    fn skip_until(&mut self, close: u8) -> EclResult {
        match self.s[self.i..].iter().position(|&b| b == close) {
            Some(p) => {
                self.i += p + 1;
                Ok(())
            }
            None => Err(format!("missing '{}'", char::from(close))),
        }
    }

    /// `{{ ... }}`, balanced.
    fn filter(&mut self) -> EclResult {
        self.i += 2;
        let mut depth = 1usize;
        while self.i < self.s.len() {
            if self.eat(b"{{") {
                depth += 1;
            } else if self.eat(b"}}") {
                depth -= 1;
                if depth == 0 {
                    return Ok(());
                }
            } else {
                self.i += 1;
            }
        }
        Err("missing '}}'".into())
    }

    /// eclRefinement: sub-refinements joined by AND / OR / ','.
    fn refinement(&mut self) -> EclResult {
        self.enter()?;
        self.sub_refinement()?;
        loop {
            self.ws();
            if self.keyword("AND") || self.keyword("OR") || self.eat(b",") {
                self.sub_refinement()?;
            } else {
                break;
            }
        }
        self.depth -= 1;
        Ok(())
    }

    fn sub_refinement(&mut self) -> EclResult {
        self.ws();
        let save = self.i;
        self.cardinality()?;
        self.ws();
        if self.eat(b"{") {
            self.refinement()?;
            self.ws();
            if !self.eat(b"}") {
                return self.err("'}'");
            }
            return Ok(());
        }
        if self.i == save && self.eat(b"(") {
            // a bracketed refinement, or an attribute name in brackets
            let inner = self.i;
            let depth = self.depth;
            if self.refinement().is_ok() && {
                self.ws();
                self.eat(b")")
            } {
                return Ok(());
            }
            self.i = inner - 1;
            self.depth = depth;
        }
        self.attribute()
    }

    fn cardinality(&mut self) -> EclResult {
        if !self.eat(b"[") {
            return Ok(());
        }
        self.ws();
        let n = self.i;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
        if self.i == n {
            return self.err("cardinality");
        }
        self.ws();
        if !self.eat(b"..") {
            return self.err("'..'");
        }
        self.ws();
        let m = self.i;
        if !self.eat(b"*") {
            while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                self.i += 1;
            }
            if self.i == m {
                return self.err("cardinality");
            }
        }
        self.ws();
        if !self.eat(b"]") {
            return self.err("']'");
        }
        Ok(())
    }

    fn attribute(&mut self) -> EclResult {
        self.ws();
        self.cardinality()?;
        self.ws();
        // reverse flag
        if self.peek() == Some(b'R')
            && self
                .s
                .get(self.i + 1)
                .is_some_and(|b| b.is_ascii_whitespace() || b.is_ascii_digit() || *b == b'<')
        {
            self.i += 1;
            self.ws();
        }
        self.sub_no_filters()?;
        self.ws();
        for op in [&b"!="[..], b"<=", b">=", b"=", b"<", b">"] {
            if self.eat(op) {
                self.ws();
                return self.attribute_value(op == b"=" || op == b"!=");
            }
        }
        self.err("comparison operator")
    }

    fn attribute_value(&mut self, equality: bool) -> EclResult {
        if self.eat(b"#") {
            self.eat(b"-");
            self.eat(b"+");
            let n = self.i;
            while self.peek().is_some_and(|b| b.is_ascii_digit() || b == b'.') {
                self.i += 1;
            }
            if self.i == n {
                return self.err("number");
            }
            return Ok(());
        }
        if !equality {
            // ordering comparisons are numeric only
            return self.err("'#' number");
        }
        if self.eat(b"\"") {
            return self.skip_until(b'"');
        }
        if self.keyword("true") || self.keyword("false") {
            return Ok(());
        }
        self.sub()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sctids() {
        assert!(is_sctid_concept("73211009"));
        assert!(is_sctid_concept("404684003"));
        assert!(is_sctid_concept("320091000221107"));
        assert!(!is_sctid_concept("73211008")); // check digit
        assert!(!is_sctid_concept("1"));
        assert!(!is_sctid_concept("276885007x"));
        assert!(!is_sctid_concept("2342342123")); // relationship partition
        assert!(snomed_code_impossible("something"));
        assert!(!snomed_code_impossible("73211009"));
        assert!(!snomed_code_impossible("73211009:363698007=39057004"));
    }

    #[test]
    fn loinc() {
        assert!(!loinc_code_impossible("8310-5"));
        assert!(!loinc_code_impossible("85354-9"));
        assert!(!loinc_code_impossible("76534-7"));
        assert!(!loinc_code_impossible("LP12345-6"));
        assert!(loinc_code_impossible("8310-4"));
        assert!(loinc_code_impossible("test"));
        assert!(loinc_code_impossible("8310"));
        assert!(!loinc_code_impossible("MTHU000040"));
    }

    #[test]
    fn ecl() {
        for ok in [
            "73211009",
            "<< 73211009 |Diabetes mellitus|",
            "< 19829001 |disorder of lung| : 116676008 |associated morphology| = 79654002 |edema|",
            "<< 404684003 : 363698007 = << 39057004",
            "^ 700043003",
            "(<< 19829001 OR << 301867009) MINUS << 707146002",
            "<< 19829001 AND << 301867009",
            "< 404684003 : { 363698007 = << 39057004, 116676008 = << 79654002 }",
            "< 373873005 : [1..3] 127489000 = << 105590001",
            "< 27658006 : 411116001 = 385055001, [0..0] 732943007 != << 763158003",
            "<< 373873005 : 1142135004 >= #10",
            "* : 246075003 = 387517004",
            "<< 73211009 {{ active = true }}",
            "< 404684003 . 363698007",
            "descendantOrSelfOf 73211009",
            "<< 195967001 : R 246075003 = *",
            "LOINC#54486-6",
        ] {
            assert_eq!(check_ecl(ok), Ok(()), "{ok}");
        }
        for bad in [
            "234234 << 234234",
            "<< 12",
            "(<< 73211009",
            "<< 73211009 :",
            "<< 73211009 AND",
            "",
        ] {
            assert!(check_ecl(bad).is_err(), "{bad}");
        }
        let deep = "(".repeat(1000);
        assert!(check_ecl(&deep).is_err());
    }
}

#[cfg(test)]
mod engine_tests {
    use crate::{MemorySource, Terminology};

    #[test]
    fn impossible_codes_are_unknown() {
        let tx = Terminology::with_source(MemorySource::new());
        let r = tx
            .validate_code_in_system(super::SNOMED, "1", None)
            .unwrap_or_default();
        assert!(!r.valid && !r.unknown, "{r:?}");
        let r = tx
            .validate_code_in_system(super::SNOMED, "73211009", None)
            .unwrap_or_default();
        assert!(r.valid && r.unknown);
        let r = tx
            .validate_code_in_system(super::LOINC, "test", None)
            .unwrap_or_default();
        assert!(!r.valid);
    }
}

#[cfg(test)]
mod v2_tests {
    use crate::{Registry, Terminology};

    #[test]
    fn national_person_identifier_pattern() {
        let Ok(registry) = Registry::builder().build() else {
            return;
        };
        let tx = Terminology::new(registry);
        let cs = "http://terminology.hl7.org/CodeSystem/v2-0203";
        let ok = tx
            .validate_code_in_system(cs, "NNFIN", None)
            .unwrap_or_default();
        assert!(ok.valid && !ok.unknown, "{ok:?}");
        let bad = tx
            .validate_code_in_system(cs, "NNXXQ", None)
            .unwrap_or_default();
        assert!(!bad.valid, "{bad:?}");
    }
}
