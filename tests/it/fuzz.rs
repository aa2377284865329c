//! Mutation fuzzing of the whole pipeline (parser, overlay merge, checks, back-ends): the
//! shipped blueprints, damaged at random, must give `Ok` or a positioned error — never a
//! panic, never a hang. `INFRAGEN_FUZZ_ITERS=N cargo test --release fuzz` runs longer; the
//! README records the longest run.

use std::time::{Duration, Instant};

use infragen::Provider;

use crate::support::blueprints;

/// xorshift64*: deterministic, so a failure reproduces from its iteration number.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ": ",
    "- ",
    "-",
    ",",
    "&a ",
    "*a",
    "&b [*a, *a]",
    "!!str ",
    "!tag ",
    "null",
    "~",
    "\t",
    "\"",
    "'",
    "\n",
    "\n  ",
    "\n    - ",
    "<<: ",
    "$patch: delete",
    "{env}",
    "\u{E000}",
    "#",
    "? ",
    "|\n  x",
    ">-\n  y",
    "---\n",
    "...\n",
    "0x1F",
    "1e400",
    "-1",
    "99999999999999999999",
    "10.0.0.0/33",
    "${var.x}",
    "%{",
    "name: ",
    "environments:\n  x: {}\n",
];

fn mutate(rng: &mut Rng, src: &[u8]) -> Vec<u8> {
    let mut b = src.to_vec();
    for _ in 0..=rng.below(4) {
        let len = b.len().max(1);
        let at = rng.below(len).min(b.len());
        match rng.below(7) {
            0 if !b.is_empty() => {
                let i = at.min(b.len() - 1);
                b[i] ^= 1 << rng.below(8);
            }
            1 => {
                let end = (at + rng.below(64)).min(b.len());
                b.drain(at..end);
            }
            2 => {
                let end = (at + rng.below(200)).min(b.len());
                let chunk = b[at..end].to_vec();
                let to = rng.below(b.len() + 1);
                b.splice(to..to, chunk);
            }
            3 | 4 => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                b.splice(at..at, t.iter().copied());
            }
            5 => b.truncate(at),
            _ => {
                // Swap two lines, which moves keys between mappings and indentation levels.
                let text = String::from_utf8_lossy(&b).into_owned();
                let mut lines: Vec<&str> = text.lines().collect();
                if lines.len() > 2 {
                    let (i, j) = (rng.below(lines.len()), rng.below(lines.len()));
                    lines.swap(i, j);
                }
                b = lines.join("\n").into_bytes();
            }
        }
    }
    b
}

#[test]
fn mutated_blueprints_never_panic() {
    let iters: usize = std::env::var("INFRAGEN_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let sources: Vec<Vec<u8>> = blueprints()
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    let envs = ["production", "staging", "development", "stage"];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let started = Instant::now();
    let (mut ok, mut rejected) = (0usize, 0usize);
    for i in 0..iters {
        for src in &sources {
            let input = mutate(&mut rng, src);
            let env = envs[rng.below(envs.len())];
            for provider in Provider::ALL {
                let t = Instant::now();
                let r = std::panic::catch_unwind(|| {
                    infragen::synthesize("fuzz.yaml", &input, provider, env)
                });
                match r {
                    Err(_) => panic!(
                        "iteration {i}: panic on input:\n{}",
                        String::from_utf8_lossy(&input)
                    ),
                    Ok(Ok(_)) => ok += 1,
                    Ok(Err(d)) => {
                        assert!(!d.is_empty());
                        // Two resources on one address is a defect in infragen, never a
                        // fault of the input: names are made unique where they are derived.
                        assert!(
                            !d.0.iter().any(|d| d.message.contains("would share the ")),
                            "iteration {i}: {d:?} on input:\n{}",
                            String::from_utf8_lossy(&input)
                        );
                        rejected += 1;
                    }
                }
                assert!(
                    t.elapsed() < Duration::from_secs(2),
                    "iteration {i}: slow input"
                );
            }
        }
    }
    eprintln!(
        "fuzz: {iters} iterations, {} runs ({ok} accepted, {rejected} rejected) in {:?}",
        ok + rejected,
        started.elapsed()
    );
}

#[test]
fn very_large_and_very_wide_inputs_are_handled() {
    // Over the size limit: refused before parsing.
    let big = vec![b'#'; infragen::blueprint::MAX_BLUEPRINT_BYTES + 1];
    let e = infragen::synthesize("big.yaml", &big, Provider::Aws, "production").unwrap_err();
    assert!(e.to_string().contains("limit"), "{e}");
    // Large but legitimate: 1,000 services load and lower quickly.
    let mut s = String::from("name: wide\nproviders:\n  aws:\n    region: us-east-1\nservices:\n");
    for i in 0..1000 {
        s.push_str(&format!(
            "  - name: svc-{i}\n    image: example/svc:{i}.0.0\n    port: 8080\n"
        ));
    }
    let t = Instant::now();
    infragen::synthesize(
        "wide.yaml",
        s.as_bytes(),
        Provider::Kubernetes,
        "production",
    )
    .unwrap();
    assert!(t.elapsed() < Duration::from_secs(10));
}
