//! A small UCUM subset: enough to compare and multiply common quantities
//! (mass, length, volume, time, amount, dimensionless), with SI prefixes.

use rust_decimal::Decimal;
use std::str::FromStr;

/// Base dimensions: m, g, s, mol, K, A, cd.
pub(crate) type Dims = [i8; 7];

/// A unit reduced to a factor of base units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Canonical {
    pub factor: Decimal,
    pub dims: Dims,
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or(Decimal::ONE)
}

fn atom(a: &str) -> Option<(Decimal, Dims)> {
    let d = |i: usize| {
        let mut v = [0i8; 7];
        v[i] = 1;
        v
    };
    Some(match a {
        "1" => (Decimal::ONE, [0; 7]),
        "%" => (dec("0.01"), [0; 7]),
        "m" => (Decimal::ONE, d(0)),
        "g" => (Decimal::ONE, d(1)),
        "s" => (Decimal::ONE, d(2)),
        "mol" => (dec("602214076000000000000000"), [0; 7]),
        "K" => (Decimal::ONE, d(4)),
        "A" => (Decimal::ONE, d(5)),
        "cd" => (Decimal::ONE, d(6)),
        "min" => (Decimal::from(60), d(2)),
        "h" => (Decimal::from(3600), d(2)),
        "d" => (Decimal::from(86400), d(2)),
        "wk" => (Decimal::from(604800), d(2)),
        "mo" => (dec("2629800"), d(2)),
        "a" => (dec("31557600"), d(2)),
        "l" | "L" => (dec("0.001"), [3, 0, 0, 0, 0, 0, 0]),
        "[in_i]" => (dec("0.0254"), d(0)),
        "[ft_i]" => (dec("0.3048"), d(0)),
        "[lb_av]" => (dec("453.59237"), d(1)),
        "[oz_av]" => (dec("28.349523125"), d(1)),
        "mm[Hg]" => (dec("133322.387415"), [-1, 1, -2, 0, 0, 0, 0]),
        "Cel" => (Decimal::ONE, d(4)),
        _ => return None,
    })
}

fn prefix(p: &str) -> Option<Decimal> {
    Some(match p {
        "k" => dec("1000"),
        "h" => dec("100"),
        "da" => dec("10"),
        "d" => dec("0.1"),
        "c" => dec("0.01"),
        "m" => dec("0.001"),
        "u" | "μ" => dec("0.000001"),
        "n" => dec("0.000000001"),
        "p" => dec("0.000000000001"),
        "M" => dec("1000000"),
        _ => return None,
    })
}

fn term(t: &str) -> Option<(Decimal, Dims)> {
    // Split a trailing integer exponent (m2, s-1).
    let split = t
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_digit() || *c == '-' || *c == '+')
        .last()
        .map(|(i, _)| i)
        .unwrap_or(t.len());
    let (base, exp) = if split > 0 && split < t.len() {
        (&t[..split], t[split..].parse::<i32>().ok()?)
    } else {
        (t, 1)
    };
    if let Ok(n) = Decimal::from_str(base) {
        return Some((n, [0; 7]));
    }
    let (f, dims) = atom(base).or_else(|| {
        (1..base.len()).find_map(|i| {
            if !base.is_char_boundary(i) {
                return None;
            }
            let (p, a) = base.split_at(i);
            let pf = prefix(p)?;
            let (f, d) = atom(a)?;
            Some((pf * f, d))
        })
    })?;
    let mut out_f = Decimal::ONE;
    let mut out_d = [0i8; 7];
    for _ in 0..exp.unsigned_abs().min(6) {
        out_f = if exp > 0 {
            out_f.checked_mul(f)?
        } else {
            out_f.checked_div(f)?
        };
    }
    for i in 0..7 {
        out_d[i] = dims[i].checked_mul(i8::try_from(exp).ok()?)?;
    }
    Some((out_f, out_d))
}

/// Reduce a UCUM unit expression (`mg`, `g/m`, `m2`, `kg.m-2`, `'1'`).
pub(crate) fn canonical(unit: &str) -> Option<Canonical> {
    let mut factor = Decimal::ONE;
    let mut dims = [0i8; 7];
    let mut divide = false;
    let mut cur = String::new();
    let apply = |t: &str, divide: bool, factor: &mut Decimal, dims: &mut Dims| -> Option<()> {
        let (f, d) = term(t)?;
        if divide {
            *factor = factor.checked_div(f)?;
            for i in 0..7 {
                dims[i] = dims[i].checked_sub(d[i])?;
            }
        } else {
            *factor = factor.checked_mul(f)?;
            for i in 0..7 {
                dims[i] = dims[i].checked_add(d[i])?;
            }
        }
        Some(())
    };
    let unit = unit.trim();
    if unit.is_empty() {
        return None;
    }
    for c in unit.chars() {
        match c {
            '.' | '/' => {
                if cur.is_empty() {
                    if c == '/' && factor == Decimal::ONE && dims == [0; 7] {
                        divide = true;
                        continue;
                    }
                    return None;
                }
                apply(&cur, divide, &mut factor, &mut dims)?;
                cur.clear();
                divide = c == '/';
            }
            _ => cur.push(c),
        }
    }
    if cur.is_empty() {
        return None;
    }
    apply(&cur, divide, &mut factor, &mut dims)?;
    Some(Canonical { factor, dims })
}

/// A unit expression in base units for the given dimensions (`m2`, `g.m-1`, `1`).
pub(crate) fn unit_for_dims(dims: &Dims) -> String {
    const NAMES: [&str; 7] = ["m", "g", "s", "mol", "K", "A", "cd"];
    let parts: Vec<String> = dims
        .iter()
        .zip(NAMES)
        .filter(|(e, _)| **e != 0)
        .map(|(e, n)| {
            if *e == 1 {
                n.to_string()
            } else {
                format!("{n}{e}")
            }
        })
        .collect();
    if parts.is_empty() {
        "1".to_string()
    } else {
        parts.join(".")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduces_prefixed_and_compound_units() {
        let mg = canonical("mg").unwrap();
        assert_eq!(mg.factor, dec("0.001"));
        assert_eq!(mg.dims, [0, 1, 0, 0, 0, 0, 0]);
        let gm = canonical("g/m").unwrap();
        assert_eq!(gm.dims, [-1, 1, 0, 0, 0, 0, 0]);
        let m2 = canonical("m2").unwrap();
        assert_eq!(m2.dims, [2, 0, 0, 0, 0, 0, 0]);
        assert!(canonical("furlong").is_none());
        assert_eq!(unit_for_dims(&gm.dims), "m-1.g");
    }
}
