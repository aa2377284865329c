//! The connection contract: what a workload learns about each component it `uses`, the same
//! on every provider, so that a service starts and reaches its database, cache, queue, table,
//! bucket or secret without extra blueprint text.
//!
//! For a component named `ledger-db` (prefix `LEDGER_DB`, or `uses[].env_prefix`):
//!
//! | kind | endpoint variables | credential variables (by reference only) |
//! |---|---|---|
//! | database | `_HOST`, `_PORT`, `_DATABASE`, `_URL`; `_REPLICA_HOST` with read replicas; `_CA_FILE` where the provider signs the server certificate with its own CA (DigitalOcean, RDS: [`trusts_provider_ca`]) | `_USERNAME`, `_PASSWORD` |
//! | cache | `_HOST`, `_PORT`, `_URL` | `_PASSWORD` everywhere (ElastiCache: the AUTH token, also as `_AUTH_TOKEN`); `_USERNAME` on DigitalOcean |
//! | queue | `_HOST`, `_PORT`, `_URL` | `_USERNAME`, `_PASSWORD` |
//! | SQS queue (AWS) | `_URL` (queue URL), `_DLQ_URL`, `_QUEUE` (its name), `_REGION` | the pod's cloud identity (IAM on exactly that queue) |
//! | table | `_HOST`, `_PORT`, `_TABLE`, `_REGION` | the pod's cloud identity (IAM on exactly that table) |
//! | bucket | `_HOST`, `_PORT`, `_BUCKET`, `_URL`, `_REGION`, `_ENDPOINT` | AWS: the pod's cloud identity (IAM on exactly that bucket); DigitalOcean: `_ACCESS_KEY_ID`, `_SECRET_ACCESS_KEY` of a Spaces key granted exactly its buckets |
//! | secret | `_<KEY>` per key of the secret | all of them |
//! | service | `_HOST`, `_PORT`, `_URL` (`http://…`; `dns:///host:port` for a gRPC service, [`service_url`]): its Kubernetes Service, or its ECS Service Connect alias | none |
//!
//! `uses[].env` gives single values further names, each a copy of a generated variable's
//! finished entry ([`alias`]).
//!
//! This module decides *which* variables a service gets ([`bindings`]); each back-end decides
//! where their values come from (Terraform references, in-cluster Service DNS names, a
//! Secret the output makes exist), and [`Precondition`] lists what no output can make.

pub mod alias;
pub mod peers;
pub mod pool;
pub mod rds_ca;
pub mod setup_image;

use crate::blueprint::types::{Blueprint, DatabaseEngine, Service, upper_snake};

/// The kind of a used component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Database(DatabaseEngine),
    Cache,
    Queue,
    /// An Amazon SQS queue (`queues[].engine: sqs`): an HTTPS API reached with the
    /// workload's IAM role, like a table.
    Sqs,
    Table,
    Bucket,
    Secret,
    /// Another service, reached through its Kubernetes Service or ECS Service Connect.
    Service,
}

/// One value a workload gets about a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    Host,
    /// The first read replica's host name (a managed database with `replicas`): the
    /// address read traffic goes to, which no workload could otherwise learn.
    ReplicaHost,
    Port,
    Database,
    Url,
    /// The URL of an SQS queue's dead-letter queue, for consumers that inspect or redrive it.
    DlqUrl,
    /// An SQS queue's name (`GetQueueUrl` and the SDKs' name-based calls take it).
    Queue,
    Table,
    Bucket,
    Region,
    /// The S3 API's endpoint URL (`https://<region>.digitaloceanspaces.com`): an S3 SDK
    /// talks to AWS unless it is given one.
    Endpoint,
    Username,
    Password,
    AuthToken,
    /// A Spaces access key pair: Spaces has no workload identity, so a pod signs its S3
    /// requests with a key.
    AccessKeyId,
    SecretAccessKey,
    /// The path of the provider's CA certificate in the pod ([`ca_file`]), for a managed
    /// database whose server certificate no public CA signed ([`trusts_provider_ca`]).
    CaFile,
}

