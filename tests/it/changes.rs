//! DKIM changes through the `#[server]` functions over HTTP (the whole router), against the
//! simulator through the real SDK, checking the simulator's resulting state, the messages,
//! and that key material appears in no answer and no log line.
use crate::support;

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use dkimdash::app_error::{AppError, Field};
use dkimdash::{
    model::{DkimState, DkimStatus, KeyLength, SesBackend, SigningOrigin},
    sim::{RunningSimulator, identity::SimIdentity, store::IdentityView},
};
use support::{
    app_with, captured_logs, change_answer, fetch, get, post, read_inventory, simulator, text_of,
    unbroken,
};

const EAST: &str = "us-east-1";
const WEST: &str = "eu-west-1";
const KEY_PEM: &str = include_str!("../fixtures/keys/rsa-2048-pkcs1.pem");

/// A change refused for its `field`: 422, and the typed error naming that field.
fn expect_refusal_of(field: Field, status: StatusCode, body: &str) {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    match change_answer(status, body) {
        Err(AppError::Invalid {
            field: Some(named), ..
        }) => assert_eq!(named, field, "{body}"),
        other => panic!("expected a refusal of {field:?}: {other:?}"),
    }
}

/// Identities to change: Easy DKIM, BYODKIM, no DKIM, an address; read into an app.
async fn setup() -> (RunningSimulator, Router) {
    let sim = simulator(false).await;
    sim.simulator.with_regions(|regions, now| {
        let mut add = |region: &str, mut identity: SimIdentity, status: DkimStatus| {
            identity.set_status(status, now);
            identity.auto_verify = false;
            regions.insert(region, identity);
        };
        add(
            EAST,
            SimIdentity::easy_dkim_domain("easy.example", KeyLength::Rsa2048, now),
            DkimStatus::Success,
        );
        add(
            EAST,
            SimIdentity::byodkim_domain("own.example", "s1", None, now),
            DkimStatus::Success,
        );
        add(
            EAST,
            SimIdentity::unverified_domain("bare.example", now),
            DkimStatus::NotStarted,
        );
        add(
            EAST,
            SimIdentity::email_address("ops@easy.example", now),
            DkimStatus::Success,
        );
    });
    let inventory = read_inventory(&sim, &[EAST, WEST], 100).await;
    (sim, app_with(inventory, SesBackend::Simulator))
}

fn sim_dkim(sim: &RunningSimulator, region: &str, name: &str) -> Option<DkimState> {
    sim.simulator
        .with_regions(|regions, now| regions.get(region, name, now))
        .ok()
        .map(|view: IdentityView| view.dkim)
}

/// The public half of the key the simulator was given for `name` (it keeps no private key).
fn sim_public_key(sim: &RunningSimulator, region: &str, name: &str) -> String {
    sim.simulator
        .regions()
        .byodkim_public_key(region, name)
        .expect("the simulator kept the public half of the key it was given")
}

/// The `p=` of the TXT record the identity page tells the operator to publish.
fn published_key(page: &str) -> &str {
    let value = text_of(page, "record-value");
    value
        .strip_prefix("v=DKIM1; k=rsa; p=")
        .unwrap_or_else(|| panic!("not a TXT value: {value}"))
}

/// The public half of `pem` (PKCS#1 or PKCS#8), worked out here, independently of both
/// the dashboard and the simulator: base64 of the DER SubjectPublicKeyInfo.
fn public_half(pem: &str) -> String {
    use base64::Engine as _;
    use rsa::{pkcs1::DecodeRsaPrivateKey, pkcs8::DecodePrivateKey, pkcs8::EncodePublicKey};
    let key = rsa::RsaPrivateKey::from_pkcs1_pem(pem)
        .or_else(|_| rsa::RsaPrivateKey::from_pkcs8_pem(pem))
        .unwrap();
    let der = key.to_public_key().to_public_key_der().unwrap();
    base64::engine::general_purpose::STANDARD.encode(der.as_bytes())
}

