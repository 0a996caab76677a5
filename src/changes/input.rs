//! Operator input for DKIM changes, checked before SES is called. Each error says which
//! field and what is wrong, in words.

use super::ChangeError;
use crate::app_error::Field;
use crate::model::KeyLength;
use crate::names;

/// A domain as typed → SES's form: trimmed, trailing dot dropped, IDN converted to
/// punycode, lower-cased, then checked against DNS rules.
pub fn domain(input: &str) -> Result<String, ChangeError> {
    let refuse = |message: String| ChangeError::invalid(Field::Domain, message);
    let trimmed = input.trim().trim_end_matches('.');
    if trimmed.contains('@') {
        return Err(refuse(format!(
            "Domain: '{trimmed}' is an email address; add its domain instead"
        )));
    }
    let ascii = idna::domain_to_ascii(trimmed).map_err(|_| {
        refuse(format!(
            "Domain: '{trimmed}' is not a valid internationalised domain name"
        ))
    })?;
    match names::domain_problem(&ascii) {
        None => Ok(ascii),
        Some(why) => Err(refuse(format!("Domain: '{trimmed}' is not valid ({why})"))),
    }
}

/// A BYODKIM selector.
pub fn selector(input: &str) -> Result<String, ChangeError> {
    let selector = input.trim();
    match names::selector_problem(selector) {
        None => Ok(selector.to_owned()),
        Some(why) => Err(ChangeError::invalid(
            Field::Selector,
            format!(
                "Selector: '{selector}' is not valid ({why}); use 1 to 63 letters, digits and inner hyphens"
            ),
        )),
    }
}

/// `1024`/`2048` (or SES's `RSA_1024_BIT` spelling); empty means "SES's default".
pub fn key_length(input: Option<&str>) -> Result<Option<KeyLength>, ChangeError> {
    match input.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some("1024" | "RSA_1024_BIT") => Ok(Some(KeyLength::Rsa1024)),
        Some("2048" | "RSA_2048_BIT") => Ok(Some(KeyLength::Rsa2048)),
        Some(other) => Err(ChangeError::invalid(
            Field::KeyLength,
            format!("Key length: '{other}' is not offered; choose 1024 or 2048 bits"),
        )),
    }
}

/// Tags as `key=value` pairs separated by commas or new lines; empty is none.
pub fn tags(input: Option<&str>) -> Result<Vec<(String, String)>, ChangeError> {
    let refuse = |message: String| ChangeError::invalid(Field::Tags, message);
    let mut tags = Vec::new();
    for item in input
        .unwrap_or("")
        .split([',', '\n'])
        .map(str::trim)
        .filter(|i| !i.is_empty())
    {
        let Some((key, value)) = item.split_once('=') else {
            return Err(refuse(format!("Tags: '{item}' needs the form key=value")));
        };
        let (key, value) = (key.trim(), value.trim());
        if key.is_empty() || key.len() > 128 || value.len() > 256 {
            return Err(refuse(format!(
                "Tags: '{item}': keys are 1 to 128 characters, values at most 256"
            )));
        }
        tags.push((key.to_owned(), value.to_owned()));
    }
    if tags.len() > 50 {
        return Err(refuse("Tags: SES allows at most 50 tags".to_owned()));
    }
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_normalised_or_refused_by_name() {
        assert_eq!(
            domain("  Mail.Example.COM. ").as_deref(),
            Ok("mail.example.com")
        );
        assert_eq!(
            domain("bücher.example").as_deref(),
            Ok("xn--bcher-kva.example")
        );
        for (bad, why) in [
            ("", "empty"),
            ("localhost", "two labels"),
            ("ops@example.com", "email address"),
            ("a_b.example", "letters, digits"),
            ("-a.example", "hyphen"),
        ] {
            let error = domain(bad).unwrap_err();
            assert!(
                matches!(
                    error,
                    ChangeError::Invalid {
                        field: Field::Domain,
                        ..
                    }
                ),
                "{bad}: {error:?}"
            );
            let error = error.to_string();
            assert!(error.starts_with("Domain: "), "{bad}: {error}");
            assert!(error.contains(why), "{bad}: {error}");
        }
        let long = format!("{}.example", vec!["a".repeat(60); 5].join("."));
        assert!(domain(&long).unwrap_err().to_string().contains("253"));
        assert!(
            domain(&format!("{}.example", "a".repeat(64)))
                .unwrap_err()
                .to_string()
                .contains("63")
        );
    }

    #[test]
    fn selectors_key_lengths_and_tags() {
        assert_eq!(selector(" s2026 ").as_deref(), Ok("s2026"));
        for bad in ["", "a_b", "-a", &"x".repeat(64)] {
            let error = selector(bad).unwrap_err();
            assert!(
                matches!(&error, ChangeError::Invalid { field: Field::Selector, message } if message.starts_with("Selector: ")),
                "{bad}: {error:?}"
            );
        }
        assert_eq!(key_length(Some("1024")), Ok(Some(KeyLength::Rsa1024)));
        assert_eq!(key_length(Some("")), Ok(None));
        assert!(
            key_length(Some("4096"))
                .unwrap_err()
                .to_string()
                .contains("1024 or 2048")
        );
        assert_eq!(
            tags(Some("team=mail, env = prod\n")),
            Ok(vec![
                ("team".into(), "mail".into()),
                ("env".into(), "prod".into())
            ])
        );
        let error = tags(Some("oops")).unwrap_err();
        assert!(
            matches!(&error, ChangeError::Invalid { field: Field::Tags, message } if message.contains("key=value")),
            "{error:?}"
        );
    }
}
