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
    use super::{ago, short_duration};

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