#[tokio::test]
async fn the_published_key_is_the_public_half_of_the_key_ses_was_given() {
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    let (sim, app) = setup().await;
    let pkcs8 = {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        rsa::RsaPrivateKey::from_pkcs1_pem(KEY_PEM)
            .unwrap()
            .to_pkcs8_pem(LineEnding::LF)
            .unwrap()
            .to_string()
    };
    // Pasted PKCS#1 and a server-generated key on existing identities; pasted PKCS#8 when
    // adding a domain with BYODKIM.
    // (server function, identity, its form fields, the public key expected when known here)
    type Case<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, Option<String>);
    let cases: [Case; 3] = [
        (
            "dkim/signing",
            "easy.example",
            vec![
                ("name", "easy.example"),
                ("private_key", KEY_PEM),
                ("confirm", "on"),
            ],
            Some(public_half(KEY_PEM)),
        ),
        (
            "dkim/signing",
            "own.example",
            vec![
                ("name", "own.example"),
                ("generate", "on"),
                ("confirm", "on"),
            ],
            None,
        ),
        (
            "dkim/add",
            "byo.example",
            vec![
                ("account", "demo"),
                ("domain", "byo.example"),
                ("private_key", pkcs8.as_str()),
            ],
            Some(public_half(&pkcs8)),
        ),
    ];
    for (endpoint, name, fields, expected) in cases {
        let mut form = vec![("region", EAST), ("mode", "byodkim"), ("selector", "pub1")];
        form.extend(fields);
        let (status, body) = post(&app, endpoint, &form).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(change_answer(status, &body).is_ok(), "{name}: {body}");
        let given = sim_public_key(&sim, EAST, name);
        if let Some(expected) = expected {
            assert_eq!(given, expected, "{name}: the simulator derived another key");
        }
        let (_, page) = get(&app, &format!("/identity/{EAST}/{name}")).await;
        assert_eq!(
            published_key(&page),
            given,
            "{name}: the page must publish the public half of the key SES signs with"
        );
    }
}

#[tokio::test]
async fn easy_to_byodkim_and_back_with_confirmation() {
    let (sim, app) = setup().await;
    let switch = [
        ("region", EAST),
        ("name", "easy.example"),
        ("mode", "byodkim"),
        ("selector", "sel2026"),
        ("private_key", KEY_PEM),
    ];

    let (status, body) = post(&app, "dkim/signing", &switch).await;
    expect_refusal_of(Field::Confirm, status, &body);
    assert!(body.contains("Confirm the change first"), "{body}");
    assert_eq!(
        sim_dkim(&sim, EAST, "easy.example").unwrap().origin,
        Some(SigningOrigin::EasyDkim)
    );

    let confirmed: Vec<(&str, &str)> = switch.iter().copied().chain([("confirm", "on")]).collect();
    let (status, body) = post(&app, "dkim/signing", &confirmed).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(change_answer(status, &body).is_ok(), "{body}");
    assert!(body.contains("selector sel2026 (BYODKIM)"), "{body}");
    assert!(
        !body.contains("PRIVATE KEY") && !body.contains(&KEY_PEM[40..80]),
        "{body}"
    );
    let dkim = sim_dkim(&sim, EAST, "easy.example").unwrap();
    assert_eq!(dkim.origin, Some(SigningOrigin::Byodkim));
    assert_eq!(dkim.tokens, ["sel2026"]);
    assert_eq!(dkim.status, DkimStatus::Pending);

    // The page shows the new state at once, with the TXT value the dashboard derived.
    let (_, html) = get(&app, "/identity/us-east-1/easy.example").await;
    assert!(
        unbroken(&html).contains(">sel2026._domainkey.easy.example<"),
        "{html}"
    );
    assert!(
        html.contains("v=DKIM1; k=rsa; p=MII"),
        "public key shown: {html}"
    );
    assert!(html.contains("data-status=\"PENDING\""), "{html}");
    // The operator's controls say what they do.
    assert!(html.contains("Turn signing off"), "{html}");

    let back = [
        ("region", EAST),
        ("name", "easy.example"),
        ("mode", "easy"),
        ("confirm", "on"),
    ];
    let (status, body) = post(&app, "dkim/signing", &back).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let dkim = sim_dkim(&sim, EAST, "easy.example").unwrap();
    assert_eq!(dkim.origin, Some(SigningOrigin::EasyDkim));
    assert_eq!(dkim.tokens.len(), 3);
    let (_, html) = get(&app, "/identity/us-east-1/easy.example").await;
    assert_eq!(html.matches("<td>CNAME</td>").count(), 3);
}

