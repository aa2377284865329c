//! Integration tests: one binary. Golden snapshots of every shipped blueprint × provider ×
//! environment (validated against the vendored provider schemas), error messages of the
//! invalid-input cases, the command line, and determinism.

mod access_entries;
mod account;
mod alb_certificate;
mod alb_health;
mod autoscaling;
mod cache;
mod capacity;
mod cli;
mod cluster_autoscaler;
mod collisions;
mod connections;
mod data_volumes;
mod day2;
mod day2_k8s;
mod deployable;
mod determinism;
mod diff;
mod disruption;
mod doc_snippets;
mod doks;
mod ecs;
mod eks;
mod errors;
mod escape;
mod examples;
mod fargate;
mod fuzz;
mod gateway;
mod gateway_crds;
mod golden;
mod iam_role_names;
mod interpolations;
mod jobs;
mod layers;
mod manifests;
mod netpol;
mod ports;
mod quota;
mod rds;
mod service_connect;
mod support;
mod templates;
mod versions;
mod workloads;
