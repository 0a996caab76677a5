//! The demo's DNS providers: a Route 53 simulator holding `acme.example` and a Cloudflare
//! simulator holding `acme-europe.example`, on loopback, configured as the dashboard's
//! providers; what they hold is served by the demo's DNS over what it planted, so a record
//! published in the demo is found by the DNS check. They start empty: until something is
//! published, the demo DNS shows its planted mistakes.

use std::{io, net::SocketAddr, sync::Arc};

use secrecy::SecretString;

use super::{
    cloudflare::CloudflareProvider,
    config::CloudflareSettings,
    provider::{Provider, Providers},
    route53::Route53Provider,
    txt,
};
use crate::cloudflare_sim::{self, CloudflareSim, RunningCloudflare, TokenScopes};
use crate::dns::demo::{DemoDns, ProviderRecord};
use crate::route53_sim::{
    self, Route53Config, Route53Sim, RunningRoute53, store::Zone as Route53Zone,
};

/// The zone each demo provider holds.
pub const ROUTE53_ZONE: &str = "acme.example";
pub const CLOUDFLARE_ZONE: &str = "acme-europe.example";

/// The demo's two providers, serving until dropped.
pub struct DemoProviders {
    route53: RunningRoute53,
    cloudflare: RunningCloudflare,
    /// The dashboard's clients for them.
    pub providers: Providers,
}

/// Starts both simulators on loopback with their zones, and clients for them.
pub async fn start() -> io::Result<DemoProviders> {
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let route53 = route53_sim::spawn(Route53Config {
        listen: loopback,
        ..Route53Config::default()
    })
    .await?;
    route53
        .sim
        .store()
        .create_zone(Route53Zone {
            id: "ZDEMOACME0001".into(),
            name: ROUTE53_ZONE.into(),
            caller_reference: "dkimdash-demo".into(),
            comment: Some("the dkimdash demo".into()),
            private: false,
            name_servers: vec![format!("ns1.{ROUTE53_ZONE}")],
            record_sets: Default::default(),
        })
        .map_err(|refused| io::Error::other(format!("{refused:?}")))?;
    let cloudflare = cloudflare_sim::spawn(loopback).await?;
    // A token made up at each start: nobody else has it, and it is never shown.
    let token = format!("demo-{:032x}", rand::random::<u128>());
    cloudflare.sim.add_token(&token, TokenScopes::all());
    cloudflare
        .sim
        .store()
        .add_zone(cloudflare_sim::store::Zone {
            id: "d3m0acmeeurope000000000000000001".into(),
            name: CLOUDFLARE_ZONE.into(),
            status: "active".into(),
            zone_type: "full".into(),
            name_servers: vec![format!("ns1.{CLOUDFLARE_ZONE}")],
        });
    let providers = Providers::new(vec![
        Provider::Route53(Route53Provider::for_endpoint(
            "demo Route 53",
            &route53.endpoint_url(),
            vec![],
        )),
        Provider::Cloudflare(CloudflareProvider::new(&CloudflareSettings {
            name: "demo Cloudflare".into(),
            token: SecretString::from(token),
            token_env: "(made up for the demo)".into(),
            zones: vec![],
            api_url: Some(cloudflare.api_url()),
        })),
    ]);
    Ok(DemoProviders {
        route53,
        cloudflare,
        providers,
    })
}

impl DemoProviders {
    /// Every record set both providers hold, as the demo DNS serves them.
    pub fn records(&self) -> Vec<ProviderRecord> {
        records_of(&self.route53.sim, &self.cloudflare.sim)
    }

    /// Has the demo DNS serve what the providers hold, from every write on: each write is
    /// mirrored before the provider answers it, so a DNS check right after a publish sees it.
    pub fn mirror_into(&self, dns: Arc<DemoDns>) {
        let (route53, cloudflare) = (self.route53.sim.clone(), self.cloudflare.sim.clone());
        let hook: crate::route53_sim::WriteHook = Arc::new(move || {
            if let Err(error) = dns.overlay(&records_of(&route53, &cloudflare)) {
                tracing::warn!(%error, "demo DNS: the providers' records could not be served");
            }
        });
        self.route53.sim.on_write(hook.clone());
        self.cloudflare.sim.on_write(hook);
    }
}

/// Every record set both simulators hold, as the demo DNS serves them.
fn records_of(route53: &Route53Sim, cloudflare: &CloudflareSim) -> Vec<ProviderRecord> {
    let mut records: Vec<ProviderRecord> = Vec::new();
    for zone in route53.store().zones() {
        for set in zone.record_sets.values() {
            let values = set
                .values
                .iter()
                .map(|v| {
                    if set.record_type == "TXT" {
                        txt::joined(v)
                    } else {
                        v.trim_end_matches('.').to_owned()
                    }
                })
                .collect();
            records.push(ProviderRecord {
                name: set.name.trim_end_matches('.').to_owned(),
                record_type: set.record_type.clone(),
                values,
            });
        }
    }
    let store = cloudflare.store();
    for zone in store.zones(None, None) {
        for record in store.records(&zone.id, None, None) {
            let value = if record.record_type == "TXT" {
                txt::joined(&record.content)
            } else {
                record.content.clone()
            };
            match records
                .iter_mut()
                .find(|r| r.name == record.name && r.record_type == record.record_type)
            {
                Some(set) => set.values.push(value),
                None => records.push(ProviderRecord {
                    name: record.name.clone(),
                    record_type: record.record_type.clone(),
                    values: vec![value],
                }),
            }
        }
    }
    records
}
