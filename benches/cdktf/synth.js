// CDK for Terraform building the same Terraform JSON infragen wrote, to time cdktf on the
// same machine and the same stack (scripts/bench-cdktf.sh runs it).
//
//   node synth.js INFRAGEN_OUT CDKTF_OUT [--report FILE] [--typed]
//
// INFRAGEN_OUT is an `infragen synth --out` folder. Every `terraform/<module>/*.tf.json`
// becomes one TerraformStack named <module>; every resource, data source, output, provider
// and backend in it becomes one cdktf construct with the same address, and `app.synth()`
// writes CDKTF_OUT/stacks/<module>/cdk.tf.json. check.js compares that with infragen's files.
//
// The constructs are generic: a TerraformResource / TerraformDataSource subclass whose
// synthesizeAttributes() returns the body as infragen wrote it. That is how cdktf's generated
// provider bindings plug into the core, minus their per-attribute work (typed setters,
// stringToTerraform / listMapper conversions, token checks), so the time measured here is a
// LOWER BOUND for a cdktf program written with @cdktf/provider-aws. Logical ids are
// overridden with infragen's names (no hashed ids), another small saving on cdktf's side.
//
// --typed: every aws_* resource (but typed.js's SKIP list) is built with @cdktf/provider-aws's
// classes instead (package.json's optional dependency, ~400 MB: `npm ci`, not
// `npm ci --omit=optional`); the rest stay generic.
//
// Reading infragen's JSON happens before the clock starts; the in-process figure is
// construct + synth (after `require`), the figure a cdktf user waits for inside `cdktf synth`
// besides the CLI's own start-up. The report is one JSON line.
"use strict";

const t0 = process.hrtime.bigint();
const fs = require("fs");
const path = require("path");
const {
  App,
  TerraformStack,
  TerraformResource,
  TerraformDataSource,
  TerraformProvider,
  TerraformOutput,
  TerraformBackend,
} = require("cdktf");
const tRequired = process.hrtime.bigint();

/**
 * Terraform's meta-arguments go through cdktf's own config (it drops them from the attributes
 * and writes its own): `depends_on` as dependables, `lifecycle`, `count`, `provider`.
 */
function split(body) {
  const { depends_on, lifecycle, count, provider, ...rest } = body;
  const config = {};
  if (depends_on) config.dependsOn = depends_on.map((fqn) => ({ fqn }));
  if (lifecycle) config.lifecycle = lifecycle;
  if (count !== undefined) config.count = count;
  if (provider) config.provider = { fqn: provider };
  return [config, rest];
}

class Resource extends TerraformResource {
  constructor(scope, type, name, whole) {
    const [config, body] = split(whole);
    super(scope, `${type}.${name}`, { terraformResourceType: type, ...config });
    this.overrideLogicalId(name);
    this.body = body;
  }
  synthesizeAttributes() {
    return this.body;
  }
}

class DataSource extends TerraformDataSource {
  constructor(scope, type, name, whole) {
    const [config, body] = split(whole);
    super(scope, `data.${type}.${name}`, { terraformResourceType: type, ...config });
    this.overrideLogicalId(name);
    this.body = body;
  }
  synthesizeAttributes() {
    return this.body;
  }
}

class Provider extends TerraformProvider {
  constructor(scope, type, body, requirement) {
    super(scope, `provider.${type}.${body.alias ?? "default"}`, {
      terraformResourceType: type,
      terraformProviderSource: requirement?.source,
      terraformGeneratorMetadata: requirement
        ? { providerName: type, providerVersion: requirement.version }
        : undefined,
    });
    const { alias, ...rest } = body;
    this.providerAlias = alias;
    this.body = rest;
  }
  get alias() {
    return this.providerAlias;
  }
  synthesizeAttributes() {
    return this.body;
  }
}

class Backend extends TerraformBackend {
  constructor(scope, name, body) {
    super(scope, "backend", name);
    this.body = body;
  }
  synthesizeAttributes() {
    return this.body;
  }
}

/** Every module of an infragen output: { name, blocks: [parsed *.tf.json, ...] }. */
function readModules(dir) {
  const root = path.join(dir, "terraform");
  return fs
    .readdirSync(root)
    .sort()
    .map((name) => ({
      name,
      blocks: fs
        .readdirSync(path.join(root, name))
        .filter((f) => f.endsWith(".tf.json"))
        .sort()
        .map((f) => JSON.parse(fs.readFileSync(path.join(root, name, f), "utf8"))),
    }));
}

