//! The table's state as a URL query: every filter, the sort and the page, so a link pasted
//! in chat opens the same view. Parsing is lenient: a value that means nothing is dropped
//! (and the view falls back to its default) rather than failing the page.

use serde::{Deserialize, Serialize};

use crate::dns_check::DnsHealth;
use crate::model::{DkimStatus, IdentityType, KeyLength, SigningOrigin};

/// Rows per page unless the query says otherwise.
pub const DEFAULT_PER_PAGE: usize = 50;
/// The page sizes the form offers; any other value is clamped into 1..=the largest.
pub const PER_PAGE_CHOICES: [usize; 4] = [25, 50, 100, 200];

/// What the identities table shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableQuery {
    /// Case-insensitive text the identity name must contain.
    pub text: String,
    /// Only this DKIM status.
    pub status: Option<DkimStatus>,
    /// Only this signing origin.
    pub origin: Option<OriginFilter>,
    /// Only this region.
    pub region: Option<String>,
    /// Only this account label.
    pub account: Option<String>,
    /// Only this identity type.
    pub identity_type: Option<IdentityType>,
    /// Only identities with DKIM signing on (`true`) or off (`false`).
    pub signing: Option<bool>,
    /// Only Easy DKIM identities whose current key has this length.
    pub key_length: Option<KeyLength>,
    /// Only identities that need attention.
    pub attention: bool,
    /// Only identities whose DNS records stand so.
    pub dns: Option<DnsHealth>,
    /// Only identities with a change seen this recently (the history).
    pub changed: Option<ChangedWithin>,
    /// Sort column.
    pub sort: SortColumn,
    /// Sort direction.
    pub descending: bool,
    /// 1-based page number.
    pub page: usize,
    /// Rows per page.
    pub per_page: usize,
}

impl Default for TableQuery {
    fn default() -> Self {
        Self {
            text: String::new(),
            status: None,
            origin: None,
            region: None,
            account: None,
            identity_type: None,
            signing: None,
            key_length: None,
            attention: false,
            dns: None,
            changed: None,
            sort: SortColumn::Name,
            descending: false,
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

/// How an identity signs, as the origin filter groups it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OriginFilter {
    /// SES-managed keys (Easy DKIM).
    Easy,
    /// The operator's own key.
    Byodkim,
    /// A DEED replica of an identity in another region.
    Replica,
}

impl OriginFilter {
    /// Every value, in the order the form lists them.
    pub const ALL: [OriginFilter; 3] = [Self::Easy, Self::Byodkim, Self::Replica];

    /// The URL spelling.
    pub fn as_param(self) -> &'static str {
        match self {
            Self::Easy => "easy",
            Self::Byodkim => "byodkim",
            Self::Replica => "replica",
        }
    }

    /// What the form and the strip call it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Easy => "Easy DKIM",
            Self::Byodkim => "BYODKIM",
            Self::Replica => "DEED replica",
        }
    }

    /// Whether `origin` belongs to this group.
    pub fn matches(self, origin: Option<&SigningOrigin>) -> bool {
        matches!(
            (self, origin),
            (Self::Easy, Some(SigningOrigin::EasyDkim))
                | (Self::Byodkim, Some(SigningOrigin::Byodkim))
                | (Self::Replica, Some(SigningOrigin::Replica { .. }))
        )
    }

    fn from_param(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_param() == value)
    }
}

/// How recently a change must have been seen for the `changed` filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangedWithin {
    /// The last 24 hours.
    Day,
    /// The last 7 days.
    Week,
}

impl ChangedWithin {
    /// Every value, in the order the form lists them.
    pub const ALL: [ChangedWithin; 2] = [Self::Day, Self::Week];

    /// The URL spelling.
    pub fn as_param(self) -> &'static str {
        match self {
            Self::Day => "24h",
            Self::Week => "7d",
        }
    }

    /// What the form calls it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Day => "Last 24 hours",
            Self::Week => "Last 7 days",
        }
    }

    /// Its length in seconds.
    pub fn seconds(self) -> i64 {
        match self {
            Self::Day => 24 * 60 * 60,
            Self::Week => 7 * 24 * 60 * 60,
        }
    }

    fn from_param(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_param() == value)
    }
}

