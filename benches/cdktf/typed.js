// The typed-bindings variant of synth.js (--typed): resources of every aws_* type (but SKIP) are built
// with @cdktf/provider-aws's generated classes (aws provider 6.25.0, the version infragen
// pins), the way a cdktf user writes them: `new CloudwatchLogGroup(stack, id, { name, ... })`
// with camelCase keys. Those classes keep each attribute in a typed field, map nested blocks
// through generated *ToTerraform functions and check tokens per attribute — the work the
// generic constructs of synth.js skip. Other types (random_*) stay generic.
//
// Every aws_* type is typed except SKIP: its body converts mechanically (snake_case keys to
// camelCase, the map attributes below left as they are) and comes out equal to infragen's
// (check.js verifies it before every measurement).
"use strict";


// Types whose bindings take some nested blocks as they are (snake_case), so a mechanical
// camelCase conversion would not come out as infragen's body (check.js says so): generic.
const SKIP = new Set(["aws_s3_bucket_lifecycle_configuration", "aws_wafv2_web_acl"]);

// Attributes of map type: their keys are data (tag names, metric dimensions), not fields.
const MAPS = new Set(["tags", "tags_all", "dimensions"]);

const camel = (s) => s.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());

const classes = new Map();

/** Loads the class of every aws_* type among `types` (before synth.js starts its clock). */
function load(types) {
  for (const type of types) {
    if (!type.startsWith("aws_") || SKIP.has(type) || classes.has(type)) continue;
    const file = type.replace(/^aws_/, "").replace(/_/g, "-");
    // The class is named after the type, unless jsii renamed it (`...A` where a nested
    // type took the name); its static tfResourceType says which it is.
    const exported = Object.values(require(`@cdktf/provider-aws/lib/${file}`));
    const cls = exported.find((c) => c.tfResourceType === type);
    if (!cls) throw new Error(`no class for ${type}`);
    classes.set(type, cls);
  }
}

function convert(value, key) {
  if (Array.isArray(value)) return value.map((v) => convert(v));
  if (value && typeof value === "object") {
    if (MAPS.has(key)) return value;
    const out = {};
    for (const [k, v] of Object.entries(value)) out[camel(k)] = convert(v, k);
    return out;
  }
  return value;
}

let built = 0;

module.exports = {
  load,
  classFor: (type) => classes.get(type),
  build(Cls, scope, type, name, body) {
    const { depends_on, lifecycle, ...rest } = body;
    const config = convert(rest);
    if (depends_on) config.dependsOn = depends_on.map((fqn) => ({ fqn }));
    if (lifecycle) config.lifecycle = lifecycle;
    new Cls(scope, `${type}.${name}`, config).overrideLogicalId(name);
    built++;
  },
  count: () => built,
};
