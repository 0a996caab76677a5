//! Turning numbers into the short phrases operators read at a glance.

/// A duration in whole seconds as its two largest units: "45 s", "3 min", "2 h 5 min", "1 d 3 h".
pub fn short_duration(secs: u64) -> String {
    const MINUTE: u64 = 60;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;
    match secs {
        s if s < MINUTE => format!("{s} s"),
        s if s < HOUR => format!("{} min", s / MINUTE),
        s if s < DAY => two_units(s / HOUR, "h", (s % HOUR) / MINUTE, "min"),
        s => two_units(s / DAY, "d", (s % DAY) / HOUR, "h"),
    }
}

/// How long before `now` the moment `at` was: "3 min ago" (a clock skew reads as "0 s ago").
pub fn ago(now: i64, at: i64) -> String {
    format!(
        "{} ago",
        short_duration(u64::try_from(now - at).unwrap_or(0))
    )
}

/// A Unix time as "2026-11-23 09:05 UTC". Hand-rolled (days-to-civil, Hinnant's
/// algorithm) so the browser bundle carries no date crate.
pub fn utc_minute(at: i64) -> String {
    let days = at.div_euclid(86_400);
    let secs = at.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        secs / 3600,
        (secs % 3600) / 60
    )
}

/// A Unix time's UTC day, "2026-11-23": where a table has no room for the minute.
pub fn utc_day(at: i64) -> String {
    let (year, month, day) = civil_from_days(at.div_euclid(86_400));
    format!("{year:04}-{month:02}-{day:02}")
}

/// Year, month, day of the day `days` after 1970-01-01 (proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

/// "2 h 5 min", or "2 h" when the smaller unit is zero.
fn two_units(big: u64, big_unit: &str, small: u64, small_unit: &str) -> String {
    if small == 0 {
        format!("{big} {big_unit}")
    } else {
        format!("{big} {big_unit} {small} {small_unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::{ago, short_duration, utc_day, utc_minute};

    #[test]
    fn utc_dates_match_known_instants() {
        let cases = [
            (0, "1970-01-01 00:00 UTC"),
            (951_782_400, "2000-02-29 00:00 UTC"),
            (1_700_000_000, "2023-11-14 22:13 UTC"),
            (1_795_430_700, "2026-11-23 10:45 UTC"),
            (4_107_542_399, "2100-02-28 23:59 UTC"),
            (-1, "1969-12-31 23:59 UTC"),
        ];
        for (at, expected) in cases {
            assert_eq!(utc_minute(at), expected, "for {at}");
            assert_eq!(utc_day(at), expected[..10], "for {at}");
        }
    }

    #[test]
    fn ago_never_goes_negative() {
        assert_eq!(ago(1_000, 820), "3 min ago");
        assert_eq!(ago(1_000, 1_005), "0 s ago");
    }

    #[test]
    fn picks_the_two_largest_units() {
        let cases = [
            (0, "0 s"),
            (59, "59 s"),
            (60, "1 min"),
            (3_599, "59 min"),
            (3_600, "1 h"),
            (3_600 + 5 * 60 + 7, "1 h 5 min"),
            (86_399, "23 h 59 min"),
            (86_400, "1 d"),
            (86_400 * 3 + 3_600 * 4 + 59, "3 d 4 h"),
        ];
        for (secs, expected) in cases {
            assert_eq!(short_duration(secs), expected, "for {secs} s");
        }
    }
}
