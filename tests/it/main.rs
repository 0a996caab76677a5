//! Every integration test in one binary: each file is a module, so `support/` and the
//! whole dependency graph are compiled and linked once, not once per file.
#![cfg(feature = "ssr")]

mod support;

mod agreement;
mod alert_delivery;
mod alerts;
mod alerts_lifecycle;
mod assets;
mod audit;
mod auth;
mod aws_https;
mod binary;
mod changes;
mod dns;
mod fleet_repair;
mod grid;
mod history;
mod inventory;
mod jwt;
mod log_secrets;
mod malformed;
mod metrics;
mod metrics_auth;
mod page_cache;
mod pages;
mod publish_api;
mod publish_changes;
mod publish_cloudflare;
mod publish_moto;
mod publish_route53;
mod restart;
mod router;
mod serve;
mod silences;
mod sim_control;
mod sim_sdk;
