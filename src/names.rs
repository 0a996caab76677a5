//! DNS name rules shared by the dashboard (which checks input before calling SES) and the
//! simulator (which enforces SES's rules): what makes a domain name or a DKIM selector
//! invalid, in words. Pure.

/// Longest domain name in DNS, without the trailing dot.
pub const MAX_DOMAIN_LEN: usize = 253;
/// Longest DNS label.
pub const MAX_LABEL_LEN: usize = 63;

/// Why `name` is not a usable ASCII domain name (LDH labels of 1–63 characters, at least
/// two labels, at most 253 characters), or `None` if it is.
pub fn domain_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("it is empty");
    }
    if name.len() > MAX_DOMAIN_LEN {
        return Some("longer than 253 characters");
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return Some("it needs at least two labels, like example.com");
    }
    for label in labels {
        if label.is_empty() || label.len() > MAX_LABEL_LEN {
            return Some("each label must be 1 to 63 characters");
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Some("labels may hold only letters, digits and hyphens");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some("a label cannot start or end with a hyphen");
        }
    }
    None
}

/// Why `value` is not a DKIM selector SES accepts (1–63 letters, digits and inner
/// hyphens), or `None` if it is.
pub fn selector_problem(value: &str) -> Option<&'static str> {
    if value.is_empty() {
        Some("it is empty")
    } else if value.len() > MAX_LABEL_LEN {
        Some("longer than 63 characters")
    } else if !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        Some("only letters, digits and hyphens are allowed")
    } else if value.starts_with('-') || value.ends_with('-') {
        Some("it cannot start or end with a hyphen")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains() {
        assert_eq!(domain_problem("example.com"), None);
        assert_eq!(domain_problem("mail.xn--bcher-kva.example"), None);
        for (bad, why) in [
            ("", "empty"),
            ("localhost", "two labels"),
            ("-a.com", "hyphen"),
            ("a..com", "1 to 63"),
            ("exa mple.com", "letters, digits"),
            ("bücher.de", "letters, digits"),
        ] {
            assert!(domain_problem(bad).unwrap().contains(why), "{bad}");
        }
        assert!(domain_problem(&format!("{}.com", "a".repeat(64))).is_some());
        let too_long = format!("{}.com", vec!["a".repeat(60); 5].join("."));
        assert!(domain_problem(&too_long).unwrap().contains("253"));
    }

    #[test]
    fn selectors() {
        for good in ["a", "s1", "sel-2024", &"x".repeat(63)] {
            assert_eq!(selector_problem(good), None, "{good}");
        }
        for (bad, why) in [
            ("", "empty"),
            ("-a", "hyphen"),
            ("a-", "hyphen"),
            ("a_b", "only letters"),
            ("a.b", "only letters"),
            (&"x".repeat(64), "63"),
        ] {
            assert!(selector_problem(bad).unwrap().contains(why), "{bad}");
        }
    }
}