impl Field {
    pub fn suffix(self) -> &'static str {
        match self {
            Field::Host => "HOST",
            Field::ReplicaHost => "REPLICA_HOST",
            Field::Port => "PORT",
            Field::Database => "DATABASE",
            Field::Url => "URL",
            Field::DlqUrl => "DLQ_URL",
            Field::Queue => "QUEUE",
            Field::Table => "TABLE",
            Field::Bucket => "BUCKET",
            Field::Region => "REGION",
            Field::Endpoint => "ENDPOINT",
            Field::Username => "USERNAME",
            Field::Password => "PASSWORD",
            Field::AuthToken => "AUTH_TOKEN",
            Field::AccessKeyId => "ACCESS_KEY_ID",
            Field::SecretAccessKey => "SECRET_ACCESS_KEY",
            Field::CaFile => "CA_FILE",
        }
    }

    /// Whether the value is a credential (read from a Secret, never written out).
    pub fn secret(self) -> bool {
        matches!(
            self,
            Field::Username
                | Field::Password
                | Field::AuthToken
                | Field::AccessKeyId
                | Field::SecretAccessKey
        )
    }
}

/// Whether field `f` of a component of `kind` running as `flavor` reaches the workload from
/// a secret store (a Secret key, an ECS `secrets` entry) rather than with the endpoints (a
/// ConfigMap key, an ECS `environment` value). Every credential does, except Amazon MQ's
/// user name: infragen fixes it (`<queue>_admin`, `backend::aws::queue`), so it is known
/// text, not a secret any store holds, and the back-ends write it beside the endpoints. One
/// rule for the manifests (which object a pod reads) and the back-ends (which object they
/// fill), so the two never disagree — a key a pod reads that its object lacks keeps the pod
/// from starting (`CreateContainerConfigError`).
pub fn from_secret_store(kind: Kind, flavor: Flavor, f: Field) -> bool {
    f.secret() && !(kind == Kind::Queue && flavor == Flavor::Aws && f == Field::Username)
}

/// Whether a managed component of `kind` running as `flavor` presents a server certificate
/// signed by the provider's own CA, which no container's default trust store holds: then
/// the workload gets that CA as a file ([`ca_file`], `_CA_FILE`), and its URL names it where
/// the URL has a way to ([`ca_query`]).
///
/// - DigitalOcean managed databases: their certificates chain to DigitalOcean's own CA
///   (`GET /v2/databases/{uuid}/ca`, Terraform `data "digitalocean_database_ca"`).
///   - MongoDB: a driver given `tls=true` verifies the server against the system trust
///     store, so without the CA every connection fails with "self signed certificate in
///     certificate chain" (github.com/Budibase/budibase/issues/4351 against
///     `*.mongo.ondigitalocean.com`; github.com/zodern/meteor-up/issues/1277: DigitalOcean
///     MongoDB "requires providing a certificate file in the form of a `tlsCAFile` option").
///   - PostgreSQL: libpq's `sslmode=require` does not verify, but node-postgres reads it as
///     `verify-full` ("The SSL modes 'prefer', 'require', and 'verify-ca' are treated as
///     aliases for 'verify-full'", github.com/brianc/node-postgres/pull/3473) and fails the
///     same way against DigitalOcean (github.com/brianc/node-postgres/issues/2558,
///     github.com/logto-io/logto/issues/1842). With `sslrootcert` naming the right CA,
///     libpq-style clients check the chain (`require` becomes `verify-ca`) and pass, and
///     node-postgres has the CA it lacked.
///   - MySQL: the URL carries no TLS option (each client spells it its own way), so only
///     `_CA_FILE`, for clients configured to verify.
/// - Not DigitalOcean Valkey: "This method uses Let's Encrypt certification, which does not
///   require that you download a CA certificate in order to connect"
///   (docs.digitalocean.com/products/databases/valkey/how-to/connect/); and a `tlsCAFile`
///   replaces the trust store in most drivers, so it is given only where it is needed.
/// - Amazon RDS (PostgreSQL, MySQL): its server certificates chain to the region's "Amazon
///   RDS <region> Root CA RSA2048 G1" (`ca_cert_identifier` `rds-ca-rsa2048-g1`,
///   `backend::aws::database`), in no public trust store either: node-postgres fails
///   against it exactly as against DigitalOcean ("self-signed certificate in certificate
///   chain"). The region's bundle is a download, not a Terraform attribute, so infragen
///   vendors it ([`rds_ca`]); a region without one gets no CA file ([`rds_ca::bundle`], and
///   `synth` warns).
/// - Not ElastiCache and Amazon MQ: they present publicly trusted certificates (AWS's own
///   examples connect with `redis-cli --tls` and no CA file).
pub fn trusts_provider_ca(kind: Kind, flavor: Flavor) -> bool {
    match flavor {
        Flavor::DigitalOcean => matches!(kind, Kind::Database(_)),
        Flavor::Aws => matches!(
            kind,
            Kind::Database(DatabaseEngine::Postgres | DatabaseEngine::Mysql)
        ),
        Flavor::InCluster { .. } => false,
    }
}

