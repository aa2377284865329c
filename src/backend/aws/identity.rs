//! Workload identity: IRSA roles per service account with least-privilege policies. (Not lowered yet: see the issue tracker.)

use super::Ctx;
use crate::terraform::Module;

pub fn lower(_ctx: &Ctx, _m: &mut Module) {}