#[tokio::test]
async fn none_to_either_mode_byodkim_key_update_and_key_length_rule() {
    let (sim, app) = setup().await;
    let (status, body) = post(
        &app,
        "dkim/signing",
        &[
            ("region", EAST),
            ("name", "bare.example"),
            ("mode", "easy"),
            ("key_length", "1024"),
            ("confirm", "on"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let dkim = sim_dkim(&sim, EAST, "bare.example").unwrap();
    assert_eq!(
        (dkim.origin, dkim.tokens.len()),
        (Some(SigningOrigin::EasyDkim), 3)
    );

    // BYODKIM selector and key update, with a key generated on the server.
    let (status, body) = post(
        &app,
        "dkim/signing",
        &[
            ("region", EAST),
            ("name", "own.example"),
            ("mode", "byodkim"),
            ("selector", "s2"),
            ("generate", "on"),
            ("confirm", "on"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(sim_dkim(&sim, EAST, "own.example").unwrap().tokens, ["s2"]);

    // Easy DKIM key length: once per day, SES's refusal passed on.
    let length = |bits| {
        [
            ("region", EAST),
            ("name", "easy.example"),
            ("mode", "easy"),
            ("key_length", bits),
        ]
    };
    let (status, body) = post(&app, "dkim/signing", &length("1024")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("will be 1024-bit"), "{body}");
    assert_eq!(
        sim_dkim(&sim, EAST, "easy.example")
            .unwrap()
            .next_key_length,
        Some(KeyLength::Rsa1024)
    );
    let (status, body) = post(&app, "dkim/signing", &length("2048")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        matches!(
            change_answer(status, &body),
            Err(AppError::Invalid { field: None, .. })
        ),
        "SES's own refusal names no field: {body}"
    );
    assert!(body.contains("SES refused the change"), "{body}");
}

#[tokio::test]
async fn signing_off_needs_confirmation_and_on_again() {
    let (sim, app) = setup().await;
    let off = [
        ("region", EAST),
        ("name", "easy.example"),
        ("enabled", "off"),
    ];
    let (status, body) = post(&app, "dkim/enabled", &off).await;
    expect_refusal_of(Field::Confirm, status, &body);
    assert!(body.contains("Confirm first"), "{body}");
    assert!(
        sim_dkim(&sim, EAST, "easy.example")
            .unwrap()
            .signing_enabled
    );

    let (status, _) = post(
        &app,
        "dkim/enabled",
        &[off[0], off[1], off[2], ("confirm", "on")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !sim_dkim(&sim, EAST, "easy.example")
            .unwrap()
            .signing_enabled
    );
    let (status, _) = post(&app, "dkim/enabled", &[off[0], off[1], ("enabled", "on")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        sim_dkim(&sim, EAST, "easy.example")
            .unwrap()
            .signing_enabled
    );
}

#[tokio::test]
async fn a_new_domain_appears_at_once_with_its_tokens() {
    let (sim, app) = setup().await;
    let add = [
        ("account", "demo"),
        ("region", EAST),
        ("domain", " Bücher.Example. "),
        ("mode", "easy"),
        ("key_length", "2048"),
        ("tags", "team=mail"),
    ];
    let (status, body) = post(&app, "dkim/add", &add).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.contains("/identity/us-east-1/xn--bcher-kva.example"),
        "{body}"
    );
    let dkim = sim_dkim(&sim, EAST, "xn--bcher-kva.example").expect("created in SES");
    assert_eq!((dkim.status, dkim.tokens.len()), (DkimStatus::Pending, 3));
    let (status, html) = get(&app, "/identity/us-east-1/xn--bcher-kva.example").await;
    assert_eq!(status, StatusCode::OK);
    for token in &dkim.tokens {
        assert!(unbroken(&html).contains(&format!(">{token}._domainkey.xn--bcher-kva.example<")));
    }
    let (status, body) = post(&app, "dkim/add", &add).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        matches!(change_answer(status, &body), Err(AppError::Conflict(_))),
        "{body}"
    );
    assert!(body.contains("already exists in us-east-1"), "{body}");
}

#[tokio::test]
async fn deed_replicas_only_of_easy_dkim_parents_elsewhere() {
    let (sim, app) = setup().await;
    let replica = |domain, region, parent| {
        [
            ("account", "demo"),
            ("region", region),
            ("domain", domain),
            ("mode", "replica"),
            ("parent_region", parent),
        ]
    };
    for (form, why) in [
        (replica("easy.example", EAST, EAST), "another region"),
        (
            replica("missing.example", WEST, EAST),
            "create it there first",
        ),
        (replica("own.example", WEST, EAST), "uses BYODKIM"),
    ] {
        let (status, body) = post(&app, "dkim/add", &form).await;
        expect_refusal_of(Field::ParentRegion, status, &body);
        assert!(body.contains(why), "{why}: {body}");
    }
    let (status, body) = post(&app, "dkim/add", &replica("easy.example", WEST, EAST)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let dkim = sim_dkim(&sim, WEST, "easy.example").unwrap();
    assert_eq!(
        dkim.origin,
        Some(SigningOrigin::Replica {
            parent_region: EAST.into()
        })
    );
    let (_, html) = get(&app, "/identity/eu-west-1/easy.example").await;
    assert!(html.contains("data-testid=\"parent-link\""), "{html}");
}

#[tokio::test]
async fn bad_input_is_refused_before_ses_is_called() {
    let (sim, app) = setup().await;
    sim.simulator.reset_stats();
    let byodkim = |selector, key| {
        vec![
            ("region", EAST),
            ("name", "easy.example"),
            ("mode", "byodkim"),
            ("selector", selector),
            ("private_key", key),
            ("confirm", "on"),
        ]
    };
    let ec = include_str!("../fixtures/keys/ec-p256.pem");
    let encrypted = include_str!("../fixtures/keys/rsa-2048-encrypted.pem");
    let small = include_str!("../fixtures/keys/rsa-512.pem");
    let big = include_str!("../fixtures/keys/rsa-4096.pem");
    let long_selector = "x".repeat(64);
    let long_label = format!("{}.example", "a".repeat(64));
    type Form<'a> = Vec<(&'a str, &'a str)>;
    let cases: Vec<(Form, Field, &str)> = vec![
        (
            byodkim("bad_selector", KEY_PEM),
            Field::Selector,
            "Selector: 'bad_selector' is not valid",
        ),
        (
            byodkim("-s", KEY_PEM),
            Field::Selector,
            "cannot start or end with a hyphen",
        ),
        (
            byodkim(&long_selector, KEY_PEM),
            Field::Selector,
            "longer than 63",
        ),
        (byodkim("s1", ""), Field::PrivateKey, "Paste a private key"),
        (
            byodkim("s1", "garbage!"),
            Field::PrivateKey,
            "neither PEM nor base64",
        ),
        (byodkim("s1", ec), Field::PrivateKey, "an EC key"),
        (
            byodkim("s1", encrypted),
            Field::PrivateKey,
            "encrypted with a passphrase",
        ),
        (byodkim("s1", small), Field::PrivateKey, "512 bits"),
        (byodkim("s1", big), Field::PrivateKey, "4096 bits"),
        (
            vec![
                ("account", "demo"),
                ("region", EAST),
                ("domain", "no_underscores.example"),
                ("mode", "easy"),
            ],
            Field::Domain,
            "Domain: 'no_underscores.example' is not valid",
        ),
        (
            vec![
                ("account", "demo"),
                ("region", EAST),
                ("domain", &long_label),
                ("mode", "easy"),
            ],
            Field::Domain,
            "1 to 63 characters",
        ),
        (
            vec![
                ("account", "demo"),
                ("region", "ap-south-1"),
                ("domain", "new.example"),
                ("mode", "easy"),
            ],
            Field::Target,
            "does not manage demo/ap-south-1",
        ),
    ];
    for (form, field, expected) in cases {
        let endpoint = if form[0].0 == "account" {
            "dkim/add"
        } else {
            "dkim/signing"
        };
        let (status, body) = post(&app, endpoint, &form).await;
        expect_refusal_of(field, status, &body);
        assert!(body.contains(expected), "expected {expected:?} in {body}");
    }
    assert_eq!(
        sim.simulator.stats().total_calls(),
        0,
        "no SES call for bad input"
    );
}

#[tokio::test]
async fn an_identity_deleted_meanwhile_is_reported_plainly() {
    let (sim, app) = setup().await;
    sim.simulator
        .with_regions(|regions, _| regions.delete(EAST, "easy.example"))
        .unwrap();
    let (status, body) = post(
        &app,
        "dkim/enabled",
        &[
            ("region", EAST),
            ("name", "easy.example"),
            ("enabled", "on"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        matches!(change_answer(status, &body), Err(AppError::NotFound(_))),
        "{body}"
    );
    assert!(
        body.contains("SES no longer has easy.example in us-east-1"),
        "{body}"
    );
    // Gone from the inventory at once, not at the next sweep.
    let (status, _) = get(&app, "/identity/us-east-1/easy.example").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// POSTs a form as a browser with JavaScript off does; returns status, Location and body.
async fn post_plain(
    app: &Router,
    endpoint: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let body = serde_urlencoded::to_string(form).unwrap();
    let request = Request::post(format!("/api/{endpoint}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8")
        .body(Body::from(body))
        .unwrap();
    let (status, headers, body) = fetch(app, request).await;
    let location = headers
        .get(header::LOCATION)
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location, body)
}

#[tokio::test]
async fn a_script_sent_change_answers_with_the_page_that_shows_it() {
    // What the write islands do: post the form asking for JSON, show a refusal in place,
    // and after a change open `identity_href`, whose page shows SES's answer.
    let (_sim, app) = setup().await;
    let form = [
        ("region", EAST),
        ("name", "easy.example"),
        ("mode", "byodkim"),
        ("selector", "island-sel"),
        ("generate", "on"),
    ];
    let (status, body) = post(&app, "dkim/signing", &form).await;
    let refused = change_answer(status, &body).unwrap_err();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.to_string().contains("Confirm the change first"),
        "{refused}"
    );

    let confirmed = [&form[..], &[("confirm", "on")]].concat();
    let (status, body) = post(&app, "dkim/signing", &confirmed).await;
    let done = change_answer(status, &body).unwrap();
    assert!(
        done.identity_href
            .starts_with("/identity/us-east-1/easy.example?notice="),
        "{done:?}"
    );
    let (status, page) = get(&app, &done.identity_href).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text_of(&page, "write-outcome"), done.message);
    assert!(
        page.contains("island-sel._domainkey.easy.example"),
        "{page}"
    );
}

#[tokio::test]
async fn without_javascript_a_post_leads_to_a_page_with_the_answer() {
    let (sim, app) = setup().await;
    let switch = [
        ("region", EAST),
        ("name", "easy.example"),
        ("mode", "byodkim"),
        ("selector", "typed-sel"),
        ("private_key", KEY_PEM),
    ];
    // Refused (no confirmation): back to the identity, the answer shown, the typed selector
    // and mode kept, the key not.
    let (status, location, _) = post_plain(&app, "dkim/signing", &switch).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(
        location.starts_with("/identity/us-east-1/easy.example?notice="),
        "{location}"
    );
    let (status, page) = get(&app, &location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Confirm the change first"), "{page}");
    assert!(page.contains(r#"value="typed-sel""#), "selector refilled");
    assert!(!page.contains("MII"), "no key material refilled");
    assert_eq!(
        sim_dkim(&sim, EAST, "easy.example").unwrap().origin,
        Some(SigningOrigin::EasyDkim)
    );

    // Confirmed: done, the page shows SES's new state and what to publish.
    let confirmed = [&switch[..], &[("confirm", "on")]].concat();
    let (status, location, _) = post_plain(&app, "dkim/signing", &confirmed).await;
    assert_eq!(status, StatusCode::FOUND);
    let (_, page) = get(&app, &location).await;
    assert!(
        page.contains("now signs with your key under selector typed-sel"),
        "{page}"
    );
    assert!(
        unbroken(&page).contains("typed-sel._domainkey.easy.example"),
        "{page}"
    );

    // A domain added without JavaScript lands on its own page; a refusal goes back to the
    // add page with what was typed.
    let add = [
        ("account", "demo"),
        ("region", WEST),
        ("domain", "Plain.Example."),
        ("mode", "easy"),
        ("key_length", "1024"),
    ];
    let (_, location, _) = post_plain(&app, "dkim/add", &add).await;
    assert!(
        location.starts_with("/identity/eu-west-1/plain.example?notice="),
        "{location}"
    );
    let (_, page) = get(&app, &location).await;
    assert!(page.contains("Added plain.example in eu-west-1"), "{page}");
    const ANSWER: &str = r#"data-testid="write-outcome""#;
    assert!(page.contains(ANSWER), "{page}");
    // Shown once: reloading that URL later shows the page as it is, not the old answer
    // (the change stays in the page's activity list).
    let (status, reloaded) = get(&app, &location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!reloaded.contains(ANSWER), "{reloaded}");
    assert_eq!(text_of(&reloaded, "identity-name"), "plain.example");
    let (_, location, _) = post_plain(&app, "dkim/add", &add).await;
    assert!(location.starts_with("/add?notice="), "{location}");
    let (status, page) = get(&app, &location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("already exists"), "{page}");
    assert!(
        page.contains(r#"value="Plain.Example.""#),
        "domain refilled"
    );

    // An unknown or expired notice shows nothing and breaks nothing.
    let (status, page) = get(&app, "/add?notice=00000000000000000000000000000000").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("already exists"));
}

#[tokio::test]
async fn the_private_key_appears_in_no_log_line_and_no_answer() {
    let logs = captured_logs();
    let (sim, app) = setup().await;
    let form = [
        ("region", EAST),
        ("name", "easy.example"),
        ("mode", "byodkim"),
        ("selector", "secret1"),
        ("private_key", KEY_PEM),
        ("confirm", "on"),
    ];
    let (status, answer) = post(&app, "dkim/signing", &form).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        sim_dkim(&sim, EAST, "easy.example").unwrap().tokens,
        ["secret1"]
    );
    let (_, page) = get(&app, "/identity/us-east-1/easy.example").await;

    let logs = logs.text();
    assert!(
        logs.contains("signing changed"),
        "the change itself is logged"
    );
    // Each base64 line of the PEM is a piece of what went to SES as well. Lines holding only
    // the modulus can also be part of the public key (the TXT value, public by design).
    let public_key = published_key(&page);
    let key_lines: Vec<&str> = KEY_PEM
        .lines()
        .filter(|l| !l.starts_with("-----") && !public_key.contains(*l))
        .collect();
    assert!(key_lines.len() > 20, "the private part is checked");
    for line in key_lines {
        assert!(!logs.contains(line), "key material in the logs");
        assert!(!answer.contains(line), "key material in the answer");
        assert!(!page.contains(line), "key material on the page");
    }
}