/// `list` without the CA files of managed databases whose CA the output cannot hand over:
/// on AWS, those of a `region` with no vendored RDS bundle ([`rds_ca::bundle`]).
pub fn with_known_cas<'a>(
    list: Vec<Binding<'a>>,
    flavor: Flavor,
    region: &str,
) -> Vec<Binding<'a>> {
    if flavor != Flavor::Aws || rds_ca::bundle(region).is_some() {
        return list;
    }
    list.into_iter()
        .filter(|b| b.value != Value::Field(Field::CaFile))
        .collect()
}

/// Whether a workload with the variables `list` gets the CA file of `component` (its
/// `_CA_FILE`, which it may set itself instead): then the component's URL names that file
/// ([`ca_query`]).
pub fn gets_ca_file(list: &[Binding], component: &str) -> bool {
    list.iter()
        .any(|b| b.component == component && b.value == Value::Field(Field::CaFile))
}

/// Whether the CA certificates `flavor`'s workloads mount come from the
/// `<service>-connections` ConfigMap rather than its Secret: on AWS they are the public RDS
/// certificates infragen vendors ([`rds_ca`]); on DigitalOcean Terraform reads each
/// cluster's CA into the Secret beside its credentials.
pub fn ca_in_config_map(flavor: Flavor) -> bool {
    flavor == Flavor::Aws
}

/// The directory the pods (and ECS tasks) mount their managed databases' CA certificates in,
/// read only: from the `<service>-connections` Secret (DigitalOcean) or ConfigMap (EKS), or
/// on ECS a task volume a first container fills (`backend::aws::sidecars`).
pub const CA_DIR: &str = "/etc/infragen/ca";

/// The container of an ECS task that prepares its volumes before the others start — makes the
/// writable paths writable for the task's non-root user and writes its CA files (ECS task
/// definitions have no Secret or ConfigMap volumes, `backend::aws::sidecars::volume_setup`):
/// a name no blueprint container may take there.
pub const CA_WRITER: &str = "infragen-volumes";

/// The file holding the CA certificate of component `component` in a pod.
pub fn ca_file(component: &str) -> String {
    format!("{CA_DIR}/{component}.crt")
}

/// The `<service>-connections` Secret (or ConfigMap, [`ca_in_config_map`]) key holding the CA certificate a `_CA_FILE` variable
/// `var` points at (`CONTENT_CA_FILE` → `CONTENT_CA_CERT`).
pub fn ca_cert_key(var: &str) -> String {
    format!("{}_CA_CERT", var.strip_suffix("_CA_FILE").unwrap_or(var))
}

/// What a database URL of `kind` says, after [`url_query`], to name the CA file of
/// `component`: MongoDB's `tlsCAFile`
/// (<https://www.mongodb.com/docs/manual/reference/connection-string-options/#mongodb-urioption-urioption.tlsCAFile>),
/// libpq's `sslrootcert`
/// (<https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNECT-SSLROOTCERT>);
/// nothing for MySQL, whose URL carries no TLS option.
pub fn ca_query(kind: Kind, component: &str) -> String {
    match kind {
        Kind::Database(DatabaseEngine::Mongodb) => format!("&tlsCAFile={}", ca_file(component)),
        Kind::Database(DatabaseEngine::Postgres) => {
            format!("&sslrootcert={}", ca_file(component))
        }
        _ => String::new(),
    }
}

/// Where a data component runs, which decides its credential variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// A StatefulSet in the cluster; `auth` when it has a credentials Secret.
    InCluster { auth: bool },
    /// AWS managed services (RDS, ElastiCache, Amazon MQ, DynamoDB, S3).
    Aws,
    /// DigitalOcean managed databases and Spaces buckets.
    DigitalOcean,
}

