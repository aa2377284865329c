//! A JVM whose maximum heap (`-Xmx`, `-XX:MaxHeapSize=`, or `-XX:MaxRAMPercentage=` of the
//! container's memory) leaves its container no room beside it. The JVM needs memory outside
//! the heap — metaspace, the code cache (240 MiB reserved by default), a stack per thread,
//! GC structures, direct buffers — so a heap sized to the container's whole memory is killed
//! by the OOM killer (Kubernetes `OOMKilled`, ECS exit 137) once it fills, typically under
//! the first real load rather than at start. The container's memory is its Kubernetes limit
//! (infragen's default where none is given) or, on ECS, the task's memory, which its sidecars
//! and the Service Connect proxy share. A percentage is no safer by itself: the advice "75 %"
//! leaves 192 MiB of a 768 MiB container (and 128 MiB of infragen's default 512 MiB limit).
//! Buildpacks reserve that room the same way (Paketo's memory calculator: heap = total −
//! code cache − thread stacks − metaspace − direct memory,
//! <https://paketo.io/docs/reference/java-reference/#memory-calculator>). Warned, with
//! 256 MiB as the least room left (a Spring Boot service needs more): the heap may never
//! fill, so it is no error.
//!
//! Read from the variables the JVM itself reads (`JAVA_TOOL_OPTIONS`, `JDK_JAVA_OPTIONS`,
//! `_JAVA_OPTIONS`) and `JAVA_OPTS`, which the usual start scripts pass on.

use super::Checker;
use crate::blueprint::types::{Blueprint, Platform};
use crate::catalog::Provider;
use crate::diagnostic::Note;

const VARIABLES: [&str; 4] = [
    "JAVA_TOOL_OPTIONS",
    "JDK_JAVA_OPTIONS",
    "_JAVA_OPTIONS",
    "JAVA_OPTS",
];

/// Room the JVM needs beside its heap, at the least.
const NON_HEAP_MIB: u64 = 256;

/// ECS's task size where the blueprint gives none (`backend::aws::ecs`).
const DEFAULT_TASK_MIB: u64 = 512;

pub fn warnings(c: &Checker, bp: &Blueprint) -> Vec<Note> {
    let ecs = c.provider == Provider::Aws && bp.platform() == Some(Platform::EcsFargate);
    let mut out = Vec::new();
    let jobs = bp.jobs.iter().map(|j| j.pod());
    for s in bp.services.iter().chain(jobs) {
        let (limit, what) = if ecs {
            (
                s.task
                    .as_ref()
                    .map_or(DEFAULT_TASK_MIB, |t| u64::from(t.memory)),
                "its ECS task's memory",
            )
        } else {
            let [_, _, _, memory] = crate::k8s::workload::filled(s.resources.as_ref());
            let Some(bytes) = crate::k8s::quantity_bytes(memory) else {
                continue;
            };
            // Whole MiB: a quantity below one MiB is no container's memory anyway.
            (bytes as u64 / (1024 * 1024), "its memory limit")
        };
        for var in VARIABLES {
            let Some(heap) = s.env.get(var).and_then(|v| max_heap(v)) else {
                continue;
            };
            let mib = heap.mib(limit);
            if mib + NON_HEAP_MIB > limit {
                let room = limit.saturating_sub(NON_HEAP_MIB);
                let (set, fix) = match heap {
                    Heap::Fixed(_) => (
                        String::new(),
                        format!(
                            "Leave at least {NON_HEAP_MIB} MiB (`-Xmx{room}m` here), size the heap as a share (`-XX:MaxRAMPercentage=75` of a container of 1 GiB or more)"
                        ),
                    ),
                    Heap::Share(pct) => (
                        format!(" (`-XX:MaxRAMPercentage={pct}`)"),
                        if room == 0 {
                            format!("Give the container more than {NON_HEAP_MIB} MiB")
                        } else {
                            format!(
                                "Leave at least {NON_HEAP_MIB} MiB (`-XX:MaxRAMPercentage={}` here: a share of a small container leaves little beside the heap)",
                                room * 100 / limit
                            )
                        },
                    ),
                };
                out.push(Note::warning(
                    "jvm-heap",
                    format!(
                        "`{}`: `{var}`{set} lets the heap grow to {mib} MiB of the {limit} MiB that is {what}, and the JVM needs memory beside the heap (metaspace, a code cache of up to 240 MiB, a stack per thread): the container is killed once the heap fills. {fix}, or give the container more memory",
                        s.name,
                    ),
                ));
            }
        }
    }
    out
}

