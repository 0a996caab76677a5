//! What dkimdash holds, written at each scrape into a recorder made for that scrape: only
//! what exists now is exported (an identity deleted, a target removed, leaves no stale
//! series behind). Counters kept elsewhere (SES calls, sweeps) are exported as they stand.

use std::collections::BTreeMap;

use metrics::{Unit, counter, describe_counter, describe_gauge, gauge};

use crate::alerts::evaluate::Rule;
use crate::alerts::silence::{Silence, silenced_until};
use crate::alerts::store::StoredAlert;
use crate::dns::monitor::DnsView;
use crate::inventory::Inventory;
use crate::inventory::snapshot::Snapshot;
use crate::model::{SigningOrigin, UnixSeconds};

/// Everything read at one scrape.
pub struct Scrape<'a> {
    /// The inventory (targets' SES connections, sweeps).
    pub inventory: &'a Inventory,
    /// Its identities and targets as of this scrape.
    pub snapshot: &'a Snapshot,
    /// The DNS reports, when checks are on.
    pub dns: Option<DnsView>,
    /// The alerts firing now.
    pub firing: &'a [StoredAlert],
    /// The silences in effect now.
    pub silences: &'a [Silence],
    /// Now.
    pub now: UnixSeconds,
}

/// Writes the scrape's series into the current recorder.
pub fn write(scrape: &Scrape<'_>) {
    describe();
    gauge!("dkimdash_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    let snapshot = scrape.snapshot;

    let mut identities: BTreeMap<(&str, &str, &str, String), u64> = BTreeMap::new();
    for identity in &snapshot.identities {
        let origin = identity
            .dkim
            .origin
            .as_ref()
            .map_or_else(|| "UNKNOWN".to_owned(), SigningOrigin::to_ses);
        *identities
            .entry((
                &identity.account,
                &identity.region,
                identity.dkim.status.as_ses(),
                origin,
            ))
            .or_default() += 1;
    }
    for ((account, region, status, origin), n) in identities {
        gauge!(
            "dkimdash_identities",
            "account" => account.to_owned(),
            "region" => region.to_owned(),
            "dkim_status" => status.to_owned(),
            "origin" => origin,
        )
        .set(n as f64);
    }

    for target in &snapshot.targets {
        let labels = [
            ("account", target.account.clone()),
            ("region", target.region.clone()),
        ];
        gauge!("dkimdash_target_up", &labels).set(f64::from(u8::from(
            target.last_success.is_some() && target.last_error.is_none(),
        )));
        if let Some(at) = target.last_success {
            gauge!("dkimdash_last_successful_sweep_timestamp_seconds", &labels).set(at as f64);
        }
    }
    for ((account, region), took) in scrape.inventory.sweep_durations() {
        gauge!("dkimdash_sweep_duration_seconds", "account" => account, "region" => region)
            .set(took.as_secs_f64());
    }
    counter!("dkimdash_sweeps_total").absolute(scrape.inventory.sweeps_completed());

    for connection in scrape.inventory.connections() {
        let target = &connection.target;
        for (operation, counts) in connection.counts_by_operation() {
            let labels = [
                ("account", target.account.clone()),
                ("region", target.region.clone()),
                ("operation", operation.to_owned()),
            ];
            counter!("dkimdash_ses_calls_total", &labels).absolute(counts.calls);
            counter!("dkimdash_ses_throttles_total", &labels).absolute(counts.throttled);
            counter!("dkimdash_ses_errors_total", &labels).absolute(counts.errors);
        }
    }

    if let Some(reports) = &scrape.dns {
        let mut findings: BTreeMap<(&str, &str, &str), u64> = BTreeMap::new();
        for (key, report) in reports.iter() {
            for finding in report.found() {
                *findings
                    .entry((&key.account, &key.region, finding.code()))
                    .or_default() += 1;
            }
        }
        for ((account, region, finding), n) in findings {
            gauge!(
                "dkimdash_dns_records",
                "account" => account.to_owned(),
                "region" => region.to_owned(),
                "finding" => finding,
            )
            .set(n as f64);
        }
    }

    // Every rule, silenced or not, so one firing nowhere shows 0 rather than nothing.
    for rule in Rule::ALL {
        for silenced in [false, true] {
            let firing = scrape
                .firing
                .iter()
                .filter(|a| a.labels.get("alertname").map(String::as_str) == Some(rule.name()))
                .filter(|a| {
                    silenced_until(scrape.silences, &a.labels, &a.fingerprint, scrape.now).is_some()
                        == silenced
                })
                .count();
            gauge!(
                "dkimdash_alerts_firing",
                "alertname" => rule.name(),
                "severity" => rule.severity(),
                "silenced" => if silenced { "true" } else { "false" }
            )
            .set(firing as f64);
        }
    }
}

fn describe() {
    describe_gauge!(
        "dkimdash_build_info",
        "The running dkimdash version (always 1)."
    );
    describe_gauge!(
        "dkimdash_identities",
        "SES identities as last read, by account, region, DKIM status and signing origin."
    );
    describe_gauge!(
        "dkimdash_target_up",
        "Whether the last sweep of the account and region succeeded (1) or not (0)."
    );
    describe_gauge!(
        "dkimdash_last_successful_sweep_timestamp_seconds",
        Unit::Seconds,
        "When the account and region were last read successfully (Unix time)."
    );
    describe_gauge!(
        "dkimdash_sweep_duration_seconds",
        Unit::Seconds,
        "How long the last sweep of the account and region took."
    );
    describe_counter!("dkimdash_sweeps_total", "Sweeps of every target finished.");
    describe_counter!(
        "dkimdash_ses_calls_total",
        "SES API calls sent, retries included, by account, region and operation."
    );
    describe_counter!(
        "dkimdash_ses_throttles_total",
        "SES answers that said too many requests, by account, region and operation."
    );
    describe_counter!(
        "dkimdash_ses_errors_total",
        "SES calls that failed for good (after retries), by account, region and operation."
    );
    describe_gauge!(
        "dkimdash_dns_records",
        "DKIM DNS records by what the last DNS check found (finding), by account and region."
    );
    describe_gauge!(
        "dkimdash_alerts_firing",
        "Alerts firing now, by alert name; silenced=\"true\" for those a silence keeps from being posted."
    );
}