/// The sortable columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortColumn {
    /// Identity name.
    Name,
    /// Identity type.
    Type,
    /// Account, then region.
    Location,
    /// DKIM status.
    Status,
    /// Signing origin.
    Origin,
    /// Current key length.
    KeyLength,
    /// Signing on or off.
    Signing,
    /// Last key generation.
    KeyGenerated,
    /// Last read from SES.
    Read,
}

impl SortColumn {
    /// Every column, in table order.
    pub const ALL: [SortColumn; 9] = [
        Self::Name,
        Self::Type,
        Self::Location,
        Self::Status,
        Self::Origin,
        Self::KeyLength,
        Self::Signing,
        Self::KeyGenerated,
        Self::Read,
    ];

    /// The URL spelling.
    pub fn as_param(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Type => "type",
            Self::Location => "location",
            Self::Status => "status",
            Self::Origin => "origin",
            Self::KeyLength => "key",
            Self::Signing => "signing",
            Self::KeyGenerated => "keygen",
            Self::Read => "read",
        }
    }

    fn from_param(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_param() == value)
    }
}

impl TableQuery {
    /// Parses a URL query string (`a=1&b=2`, with or without the leading `?`).
    pub fn from_query_string(query: &str) -> Self {
        let query = query.strip_prefix('?').unwrap_or(query);
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Self::from_lookup(|key| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
    }

    /// Builds the query from a parameter lookup (the router's query map, or parsed pairs).
    /// Empty values (a form's "any" choice) and values that mean nothing are ignored.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let get = |key: &str| {
            get(key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let defaults = Self::default();
        Self {
            text: get("q").unwrap_or_default(),
            status: get("status").map(|s| DkimStatus::from_ses(&s.to_ascii_uppercase())),
            origin: get("origin").and_then(|o| OriginFilter::from_param(&o)),
            region: get("region"),
            account: get("account"),
            identity_type: get("type").map(|t| IdentityType::from_ses(&t.to_ascii_uppercase())),
            signing: get("signing").and_then(|s| match s.as_str() {
                "on" => Some(true),
                "off" => Some(false),
                _ => None,
            }),
            key_length: get("key").and_then(|k| match k.as_str() {
                "1024" => Some(KeyLength::Rsa1024),
                "2048" => Some(KeyLength::Rsa2048),
                _ => None,
            }),
            attention: get("attention").is_some_and(|a| a == "1" || a == "on" || a == "true"),
            dns: get("dns").and_then(|d| DnsHealth::from_param(&d)),
            changed: get("changed").and_then(|c| ChangedWithin::from_param(&c)),
            sort: get("sort")
                .and_then(|s| SortColumn::from_param(&s))
                .unwrap_or(defaults.sort),
            descending: get("dir").is_some_and(|d| d == "desc"),
            page: get("page")
                .and_then(|p| p.parse::<usize>().ok())
                .filter(|p| *p >= 1)
                .unwrap_or(defaults.page),
            per_page: get("per")
                .and_then(|p| p.parse::<usize>().ok())
                .map(|p| p.clamp(1, PER_PAGE_CHOICES[PER_PAGE_CHOICES.len() - 1]))
                .unwrap_or(defaults.per_page),
        }
    }

    /// The URL query string (without `?`), naming only what differs from the default, so
    /// links stay short and one view has one URL.
    pub fn to_query_string(&self) -> String {
        let defaults = Self::default();
        let mut out = form_urlencoded::Serializer::new(String::new());
        if !self.text.is_empty() {
            out.append_pair("q", &self.text);
        }
        if let Some(status) = &self.status {
            out.append_pair("status", status.as_ses());
        }
        if let Some(origin) = self.origin {
            out.append_pair("origin", origin.as_param());
        }
        if let Some(region) = &self.region {
            out.append_pair("region", region);
        }
        if let Some(account) = &self.account {
            out.append_pair("account", account);
        }
        if let Some(identity_type) = &self.identity_type {
            out.append_pair("type", identity_type.as_ses());
        }
        if let Some(signing) = self.signing {
            out.append_pair("signing", if signing { "on" } else { "off" });
        }
        if let Some(key) = &self.key_length {
            out.append_pair("key", key.bits());
        }
        if self.attention {
            out.append_pair("attention", "1");
        }
        if let Some(dns) = self.dns {
            out.append_pair("dns", dns.as_param());
        }
        if let Some(changed) = self.changed {
            out.append_pair("changed", changed.as_param());
        }
        if self.sort != defaults.sort {
            out.append_pair("sort", self.sort.as_param());
        }
        if self.descending {
            out.append_pair("dir", "desc");
        }
        if self.page != defaults.page {
            out.append_pair("page", &self.page.to_string());
        }
        if self.per_page != defaults.per_page {
            out.append_pair("per", &self.per_page.to_string());
        }
        out.finish()
    }

    /// The overview's URL for this view.
    pub fn href(&self) -> String {
        let query = self.to_query_string();
        if query.is_empty() {
            "/".to_owned()
        } else {
            format!("/?{query}")
        }
    }

    /// The same filters on page `page`.
    pub fn with_page(&self, page: usize) -> Self {
        Self {
            page,
            ..self.clone()
        }
    }

    /// The same filters sorted by `column`: ascending first, descending on a second click.
    pub fn sorted_by(&self, column: SortColumn) -> Self {
        Self {
            sort: column,
            descending: self.sort == column && !self.descending,
            page: 1,
            ..self.clone()
        }
    }

    /// Whether any filter narrows the table (sort and page aside).
    pub fn is_filtered(&self) -> bool {
        let plain = Self {
            sort: self.sort,
            descending: self.descending,
            page: self.page,
            per_page: self.per_page,
            ..Self::default()
        };
        *self != plain
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_url() {
        let query = TableQuery {
            text: "shop & co".into(),
            status: Some(DkimStatus::TemporaryFailure),
            origin: Some(OriginFilter::Replica),
            region: Some("eu-west-1".into()),
            account: Some("prod".into()),
            identity_type: Some(IdentityType::Domain),
            dns: Some(DnsHealth::Problem),
            changed: Some(ChangedWithin::Week),
            signing: Some(false),
            key_length: Some(KeyLength::Rsa1024),
            attention: true,
            sort: SortColumn::KeyGenerated,
            descending: true,
            page: 3,
            per_page: 100,
        };
        let url = query.to_query_string();
        assert!(url.contains("q=shop+%26+co"), "{url}");
        assert_eq!(TableQuery::from_query_string(&url), query);
        assert_eq!(TableQuery::from_query_string(&format!("?{url}")), query);
    }

    #[test]
    fn the_default_view_is_the_bare_path() {
        assert_eq!(TableQuery::default().href(), "/");
        assert_eq!(TableQuery::from_query_string(""), TableQuery::default());
        assert!(!TableQuery::default().is_filtered());
    }

    #[test]
    fn nonsense_and_empty_values_fall_back_to_defaults() {
        let query = TableQuery::from_query_string(
            "status=&origin=sideways&signing=maybe&key=4096&sort=colour&page=0&per=100000&q=%20%20",
        );
        assert_eq!(
            query,
            TableQuery {
                per_page: 200,
                ..TableQuery::default()
            }
        );
        assert_eq!(TableQuery::from_query_string("page=-2&per=x").page, 1);
    }

    #[test]
    fn form_spellings_are_accepted() {
        let query = TableQuery::from_query_string("status=failed&type=email_address&attention=on");
        assert_eq!(query.status, Some(DkimStatus::Failed));
        assert_eq!(query.identity_type, Some(IdentityType::EmailAddress));
        assert!(query.attention);
        assert!(query.is_filtered());
    }

    #[test]
    fn sorting_toggles_direction_and_restarts_at_page_one() {
        let query = TableQuery::default().with_page(4);
        let by_status = query.sorted_by(SortColumn::Status);
        assert_eq!(
            (by_status.sort, by_status.descending, by_status.page),
            (SortColumn::Status, false, 1)
        );
        assert!(by_status.sorted_by(SortColumn::Status).descending);
        assert!(!by_status.sorted_by(SortColumn::Name).descending);
    }
}
