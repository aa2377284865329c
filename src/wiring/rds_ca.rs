//! The CA certificates Amazon RDS signs its servers' certificates with, per region
//! (`providers/rds-ca.json`): public data, vendored so `synth` needs no network and writes
//! the same output every time.
//!
//! No container image trusts them ("Amazon RDS us-east-1 Root CA RSA2048 G1" is in no
//! public trust store), so a client that verifies the server — node-postgres, which reads
//! `sslmode=require` as `verify-full` (github.com/brianc/node-postgres/pull/3473), or a MySQL
//! client configured to verify — fails every connection ("self-signed certificate in
//! certificate chain") unless it is handed the region's bundle. AWS publishes it as a
//! download (`https://truststore.pki.rds.amazonaws.com/<region>/<region>-bundle.pem`,
//! "Certificate bundles by AWS Region",
//! <https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html>), not as a
//! Terraform attribute; the G1 roots it holds are these.

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The CA infragen gives every RDS instance (`ca_cert_identifier`,
/// `backend::aws::database`): the bundle handed to clients must hold it.
pub const CA_IDENTIFIER: &str = "rds-ca-rsa2048-g1";

#[derive(serde::Deserialize)]
struct Catalog {
    /// region → CA identifier → PEM certificate.
    regions: BTreeMap<String, BTreeMap<String, String>>,
}

fn catalog() -> &'static Catalog {
    static C: OnceLock<Catalog> = OnceLock::new();
    C.get_or_init(|| {
        serde_json::from_str(include_str!("../../providers/rds-ca.json"))
            .expect("providers/rds-ca.json is valid (tests/it/tls_trust.rs)")
    })
}

/// The certificates of `region` by CA identifier, if vendored.
pub fn certificates(region: &str) -> Option<&'static BTreeMap<String, String>> {
    catalog().regions.get(region)
}

/// The regions with vendored certificates.
pub fn regions() -> impl Iterator<Item = &'static str> {
    catalog().regions.keys().map(String::as_str)
}

/// The PEM bundle a client of an RDS instance in `region` trusts: every G1 root of the
/// region (all three CAs, as AWS's regional bundle holds them, so a CA changed on the
/// instance later is still trusted), `None` where none is vendored.
pub fn bundle(region: &str) -> Option<String> {
    let certs = certificates(region)?;
    certs
        .contains_key(CA_IDENTIFIER)
        .then(|| certs.values().map(String::as_str).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regional_bundle_holds_the_instances_ca() {
        let b = bundle("us-east-1").unwrap();
        assert_eq!(b.matches("-----BEGIN CERTIFICATE-----").count(), 3);
        assert!(b.ends_with("-----END CERTIFICATE-----\n"));
        assert!(bundle("xx-nowhere-1").is_none());
        assert!(regions().count() >= 27);
    }
}
