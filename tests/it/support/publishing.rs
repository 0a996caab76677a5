//! A Route 53 simulator holding one public zone, already changes INSYNC, and the dashboard's
//! providers with it as their only account ("aws-dns").

use std::time::Duration;

use dkimdash::{
    publish::{
        provider::{Provider, Providers},
        route53::Route53Provider,
    },
    route53_sim::{self, Route53Config, RunningRoute53, store::Zone},
};

pub async fn route53_holding(id: &str, name: &str) -> (RunningRoute53, Providers) {
    let route53 = route53_sim::spawn(Route53Config {
        in_sync_after: Duration::ZERO,
        ..Route53Config::default()
    })
    .await
    .expect("Route 53 simulator");
    route53
        .sim
        .store()
        .create_zone(Zone::public(id, name))
        .expect("zone");
    let providers = Providers::new(vec![Provider::Route53(Route53Provider::for_endpoint(
        "aws-dns",
        &route53.endpoint_url(),
        vec![],
    ))]);
    (route53, providers)
}
