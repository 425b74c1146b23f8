//! RFC 3339 timestamps, normalized to UTC.
//!
//! The civil-date arithmetic is Howard Hinnant's `days_from_civil` and
//! `civil_from_days` (proleptic Gregorian calendar), done here so that the
//! planner needs no date crate.

const EXAMPLE: &str = "2026-12-20T00:00:00Z";

/// Parses an RFC 3339 timestamp into `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC).
///
/// `infinity` gives `"infinity"`. Fractional seconds beyond microseconds
/// (PostgreSQL's precision) are truncated.
pub fn parse_timestamp(text: &str) -> Result<String, String> {
    if text.eq_ignore_ascii_case("infinity") {
        return Ok("infinity".to_owned());
    }
    let local = Local::scan(text)?;
    local.validate()?;
    local.to_utc()
}

/// A time given as seconds and microseconds since 1970-01-01 UTC, in the
/// form [`parse_timestamp`] gives (so that the two compare as text).
/// Times outside years 0001-9999 are clamped to them.
pub fn timestamp_from_unix(seconds: i64, micros: u32) -> String {
    const FIRST: i64 = -62_135_596_800; // 0001-01-01T00:00:00Z
    const LAST: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    let seconds = seconds.clamp(FIRST, LAST);
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let time = seconds.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        time / 3_600,
        time % 3_600 / 60,
        time % 60,
        micros.min(999_999)
    )
}

/// The fields of a timestamp as written, before conversion to UTC.
#[derive(Debug)]
struct Local {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    micros: i64,
    /// East of UTC, in minutes.
    offset_minutes: i64,
}

impl Local {
    fn scan(text: &str) -> Result<Local, String> {
        let mut c = Cursor { text, pos: 0 };
        let year = c.number(4, "a 4-digit year")?;
        c.expect(b"-", "`-`")?;
        let month = c.number(2, "a 2-digit month")?;
        c.expect(b"-", "`-`")?;
        let day = c.number(2, "a 2-digit day")?;
        if c.at_end() {
            return Err(format!(
                "missing the time and UTC offset; use the form {EXAMPLE}"
            ));
        }
        c.expect(b"Tt ", "`T` between date and time")?;
        let hour = c.number(2, "a 2-digit hour")?;
        c.expect(b":", "`:`")?;
        let minute = c.number(2, "a 2-digit minute")?;
        c.expect(b":", "`:`")?;
        let second = c.number(2, "2-digit seconds")?;
        let micros = if c.eat(b'.') { c.fraction()? } else { 0 };
        let offset_minutes = c.offset()?;
        if !c.at_end() {
            return Err(c.unexpected("the end of the timestamp"));
        }
        Ok(Local {
            year,
            month,
            day,
            hour,
            minute,
            second,
            micros,
            offset_minutes,
        })
    }

    fn validate(&self) -> Result<(), String> {
        if !(1..=12).contains(&self.month) {
            return Err(format!("month {:02} is out of range (01-12)", self.month));
        }
        let last = days_in_month(self.year, self.month);
        if !(1..=last).contains(&self.day) {
            return Err(format!(
                "day {:02} is out of range for {:04}-{:02} (01-{last:02})",
                self.day, self.year, self.month
            ));
        }
        if self.hour > 23 {
            return Err(format!("hour {:02} is out of range (00-23)", self.hour));
        }
        if self.minute > 59 {
            return Err(format!("minute {:02} is out of range (00-59)", self.minute));
        }
        if self.second == 60 {
            return Err("leap seconds (second 60) are not supported".to_owned());
        }
        if self.second > 59 {
            return Err(format!("second {:02} is out of range (00-59)", self.second));
        }
        Ok(())
    }

    fn to_utc(&self) -> Result<String, String> {
        let local_seconds = days_from_civil(self.year, self.month, self.day) * 86_400
            + self.hour * 3_600
            + self.minute * 60
            + self.second;
        let utc = local_seconds - self.offset_minutes * 60;
        let (year, month, day) = civil_from_days(utc.div_euclid(86_400));
        let time = utc.rem_euclid(86_400);
        // PostgreSQL refuses year 0, and the output form has 4 year digits.
        if !(1..=9999).contains(&year) {
            return Err("the time in UTC falls outside years 0001-9999".to_owned());
        }
        Ok(format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
            time / 3_600,
            time % 3_600 / 60,
            time % 60,
            self.micros
        ))
    }
}