/// What a variable carries: a field of the component, or a key of a blueprint secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value<'a> {
    Field(Field),
    Key(&'a str),
}

/// One variable a service gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding<'a> {
    pub var: String,
    pub component: &'a str,
    pub kind: Kind,
    pub value: Value<'a>,
}

impl Binding<'_> {
    /// Whether the value is a credential.
    pub fn secret(&self) -> bool {
        match self.value {
            Value::Field(f) => f.secret(),
            Value::Key(_) => true,
        }
    }
}

/// The kind of the component named `name`, if the blueprint has one.
pub fn kind_of(bp: &Blueprint, name: &str) -> Option<Kind> {
    if let Some(d) = bp.databases.iter().find(|d| d.name == name) {
        return Some(Kind::Database(d.engine));
    }
    if bp.caches.iter().any(|c| c.name == name) {
        return Some(Kind::Cache);
    }
    if let Some(q) = bp.queues.iter().find(|q| q.name == name) {
        return Some(if q.sqs() { Kind::Sqs } else { Kind::Queue });
    }
    if bp.tables.iter().any(|t| t.name == name) {
        return Some(Kind::Table);
    }
    if bp.buckets.iter().any(|b| b.name == name) {
        return Some(Kind::Bucket);
    }
    if bp.secrets.iter().any(|s| s.name == name) {
        return Some(Kind::Secret);
    }
    if bp.services.iter().any(|s| s.name == name) {
        return Some(Kind::Service);
    }
    None
}

/// The fields a workload gets for a component of `kind` running as `flavor`.
pub fn fields(kind: Kind, flavor: Flavor) -> Vec<Field> {
    use Field::*;
    match kind {
        Kind::Database(_) if trusts_provider_ca(kind, flavor) => {
            vec![Host, Port, Database, Url, Username, Password, CaFile]
        }
        Kind::Database(_) => vec![Host, Port, Database, Url, Username, Password],
        Kind::Cache => match flavor {
            // `_PASSWORD` is the AUTH token again, under the name every other provider
            // gives a cache's credential, so one `$(…)` or one client configuration works on
            // each; `_AUTH_TOKEN` stays for the blueprints that read it.
            Flavor::Aws => vec![Host, Port, Url, AuthToken, Password],
            Flavor::DigitalOcean => vec![Host, Port, Url, Username, Password],
            Flavor::InCluster { auth: true } => vec![Host, Port, Url, Password],
            Flavor::InCluster { auth: false } => vec![Host, Port, Url],
        },
        Kind::Queue => vec![Host, Port, Url, Username, Password],
        // The SDKs take the queue URL (SendMessage, ReceiveMessage: `QueueUrl`) and a
        // region; no host or port: the URL names the endpoint.
        Kind::Sqs => vec![Url, DlqUrl, Queue, Region],
        Kind::Table => vec![Host, Port, Table, Region],
        // Spaces speaks the S3 API at its own endpoint and knows no pod identity: the
        // endpoint and a key pair (`backend::digitalocean::spaces`).
        Kind::Bucket if flavor == Flavor::DigitalOcean => vec![
            Host,
            Port,
            Bucket,
            Url,
            Region,
            Endpoint,
            AccessKeyId,
            SecretAccessKey,
        ],
        // S3's regional endpoint as `_ENDPOINT` too, so an S3 client configured with an
        // endpoint (which Spaces needs) is configured the same way on AWS.
        Kind::Bucket => vec![Host, Port, Bucket, Url, Region, Endpoint],
        Kind::Secret => Vec::new(),
        Kind::Service => vec![Host, Port, Url],
    }
}

