//! Databases, caches and queues run inside the cluster (`deployment: in_cluster`, or every
//! one of them on `--provider kubernetes`): a StatefulSet with a volume claim per pod, a
//! headless Service that governs it (`<service>-headless`, stable pod names) and a ClusterIP
//! Service for clients (`in_cluster.service_name`, default the component's name), in
//! `k8s/<namespace>/<name>.yaml`.
//!
//! Pods are hardened like the services' (the official images run as uid/gid 999 with a
//! read-only root filesystem once their scratch paths are emptyDirs); credentials come from
//! a Secret by reference (`in_cluster.credentials_secret`, default `<name>-credentials`,
//! keys `username` and `password`).
//!
//! - MongoDB: `--replSet <name>` with a key file (Secret key `keyfile`) when it has more than
//!   one replica, and a Job that initiates the replica set once (idempotent).
//! - Redis / Valkey: append-only persistence; with more than one replica, pod 0 is the
//!   primary (the client Service selects it) and the others replicate from it (no
//!   automatic failover).
//! - PostgreSQL, MySQL, RabbitMQ: a single server (validation rejects more replicas).
//!
//! `plan.rs` decides what runs, `statefulset.rs` writes the objects every engine shares, and
//! one file per engine (`postgres.rs`, `mysql.rs`, `mongodb.rs`, `redis.rs` for Redis and
//! Valkey, `rabbitmq.rs`) fills in its env, command, probes and exporter; `engine.rs` holds
//! what each engine is (ports, paths, images).

mod engine;
mod mongodb;
mod mysql;
mod plan;
mod postgres;
mod rabbitmq;
mod redis;
mod statefulset;

pub(crate) use engine::default_image;
pub use engine::default_port;
pub(crate) use plan::{job_apps, plan};
pub use statefulset::lower;
pub(crate) use statefulset::{claim_spec, pod, sh_quote};
