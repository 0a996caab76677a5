//! (pure) The values an SSO proxy puts in its identity headers, read strictly: a value
//! that is empty, too long or holds control characters counts as missing, so it can
//! never reach a page or the audit log.

use axum::http::{HeaderMap, HeaderName};

/// Longest user name, email or group name accepted.
pub const MAX_VALUE_CHARS: usize = 256;
/// Most groups kept from one request.
pub const MAX_GROUPS: usize = 256;

/// The single value of `name`: trimmed, non-empty, printable, at most `MAX_VALUE_CHARS`.
/// Absent, repeated (ambiguous) or unusable values give `None`.
pub fn single_value(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    let mut values = headers.get_all(name).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    clean(std::str::from_utf8(value.as_bytes()).ok()?)
}

/// The groups in every `name` header: comma-separated, trimmed, empty ones dropped,
/// repeats removed (first order kept), at most `MAX_GROUPS`. (The trusted-header mode
/// refuses a repeated groups header before it gets here.)
pub fn groups(headers: &HeaderMap, name: &HeaderName) -> Vec<String> {
    let mut groups: Vec<String> = Vec::new();
    for value in headers.get_all(name) {
        let Ok(text) = std::str::from_utf8(value.as_bytes()) else {
            continue;
        };
        for group in text.split(',').filter_map(clean) {
            if groups.len() == MAX_GROUPS {
                return groups;
            }
            if !groups.contains(&group) {
                groups.push(group);
            }
        }
    }
    groups
}

/// `text` trimmed, if it is a usable value.
pub fn clean(text: &str) -> Option<String> {
    let text = text.trim();
    let usable = !text.is_empty()
        && text.chars().count() <= MAX_VALUE_CHARS
        && !text.chars().any(char::is_control);
    usable.then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use proptest::prelude::*;

    const GROUPS: HeaderName = HeaderName::from_static("x-forwarded-groups");
    const USER: HeaderName = HeaderName::from_static("x-forwarded-user");

    fn headers(values: &[(&HeaderName, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in values {
            map.append((*name).clone(), HeaderValue::from_bytes(value).unwrap());
        }
        map
    }

    #[test]
    fn groups_are_comma_separated_with_spaces_and_repeats() {
        let map = headers(&[
            (&GROUPS, b" dkim-operators , , staff,dkim-operators"),
            (&GROUPS, b"mail admins"),
        ]);
        assert_eq!(
            groups(&map, &GROUPS),
            ["dkim-operators", "staff", "mail admins"]
        );
        assert!(groups(&HeaderMap::new(), &GROUPS).is_empty());
    }

    #[test]
    fn a_user_is_one_clean_value() {
        assert_eq!(
            single_value(&headers(&[(&USER, b"  alice ")]), &USER).as_deref(),
            Some("alice")
        );
        assert_eq!(single_value(&headers(&[(&USER, b"   ")]), &USER), None);
        assert_eq!(single_value(&headers(&[(&USER, b"a\tb")]), &USER), None);
        assert_eq!(
            single_value(&headers(&[(&USER, b"alice"), (&USER, b"mallory")]), &USER),
            None,
            "two user headers are ambiguous"
        );
        let long = "x".repeat(MAX_VALUE_CHARS + 1);
        assert_eq!(
            single_value(&headers(&[(&USER, long.as_bytes())]), &USER),
            None
        );
        assert_eq!(
            single_value(&headers(&[(&USER, "zoë".as_bytes())]), &USER).as_deref(),
            Some("zoë")
        );
    }

    proptest! {
        #[test]
        fn no_header_value_makes_the_parsers_panic_or_keep_junk(
            values in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..400), 0..5)
        ) {
            let mut map = HeaderMap::new();
            for value in &values {
                if let Ok(value) = HeaderValue::from_bytes(value) {
                    map.append(GROUPS, value.clone());
                    map.append(USER, value);
                }
            }
            for group in groups(&map, &GROUPS) {
                prop_assert!(!group.is_empty() && !group.contains(',') && group.trim() == group);
                prop_assert!(!group.chars().any(char::is_control));
            }
            if let Some(user) = single_value(&map, &USER) {
                prop_assert!(!user.is_empty() && user.chars().count() <= MAX_VALUE_CHARS);
            }
        }
    }
}