/// The variables of service `s`, one per field of each component it uses (and per key of
/// each secret it uses), in `uses` order. `flavor` says where a data component runs on the
/// target provider, `None` when the output does not create it (then it gets no variables).
pub fn bindings<'a>(
    bp: &'a Blueprint,
    s: &'a Service,
    flavor: impl Fn(&str, Kind) -> Option<Flavor>,
) -> Vec<Binding<'a>> {
    let mut out = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for u in &s.uses {
        if seen.contains(&u.as_str()) {
            continue;
        }
        seen.push(u.as_str());
        let Some(kind) = kind_of(bp, u) else { continue };
        let prefix = u.prefix();
        if kind == Kind::Secret {
            let Some(sec) = bp.secrets.iter().find(|x| x.name == u.name) else {
                continue;
            };
            for k in &sec.keys {
                out.push(Binding {
                    var: [prefix.as_str(), "_", &upper_snake(k)].concat(),
                    component: &u.name,
                    kind,
                    value: Value::Key(k),
                });
            }
            continue;
        }
        let Some(fl) = flavor(&u.name, kind) else {
            continue;
        };
        let replica = has_read_replica(bp, &u.name, fl).then_some(Field::ReplicaHost);
        for f in fields(kind, fl).into_iter().chain(replica) {
            if f == Field::Database && !names_a_database(bp, &u.name, fl) {
                continue;
            }
            out.push(Binding {
                var: [prefix.as_str(), "_", f.suffix()].concat(),
                component: &u.name,
                kind,
                value: Value::Field(f),
            });
        }
    }
    out
}

/// Whether database component `name` running as `flavor` has a database for `_DATABASE`
/// (and the URL's path) to name. RDS creates a MySQL instance's initial database only from
/// `DBName` ("If this parameter isn't specified, no database is created in the DB
/// instance", CreateDBInstance,
/// <https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html>),
/// so a MySQL database without `database_name` has none to name, and its clients get no
/// `_DATABASE`: on EKS that variable is read from the `<service>-connections` ConfigMap by
/// key, and a key the ConfigMap lacks keeps the pod from starting
/// (`CreateContainerConfigError`). PostgreSQL always has `postgres`; DigitalOcean's
/// clusters `defaultdb`; in-cluster servers the component's name.
pub fn names_a_database(bp: &Blueprint, name: &str, flavor: Flavor) -> bool {
    let Some(d) = bp.databases.iter().find(|d| d.name == name) else {
        return true;
    };
    flavor != Flavor::Aws || d.database_name.is_some() || d.engine != DatabaseEngine::Mysql
}

/// Whether database component `name` running as `flavor` has a read replica, whose host
/// its clients get as `_REPLICA_HOST`: RDS and DigitalOcean create them for PostgreSQL and
/// MySQL; an in-cluster server runs alone (`replicas` is noted as not created there).
pub fn has_read_replica(bp: &Blueprint, name: &str, flavor: Flavor) -> bool {
    bp.databases.iter().any(|d| {
        d.name == name
            && d.replicas > 0
            && matches!(d.engine, DatabaseEngine::Postgres | DatabaseEngine::Mysql)
            && matches!(flavor, Flavor::Aws | Flavor::DigitalOcean)
    })
}

/// `bindings` minus the variables the service sets itself (`env`, `secret_env`): the
/// blueprint's values win. When it sets one credential of a component (its own
/// `DB_PASSWORD`), the component's other credentials are left out too, so a user name and a
/// password never come from two different sources.
pub fn without_own<'a>(s: &Service, bindings: Vec<Binding<'a>>) -> Vec<Binding<'a>> {
    let own = |var: &str| s.env.contains_key(var) || s.secret_env.iter().any(|e| e.name == var);
    let overridden: Vec<&str> = bindings
        .iter()
        .filter(|b| b.secret() && own(&b.var))
        .map(|b| b.component)
        .collect();
    bindings
        .into_iter()
        .filter(|b| !(own(&b.var) || b.secret() && overridden.contains(&b.component)))
        .collect()
}

/// The URL scheme of a component (`tls` for managed services that require it).
pub fn scheme(kind: Kind, tls: bool) -> &'static str {
    match (kind, tls) {
        (Kind::Database(DatabaseEngine::Postgres), _) => "postgresql",
        (Kind::Database(DatabaseEngine::Mysql), _) => "mysql",
        (Kind::Database(DatabaseEngine::Mongodb), _) => "mongodb",
        (Kind::Cache, false) => "redis",
        (Kind::Cache, true) => "rediss",
        (Kind::Queue, false) => "amqp",
        (Kind::Queue, true) => "amqps",
        (Kind::Bucket, _) => "s3",
        // Inside the cluster, plain HTTP to the Service (TLS, if any, is the app's).
        (Kind::Service, _) => "http",
        _ => "https",
    }
}

