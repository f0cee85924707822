//! ASL timestamps: RFC 3339 "extended offset date-time" as AWS accepts them in `Timestamp`,
//! `TimestampPath`, the `Timestamp*` Choice operators and `IsTimestamp`.
//!
//! AWS requires an uppercase `T` separator and a `Z` or `±hh:mm` offset; fractional seconds of any
//! length are accepted (recorded: `.00Z`, `.000000Z`, nanoseconds), a missing offset is not.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

/// Parse an ASL timestamp into UTC, or `None` if AWS would reject it.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let (year, month, day) = (num(0..4)? as i32, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut i = 19;
    let mut nanos: u32 = 0;
    if b[i] == b'.' {
        let start = i + 1;
        let mut end = start;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
        if end == start || end - start > 9 {
            return None;
        }
        let digits = &s[start..end];
        nanos = digits.parse::<u32>().ok()? * 10u32.pow(9 - digits.len() as u32);
        i = end;
    }
    let offset_secs: i32 = match &s[i..] {
        "Z" => 0,
        rest if rest.len() == 6
            && (rest.starts_with('+') || rest.starts_with('-'))
            // Bytes, not a `str` slice: the offset may hold multi-byte characters.
            && rest.as_bytes()[3] == b':' =>
        {
            let h = num(i + 1..i + 3)? as i32;
            let m = num(i + 4..i + 6)? as i32;
            if h > 23 || m > 59 {
                return None;
            }
            let total = h * 3600 + m * 60;
            if rest.starts_with('-') { -total } else { total }
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
    let offset = FixedOffset::east_opt(offset_secs)?;
    let local = NaiveDateTime::new(date, time);
    Some(
        offset
            .from_local_datetime(&local)
            .single()?
            .with_timezone(&Utc),
    )
}

/// Render a time as AWS does in the context object (`2024-11-18T11:14:18.123Z`, milliseconds).
pub fn format_millis(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_aws_accepts() {
        for ok in [
            "2016-03-14T01:59:00Z",
            "2016-03-05T21:29:29.243167252Z",
            "2024-01-01T00:00:00.00Z",
            "2024-01-01T00:00:00.000000Z",
            "2024-01-01T00:00:00+02:00",
            "2024-01-01T00:00:00-05:30",
        ] {
            assert!(parse(ok).is_some(), "{ok}");
        }
    }

    #[test]
    fn rejects_what_aws_rejects() {
        for bad in [
            "2016-12-05T21:29:29",
            "2016-12-05 21:29:29Z",
            "05-12-2016T21:29:29Z",
            "2016-12-05T25:29:29Z",
            "2016-13-05T21:29:29Z",
            "2024-01-01T00:00:00.000000",
            "2024-01-01t00:00:00Z",
            "2024-01-01T00:00:00z",
            "",
            "2023-02-24 12:15:56.832957",
            "2024-01-01T00:00:00.Z",
            // Found by fuzzing: a multi-byte character inside the offset used to panic.
            "2016-03-14T01:59:00+0é12",
            "2016-03-14T01:59:00+é:12",
            "2016-03-14T01:59:00.éZ",
            "2016-03-14T01:59:0é",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn offsets_convert_to_utc() {
        let a = parse("2024-01-01T02:00:00+02:00").unwrap();
        let b = parse("2024-01-01T00:00:00Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(format_millis(b), "2024-01-01T00:00:00.000Z");
    }
}
