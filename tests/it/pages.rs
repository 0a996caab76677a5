//! The overview table, the identity page and the downloads, rendered by the whole router
//! over an inventory of 10,000 identities read from the simulator: the server filters,
//! sorts and pages, and the HTML carries one page.
use crate::support;

use axum::{Router, body::Body, http::Request, http::StatusCode, http::header};
use dkimdash::{
    app_error::AppError,
    model::{DkimStatus, KeyLength, SesBackend},
    sim::{RunningSimulator, identity::SimIdentity},
};
use support::{
    app_with, fetch, get, post, read_inventory, read_targets, simulator,
    table_row_names as row_names, text_of, unbroken,
};

const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];
const PER_REGION: usize = 5_000;

/// SES's five statuses in turn: d00000 SUCCESS, d00001 PENDING, d00002 TEMPORARY_FAILURE,
/// d00003 FAILED, d00004 NOT_STARTED, d00005 SUCCESS…
const STATUS_CYCLE: [DkimStatus; 5] = [
    DkimStatus::Success,
    DkimStatus::Pending,
    DkimStatus::TemporaryFailure,
    DkimStatus::Failed,
    DkimStatus::NotStarted,
];

/// 10,000 Easy DKIM domains `d00000.example`…, 5,000 per region, statuses in turn
/// (`STATUS_CYCLE`: every fifth identity has each), read once.
async fn ten_thousand() -> (RunningSimulator, Router) {
    let simulator = simulator(false).await;
    simulator.simulator.with_regions(|regions, now| {
        for region in REGIONS {
            for n in 0..PER_REGION {
                let mut identity = SimIdentity::easy_dkim_domain(
                    &format!("d{n:05}.example"),
                    KeyLength::Rsa2048,
                    now,
                );
                identity.set_status(STATUS_CYCLE[n % 5].clone(), now);
                identity.auto_verify = false;
                regions.insert(region, identity);
            }
        }
    });
    let inventory = read_inventory(&simulator, &REGIONS, 20).await;
    assert_eq!(inventory.snapshot().identities.len(), 2 * PER_REGION);
    (simulator, app_with(inventory, SesBackend::Simulator))
}

/// The Easy DKIM tokens the simulator gave `name` in `region`.
fn tokens(sim: &RunningSimulator, region: &str, name: &str) -> Vec<String> {
    sim.simulator
        .with_regions(|regions, now| regions.get(region, name, now))
        .expect("seeded")
        .dkim
        .tokens
}