/// The `_URL` of another service `s` at `host:port`: `http://host:port`, or for a gRPC
/// service the target gRPC's own name syntax gives, `dns:///host:port`
/// (<https://github.com/grpc/grpc/blob/master/doc/naming.md>), which the channel
/// constructors of grpc-go, grpc-java and the C-core languages take as is; an
/// `http://` URL is no gRPC target (grpc-go resolves the whole text as a host name).
pub fn service_url(s: &Service, host: &str, port: &str) -> String {
    if s.grpc() {
        format!("dns:///{host}:{port}")
    } else {
        url(Kind::Service, false, host, port, None)
    }
}

/// `scheme://host:port[/database]`: a URL without credentials (they are separate variables).
pub fn url(kind: Kind, tls: bool, host: &str, port: &str, database: Option<&str>) -> String {
    let (before, after) = url_around(kind, tls, database);
    [&before, host, ":", port, &after].concat()
}

/// The text of [`url`] around `host:port`, for back-ends whose host or port is a
/// reference: (`scheme://`, `[/database][?tls]`).
pub fn url_around(kind: Kind, tls: bool, database: Option<&str>) -> (String, String) {
    let query = url_query(kind, tls);
    // Options follow a `/` even without a database: MongoDB's connection string requires
    // it (`mongodb://host:port/?tls=true`; drivers refuse `host:port?…`), and libpq reads
    // an empty database name as its default.
    let after = match database {
        Some(db) => format!("/{db}"),
        None if !query.is_empty() => "/".to_string(),
        None => String::new(),
    };
    (format!("{}://", scheme(kind, tls)), after + query)
}

/// The query of a component's URL: what a client needs beyond `host:port/database`.
///
/// - TLS where a managed database requires it and the URL has a way every driver reads:
///   `sslmode=require` for PostgreSQL (libpq's connection URI; RDS with `rds.force_ssl` and
///   DigitalOcean refuse plain connections, and libpq-style clients default to trying plain
///   first or, like node-postgres, to no TLS at all) and `tls=true` for MongoDB (the
///   connection string specification). MySQL clients spell it differently each (`ssl-mode`,
///   `sslMode`, `tls`), so its URL carries none: configure the client.
/// - `authSource=admin` for MongoDB, managed or in the cluster: the user clients get is
///   defined in the `admin` database (the official image's `MONGO_INITDB_ROOT_USERNAME`,
///   DigitalOcean's `doadmin` and database users), and a driver authenticates against the
///   database in the URL's path when `authSource` is absent ("If authSource is unspecified,
///   authSource defaults to the defaultauthdb specified in the connection string",
///   <https://www.mongodb.com/docs/manual/reference/connection-string-options/#mongodb-urioption-urioption.authSource>),
///   so `mongodb://…/catalog` alone fails with "Authentication failed".
pub fn url_query(kind: Kind, tls: bool) -> &'static str {
    match (kind, tls) {
        (Kind::Database(DatabaseEngine::Postgres), true) => "?sslmode=require",
        (Kind::Database(DatabaseEngine::Mongodb), true) => "?tls=true&authSource=admin",
        (Kind::Database(DatabaseEngine::Mongodb), false) => "?authSource=admin",
        _ => "",
    }
}

/// Something that must exist before `kubectl apply -k` and that the output does not create:
/// an entry of `preconditions.json`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Precondition {
    pub kind: String,
    /// Empty for cluster-scoped objects.
    pub namespace: String,
    pub name: String,
    pub keys: Vec<String>,
    pub why: String,
}

impl Precondition {
    /// One line of `synth`'s note.
    pub fn line(&self) -> String {
        let at = if self.namespace.is_empty() {
            self.name.clone()
        } else {
            format!("{}/{}", self.namespace, self.name)
        };
        let keys = if self.keys.is_empty() {
            String::new()
        } else {
            format!(" (keys {})", self.keys.join(", "))
        };
        format!("{} {at}{keys}: {}", self.kind, self.why)
    }
}

/// `preconditions.json`: the list, sorted, as a JSON array (empty when nothing is needed).
pub fn preconditions_json(list: &[Precondition]) -> String {
    let mut sorted = list.to_vec();
    sorted.sort();
    sorted.dedup();
    let mut s = serde_json::to_string_pretty(&sorted).unwrap_or_else(|_| "[]".into());
    s.push('\n');
    s
}

