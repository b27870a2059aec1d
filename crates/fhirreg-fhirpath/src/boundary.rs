//! precision(), lowBoundary(), highBoundary() (FHIRPath 2.0 additions used by the suite).

use rust_decimal::Decimal;

use crate::functions::Func;
use crate::temporal::{days_in_month, PartialDateTime, Precision};
use crate::value::{Quantity, Value};

fn digits_of_precision(p: &PartialDateTime) -> i64 {
    if p.time_only {
        return match p.precision {
            Precision::Hour => 2,
            Precision::Minute => 4,
            Precision::Second => 6,
            _ => 9,
        };
    }
    match p.precision {
        Precision::Year => 4,
        Precision::Month => 6,
        Precision::Day => 8,
        Precision::Hour => 10,
        Precision::Minute => 12,
        Precision::Second => 14,
        Precision::Millisecond => 17,
    }
}

fn dec_boundary(d: Decimal, precision: Option<i64>, high: bool) -> Option<Decimal> {
    let p = precision.unwrap_or(8);
    if !(0..=28).contains(&p) {
        return None;
    }
    let scale = d.scale();
    // Half a unit of the last given digit.
    let half = Decimal::new(5, scale + 1);
    let v = if high {
        d.checked_add(half)?
    } else {
        d.checked_sub(half)?
    };
    let r = if (p as u32) < v.scale() {
        let strategy = if high {
            rust_decimal::RoundingStrategy::ToPositiveInfinity
        } else {
            rust_decimal::RoundingStrategy::ToNegativeInfinity
        };
        v.round_dp_with_strategy(p as u32, strategy)
    } else {
        let mut r = v;
        r.rescale(p as u32);
        r
    };
    Some(r)
}

fn date_boundary(
    v: &PartialDateTime,
    precision: Option<i64>,
    high: bool,
    is_date: bool,
) -> Option<PartialDateTime> {
    let target = match (precision, v.time_only, is_date) {
        (None, true, _) => Precision::Millisecond,
        (None, false, true) => Precision::Day,
        (None, false, false) => Precision::Millisecond,
        (Some(4), false, _) => Precision::Year,
        (Some(6), false, _) => Precision::Month,
        (Some(8), false, _) => Precision::Day,
        (Some(10), false, false) => Precision::Hour,
        (Some(12), false, false) => Precision::Minute,
        (Some(14), false, false) => Precision::Second,
        (Some(17), false, false) => Precision::Millisecond,
        (Some(2), true, _) => Precision::Hour,
        (Some(4), true, _) => Precision::Minute,
        (Some(6), true, _) => Precision::Second,
        (Some(9), true, _) => Precision::Millisecond,
        _ => return None,
    };
    let mut r = *v;
    if r.precision < Precision::Month {
        r.month = if high { 12 } else { 1 };
    }
    if r.precision < Precision::Day {
        r.day = if high {
            days_in_month(r.year, r.month)
        } else {
            1
        };
    }
    if r.precision < Precision::Hour {
        r.hour = if high { 23 } else { 0 };
    }
    if r.precision < Precision::Minute {
        r.minute = if high { 59 } else { 0 };
    }
    if r.precision < Precision::Second {
        r.second = if high { 59 } else { 0 };
    }
    if r.precision < Precision::Millisecond {
        r.millis = if high { 999 } else { 0 };
    }
    if !is_date && !v.time_only && r.tz.is_none() && target >= Precision::Hour {
        r.tz = Some(if high { -12 * 60 } else { 14 * 60 });
    }
    r.precision = target;
    Some(r)
}

pub(crate) fn apply(f: Func, v: &Value<'_>, precision: Option<i64>) -> Option<Value<'static>> {
    match f {
        Func::Precision => Some(Value::Integer(match v {
            Value::Decimal(d) => i64::from(d.scale()),
            Value::Integer(_) => 0,
            Value::Date(p) | Value::DateTime(p) | Value::Time(p) => digits_of_precision(p),
            _ => return None,
        })),
        _ => {
            let high = f == Func::HighBoundary;
            match v {
                Value::Integer(i) => {
                    dec_boundary(Decimal::from(*i), precision, high).map(Value::Decimal)
                }
                Value::Decimal(d) => dec_boundary(*d, precision, high).map(Value::Decimal),
                Value::Quantity(q) => dec_boundary(q.value, precision, high).map(|value| {
                    Value::Quantity(Quantity {
                        value,
                        unit: q.unit.clone(),
                    })
                }),
                Value::Date(p) => date_boundary(p, precision, high, true).map(Value::Date),
                Value::DateTime(p) => date_boundary(p, precision, high, false).map(Value::DateTime),
                Value::Time(p) => date_boundary(p, precision, high, false).map(Value::Time),
                _ => None,
            }
        }
    }
}
