//! The overview's accounts × regions grid, rendered from a real read of the simulator:
//! each cell's worst state and counts match what the simulator holds, and each count links
//! to exactly those rows of the table.
use crate::support;

use dkimdash::{
    model::{DkimStatus, KeyLength, SesBackend},
    sim::identity::SimIdentity,
};
use support::{app_with, get, read_inventory, simulator, table_row_names};

#[tokio::test]
async fn each_cell_shows_its_targets_worst_state_and_links_to_its_rows() {
    let sim = simulator(false).await;
    sim.simulator.with_regions(|regions, now| {
        let cases = [
            ("us-east-1", "ok.example", DkimStatus::Success),
            ("us-east-1", "broken.example", DkimStatus::Failed),
            ("us-east-1", "waiting.example", DkimStatus::Pending),
            ("eu-west-1", "fine.example", DkimStatus::Success),
            ("eu-west-1", "also-fine.example", DkimStatus::Success),
        ];
        for (region, name, status) in cases {
            let mut identity = SimIdentity::easy_dkim_domain(name, KeyLength::Rsa2048, now);
            identity.set_status(status, now);
            identity.auto_verify = false;
            regions.insert(region, identity);
        }
    });
    let inventory = read_inventory(&sim, &["us-east-1", "eu-west-1"], 100).await;
    let app = app_with(inventory, SesBackend::Simulator);
    let (_, home) = get(&app, "/").await;

    for (region, worst, summary) in [
        ("us-east-1", "grid-failed", ["Failures", " · 3 identities"]),
        (
            "eu-west-1",
            "grid-success",
            ["All verified", " · 2 identities"],
        ),
    ] {
        let marker = format!(r#"data-account="demo" data-region="{region}" data-worst="{worst}""#);
        let at = home
            .find(&marker)
            .unwrap_or_else(|| panic!("no {marker} in {home}"));
        let cell = &home[at..at + home[at..].find("</ul>").unwrap()];
        for words in summary {
            assert!(cell.contains(words), "{words} not in {cell}");
        }
    }
    // Every count is a link to the table filtered to it, and the table agrees.
    for (query, names) in [
        (
            "status=FAILED&region=us-east-1&account=demo",
            vec!["broken.example"],
        ),
        (
            "status=PENDING&region=us-east-1&account=demo",
            vec!["waiting.example"],
        ),
        (
            "status=SUCCESS&region=eu-west-1&account=demo",
            vec!["also-fine.example", "fine.example"],
        ),
        (
            "region=us-east-1&account=demo",
            vec!["broken.example", "ok.example", "waiting.example"],
        ),
    ] {
        // However the page escapes the query's `&`.
        let href = format!(r#"href="/?{query}""#);
        let escaped = href.replace('&', "&amp;");
        assert!(
            home.contains(&href) || home.contains(&escaped),
            "no link {href}"
        );
        let (_, table) = get(&app, &format!("/?{query}")).await;
        assert_eq!(table_row_names(&table), names, "{query}");
    }
    // No count of a status a target does not have.
    assert!(!home.contains("status=FAILED&amp;region=eu-west-1"));
    assert!(!home.contains("status=FAILED&region=eu-west-1"));
}
