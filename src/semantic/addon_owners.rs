//! One owner per add-on. EKS offers metrics-server and cert-manager as managed (community)
//! add-ons too, but `platform` installs its own Helm releases of both when the blueprint
//! needs them (metrics-server for the HorizontalPodAutoscalers, cert-manager for the
//! issuers), configured as the rest of the output expects (Fargate ports, the Gateway API
//! switch, CRDs kept). Listed in `cluster.addons` as well, two installers would own the same
//! Deployments, webhooks and APIService (`v1beta1.metrics.k8s.io`) in one namespace: the
//! Helm release refuses objects it does not own ("exists and cannot be imported into the
//! current release") and `terraform/platform` fails, or each overwrites the other's
//! configuration on every update. Refused at the add-on.

use crate::blueprint::types::{Blueprint, Platform};
use crate::catalog::Provider;

use super::Checker;

pub(crate) fn check(c: &mut Checker, bp: &Blueprint) {
    let Some(cluster) = bp.cluster.as_ref() else {
        return;
    };
    if c.provider != Provider::Aws
        || !matches!(cluster.platform, Platform::Eks | Platform::EksFargate)
    {
        return;
    }
    let cert_manager = bp
        .kubernetes
        .as_ref()
        .is_some_and(|k| k.cert_manager.is_some() || !k.issuers.is_empty());
    for (i, addon) in cluster.addons.iter().enumerate() {
        let why = match addon.as_str() {
            "metrics-server" if crate::k8s::uses_resource_metrics(bp) => {
                "`platform` installs metrics-server (Helm chart `metrics-server`) for the HorizontalPodAutoscalers"
            }
            "cert-manager" if cert_manager => {
                "`platform` installs cert-manager (Helm chart `cert-manager`) for `kubernetes.issuers` / `cert_manager`"
            }
            _ => continue,
        };
        c.error(
            &format!("cluster.addons[{i}]"),
            format!(
                "{why}; the EKS add-on `{addon}` would install a second copy into the same namespace, and the two would fight over its Deployments, webhooks and API registrations (the Helm release fails on objects it does not own)"
            ),
        )
        .help = Some(format!("remove `{addon}` from `cluster.addons`"));
    }
}
