//! The dashboard checks input before it calls SES; the simulator checks it again by its own
//! reading of SES's documented rules (`sim::validate`, which shares no code with
//! `changes::input`). Here the two are compared: whatever the dashboard accepts, SES must
//! accept in the form the dashboard sends, and whatever the dashboard refuses, SES must
//! refuse too, so an operator never gets SES's error for something the dashboard let
//! through, nor a refusal SES would not have made.
use dkimdash::changes::input;
use dkimdash::signing_key;
use dkimdash::sim::validate;
use proptest::prelude::*;
use secrecy::SecretString;

/// What the dashboard normalises away before it checks: spaces around, a trailing dot,
/// upper case.
fn as_ses_would_get_it(typed: &str) -> String {
    typed.trim().trim_end_matches('.').to_ascii_lowercase()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5e1ec7),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn selectors_the_dashboard_accepts_are_the_ones_ses_accepts(
        typed in "[ ]?[a-zA-Z0-9_.-]{0,66}[ ]?"
    ) {
        match input::selector(&typed) {
            Ok(sent) => prop_assert!(validate::selector(&sent).is_ok(), "{typed:?} → {sent:?}"),
            Err(refused) => prop_assert!(
                validate::selector(typed.trim()).is_err(),
                "the dashboard refused {typed:?} ({refused}) but SES would take it"
            ),
        }
    }

    #[test]
    fn domains_the_dashboard_accepts_are_the_ones_ses_accepts(
        typed in "[ ]?([a-zA-Z0-9_-]{0,12}\\.){0,4}[a-zA-Z0-9-]{0,66}\\.?[ ]?"
    ) {
        match input::domain(&typed) {
            Ok(sent) => prop_assert!(
                validate::domain_name("EmailIdentity", &sent).is_ok(),
                "{typed:?} → {sent:?}"
            ),
            Err(refused) => prop_assert!(
                validate::domain_name("EmailIdentity", &as_ses_would_get_it(&typed)).is_err(),
                "the dashboard refused {typed:?} ({refused}) but SES would take it"
            ),
        }
    }
}

/// Domains at the edges of the rules, where a hand-written check most easily slips.
#[test]
fn domains_at_the_edges() {
    let label63 = "a".repeat(63);
    let longest = format!("{l}.{l}.{l}.{}.com", "b".repeat(57), l = label63);
    assert_eq!(longest.len(), 253);
    let cases = [
        (longest.clone(), true),
        (format!("{longest}x"), false),
        (format!("{label63}.com"), true),
        (format!("{label63}a.com"), false),
        ("a.b".to_owned(), true),
        ("1.2.3.4".to_owned(), true),
        ("a-b.c-d".to_owned(), true),
        ("a.-b".to_owned(), false),
        ("a.b-".to_owned(), false),
        ("a..b".to_owned(), false),
        (".a.b".to_owned(), false),
        ("a_b.com".to_owned(), false),
        ("com".to_owned(), false),
    ];
    for (name, valid) in cases {
        assert_eq!(input::domain(&name).is_ok(), valid, "dashboard: {name}");
        assert_eq!(
            validate::domain_name("EmailIdentity", &name).is_ok(),
            valid,
            "simulator: {name}"
        );
    }
}

/// Every key the dashboard accepts (PEM as pasted) reaches SES in a form SES accepts, and
/// the keys SES refuses (too small, too large, not RSA) the dashboard refuses first.
#[test]
fn private_keys_the_dashboard_accepts_are_the_ones_ses_accepts() {
    let fixture =
        |name: &str| std::fs::read_to_string(format!("tests/fixtures/keys/{name}")).unwrap();
    let generated = signing_key::generate().unwrap();
    assert!(validate::private_key(generated.for_ses()).is_ok());
    for (name, accepted) in [
        ("rsa-2048-pkcs1.pem", true),
        ("rsa-512.pem", false),
        ("rsa-4096.pem", false),
        ("ec-p256.pem", false),
        ("ed25519.pem", false),
    ] {
        let pem = fixture(name);
        // What a caller that skips the dashboard would send SES: the PEM body, unarmoured.
        let unarmoured: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        assert_eq!(
            validate::private_key(&unarmoured).is_ok(),
            accepted,
            "{name}: SES's verdict"
        );
        let pasted = SecretString::from(pem);
        match signing_key::parse(&pasted) {
            Ok(key) => {
                assert!(accepted, "{name}: the dashboard took it");
                assert_eq!(
                    validate::private_key(key.for_ses()),
                    Ok(key.public_key.clone()),
                    "{name}: SES derives the public key the dashboard publishes"
                );
            }
            Err(error) => assert!(!accepted, "{name}: {error}"),
        }
    }
}
