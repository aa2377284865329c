//! One blueprint for several providers (`tests/fixtures/new-user/`). A fixture whose
//! environments each belong to one provider lists its pairs in a `# targets:` header
//! (`support::targets`), and every harness check synthesizes exactly those; the pairs it
//! leaves out (an ECS environment on DigitalOcean, a DOKS one on AWS) must be refused with a
//! positioned error that names the portable form, never synthesized into something else.

use crate::connections::new_user_fixtures;
use crate::support::{refused_targets, root, targets};

#[test]
fn the_pairs_a_multi_provider_fixture_leaves_out_are_refused_with_a_position() {
    let mut refused = 0;
    for path in new_user_fixtures() {
        let rel = path.strip_prefix(root()).unwrap().display().to_string();
        let bytes = std::fs::read(&path).unwrap();
        assert!(!targets(&path).is_empty(), "{rel}: no targets");
        for (provider, env) in refused_targets(&path) {
            match infragen::synthesize(&rel, &bytes, provider, &env) {
                Ok(_) => panic!(
                    "{rel} --provider {provider} --env {env}: synthesized, but the fixture's `# targets:` leaves it out"
                ),
                Err(d) => {
                    let text = d.to_string();
                    assert!(
                        text.contains(&format!("--> {rel}:")),
                        "{rel} --provider {provider} --env {env}: refused without a position:\n{text}"
                    );
                    assert!(
                        text.contains("cluster.platform"),
                        "{rel} --provider {provider} --env {env}: refused for another reason than the platform:\n{text}"
                    );
                    refused += 1;
                }
            }
        }
    }
    assert!(refused >= 4, "only {refused} left-out pairs checked");
}

/// A fixture written for several providers is checked on every one of them.
#[test]
fn a_fixture_for_several_providers_is_synthesized_for_each() {
    let mut multi = 0;
    for path in new_user_fixtures() {
        let bytes = std::fs::read(&path).unwrap();
        let loaded = infragen::blueprint::load("x", &bytes, &targets(&path)[0].1).unwrap();
        let bp = &loaded.blueprint;
        let configured = [
            (bp.providers.aws.is_some(), infragen::Provider::Aws),
            (
                bp.providers.digitalocean.is_some(),
                infragen::Provider::Digitalocean,
            ),
        ];
        let covered: Vec<_> = targets(&path).into_iter().map(|(p, _)| p).collect();
        for (given, p) in configured {
            if given {
                assert!(
                    covered.contains(&p),
                    "{}: configures {p} but no check synthesizes it",
                    path.display()
                );
            }
        }
        if configured.iter().filter(|(g, _)| *g).count() > 1 {
            multi += 1;
        }
    }
    assert!(multi >= 3, "only {multi} multi-provider fixtures");
}