/// The `data-status` of every table row, in order.
fn row_statuses(html: &str) -> Vec<&str> {
    html.match_indices("<tr data-status=\"")
        .map(|(at, m)| {
            let rest = &html[at + m.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

#[tokio::test]
async fn filters_and_pages_are_done_on_the_server() {
    let (_sim, app) = ten_thousand().await;

    let (status, html) = get(&app, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        row_statuses(&html).len(),
        50,
        "the default page holds 50 rows"
    );
    assert_eq!(text_of(&html, "table-count"), "Showing 1–50 of 10000");
    // One page, not ten thousand rows: the page stays small.
    assert!(html.len() < 250_000, "page is {} bytes", html.len());

    let (_, html) = get(&app, "/?status=FAILED&region=eu-west-1&per=25&page=3").await;
    let statuses = row_statuses(&html);
    assert_eq!(statuses.len(), 25);
    assert!(statuses.iter().all(|s| *s == "FAILED"), "{statuses:?}");
    assert_eq!(
        text_of(&html, "table-count"),
        "Showing 51–75 of 1000 matching (10000 in all)"
    );
    // Failed is every fifth from d00003: page 3 of 25 starts at the 51st, d00253.
    assert_eq!(row_names(&html)[0], "d00253.example");
    assert!(
        html.contains("aria-current=\"page\""),
        "the pager marks page 3"
    );
    // The form shows the filters it was given, and the pager keeps them.
    assert!(
        html.contains("<option value=\"FAILED\" selected"),
        "status kept in the form"
    );
    assert!(html.contains("href=\"/?status=FAILED&amp;region=eu-west-1&amp;page=4&amp;per=25\""));

    let (_, html) = get(&app, "/?q=D0123&sort=name&dir=desc&per=200").await;
    let names = row_names(&html);
    assert_eq!(names.len(), 20, "d01230..d01239 in two regions");
    assert_eq!(names[..2], ["d01239.example", "d01239.example"]);
    assert_eq!(names[19], "d01230.example");

    let (_, html) = get(&app, "/?q=no-such-identity").await;
    assert!(row_statuses(&html).is_empty());
    assert_eq!(
        text_of(&html, "table-count"),
        "No identity matches these filters (10000 in all)."
    );
}

#[tokio::test]
async fn every_strip_count_links_to_the_view_that_shows_it() {
    let (_sim, app) = ten_thousand().await;
    let (_, html) = get(&app, "/").await;
    for (testid, count, href) in [
        ("count-FAILED", 2000, "/?status=FAILED"),
        ("count-SUCCESS", 2000, "/?status=SUCCESS"),
        // Failed and temporary failure; nothing has been pending for 72 hours yet.
        ("facet-attention", 4000, "/?attention=1"),
        ("facet-signing-off", 0, "/?signing=off"),
    ] {
        let marker = format!("data-testid=\"{testid}\"");
        let at = html.find(&marker).unwrap_or_else(|| panic!("no {marker}"));
        let item = &html[at..at + html[at..].find("</li>").unwrap()];
        assert!(
            item.contains(&format!("<span class=\"count\">{count}</span>")),
            "{testid} should count {count}: {item}"
        );
        assert!(
            item.contains(&format!("href=\"{href}\"")),
            "{testid} should link to {href}: {item}"
        );
        let (_, filtered) = get(&app, href).await;
        let expected = if count == 0 {
            "No identity matches these filters (10000 in all).".to_owned()
        } else {
            format!("Showing 1–50 of {count} matching (10000 in all)")
        };
        assert_eq!(text_of(&filtered, "table-count"), expected, "{href}");
    }
}

#[tokio::test]
async fn the_identity_page_lists_its_three_cnames_and_answers_404_when_missing() {
    let (sim, app) = ten_thousand().await;
    let tokens = tokens(&sim, "eu-west-1", "d00042.example");

    let (status, html) = get(&app, "/identity/eu-west-1/d00042.example").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text_of(&html, "identity-name"), "d00042.example");
    assert_eq!(html.matches("<td>CNAME</td>").count(), 3);
    for token in &tokens {
        assert!(
            unbroken(&html).contains(&format!(">{token}._domainkey.d00042.example<")),
            "{token}"
        );
        assert!(
            unbroken(&html).contains(&format!(">{token}.dkim.amazonses.com<")),
            "{token}"
        );
    }

    let (status, html) = get(&app, "/identity/eu-west-1/not-there.example").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Identity not found"), "{html}");
}

#[tokio::test]
async fn downloads_hold_the_records_of_the_filtered_table() {
    let (sim, app) = ten_thousand().await;

    let request = Request::get("/download/identities.csv?status=PENDING&region=us-east-1")
        .body(Body::empty())
        .unwrap();
    let (status, headers, csv) = fetch(&app, request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert_eq!(
        headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"dkim-records.csv\""
    );
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "Type,Name,Value,DNS check,DNS detail");
    assert_eq!(
        lines.len(),
        1 + 3 * 1000,
        "three CNAMEs for each of 1000 pending"
    );
    assert!(lines[1..].iter().all(|l| l.starts_with("CNAME,")));

    let tokens = tokens(&sim, "us-east-1", "d00001.example");
    let (status, zone) = get(
        &app,
        "/download/identity/us-east-1/d00001.example/records.zone",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let expected: String = tokens
        .iter()
        .map(|t| format!("{t}._domainkey.d00001.example. 3600 IN CNAME {t}.dkim.amazonses.com.\n"))
        .collect();
    assert_eq!(zone, expected);

    let (_, json) = get(
        &app,
        "/download/identity/us-east-1/d00001.example/records.json",
    )
    .await;
    let json: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(json["dkim_status"], "PENDING");
    assert_eq!(json["records"].as_array().unwrap().len(), 3);

    let (status, _) = get(
        &app,
        "/download/identity/us-east-1/d00001.example/records.exe",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(
        &app,
        "/download/identity/us-east-1/nope.example/records.csv",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn unreachable_ses_on_first_start_is_explained_not_blank() {
    use dkimdash::{
        inventory::{Inventory, RefreshSettings},
        ses::{budget::CallBudget, reader::SesConnection},
    };
    use std::{num::NonZeroU32, time::Duration};

    let sim = simulator(false).await;
    let url = sim.endpoint_url();
    drop(sim); // nothing listens there any more
    let budget =
        CallBudget::new(NonZeroU32::new(1000).unwrap()).with_base_backoff(Duration::from_millis(1));
    let reader = SesConnection::for_endpoint("prod", "eu-west-1", &url, budget);
    let inventory = Inventory::new(vec![reader], RefreshSettings::default());
    inventory.refresh_now().await;
    let app = app_with(inventory, SesBackend::Aws);

    let (status, html) = get(&app, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text_of(&html, "identity-total"), "0");
    assert!(
        html.contains("SES has not been read yet; the dashboard keeps trying every 15 seconds."),
        "{html}"
    );
    assert!(
        html.contains("Last read failed"),
        "the target's error is shown: {html}"
    );
    assert!(text_of(&html, "table-count").starts_with("No identities yet."));
    assert!(row_statuses(&html).is_empty());
}

#[tokio::test]
async fn refresh_now_sweeps_once_a_minute_and_says_when_the_next_can_start() {
    let sim = simulator(true).await;
    let inventory = read_inventory(&sim, &["us-east-1"], 0).await;
    let app = app_with(inventory.clone(), SesBackend::Simulator);
    sim.simulator.reset_stats();

    let (status, body) = support::post(&app, "refresh_inventory", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.contains("Started") || body.contains("Joined"),
        "{body}"
    );
    // The sweep ran: SES was listed again.
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while inventory.is_sweeping() || sim.simulator.stats().total_calls() == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the sweep runs and ends");
    let calls = sim.simulator.stats().total_calls();

    let (status, body) = support::post(&app, "refresh_inventory", &[]).await;
    assert_eq!(status, StatusCode::OK, "not an error: {body}");
    assert!(body.contains("TooSoon"), "{body}");
    assert!(body.contains("retry_after_secs"), "{body}");
    assert_eq!(
        sim.simulator.stats().total_calls(),
        calls,
        "no second sweep"
    );
}

#[tokio::test]
async fn the_table_zone_and_json_downloads_write_a_shared_record_once() {
    // eu.acme.example in eu-west-1 is a DEED replica of the one in us-east-1: it publishes
    // its parent's three CNAMEs, so "download all" must write them once.
    let sim = simulator(true).await;
    let inventory = read_inventory(&sim, &["us-east-1", "eu-west-1"], 100).await;
    let app = app_with(inventory, SesBackend::Simulator);
    let parent = tokens(&sim, "us-east-1", "eu.acme.example");
    assert_eq!(parent.len(), 3);

    let (status, zone) = get(&app, "/download/identities.zone?q=eu.acme.example").await;
    assert_eq!(status, StatusCode::OK, "{zone}");
    let records: Vec<&str> = zone
        .lines()
        .filter(|l| !l.starts_with(';') && !l.is_empty())
        .collect();
    let expected: Vec<String> = parent
        .iter()
        .map(|t| format!("{t}._domainkey.eu.acme.example. 3600 IN CNAME {t}.dkim.amazonses.com."))
        .collect();
    assert_eq!(records, expected, "{zone}");
    let headers: Vec<&str> = zone
        .lines()
        .filter(|l| l.starts_with("; eu.acme.example ("))
        .collect();
    assert_eq!(
        headers.len(),
        1,
        "one identity wrote them, the other had none new:\n{zone}"
    );

    // The JSON lists each identity with its own copy of the records.
    let (status, json) = get(&app, "/download/identities.json?q=eu.acme.example").await;
    assert_eq!(status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    let identities = json.as_array().unwrap();
    assert_eq!(identities.len(), 2, "{json}");
    for identity in identities {
        assert_eq!(identity["identity"], "eu.acme.example");
        assert_eq!(
            identity["records"].as_array().unwrap().len(),
            3,
            "{identity}"
        );
    }
}

#[tokio::test]
async fn a_name_in_two_accounts_is_told_apart_by_account() {
    const PAGE: &str = "/identity/us-east-1/shared.example";
    const ZONE: &str = "/download/identity/us-east-1/shared.example/records.zone";
    // One simulator per account, each with its own shared.example (its own tokens).
    let prod = simulator(false).await;
    let staging = simulator(false).await;
    for sim in [&prod, &staging] {
        sim.simulator.with_regions(|regions, now| {
            let mut identity =
                SimIdentity::easy_dkim_domain("shared.example", KeyLength::Rsa2048, now);
            identity.set_status(DkimStatus::Success, now);
            identity.auto_verify = false;
            regions.insert("us-east-1", identity);
        });
    }
    let inventory = read_targets(
        &[
            ("prod", &prod, "us-east-1"),
            ("staging", &staging, "us-east-1"),
        ],
        10,
    )
    .await;
    let app = app_with(inventory, SesBackend::Simulator);

    // Without an account the page asks which one, linking to each, with the downloads'
    // and the changes' 409: the request does not say which identity it means.
    let (status, html) = get(&app, PAGE).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        html.contains("exists in us-east-1 in several accounts"),
        "{html}"
    );
    assert!(!html.contains("data-testid=\"identity-name\""), "{html}");
    for link in [
        "href=\"/identity/us-east-1/shared.example?account=prod\"",
        "href=\"/identity/us-east-1/shared.example?account=staging\"",
    ] {
        assert!(html.contains(link), "no {link}: {html}");
    }
    let (status, body) = get(&app, ZONE).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    let prod_tokens = tokens(&prod, "us-east-1", "shared.example");
    let staging_tokens = tokens(&staging, "us-east-1", "shared.example");
    for (account, own, other) in [
        ("prod", &prod_tokens, &staging_tokens),
        ("staging", &staging_tokens, &prod_tokens),
    ] {
        let (status, html) = get(&app, &format!("{PAGE}?account={account}")).await;
        assert_eq!(status, StatusCode::OK, "{account}");
        assert_eq!(text_of(&html, "identity-name"), "shared.example");
        let (status, zone) = get(&app, &format!("{ZONE}?account={account}")).await;
        assert_eq!(status, StatusCode::OK, "{account}: {zone}");
        for token in own {
            assert!(html.contains(token), "{account}'s page lacks {token}");
            assert!(zone.contains(token), "{account}'s zone lacks {token}");
        }
        for token in other {
            assert!(!html.contains(token), "{account}'s page shows {token}");
            assert!(!zone.contains(token), "{account}'s zone shows {token}");
        }
    }

    // A change that does not name the account is refused before SES is asked.
    prod.simulator.reset_stats();
    staging.simulator.reset_stats();
    let off = [
        ("region", "us-east-1"),
        ("name", "shared.example"),
        ("enabled", "off"),
        ("confirm", "on"),
    ];
    let (status, body) = post(&app, "dkim/enabled", &off).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        matches!(serde_json::from_str(&body), Ok(AppError::Conflict(_))),
        "{body}"
    );
    let calls = |sim: &RunningSimulator| sim.simulator.stats().total_calls();
    assert_eq!((calls(&prod), calls(&staging)), (0, 0));
    // Naming it changes that account's identity only.
    let (status, body) = post(
        &app,
        "dkim/enabled",
        &[&off[..], &[("account", "staging")]].concat(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        staging
            .simulator
            .stats()
            .calls_of("PutEmailIdentityDkimAttributes"),
        1
    );
    assert_eq!(calls(&prod), 0);
}