/// The note `synth` prints for the list.
pub fn preconditions_note(list: &[Precondition]) -> Option<String> {
    if list.is_empty() {
        return None;
    }
    let mut sorted = list.to_vec();
    sorted.sort();
    sorted.dedup();
    Some(format!(
        "preconditions.json: create these before the workloads start (before `kubectl apply -k` on a cluster); the output cannot make them:{}",
        // One line each: a long list stays readable in a CI log.
        sorted
            .iter()
            .map(|p| format!("\n  - {}", p.line()))
            .collect::<String>()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_blueprint_wins_and_credentials_stay_together() {
        let text = "name: x\ndatabases: [{ name: db, engine: postgres, deployment: in_cluster }]\nsecrets: [{ name: pw }]\nservices:\n  - name: api\n    image: a:1\n    port: 80\n    env: { DB_HOST: elsewhere }\n    secret_env: [{ name: DB_PASSWORD, secret: pw }]\n    uses: [db]\n";
        let loaded = crate::blueprint::load(
            "x.yaml",
            text.as_bytes(),
            crate::catalog::Provider::Aws,
            "prod",
        )
        .unwrap();
        let bp = &loaded.blueprint;
        let s = &bp.services[0];
        let all = bindings(bp, s, |_, _| Some(Flavor::InCluster { auth: true }));
        assert_eq!(all.len(), 6);
        let vars: Vec<String> = without_own(s, all).into_iter().map(|b| b.var).collect();
        // DB_HOST is the blueprint's; DB_PASSWORD is its own secret, so DB_USERNAME is too.
        assert_eq!(vars, ["DB_PORT", "DB_DATABASE", "DB_URL"]);
    }

    #[test]
    fn urls_and_names() {
        assert_eq!(
            url(
                Kind::Database(DatabaseEngine::Postgres),
                false,
                "db",
                "5432",
                Some("app")
            ),
            "postgresql://db:5432/app"
        );
        assert_eq!(url(Kind::Cache, true, "c", "6379", None), "rediss://c:6379");
        // A TLS-only managed database: the URL asks for TLS where drivers agree on how.
        let pg = Kind::Database(DatabaseEngine::Postgres);
        assert_eq!(
            url(pg, true, "db", "5432", Some("app")),
            "postgresql://db:5432/app?sslmode=require"
        );
        let mongo = Kind::Database(DatabaseEngine::Mongodb);
        assert_eq!(
            url(mongo, true, "m", "27017", None),
            "mongodb://m:27017/?tls=true&authSource=admin"
        );
        // The user clients get is defined in `admin`, in the cluster too.
        assert_eq!(
            url(mongo, false, "m", "27017", Some("catalog")),
            "mongodb://m:27017/catalog?authSource=admin"
        );
        let mysql = Kind::Database(DatabaseEngine::Mysql);
        assert_eq!(
            url(mysql, true, "my", "3306", Some("app")),
            "mysql://my:3306/app"
        );
        // The CA file is named where the URL has an option for it.
        assert_eq!(
            ca_query(mongo, "docs"),
            "&tlsCAFile=/etc/infragen/ca/docs.crt"
        );
        assert_eq!(ca_query(pg, "db"), "&sslrootcert=/etc/infragen/ca/db.crt");
        assert_eq!(ca_query(mysql, "my"), "");
        assert_eq!(ca_cert_key("DB_CA_FILE"), "DB_CA_CERT");
        assert!(!trusts_provider_ca(Kind::Cache, Flavor::DigitalOcean));
        assert!(trusts_provider_ca(pg, Flavor::Aws));
        assert!(trusts_provider_ca(mysql, Flavor::Aws));
        assert!(!trusts_provider_ca(Kind::Cache, Flavor::Aws));
        assert!(!trusts_provider_ca(Kind::Queue, Flavor::Aws));
        assert!(!trusts_provider_ca(pg, Flavor::InCluster { auth: true }));
        assert_eq!(upper_snake("ledger-db"), "LEDGER_DB");
        assert_eq!(
            fields(Kind::Cache, Flavor::Aws),
            vec![
                Field::Host,
                Field::Port,
                Field::Url,
                Field::AuthToken,
                Field::Password
            ]
        );
    }
}
