//! The application load balancer in front of ECS services: listeners, target groups, TLS certificate, WAF. (Not lowered yet: see the issue tracker.)

use super::Ctx;
use crate::terraform::Module;

pub fn lower(_ctx: &Ctx, _m: &mut Module) {}
