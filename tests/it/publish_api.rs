//! Publishing through the whole router: the identity page's card, the preview page, and
//! the server functions, against the SES and Route 53 simulators over real HTTP.

use axum::http::StatusCode;
use dkimdash::{
    api::publish::PublishView, app_error::AppError, model::SesBackend, publish::plan::Step,
    router::router,
};

use crate::support::{
    change_answer, get, post, publishing::route53_holding, state_with, verified_domains,
};

const REGION: &str = "eu-west-1";
const DOMAIN: &str = "shop.example";
const PAGE: &str = "/identity/eu-west-1/shop.example";

#[tokio::test]
async fn an_operator_previews_then_publishes_from_the_identity_page() {
    let (_ses, inventory) = verified_domains(REGION, &[DOMAIN]).await;
    inventory.refresh_now().await;
    let (route53, providers) = route53_holding("ZSHOP", DOMAIN).await;
    let app = router(state_with(inventory, SesBackend::Simulator).with_dns_providers(providers));

    // The page offers the preview; reading it is a separate, explicit step.
    let (status, page) = get(&app, PAGE).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"data-testid="publish-card""#), "{page}");
    assert!(page.contains("?publish=preview"), "{page}");
    assert!(!page.contains(r#"data-testid="publish-preview""#));
    assert!(
        route53.sim.stats().calls.is_empty(),
        "no provider call for a page view"
    );

    let (status, page) = get(&app, &format!("{PAGE}?publish=preview")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"data-testid="publish-preview""#), "{page}");
    assert_eq!(page.matches(">create<").count(), 3, "{page}");
    assert!(
        page.contains("Publish to Route 53 &#x27;aws-dns&#x27; (zone shop.example)")
            || page.contains("Publish to Route 53 'aws-dns' (zone shop.example)"),
        "{page}"
    );
    assert_eq!(
        route53.sim.stats().calls.get("ChangeResourceRecordSets"),
        None
    );

    let form = [("region", REGION), ("name", DOMAIN)];
    let (status, body) = post(&app, "dns/publish-preview", &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let view: PublishView = serde_json::from_str(&body).unwrap();
    assert!(view.plan.records.iter().all(|r| r.step == Step::Create));

    // A fingerprint from another preview: refused in words, nothing written.
    let (status, body) = post(
        &app,
        "dns/publish",
        &[form[0], form[1], ("seen", "0123456789abcdef")],
    )
    .await;
    let refused = change_answer(status, &body).unwrap_err();
    assert!(matches!(refused, AppError::Conflict(_)), "{refused:?}");
    assert!(
        refused.to_string().contains("review the new preview"),
        "{refused}"
    );

    let (status, body) = post(
        &app,
        "dns/publish",
        &[form[0], form[1], ("seen", &view.seen)],
    )
    .await;
    let done = change_answer(status, &body).unwrap();
    assert!(
        done.message
            .starts_with("Published the DKIM records of shop.example"),
        "{}",
        done.message
    );
    assert_eq!(route53.sim.stats().calls["ChangeResourceRecordSets"], 1);

    let (_, page) = get(&app, &format!("{PAGE}?publish=preview")).await;
    assert!(page.contains(r#"data-testid="publish-nothing""#), "{page}");
}

#[tokio::test]
async fn without_providers_there_is_no_card() {
    let (_ses, inventory) = verified_domains(REGION, &[DOMAIN]).await;
    inventory.refresh_now().await;
    let app = router(state_with(inventory, SesBackend::Simulator));
    let (_, page) = get(&app, PAGE).await;
    assert!(page.contains(DOMAIN));
    assert!(!page.contains("publish-card"), "{page}");
    let (status, body) = post(
        &app,
        "dns/publish-preview",
        &[("region", REGION), ("name", DOMAIN)],
    )
    .await;
    let refused: AppError = serde_json::from_str(&body).unwrap();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        refused.to_string().contains("No configured DNS provider"),
        "{refused}"
    );
}
