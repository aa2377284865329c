//! What a GitOps tool (Argo CD, Flux) pointed at `k8s/` needs of it (docs/gitops.md).

use crate::connections::new_user_fixtures;
use crate::support::{manifests, matrix, synth, targets};

/// A Job in `k8s/` never deletes itself: Argo CD and Flux re-create a synced Job that the
/// TTL controller removed, so a `ttlSecondsAfterFinished` Job would run again after every
/// TTL and the Application would show OutOfSync/Missing in between (argoproj/argo-cd#8586;
/// Argo CD's resource hooks guide, "Sync Status with Jobs/Workflows with Time to Live").
/// A CronJob's Jobs are owned by the CronJob, which the tools leave alone: their TTL stays.
#[test]
fn no_synced_job_deletes_itself() {
    let mut outputs = Vec::new();
    for (stem, path, p, env) in matrix() {
        outputs.push((format!("{stem} {p} {env}"), synth(&path, p, &env)));
    }
    for path in new_user_fixtures() {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        for (p, env) in targets(&path) {
            outputs.push((format!("new-user/{stem} {p} {env}"), synth(&path, p, &env)));
        }
    }
    let mut jobs = 0;
    let mut rs_init = 0;
    for (label, out) in &outputs {
        for m in manifests(out).iter().filter(|m| m["kind"] == "Job") {
            jobs += 1;
            let name = m["metadata"]["name"].as_str().unwrap_or_default();
            if name.contains("-rs-init-") {
                rs_init += 1;
            }
            assert!(
                m["spec"].get("ttlSecondsAfterFinished").is_none(),
                "{label}: Job {name} deletes itself after it finishes; a GitOps tool syncing \
                 k8s/ would create it again"
            );
        }
    }
    // Not vacuous: release Jobs and MongoDB replica-set Jobs are among them.
    assert!(jobs > 10 && rs_init > 2, "{jobs} Jobs, {rs_init} rs-init");
}
