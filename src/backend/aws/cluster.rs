//! EKS: control plane, node groups or Fargate profiles, add-ons, OIDC provider. (Not lowered yet: see the issue tracker.)

use super::Ctx;
use crate::terraform::Module;

pub fn lower(_ctx: &Ctx, _m: &mut Module) {}