/// Reads the timestamp left to right; ASCII only, so byte positions are
/// character positions up to the first error.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let hit = self.peek() == Some(byte);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn expect(&mut self, any_of: &[u8], what: &str) -> Result<u8, String> {
        match self.peek() {
            Some(b) if any_of.contains(&b) => {
                self.pos += 1;
                Ok(b)
            }
            _ => Err(self.unexpected(what)),
        }
    }

    /// Exactly `width` ASCII digits.
    fn number(&mut self, width: usize, what: &str) -> Result<i64, String> {
        let mut value = 0;
        for _ in 0..width {
            match self.peek() {
                Some(b) if b.is_ascii_digit() => {
                    value = value * 10 + i64::from(b - b'0');
                    self.pos += 1;
                }
                _ => return Err(self.unexpected(what)),
            }
        }
        Ok(value)
    }

    /// 1 to 9 digits after the `.`, as microseconds (the rest truncated).
    fn fraction(&mut self) -> Result<i64, String> {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        let digits = &self.text[start..self.pos];
        if digits.is_empty() {
            return Err(self.unexpected("fractional second digits after `.`"));
        }
        if digits.len() > 9 {
            return Err("at most 9 fractional second digits are allowed".to_owned());
        }
        let micros = digits.bytes().chain(std::iter::repeat(b'0')).take(6);
        Ok(micros.fold(0, |acc, b| acc * 10 + i64::from(b - b'0')))
    }

    /// `Z` or `±HH:MM`, in minutes east of UTC.
    fn offset(&mut self) -> Result<i64, String> {
        if self.at_end() {
            return Err("missing the UTC offset; add `Z` or `+HH:MM`".to_owned());
        }
        let sign = match self.expect(b"Zz+-", "`Z` or a `+HH:MM` offset")? {
            b'Z' | b'z' => return Ok(0),
            b'-' => -1,
            _ => 1,
        };
        let hours = self.number(2, "a 2-digit offset hour")?;
        self.expect(b":", "`:` in the offset")?;
        let minutes = self.number(2, "2-digit offset minutes")?;
        if hours > 23 || minutes > 59 {
            return Err(format!(
                "offset {hours:02}:{minutes:02} is out of range (at most 23:59)"
            ));
        }
        Ok(sign * (hours * 60 + minutes))
    }

    fn unexpected(&self, what: &str) -> String {
        let found = match self.text[self.pos..].chars().next() {
            Some(c) => format!("`{}`", c.escape_default()),
            None => "the end".to_owned(),
        };
        let column = self.text[..self.pos].chars().count() + 1;
        format!("expected {what} at character {column}, found {found}; use the form {EXAMPLE}")
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let march_based_month = (month + 9) % 12;
    let day_of_year = (153 * march_based_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let march_based_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * march_based_month + 2) / 5 + 1;
    let month = if march_based_month < 10 {
        march_based_month + 3
    } else {
        march_based_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_times_read_as_parsed_timestamps() {
        assert_eq!(timestamp_from_unix(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            timestamp_from_unix(1_798_156_800, 5),
            ok("2026-12-25T00:00:00.000005Z")
        );
        assert_eq!(
            timestamp_from_unix(i64::MIN, 0),
            "0001-01-01T00:00:00.000000Z"
        );
        assert_eq!(
            timestamp_from_unix(i64::MAX, 0),
            "9999-12-31T23:59:59.000000Z"
        );
        assert!(timestamp_from_unix(1_798_156_799, 0) < ok("2026-12-25T00:00:00Z"));
    }

    fn ok(text: &str) -> String {
        parse_timestamp(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn err(text: &str) -> String {
        match parse_timestamp(text) {
            Ok(v) => panic!("{text} parsed as {v}"),
            Err(e) => e,
        }
    }

    #[test]
    fn utc_forms() {
        assert_eq!(ok("2026-12-20T00:00:00Z"), "2026-12-20T00:00:00.000000Z");
        assert_eq!(ok("2026-12-20t00:00:00z"), "2026-12-20T00:00:00.000000Z");
        assert_eq!(ok("2026-12-20 13:14:15Z"), "2026-12-20T13:14:15.000000Z");
        assert_eq!(
            ok("2026-12-20T00:00:00+00:00"),
            "2026-12-20T00:00:00.000000Z"
        );
        assert_eq!(
            ok("2026-12-20T00:00:00-00:00"),
            "2026-12-20T00:00:00.000000Z"
        );
    }

    #[test]
    fn fractions_keep_microseconds_and_truncate_the_rest() {
        assert_eq!(ok("2026-01-02T03:04:05.5Z"), "2026-01-02T03:04:05.500000Z");
        assert_eq!(
            ok("2026-01-02T03:04:05.123456Z"),
            "2026-01-02T03:04:05.123456Z"
        );
        assert_eq!(
            ok("2026-01-02T03:04:05.123456999Z"),
            "2026-01-02T03:04:05.123456Z"
        );
        assert_eq!(
            ok("2026-01-02T03:04:05.000001Z"),
            "2026-01-02T03:04:05.000001Z"
        );
    }

    #[test]
    fn offsets_convert_to_utc() {
        assert_eq!(
            ok("2026-12-20T01:00:00+01:00"),
            "2026-12-20T00:00:00.000000Z"
        );
        assert_eq!(
            ok("2026-12-20T10:30:00+05:30"),
            "2026-12-20T05:00:00.000000Z"
        );
        assert_eq!(
            ok("2026-12-20T10:00:00-03:45"),
            "2026-12-20T13:45:00.000000Z"
        );
        assert_eq!(
            ok("2026-12-20T00:00:00+23:59"),
            "2026-12-19T00:01:00.000000Z"
        );
    }

    #[test]
    fn offsets_cross_day_month_and_year_boundaries() {
        assert_eq!(
            ok("2026-06-15T23:30:00-01:00"),
            "2026-06-16T00:30:00.000000Z"
        );
        assert_eq!(
            ok("2026-07-01T00:30:00+01:00"),
            "2026-06-30T23:30:00.000000Z"
        );
        assert_eq!(
            ok("2026-04-30T22:00:00-03:00"),
            "2026-05-01T01:00:00.000000Z"
        );
        assert_eq!(
            ok("2026-12-31T23:00:00-02:00"),
            "2027-01-01T01:00:00.000000Z"
        );
        assert_eq!(
            ok("2027-01-01T00:59:59.999999+01:00"),
            "2026-12-31T23:59:59.999999Z"
        );
    }

    #[test]
    fn leap_years() {
        assert_eq!(ok("2024-02-29T12:00:00Z"), "2024-02-29T12:00:00.000000Z");
        assert_eq!(ok("2000-02-29T12:00:00Z"), "2000-02-29T12:00:00.000000Z");
        assert_eq!(
            ok("2024-03-01T00:30:00+01:00"),
            "2024-02-29T23:30:00.000000Z"
        );
        assert_eq!(
            ok("2023-03-01T00:30:00+01:00"),
            "2023-02-28T23:30:00.000000Z"
        );
        assert_eq!(
            ok("2024-02-28T23:30:00-01:00"),
            "2024-02-29T00:30:00.000000Z"
        );
        assert!(err("2023-02-29T00:00:00Z").contains("day 29 is out of range for 2023-02 (01-28)"));
        assert!(err("1900-02-29T00:00:00Z").contains("out of range for 1900-02"));
        assert!(err("2024-02-30T00:00:00Z").contains("(01-29)"));
    }

    #[test]
    fn infinity() {
        assert_eq!(ok("infinity"), "infinity");
        assert_eq!(ok("Infinity"), "infinity");
    }

    #[test]
    fn range_errors() {
        assert!(err("2026-13-01T00:00:00Z").contains("month 13"));
        assert!(err("2026-00-01T00:00:00Z").contains("month 00"));
        assert!(err("2026-04-31T00:00:00Z").contains("day 31"));
        assert!(err("2026-04-00T00:00:00Z").contains("day 00"));
        assert!(err("2026-04-01T24:00:00Z").contains("hour 24"));
        assert!(err("2026-04-01T00:60:00Z").contains("minute 60"));
        assert!(err("2026-04-01T00:00:60Z").contains("leap seconds"));
        assert!(err("2026-04-01T00:00:61Z").contains("second 61"));
        assert!(err("2026-04-01T00:00:00+24:00").contains("offset 24:00"));
        assert!(err("2026-04-01T00:00:00+01:60").contains("offset 01:60"));
    }

    #[test]
    fn years_outside_the_output_range() {
        assert!(err("0000-06-01T00:00:00Z").contains("0001-9999"));
        assert!(err("0001-01-01T00:00:00+01:00").contains("0001-9999"));
        assert!(err("9999-12-31T23:00:00-01:00").contains("0001-9999"));
        assert_eq!(ok("0001-01-01T00:00:00Z"), "0001-01-01T00:00:00.000000Z");
        assert_eq!(
            ok("9999-12-31T23:59:59.999999Z"),
            "9999-12-31T23:59:59.999999Z"
        );
    }

    #[test]
    fn shape_errors() {
        assert!(err("2026-12-20").contains("missing the time"));
        assert!(err("2026-12-20T00:00:00").contains("missing the UTC offset"));
        assert!(err("2026-12-20T00:00Z").contains("expected `:` at character 17, found `Z`"));
        assert!(err("26-12-20T00:00:00Z").contains("4-digit year at character 3"));
        assert!(err("2026-12-20T00:00:00.Z").contains("fractional second digits"));
        assert!(err("2026-12-20T00:00:00.1234567890Z").contains("at most 9"));
        assert!(err("2026-12-20T00:00:00Z ").contains("end of the timestamp"));
        assert!(err(" 2026-12-20T00:00:00Z").contains("character 1"));
        assert!(err("2026-12-20T00:00:00+0100").contains("`:` in the offset"));
        assert!(err("2026-12-20T00:00:00+01").contains("found the end"));
        assert!(err("2026-12-20X00:00:00Z").contains("`T` between date and time"));
        assert!(err("2026-12-20T00:00:00é").contains("found `\\u{e9}`"));
        assert!(err("").contains("4-digit year at character 1, found the end"));
        assert!(err("tomorrow").contains("4-digit year"));
    }

    #[test]
    fn civil_days_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        for days in (-800_000..800_000).step_by(37) {
            let (y, m, d) = civil_from_days(days);
            assert!((1..=12).contains(&m) && (1..=days_in_month(y, m)).contains(&d));
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
