//! cert-manager ClusterIssuers (`k8s/cluster/issuers.yaml`): ACME (Let's Encrypt staging or
//! production) with its account key in a Secret named after the issuer and an HTTP-01 solver
//! through the ingress class (an HTTPRoute on the Gateway with `ingress.gateway`), or
//! self-signed. They need cert-manager's CRDs, so apply them
//! after cert-manager is installed.

use super::yaml::{Map, map};
use super::{Ctx, Files};
use crate::blueprint::types::IssuerKind;

pub fn lower<'c>(ctx: &'c Ctx, files: &mut Files<'c>) {
    for i in &ctx.platform.issuers {
        let spec = match i.kind {
            IssuerKind::Acme => {
                let class = i
                    .solver_class
                    .clone()
                    .or_else(|| ctx.opts.ingress_class.clone())
                    .unwrap_or_else(|| "nginx".into());
                let acme = map! {
                    "server" => i.server.clone().unwrap_or_else(|| {
                        "https://acme-v02.api.letsencrypt.org/directory".into()
                    }),
                }
                .opt("email", i.email.as_ref())
                .with("privateKeySecretRef", map! {"name" => i.name.as_str()})
                .with(
                    "solvers",
                    vec![map! {
                        "http01" => match super::gateway::gateway(ctx) {
                            // With the Gateway API, the challenge is an HTTPRoute on the
                            // Gateway's HTTP listener.
                            Some(_) => {
                                let (name, ns) = super::gateway::gateway_ref(ctx);
                                map! {"gatewayHTTPRoute" => map! {"parentRefs" => vec![map! {
                                    "name" => name, "namespace" => ns, "kind" => "Gateway", "sectionName" => "http",
                                }]}}
                            }
                            None => map! {"ingress" => map! {"ingressClassName" => class}},
                        },
                    }],
                );
                map! {"acme" => acme}
            }
            IssuerKind::SelfSigned => map! {"selfSigned" => Map::new()},
        };
        files.at("k8s/cluster/issuers.yaml").push(map! {
            "apiVersion" => "cert-manager.io/v1",
            "kind" => "ClusterIssuer",
            "metadata" => ctx.cluster_meta(&i.name),
            "spec" => spec,
        });
    }
}
