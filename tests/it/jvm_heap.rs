//! `jvm-heap`: a JVM heap (`-Xmx`) that leaves its container less than 256 MiB beside it is
//! killed once the heap fills (metaspace, code cache, thread stacks live outside it). The
//! container's memory is the ECS task's, or the Kubernetes limit — infragen's default
//! 512Mi where a service gives none, which a Java newcomer rarely expects.

use infragen::Provider;

use crate::support::{ecs_stack, synth_aws};

fn jvm_warnings(out: &infragen::Output) -> Vec<String> {
    out.notes
        .iter()
        .filter(|n| n.rule == Some("jvm-heap"))
        .map(|n| n.text.clone())
        .collect()
}

#[test]
fn a_heap_as_large_as_the_task_is_warned_about() {
    let stack = |options: &str| {
        ecs_stack(
            "foundry",
            &format!(
                "services:
  - name: orders
    image: ghcr.io/foundry/orders:1.0.0
    task: {{ cpu: 1024, memory: 2048 }}
    env: {{ JAVA_TOOL_OPTIONS: \"{options}\" }}
"
            ),
        )
    };
    let warned = jvm_warnings(&synth_aws("foundry", &stack("-Xms2g -Xmx2g")).unwrap());
    assert_eq!(warned.len(), 1, "{warned:#?}");
    assert!(
        warned[0].contains("2048 MiB of the 2048 MiB") && warned[0].contains("`-Xmx1792m`"),
        "{}",
        warned[0]
    );
    for fits in ["-Xmx1536m", "-XX:MaxRAMPercentage=75"] {
        let out = synth_aws("foundry", &stack(fits)).unwrap();
        assert!(jvm_warnings(&out).is_empty(), "{fits}");
    }
}

#[test]
fn a_heap_beyond_the_default_limit_is_warned_about_on_kubernetes() {
    let yaml = |resources: &str| {
        format!(
            "name: foundry
cluster: {{ platform: existing }}
services:
  - name: orders
    image: ghcr.io/foundry/orders:1.0.0
    port: 8080
    env: {{ JAVA_OPTS: \"-Xmx1g\" }}
{resources}"
        )
    };
    let synth = |text: String| {
        infragen::synthesize(
            "foundry.yaml",
            text.as_bytes(),
            Provider::Kubernetes,
            "production",
        )
        .unwrap_or_else(|d| panic!("{d}"))
    };
    // No resources: infragen's default limit, 512Mi.
    let warned = jvm_warnings(&synth(yaml("")));
    assert_eq!(warned.len(), 1, "{warned:#?}");
    assert!(
        warned[0].contains("1024 MiB of the 512 MiB"),
        "{}",
        warned[0]
    );
    let roomy = yaml("    resources: { limits: { cpu: \"1\", memory: 2Gi } }\n");
    assert!(jvm_warnings(&synth(roomy)).is_empty());
}

/// A heap sized as a share is no safer by itself: the usual advice, 75 %, leaves 192 MiB of a
/// 768 MiB limit (the new-user Spring portal of round 8) and 128 MiB of infragen's default
/// 512 MiB, where metaspace and the code cache alone need more. From 1 GiB up it fits.
#[test]
fn a_heap_share_that_leaves_too_little_is_warned_about() {
    let synth = |options: &str, resources: &str| {
        let text = format!(
            "name: guildhall
cluster: {{ platform: existing }}
services:
  - name: portal
    image: ghcr.io/guildhall/portal:3.4.1
    port: 8080
    env: {{ JAVA_TOOL_OPTIONS: \"{options}\" }}
{resources}"
        );
        infragen::synthesize(
            "guildhall.yaml",
            text.as_bytes(),
            Provider::Kubernetes,
            "production",
        )
        .unwrap_or_else(|d| panic!("{d}"))
    };
    let limit = |m: &str| format!("    resources: {{ limits: {{ cpu: \"1\", memory: {m} }} }}\n");
    let warned = jvm_warnings(&synth("-XX:MaxRAMPercentage=75", &limit("768Mi")));
    assert_eq!(warned.len(), 1, "{warned:#?}");
    assert!(
        warned[0].contains("576 MiB of the 768 MiB") && warned[0].contains("MaxRAMPercentage=66"),
        "{}",
        warned[0]
    );
    // infragen's default limit, 512Mi.
    let warned = jvm_warnings(&synth("-XX:MaxRAMPercentage=75.0", ""));
    assert!(
        warned.len() == 1 && warned[0].contains("384 MiB of the 512 MiB"),
        "{warned:#?}"
    );
    for (options, m) in [
        ("-XX:MaxRAMPercentage=75", "1Gi"),
        ("-XX:MaxRAMPercentage=66", "768Mi"),
        // A size wins over the share wherever it stands.
        ("-XX:MaxRAMPercentage=90 -Xmx512m", "768Mi"),
    ] {
        assert!(
            jvm_warnings(&synth(options, &limit(m))).is_empty(),
            "{options} in {m}"
        );
    }
    // On ECS the share is of the task's memory (512 MiB where none is given).
    let ecs = crate::support::ecs_stack(
        "foundry",
        "services:
  - name: orders
    image: ghcr.io/foundry/orders:1.0.0
    env: { JAVA_TOOL_OPTIONS: \"-XX:MaxRAMPercentage=80\" }
",
    );
    let warned = jvm_warnings(&crate::support::synth_aws("foundry", &ecs).unwrap());
    assert!(
        warned.len() == 1 && warned[0].contains("409 MiB of the 512 MiB"),
        "{warned:#?}"
    );
}
