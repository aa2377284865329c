//! Kubernetes back-end (`--provider kubernetes`): manifests for an existing cluster, with
//! data services run inside it.

use super::{Output, not_lowered};
use crate::catalog::Provider;
use crate::validate::Validated;

pub fn synth(v: &Validated) -> Output {
    let mut out = Output::default();
    out.notes
        .extend(not_lowered(v.bp, Provider::Kubernetes, &[]));
    out
}
