//! What each engine is: catalog key, ports, paths, server command, images, exporters.

use crate::blueprint::types::{CacheEngine, DatabaseEngine, QueueEngine};
use crate::k8s::Engine;

impl From<DatabaseEngine> for Engine {
    fn from(e: DatabaseEngine) -> Self {
        match e {
            DatabaseEngine::Postgres => Engine::Postgres,
            DatabaseEngine::Mysql => Engine::Mysql,
            DatabaseEngine::Mongodb => Engine::Mongodb,
        }
    }
}

impl From<CacheEngine> for Engine {
    fn from(e: CacheEngine) -> Self {
        match e {
            CacheEngine::Redis => Engine::Redis,
            CacheEngine::Valkey => Engine::Valkey,
        }
    }
}

impl From<QueueEngine> for Engine {
    fn from(e: QueueEngine) -> Self {
        match e {
            // SQS queues never run in a cluster (`bp.brokers()` leaves them out).
            QueueEngine::Rabbitmq | QueueEngine::Sqs => Engine::Rabbitmq,
        }
    }
}

impl Engine {
    /// Key of the engine's default version in the catalogs.
    pub(super) fn catalog_key(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Mysql => "mysql",
            Engine::Mongodb => "mongodb",
            Engine::Redis => "redis",
            Engine::Valkey => "valkey",
            Engine::Rabbitmq => "rabbitmq",
        }
    }

    pub(super) fn component(self) -> &'static str {
        match self {
            Engine::Postgres | Engine::Mysql | Engine::Mongodb => "database",
            Engine::Redis | Engine::Valkey => "cache",
            Engine::Rabbitmq => "queue",
        }
    }

    pub(super) fn port_name(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Mysql => "mysql",
            Engine::Mongodb => "mongodb",
            Engine::Redis | Engine::Valkey => "redis",
            Engine::Rabbitmq => "amqp",
        }
    }

    /// Where the data volume is mounted.
    pub(super) fn data_path(self) -> &'static str {
        match self {
            Engine::Postgres => "/var/lib/postgresql/data",
            Engine::Mysql => "/var/lib/mysql",
            Engine::Mongodb => "/data/db",
            Engine::Redis | Engine::Valkey => "/data",
            Engine::Rabbitmq => "/var/lib/rabbitmq",
        }
    }

    /// Scratch paths the image writes besides the data volume.
    pub(super) fn scratch(self) -> &'static [&'static str] {
        match self {
            Engine::Postgres => &["/tmp", "/var/run/postgresql"],
            Engine::Mysql => &["/tmp", "/var/run/mysqld"],
            Engine::Mongodb => &["/tmp", "/data/configdb"],
            Engine::Redis | Engine::Valkey | Engine::Rabbitmq => &["/tmp"],
        }
    }

    /// The image's default command (what `args` must start with to keep it).
    pub(super) fn server(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Mysql => "mysqld",
            Engine::Mongodb => "mongod",
            Engine::Redis => "redis-server",
            Engine::Valkey => "valkey-server",
            Engine::Rabbitmq => "rabbitmq-server",
        }
    }

    pub(crate) fn is_cache(self) -> bool {
        matches!(self, Engine::Redis | Engine::Valkey)
    }
}

/// The engine's standard port.
pub fn default_port(e: Engine) -> u16 {
    match e {
        Engine::Postgres => 5432,
        Engine::Mysql => 3306,
        Engine::Mongodb => 27017,
        Engine::Redis | Engine::Valkey => 6379,
        Engine::Rabbitmq => 5672,
    }
}

/// The community exporter of an engine (pinned) and its usual port; RabbitMQ serves its
/// own metrics (the `rabbitmq_prometheus` plugin).
pub(super) fn exporter_defaults(e: Engine) -> (Option<&'static str>, u16) {
    match e {
        Engine::Mongodb => (Some("percona/mongodb_exporter:0.40.0"), 9216),
        Engine::Redis | Engine::Valkey => (Some("oliver006/redis_exporter:v1.58.0"), 9121),
        Engine::Postgres => (Some("prometheuscommunity/postgres-exporter:v0.15.0"), 9187),
        Engine::Mysql => (Some("prom/mysqld-exporter:v0.15.1"), 9104),
        Engine::Rabbitmq => (None, 15692),
    }
}

/// The image of an engine version: a line (`17`, `8.0`) runs the full version the versions
/// catalog pins for it (`postgres:17.7`, `mongo:8.0.20`), never a floating tag that moves
/// under a running StatefulSet; a full version is used as written
/// ([`crate::releases::Product::image_tag`]).
pub(crate) fn default_image(e: Engine, version: &str) -> String {
    let product = crate::releases::product(match e {
        Engine::Postgres => "image-postgres",
        Engine::Mysql => "image-mysql",
        Engine::Mongodb => "image-mongo",
        Engine::Redis => "image-redis",
        Engine::Valkey => "image-valkey",
        Engine::Rabbitmq => "image-rabbitmq",
    });
    let tag = product.image_tag(version, &crate::releases::get().as_of);
    match e {
        Engine::Postgres => format!("postgres:{tag}"),
        Engine::Mysql => format!("mysql:{tag}"),
        Engine::Mongodb => format!("mongo:{tag}"),
        Engine::Redis => format!("redis:{tag}"),
        Engine::Valkey => format!("valkey/valkey:{tag}"),
        Engine::Rabbitmq => format!("rabbitmq:{tag}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images() {
        // A line runs the catalog's pinned release, never a floating tag.
        assert_eq!(default_image(Engine::Postgres, "17"), "postgres:17.7");
        assert_eq!(default_image(Engine::Mongodb, "8.0"), "mongo:8.0.20");
        assert_eq!(default_image(Engine::Rabbitmq, "4.2"), "rabbitmq:4.2.5");
        assert_eq!(default_image(Engine::Valkey, "8.1"), "valkey/valkey:8.1.4");
        // ElastiCache's 7.1 has no image of its own: the newest supported 7.x release.
        assert_eq!(default_image(Engine::Redis, "7.1"), "redis:7.4.6");
        // A full version as written; an end-of-life line keeps its tag (and is refused).
        assert_eq!(default_image(Engine::Postgres, "17.6"), "postgres:17.6");
        assert_eq!(default_image(Engine::Mongodb, "6.0"), "mongo:6.0");
    }
}