/// The largest heap JVM options allow: a size, or a share of the container's memory.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Heap {
    /// `-Xmx` / `-XX:MaxHeapSize=`, in MiB.
    Fixed(u64),
    /// `-XX:MaxRAMPercentage=`, percent of the memory the JVM sees (its container's limit).
    Share(f64),
}

impl Heap {
    fn mib(self, limit: u64) -> u64 {
        match self {
            Heap::Fixed(m) => m,
            // Truncated, as the JVM's own arithmetic is: a warning never rests on rounding up.
            Heap::Share(pct) => (limit as f64 * pct / 100.0) as u64,
        }
    }
}

/// The heap the JVM options set: the last `-Xmx<size>` or `-XX:MaxHeapSize=<size>` wins, as
/// in the JVM, and either overrides `-XX:MaxRAMPercentage` wherever it stands (the JVM sizes
/// the heap by percentage only when no size is given); else the last percentage.
fn max_heap(options: &str) -> Option<Heap> {
    let opts = || options.split_whitespace();
    opts()
        .filter_map(|o| {
            o.strip_prefix("-Xmx")
                .or_else(|| o.strip_prefix("-XX:MaxHeapSize="))
        })
        .filter_map(size_mib)
        .next_back()
        .map(Heap::Fixed)
        .or_else(|| {
            opts()
                .filter_map(|o| o.strip_prefix("-XX:MaxRAMPercentage="))
                .filter_map(|p| p.parse::<f64>().ok())
                .rfind(|p| (0.0..=100.0).contains(p))
                .map(Heap::Share)
        })
}

/// A JVM size (`2g`, `1536m`, `524288k`, bytes without a unit) in MiB, rounded down.
fn size_mib(s: &str) -> Option<u64> {
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits.parse().ok()?;
    let bytes = match unit {
        "" => n,
        "k" | "K" => n.checked_mul(1 << 10)?,
        "m" | "M" => n.checked_mul(1 << 20)?,
        "g" | "G" => n.checked_mul(1 << 30)?,
        "t" | "T" => n.checked_mul(1 << 40)?,
        _ => return None,
    };
    Some(bytes >> 20)
}

#[cfg(test)]
mod tests {
    use super::{Heap, max_heap};

    #[test]
    fn heap_sizes_are_read_as_the_jvm_reads_them() {
        let fixed = |o| max_heap(o).map(|h| h.mib(4096));
        assert_eq!(fixed("-Xms512m -Xmx2g -XX:+UseG1GC"), Some(2048));
        assert_eq!(fixed("-Xmx1536M"), Some(1536));
        assert_eq!(fixed("-Xmx524288k"), Some(512));
        assert_eq!(fixed("-XX:MaxHeapSize=1073741824"), Some(1024));
        assert_eq!(fixed("-Xmx1g -Xmx3g"), Some(3072));
        assert_eq!(fixed("-Xmx2q"), None);
        // A share of the container's memory; a size given anywhere wins over it.
        assert_eq!(max_heap("-XX:MaxRAMPercentage=75"), Some(Heap::Share(75.0)));
        assert_eq!(max_heap("-XX:MaxRAMPercentage=75").unwrap().mib(768), 576);
        assert_eq!(
            max_heap("-XX:MaxRAMPercentage=62.5").unwrap().mib(1024),
            640
        );
        assert_eq!(
            max_heap("-XX:MaxRAMPercentage=90 -Xmx1g"),
            Some(Heap::Fixed(1024))
        );
        assert_eq!(max_heap("-XX:MaxRAMPercentage=abc"), None);
        assert_eq!(max_heap("-XX:+UseG1GC"), None);
    }
}
