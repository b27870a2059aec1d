//! Partial-precision dates, date-times and times, and the calendar
//! arithmetic under them (proleptic Gregorian: month lengths, days from and
//! to a civil date, the current UTC time). The one date module of the
//! workspace: hand-written rather than `jiff`, whose civil dates are whole
//! dates only (FHIR's `2015` and `2015-02` are values of their own here).

use std::cmp::Ordering;
use std::fmt;

/// The precision of a partial date/time value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Precision {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Millisecond,
}

/// A date, date-time or time of partial precision (`@2015`, `@2015-02-04T14`,
/// `@T14:30`). For a time only the time fields are meaningful; for a date
/// only the date fields. `tz` is the offset from UTC in minutes, when given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PartialDateTime {
    pub year: i32,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub millis: u16,
    pub precision: Precision,
    pub tz: Option<i16>,
    /// True for a time of day (`@T14:30`): no date part.
    pub time_only: bool,
}

impl Default for PartialDateTime {
    fn default() -> Self {
        PartialDateTime {
            year: 1,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
            millis: 0,
            precision: Precision::Year,
            tz: None,
            time_only: false,
        }
    }
}

fn digits(s: &str, n: usize) -> Option<(u32, &str)> {
    if s.len() < n || !s.is_char_boundary(n) {
        return None;
    }
    let (d, rest) = s.split_at(n);
    if !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    d.parse().ok().map(|v| (v, rest))
}

/// Days in a month of a (proleptic Gregorian) year.
pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The civil date of a day count since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, u8, u8) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn parse_time_into(s: &str, v: &mut PartialDateTime) -> Option<()> {
    let (h, mut rest) = digits(s, 2)?;
    if h > 23 {
        return None;
    }
    v.hour = h as u8;
    v.precision = Precision::Hour;
    if let Some(r) = rest.strip_prefix(':') {
        let (m, r) = digits(r, 2)?;
        if m > 59 {
            return None;
        }
        v.minute = m as u8;
        v.precision = Precision::Minute;
        rest = r;
        if let Some(r) = rest.strip_prefix(':') {
            let (sec, r) = digits(r, 2)?;
            if sec > 59 {
                return None;
            }
            v.second = sec as u8;
            v.precision = Precision::Second;
            rest = r;
            if let Some(r) = rest.strip_prefix('.') {
                let n = r.bytes().take_while(|b| b.is_ascii_digit()).count();
                if n == 0 {
                    return None;
                }
                let frac = &r[..n];
                let mut ms = 0u16;
                for (i, b) in frac.bytes().take(3).enumerate() {
                    ms += u16::from(b - b'0') * [100, 10, 1][i];
                }
                v.millis = ms;
                v.precision = Precision::Millisecond;
                rest = &r[n..];
            }
        }
    }
    if rest.is_empty() {
        Some(())
    } else {
        None
    }
}

fn parse_date_into<'s>(s: &'s str, v: &mut PartialDateTime) -> Option<&'s str> {
    let (y, mut rest) = digits(s, 4)?;
    v.year = y as i32;
    v.precision = Precision::Year;
    if let Some(r) = rest.strip_prefix('-') {
        let (m, r) = digits(r, 2)?;
        if !(1..=12).contains(&m) {
            return None;
        }
        v.month = m as u8;
        v.precision = Precision::Month;
        rest = r;
        if let Some(r) = rest.strip_prefix('-') {
            let (d, r) = digits(r, 2)?;
            if d < 1 || d > u32::from(days_in_month(v.year, v.month)) {
                return None;
            }
            v.day = d as u8;
            v.precision = Precision::Day;
            rest = r;
        }
    }
    Some(rest)
}

/// Parse a date (`2015`, `2015-02`, `2015-02-04`), without the `@`.
pub fn parse_date(s: &str) -> Option<PartialDateTime> {
    let mut v = PartialDateTime::default();
    let rest = parse_date_into(s, &mut v)?;
    rest.is_empty().then_some(v)
}

/// Parse a time (`14`, `14:30`, `14:30:14.559`), without `@T`.
pub fn parse_time(s: &str) -> Option<PartialDateTime> {
    let mut v = PartialDateTime {
        time_only: true,
        ..Default::default()
    };
    parse_time_into(s, &mut v)?;
    Some(v)
}

/// Parse a date-time (`2015-02-04T14:34:28Z`, `2015T`, `2015-02-04`), without the `@`.
pub fn parse_datetime(s: &str) -> Option<PartialDateTime> {
    let mut v = PartialDateTime::default();
    let rest = parse_date_into(s, &mut v)?;
    if rest.is_empty() {
        return Some(v);
    }
    let rest = rest.strip_prefix('T')?;
    if rest.is_empty() {
        return Some(v);
    }
    if v.precision != Precision::Day {
        return None;
    }
    let (time, tz) = match rest.find(['Z', '+', '-']) {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    };
    parse_time_into(time, &mut v)?;
    if let Some(tz) = tz {
        v.tz = Some(parse_tz(tz)?);
    }
    Some(v)
}

