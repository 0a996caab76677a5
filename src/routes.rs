//! (pure, shared) URLs of the dashboard's own pages and downloads, built in one place: the
//! pages link with them, and the server functions redirect with them.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Characters escaped in a path segment: everything but letters, digits and `-._~@`
/// (so `ops@example.com` stays readable, and `/`, `?`, `#`, `%`, `+` cannot break the URL).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'@');

/// The page that adds a domain.
pub const ADD_DOMAIN_PAGE: &str = "/add";
/// The audit log's page.
pub const ACTIVITY_PAGE: &str = "/activity";

/// The page a plain form post goes back to: `back` when it is a path on this dashboard
/// (so a form sent from `/?status=FAILED` comes back there, filter and all), the home page
/// otherwise. Never another site: `//host` and `\\host` count as other sites, as browsers
/// read them.
pub fn back_to(back: Option<&str>) -> &str {
    match back {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path
        }
        _ => "/",
    }
}

/// One path segment, escaped.
pub fn segment(value: &str) -> String {
    utf8_percent_encode(value, SEGMENT).to_string()
}

/// The identity page; `account` is named only when it is needed to tell identities apart.
pub fn identity_page(region: &str, name: &str, account: Option<&str>) -> String {
    let path = format!("/identity/{}/{}", segment(region), segment(name));
    with_account(path, account)
}

/// One identity's records as `csv`, `zone` or `json`.
pub fn identity_download(region: &str, name: &str, account: Option<&str>, ext: &str) -> String {
    let path = format!(
        "/download/identity/{}/{}/records.{ext}",
        segment(region),
        segment(name)
    );
    with_account(path, account)
}

/// The records of every identity the table query selects, as `csv`, `zone` or `json`.
pub fn table_download(query_string: &str, ext: &str) -> String {
    if query_string.is_empty() {
        format!("/download/identities.{ext}")
    } else {
        format!("/download/identities.{ext}?{query_string}")
    }
}

/// The identity's page with the preview of publishing its records (it reads the DNS
/// provider, so only when asked).
pub fn publish_preview_page(region: &str, name: &str, account: Option<&str>) -> String {
    let page = identity_page(region, name, account);
    let separator = if page.contains('?') { '&' } else { '?' };
    format!("{page}{separator}publish=preview")
}

/// The preview of repairing what the identities table's `query` selects.
pub fn repair_page(query: &str) -> String {
    if query.is_empty() {
        "/repair".to_owned()
    } else {
        format!("/repair?{query}")
    }
}

/// A fleet repair's progress and report.
pub fn repair_run_page(id: i64) -> String {
    format!("/repair/runs/{id}")
}

/// `href` with the id of a kept form answer (see `server::notices`) added to its query.
pub fn with_notice(href: &str, id: &str) -> String {
    let separator = if href.contains('?') { '&' } else { '?' };
    format!("{href}{separator}notice={}", segment(id))
}

fn with_account(path: String, account: Option<&str>) -> String {
    match account {
        Some(account) => {
            let query: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("account", account)
                .finish();
            format!("{path}?{query}")
        }
        None => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_post_goes_back_only_to_a_page_of_this_dashboard() {
        for (back, expected) in [
            (
                Some("/?status=FAILED&sort=name"),
                "/?status=FAILED&sort=name",
            ),
            (
                Some("/identity/us-east-1/a.example"),
                "/identity/us-east-1/a.example",
            ),
            (None, "/"),
            (Some(""), "/"),
            (Some("https://evil.example/"), "/"),
            (Some("//evil.example/"), "/"),
            (Some("/\\evil.example/"), "/"),
            (Some("/\r\nSet-Cookie: x=1"), "/"),
        ] {
            assert_eq!(back_to(back), expected, "{back:?}");
        }
    }

    #[test]
    fn names_that_could_break_a_path_are_escaped() {
        assert_eq!(
            identity_page("eu-west-1", "ops+alerts@example.com", None),
            "/identity/eu-west-1/ops%2Balerts%40example.com".replace("%40", "@")
        );
        assert_eq!(
            identity_page("us-east-1", "a/b?c#d", Some("prod & co")),
            "/identity/us-east-1/a%2Fb%3Fc%23d?account=prod+%26+co"
        );
        assert_eq!(
            identity_download("us-east-1", "example.com", None, "csv"),
            "/download/identity/us-east-1/example.com/records.csv"
        );
        assert_eq!(table_download("", "json"), "/download/identities.json");
        assert_eq!(with_notice("/add", "ab12"), "/add?notice=ab12");
        assert_eq!(
            with_notice("/identity/r/n?account=1", "ab12"),
            "/identity/r/n?account=1&notice=ab12"
        );
        assert_eq!(
            table_download("status=FAILED", "zone"),
            "/download/identities.zone?status=FAILED"
        );
    }
}