function buildStack(app, module, typed) {
  const stack = new TerraformStack(app, module.name);
  // required_providers is written by cdktf from each provider construct; keep the entries
  // to hand them to the providers, and pass the ones without a provider block through.
  const requirements = {};
  for (const b of module.blocks) Object.assign(requirements, b.terraform?.required_providers);
  const configured = new Set();
  for (const b of module.blocks) {
    for (const [type, bodies] of Object.entries(b.provider ?? {})) {
      for (const body of [].concat(bodies)) {
        new Provider(stack, type, body, requirements[type]);
        configured.add(type);
      }
    }
  }
  for (const b of module.blocks) {
    for (const [key, value] of Object.entries(b.terraform ?? {})) {
      if (key === "backend") {
        for (const [name, body] of Object.entries(value)) new Backend(stack, name, body);
      } else if (key === "required_providers") {
        for (const [type, req] of Object.entries(value)) {
          if (!configured.has(type)) stack.addOverride(`terraform.required_providers.${type}`, req);
        }
      } else {
        stack.addOverride(`terraform.${key}`, value);
      }
    }
    for (const [type, byName] of Object.entries(b.resource ?? {})) {
      const Typed = typed?.classFor(type);
      for (const [name, body] of Object.entries(byName)) {
        if (Typed) typed.build(Typed, stack, type, name, body);
        else new Resource(stack, type, name, body);
      }
    }
    for (const [type, byName] of Object.entries(b.data ?? {})) {
      for (const [name, body] of Object.entries(byName)) new DataSource(stack, type, name, body);
    }
    for (const [name, body] of Object.entries(b.output ?? {})) {
      const o = new TerraformOutput(stack, name, {
        value: body.value,
        description: body.description,
        sensitive: body.sensitive,
        staticId: true,
      });
      for (const [k, v] of Object.entries(body)) {
        if (!["value", "description", "sensitive"].includes(k)) o.addOverride(k, v);
      }
    }
    for (const key of Object.keys(b)) {
      if (!["//", "terraform", "provider", "resource", "data", "output"].includes(key)) {
        // locals, variables, moved/import/check blocks: none today; pass them through.
        stack.addOverride(key, b[key]);
      }
    }
  }
  return stack;
}

function main() {
  const args = process.argv.slice(2);
  const flag = (name) => {
    const i = args.indexOf(name);
    if (i < 0) return undefined;
    const [value] = args.splice(i, 2).slice(1);
    return value;
  };
  const typedFlag = args.indexOf("--typed");
  if (typedFlag >= 0) args.splice(typedFlag, 1);
  const report = flag("--report");
  const [input, outdir] = args;
  if (!input || !outdir) {
    console.error("usage: node synth.js INFRAGEN_OUT CDKTF_OUT [--report FILE] [--typed]");
    process.exit(2);
  }
  // Loaded before the clock like cdktf itself: requiring @cdktf/provider-aws is part of the
  // process time, not of construct + synth.
  const typed = typedFlag >= 0 ? require("./typed.js") : undefined;
  const tStart = process.hrtime.bigint();
  const modules = readModules(input);
  const tJson = process.hrtime.bigint();
  if (typed) {
    typed.load(modules.flatMap((m) => m.blocks.flatMap((b) => Object.keys(b.resource ?? {}))));
  }
  const tRead = process.hrtime.bigint();

  const app = new App({ outdir, skipValidation: false });
  for (const m of modules) buildStack(app, m, typed);
  const tBuilt = process.hrtime.bigint();
  app.synth();
  const tSynth = process.hrtime.bigint();

  const ms = (a, b) => Number(b - a) / 1e6;
  const line = JSON.stringify({
    require_ms: ms(t0, tRequired),
    // Reading infragen's JSON: no part of a cdktf program, taken off its process time.
    read_ms: ms(tStart, tJson),
    // With --typed, requiring the classes of the types used (part of a cdktf program).
    bindings_ms: ms(tJson, tRead),
    construct_ms: ms(tRead, tBuilt),
    synth_ms: ms(tBuilt, tSynth),
    in_process_ms: ms(tRead, tSynth),
    typed: typed ? typed.count() : 0,
  });
  if (report) fs.writeFileSync(report, line + "\n");
  else console.log(line);
}

main();