fn parse_tz(tz: &str) -> Option<i16> {
    if tz == "Z" {
        return Some(0);
    }
    let sign: i16 = match tz.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, r) = digits(&tz[1..], 2)?;
    let r = r.strip_prefix(':')?;
    let (m, r) = digits(r, 2)?;
    if !r.is_empty() || h > 14 || m > 59 {
        return None;
    }
    Some(sign * (h as i16 * 60 + m as i16))
}

impl PartialDateTime {
    /// Milliseconds since the epoch of the fields (missing fields at their minimum).
    fn epoch_millis(&self) -> i64 {
        let days = days_from_civil(
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
        );
        ((days * 24 + i64::from(self.hour)) * 60 + i64::from(self.minute)) * 60_000
            + i64::from(self.second) * 1000
            + i64::from(self.millis)
    }

    fn set_from_epoch_millis(&mut self, ms: i64) {
        let days = ms.div_euclid(86_400_000);
        let rem = ms.rem_euclid(86_400_000);
        if !self.time_only {
            let (y, m, d) = civil_from_days(days);
            self.year = y.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
            self.month = m;
            self.day = d;
        }
        self.hour = (rem / 3_600_000) as u8;
        self.minute = (rem / 60_000 % 60) as u8;
        self.second = (rem / 1000 % 60) as u8;
        self.millis = (rem % 1000) as u16;
    }

    /// The value shifted to UTC (when it has a time zone and a time part).
    fn to_utc(self) -> PartialDateTime {
        match self.tz {
            Some(tz) if self.precision >= Precision::Hour && !self.time_only => {
                let mut v = self;
                v.set_from_epoch_millis(self.epoch_millis() - i64::from(tz) * 60_000);
                v.tz = Some(0);
                v
            }
            _ => self,
        }
    }

    fn fields(&self) -> [i64; 6] {
        [
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
            i64::from(self.hour),
            i64::from(self.minute),
            i64::from(self.second) * 1000 + i64::from(self.millis),
        ]
    }

    fn level(p: Precision) -> usize {
        match p {
            Precision::Year => 0,
            Precision::Month => 1,
            Precision::Day => 2,
            Precision::Hour => 3,
            Precision::Minute => 4,
            Precision::Second | Precision::Millisecond => 5,
        }
    }

    /// Precision-aware comparison: `None` when the values are equal as far
    /// as both are specified but one is more precise (the result is unknown).
    pub fn compare(&self, other: &PartialDateTime) -> Option<Ordering> {
        if !self.time_only
            && self.precision >= Precision::Hour
            && other.precision >= Precision::Hour
            && self.tz.is_some() != other.tz.is_some()
        {
            return None;
        }
        let (a, b) = (self.to_utc(), other.to_utc());
        let start = if a.time_only || b.time_only { 3 } else { 0 };
        let (la, lb) = (Self::level(a.precision), Self::level(b.precision));
        let (fa, fb) = (a.fields(), b.fields());
        for i in start..=la.min(lb) {
            match fa[i].cmp(&fb[i]) {
                Ordering::Equal => {}
                o => return Some(o),
            }
        }
        if la == lb {
            Some(Ordering::Equal)
        } else {
            None
        }
    }

    /// Equivalence (`~`): same precision and equal.
    pub fn equivalent(&self, other: &PartialDateTime) -> bool {
        Self::level(self.precision) == Self::level(other.precision)
            && self.compare(other) == Some(Ordering::Equal)
    }

