//! Extra names for single connection values (`uses: [{ name: db, env: { DB_MASTER_HOST: host } }]`).
//!
//! Applications read names of their own: seed 004's TypeORM configuration reads the writer
//! as `DB_MASTER_HOST` beside `DB_HOST`, and the database's name as `DB_NAME`. ECS has no
//! `$(VAR)` expansion, so the blueprint cannot spell one variable in terms of another; an
//! alias instead gets *exactly the source* of the generated variable it copies
//! (`DB_MASTER_HOST: host` copies `DB_HOST`): the same literal, the same ConfigMap key, the
//! same `secretKeyRef` (Secret and key), the same ECS `valueFrom` (ARN and JSON key). It is
//! made where each back-end has finished the generated variable's entry ([`copy`]), so no
//! store gains a key, no back-end learns a rule of its own, and a credential never turns
//! into plain text.
//!
//! `semantic::use_env` refuses what cannot work: an unknown field, a field the component
//! does not have on the target, a name that is no variable name, a name another variable of
//! the container already has, a field whose generated variable the service sets itself.

use super::Field;
use crate::blueprint::types::Service;

impl Field {
    /// Every field, in declaration order.
    pub const ALL: [Field; 17] = [
        Field::Host,
        Field::ReplicaHost,
        Field::Port,
        Field::Database,
        Field::Url,
        Field::DlqUrl,
        Field::Queue,
        Field::Table,
        Field::Bucket,
        Field::Region,
        Field::Endpoint,
        Field::Username,
        Field::Password,
        Field::AuthToken,
        Field::AccessKeyId,
        Field::SecretAccessKey,
        Field::CaFile,
    ];

    /// The field's name in a blueprint's `uses[].env`: its suffix in lower snake case
    /// (`replica_host` for `_REPLICA_HOST`).
    pub fn name(self) -> String {
        self.suffix().to_ascii_lowercase()
    }

    /// The field named `name` in `uses[].env`.
    pub fn parse(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// One extra name: variable `var` gets the source of the generated variable `source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    pub var: String,
    pub source: String,
    /// The used component.
    pub component: String,
    pub field: Field,
}

/// The extra names service `s` asks for, in `uses` order (a component's names in name
/// order). Unknown fields are left out: validation refuses them.
pub fn aliases(s: &Service) -> Vec<Alias> {
    let mut out = Vec::new();
    for u in &s.uses {
        let prefix = u.prefix();
        for (var, name) in &u.env {
            let Some(field) = Field::parse(name) else {
                continue;
            };
            out.push(Alias {
                var: var.clone(),
                source: [prefix.as_str(), "_", field.suffix()].concat(),
                component: u.name.clone(),
                field,
            });
        }
    }
    out
}

/// Append to `items` — a back-end's finished connection variables of `s` — a copy of the
/// item each alias copies, renamed by `rename`. `var` reads an item's variable name. An
/// alias whose source is not among `items` gets nothing (validation refuses those).
pub fn copy<T: Clone>(
    s: &Service,
    items: &mut Vec<T>,
    var: impl Fn(&T) -> &str,
    rename: impl Fn(&T, &str) -> T,
) {
    for a in aliases(s) {
        if let Some(item) = items.iter().find(|i| var(i) == a.source) {
            let copied = rename(item, &a.var);
            items.push(copied);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails to compile when `Field` gains a variant: add it to `Field::ALL` too, or
    /// `uses[].env` would refuse it as unknown.
    fn listed(f: Field) -> bool {
        use Field::*;
        match f {
            Host | ReplicaHost | Port | Database | Url | DlqUrl | Queue | Table | Bucket
            | Region | Endpoint | Username | Password | AuthToken | AccessKeyId
            | SecretAccessKey | CaFile => Field::ALL.contains(&f),
        }
    }

    #[test]
    fn names_round_trip() {
        for f in Field::ALL {
            assert!(listed(f));
            assert_eq!(Field::parse(&f.name()), Some(f));
        }
        assert_eq!(Field::parse("replica_host"), Some(Field::ReplicaHost));
        // The schema's list (the blueprint layer cannot read this one).
        let names: Vec<String> = Field::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(names, crate::blueprint::types::USE_ENV_FIELDS);
        assert_eq!(Field::parse("HOST"), None);
    }

    #[test]
    fn an_alias_copies_its_source_only() {
        let text = "name: x\ndatabases: [{ name: db, engine: postgres, deployment: in_cluster }]\nservices:\n  - name: api\n    image: a:1\n    port: 80\n    uses: [{ name: db, env_prefix: PG, env: { WRITER: host, SECRET: password } }]\n";
        let loaded = crate::blueprint::load(
            "x.yaml",
            text.as_bytes(),
            crate::catalog::Provider::Aws,
            "prod",
        )
        .unwrap();
        let s = &loaded.blueprint.services[0];
        let mut items = vec![("PG_HOST".to_string(), "h"), ("PG_PORT".into(), "5432")];
        copy(s, &mut items, |i| &i.0, |i, v| (v.to_string(), i.1));
        // PG_PASSWORD is not among the items: SECRET gets nothing rather than a guess.
        let vars: Vec<(&str, &str)> = items.iter().map(|(v, x)| (v.as_str(), *x)).collect();
        assert_eq!(
            vars,
            [("PG_HOST", "h"), ("PG_PORT", "5432"), ("WRITER", "h")]
        );
    }
}
