//! Managed database clusters (PostgreSQL, MySQL, Valkey/Redis, MongoDB) with firewalls admitting only the cluster. (Not lowered yet: see the issue tracker.)

use super::Ctx;
use crate::terraform::Module;

pub fn lower(_ctx: &Ctx, _m: &mut Module) {}