    /// Add an amount of a calendar unit (`year`, `month`, `week`, `day`,
    /// `hour`, `minute`, `second`, `millisecond`). `None` if the unit is not
    /// a time unit or the result is out of range.
    pub fn add(&self, amount: rust_decimal::Decimal, unit: &str) -> Option<PartialDateTime> {
        use rust_decimal::prelude::ToPrimitive;
        let whole = amount.trunc().to_i64()?;
        let mut v = *self;
        match unit {
            "year" => {
                let y = i64::from(v.year).checked_add(whole)?;
                v.year = i32::try_from(y).ok()?;
                v.day = v.day.min(days_in_month(v.year, v.month).max(1));
            }
            "month" => {
                let total = i64::from(v.year) * 12 + i64::from(v.month) - 1 + whole;
                v.year = i32::try_from(total.div_euclid(12)).ok()?;
                v.month = (total.rem_euclid(12) + 1) as u8;
                v.day = v.day.min(days_in_month(v.year, v.month).max(1));
            }
            "week" | "day" | "hour" | "minute" | "second" | "millisecond" => {
                let ms_per: i64 = match unit {
                    "week" => 604_800_000,
                    "day" => 86_400_000,
                    "hour" => 3_600_000,
                    "minute" => 60_000,
                    "second" => 1000,
                    _ => 1,
                };
                let delta = whole.checked_mul(ms_per)?;
                // Below the value's precision the change is dropped (per spec
                // the amount is truncated to the value's precision).
                let step: i64 = match v.precision {
                    Precision::Year | Precision::Month => {
                        if unit == "week" || unit == "day" {
                            // Convert days to whole months/years is not defined; ignore partial.
                            return Some(v);
                        }
                        return Some(v);
                    }
                    Precision::Day => 86_400_000,
                    Precision::Hour => 3_600_000,
                    Precision::Minute => 60_000,
                    Precision::Second => 1000,
                    Precision::Millisecond => 1,
                };
                let delta = delta / step * step;
                let ms = v.epoch_millis().checked_add(delta)?;
                if ms.abs() > 400_000_000_000_000 {
                    return None;
                }
                v.set_from_epoch_millis(ms);
            }
            _ => return None,
        }
        if !v.time_only && !(1..=9999).contains(&v.year) {
            return None;
        }
        Some(v)
    }

    /// The value as a date (precision at most day, no time zone).
    pub fn to_date(&self) -> PartialDateTime {
        let mut v = *self;
        v.precision = v.precision.min(Precision::Day);
        v.tz = None;
        v.hour = 0;
        v.minute = 0;
        v.second = 0;
        v.millis = 0;
        v
    }

    fn fmt_date(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year)?;
        if self.precision >= Precision::Month {
            write!(f, "-{:02}", self.month)?;
        }
        if self.precision >= Precision::Day {
            write!(f, "-{:02}", self.day)?;
        }
        Ok(())
    }

    fn fmt_time(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.hour)?;
        if self.precision >= Precision::Minute {
            write!(f, ":{:02}", self.minute)?;
        }
        if self.precision >= Precision::Second {
            write!(f, ":{:02}", self.second)?;
        }
        if self.precision >= Precision::Millisecond {
            write!(f, ".{:03}", self.millis)?;
        }
        Ok(())
    }
}

/// Display as FHIR text: `2015-02-04`, `2015-02-04T14:34:28+10:00`, `14:34`.
impl fmt::Display for PartialDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.time_only {
            return self.fmt_time(f);
        }
        self.fmt_date(f)?;
        if self.precision >= Precision::Hour {
            f.write_str("T")?;
            self.fmt_time(f)?;
            if let Some(tz) = self.tz {
                if tz == 0 {
                    f.write_str("Z")?;
                } else {
                    let sign = if tz < 0 { '-' } else { '+' };
                    write!(f, "{sign}{:02}:{:02}", tz.abs() / 60, tz.abs() % 60)?;
                }
            }
        }
        Ok(())
    }
}

/// The current UTC date-time (millisecond precision) from the system clock.
pub fn now_utc() -> PartialDateTime {
    #[cfg(not(all(target_family = "wasm", target_os = "unknown")))]
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    #[cfg(all(target_family = "wasm", target_os = "unknown"))]
    let ms = js_sys::Date::now() as i64;
    let mut v = PartialDateTime {
        precision: Precision::Millisecond,
        tz: Some(0),
        ..Default::default()
    };
    v.set_from_epoch_millis(ms);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_round_trip() {
        for s in [
            "2015",
            "2015-02",
            "2015-02-04",
            "2015-02-04T14:34:28.123+10:00",
            "2015-02-04T14Z",
        ] {
            let v = parse_datetime(s).unwrap();
            assert_eq!(v.to_string(), s);
        }
        assert_eq!(parse_time("14:30").unwrap().to_string(), "14:30");
        assert!(parse_date("2015-02-30").is_none());
    }

    #[test]
    fn precision_aware_comparison() {
        let a = parse_datetime("2012-04-15").unwrap();
        let b = parse_datetime("2012-04-15T10:00").unwrap();
        assert_eq!(a.compare(&b), None);
        let c = parse_datetime("2012-04-16").unwrap();
        assert_eq!(a.compare(&c), Some(Ordering::Less));
        let z = parse_datetime("2017-11-05T01:30:00.0-04:00").unwrap();
        let u = parse_datetime("2017-11-05T05:30:00.0Z").unwrap();
        assert_eq!(z.compare(&u), Some(Ordering::Equal));
    }

    #[test]
    fn calendar_arithmetic_clamps_days() {
        let d = parse_date("2016-01-31").unwrap();
        let m = d.add(rust_decimal::Decimal::ONE, "month").unwrap();
        assert_eq!(m.to_string(), "2016-02-29");
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(days_from_civil(2000, 2, 29)), (2000, 2, 29));
    }
}
