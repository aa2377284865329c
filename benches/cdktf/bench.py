#!/usr/bin/env python3
"""infragen and CDK for Terraform on the same stacks, in the same minutes.

    python3 benches/cdktf/bench.py WORKDIR INFRAGEN_BINARY ROUNDS INFRAGEN_RUNS [--typed] CASE...

CASE is `label=blueprint.yaml` (aws, production). scripts/bench-cdktf.sh prepares WORKDIR
(WORKDIR/<i>/infragen holds infragen's output, the input of benches/cdktf/synth.js) and
calls this. Each round runs, for every case, infragen INFRAGEN_RUNS times and cdktf once
(and the typed-bindings variant once with --typed), the order flipped every round, so a
drift of the VM's speed hits both sides alike. Whole-process wall time is taken around
posix_spawn + wait4, the same for both; cdktf's in-process time (construct + synth, after
`require`) is what synth.js reports, and cdktf's process time leaves out the time synth.js
spends reading infragen's JSON (it reports it). CPU time (user + system, from wait4) moves
less than wall time when other work shares the cores. Medians per case; ratio = cdktf /
infragen.
"""

import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEVNULL = os.open(os.devnull, os.O_WRONLY)


def run(argv, stdout_path=None):
    """Wall seconds, CPU seconds (user + system) and peak RSS (KiB) of one process, which
    must exit 0. Peak RSS also counts this (small) process, as a vfork'd child's does."""
    out = os.open(stdout_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC) if stdout_path else DEVNULL
    actions = [(os.POSIX_SPAWN_DUP2, out, 1), (os.POSIX_SPAWN_DUP2, DEVNULL, 2)]
    start = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if out != DEVNULL:
        os.close(out)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed ({status}): {' '.join(argv)}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def main():
    args = sys.argv[1:]
    typed = "--typed" in args
    args = [a for a in args if a != "--typed"]
    workdir, infragen, rounds, runs, *cases = args
    rounds, runs = int(rounds), int(runs)
    node = next(
        os.path.join(d, "node")
        for d in os.environ["PATH"].split(os.pathsep)
        if os.access(os.path.join(d, "node"), os.X_OK)
    )
    synth = os.path.join(HERE, "synth.js")

    plan = []
    for i, case in enumerate(cases):
        label, blueprint = case.split("=", 1)
        d = os.path.join(workdir, str(i))
        ours = [infragen, "synth", "--provider", "aws", "--env", "production",
                "--blueprint", blueprint, "--out", os.path.join(d, "infragen")]
        variants = {"generic": [node, synth, os.path.join(d, "infragen"), os.path.join(d, "cdktf")]}
        if typed:
            variants["typed"] = variants["generic"][:2] + [
                os.path.join(d, "infragen"), os.path.join(d, "cdktf-typed"), "--typed"]
        plan.append({"label": label, "ours": ours, "variants": variants, "dir": d,
                     "infragen": [], "infragen_cpu": [], "cdktf": {v: [] for v in variants},
                     "cdktf_cpu": {v: [] for v in variants},
                     "inproc": {v: [] for v in variants}, "rss": {v: 0 for v in variants},
                     "typed_count": 0})

    floor = sorted(run(["/bin/true"])[0] for _ in range(51))[25]
    load0 = os.getloadavg()
    t0 = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    began = time.monotonic()
    for r in range(rounds):
        for c in plan:
            def ours():
                for _ in range(runs):
                    wall, cpu, _ = run(c["ours"])
                    c["infragen"].append(wall)
                    c["infragen_cpu"].append(cpu)

            def theirs():
                for v, argv in c["variants"].items():
                    report = os.path.join(c["dir"], f"report-{v}.json")
                    wall, cpu, rss = run(argv + ["--report", report])
                    rep = json.load(open(report))
                    # Reading infragen's JSON is no part of a cdktf program: not counted.
                    c["cdktf"][v].append(wall - rep["read_ms"] / 1000)
                    c["cdktf_cpu"][v].append(cpu - rep["read_ms"] / 1000)
                    c["inproc"][v].append(rep["in_process_ms"] / 1000)
                    c["rss"][v] = max(c["rss"][v], rss)
                    if v == "typed":
                        c["typed_count"] = rep["typed"]

            for step in ((ours, theirs) if r % 2 == 0 else (theirs, ours)):
                step()
        print(f"round {r + 1}/{rounds} done ({time.monotonic() - began:.0f} s)", file=sys.stderr)
    load1 = os.getloadavg()

    print(f"\n{t0}, {rounds} rounds over {time.monotonic() - began:.0f} s; per round and case "
          f"infragen {runs}x, cdktf 1x per variant, alternating. Load average "
          f"{load0[0]:.2f} before, {load1[0]:.2f} after; {os.cpu_count()} CPUs. "
          f"Spawn floor (/bin/true): {floor * 1000:.2f} ms.\n")
    print("| stack | infragen process ms | cdktf construct+synth ms | cdktf process ms "
          "| ratio in-process | ratio process | CPU ms infragen / cdktf process (ratio) "
          "| cdktf peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for c in plan:
        ig, igc = med(c["infragen"]), med(c["infragen_cpu"])
        for v in c["variants"]:
            ip, pr, prc = med(c["inproc"][v]), med(c["cdktf"][v]), med(c["cdktf_cpu"][v])
            name = c["label"] + ("" if v == "generic" else
                                 f" (typed bindings for {c['typed_count']} resources)")
            print(f"| {name} | {ig * 1000:.2f} | {ip * 1000:.0f} | {pr * 1000:.0f} "
                  f"| {ip / ig:.0f}x | {pr / ig:.0f}x "
                  f"| {igc * 1000:.1f} / {prc * 1000:.0f} ({prc / igc:.0f}x) "
                  f"| {c['rss'][v] / 1024:.0f} |")
    spread = {c["label"]: [round(min(c["inproc"]["generic"]) * 1000),
                           round(max(c["inproc"]["generic"]) * 1000)] for c in plan}
    print(f"\ncdktf construct+synth min..max per stack (ms): {spread}")
    spread = {c["label"]: [round(min(c["infragen"]) * 1000, 2),
                           round(max(c["infragen"]) * 1000, 2)] for c in plan}
    print(f"infragen process min..max per stack (ms): {spread}")


if __name__ == "__main__":
    main()
