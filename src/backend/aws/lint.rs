//! infragen's own AWS lint rules, where scanners judge only what they can see statically.
//! Findings are warnings shown by `synth` and `validate`, never errors.
//!
//! Versions (EKS, RDS, ElastiCache, Amazon MQ, the platform charts) are judged against the
//! versions catalog for every back-end alike (`crate::validate::versions`): what AWS no
//! longer creates is refused there, extended support and retired charts are
//! `version-support` warnings. No AWS-only rule remains here yet.

use super::Ctx;

pub fn check(_ctx: &Ctx) {}
