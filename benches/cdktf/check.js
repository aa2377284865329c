// Checks that cdktf's output (synth.js) declares what infragen wrote: per module, the same
// resource and data-source addresses (and counts), outputs, providers and terraform block,
// with bodies equal once cdktf's own "//" metadata is set aside.
//
//   node check.js INFRAGEN_OUT CDKTF_OUT     (exit 1 and the first differences if not)
"use strict";

const fs = require("fs");
const path = require("path");

/** Drop cdktf's and infragen's "//" comment/metadata keys at every level. */
function strip(v) {
  if (Array.isArray(v)) return v.map(strip);
  if (v && typeof v === "object") {
    const out = {};
    for (const k of Object.keys(v).sort()) if (k !== "//") out[k] = strip(v[k]);
    return out;
  }
  return v;
}

/** A module's *.tf.json merged the way Terraform reads them (no key appears twice). */
function infragenModule(dir) {
  const merged = {};
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".tf.json")).sort()) {
    const j = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
    for (const [block, value] of Object.entries(j)) {
      if (block === "//") continue;
      merged[block] ??= {};
      for (const [k, v] of Object.entries(value)) {
        if (block === "resource" || block === "data") {
          merged[block][k] = { ...(merged[block][k] ?? {}), ...v };
        } else if (block === "terraform") {
          merged[block][k] = typeof v === "object" && !Array.isArray(v) ? { ...(merged[block][k] ?? {}), ...v } : v;
        } else {
          merged[block][k] = v;
        }
      }
    }
  }
  // cdktf always writes a provider block as a list (several configurations of one type).
  for (const [type, body] of Object.entries(merged.provider ?? {})) {
    merged.provider[type] = [].concat(body);
  }
  return strip(merged);
}

function addresses(tf) {
  const out = [];
  for (const [type, byName] of Object.entries(tf.resource ?? {}))
    for (const name of Object.keys(byName)) out.push(`${type}.${name}`);
  for (const [type, byName] of Object.entries(tf.data ?? {}))
    for (const name of Object.keys(byName)) out.push(`data.${type}.${name}`);
  for (const name of Object.keys(tf.output ?? {})) out.push(`output.${name}`);
  return out.sort();
}

function diff(a, b, at, found) {
  if (found.length >= 10) return;
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) diff(a[k], b[k], `${at}.${k}`, found);
  } else {
    found.push(`${at}: infragen ${JSON.stringify(a)?.slice(0, 200)} / cdktf ${JSON.stringify(b)?.slice(0, 200)}`);
  }
}

const [input, outdir] = process.argv.slice(2);
if (!input || !outdir) {
  console.error("usage: node check.js INFRAGEN_OUT CDKTF_OUT");
  process.exit(2);
}
let failed = false;
const totals = { resource: 0, data: 0, output: 0 };
for (const m of fs.readdirSync(path.join(input, "terraform")).sort()) {
  const ours = infragenModule(path.join(input, "terraform", m));
  const theirs = strip(JSON.parse(fs.readFileSync(path.join(outdir, "stacks", m, "cdk.tf.json"), "utf8")));
  const [a, b] = [addresses(ours), addresses(theirs)];
  // A module without a backend block keeps its state locally; cdktf spells that default
  // out as a `local` backend with a path of its own.
  if (!ours.terraform?.backend && theirs.terraform?.backend?.local) delete theirs.terraform.backend;
  const found = [];
  if (a.join("\n") !== b.join("\n")) found.push(`addresses differ: infragen ${a.length}, cdktf ${b.length}`);
  diff(ours, theirs, m, found);
  for (const block of Object.keys(totals))
    totals[block] += Object.values(ours[block] ?? {}).reduce((n, v) => n + (block === "output" ? 1 : Object.keys(v).length), 0);
  if (found.length) {
    failed = true;
    console.error(`module ${m}:\n  ${found.join("\n  ")}`);
  }
}
console.log(
  `${failed ? "DIFFERENT" : "same"}: ${totals.resource} resources, ${totals.data} data sources, ${totals.output} outputs`,
);
process.exit(failed ? 1 : 0);
