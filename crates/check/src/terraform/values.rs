//! Literal JSON values against cty types.

use serde_json::Value;

use super::expr::is_expr;
use super::messages::{describe, did_you_mean, suggest};
use super::{At, Checker};

impl Checker<'_> {
    /// Port of `check_value`: literal JSON against a cty type. `null` and expressions fit anything.
    pub(super) fn check_value(&mut self, at: At<'_>, path: &str, ty: &Value, v: &Value) {
        if v.is_null() || is_expr(v) {
            return;
        }
        match ty {
            Value::String(prim) => match prim.as_str() {
                // Terraform converts numbers and bools to strings.
                "string" if !(v.is_string() || v.is_number() || v.is_boolean()) => {
                    self.report(
                        at,
                        format!("{path}: expected a string, got {}", describe(v)),
                    );
                }
                "number" if !(v.is_number() || v.as_str().is_some_and(is_number_text)) => {
                    self.report(
                        at,
                        format!("{path}: expected a number, got {}", describe(v)),
                    );
                }
                "bool" if !(v.is_boolean() || matches!(v.as_str(), Some("true" | "false"))) => {
                    self.report(at, format!("{path}: expected a bool, got {}", describe(v)));
                }
                _ => {}
            },
            Value::Array(t) => {
                let kind = t.first().and_then(Value::as_str).unwrap_or("");
                let elem = t.get(1).unwrap_or(&Value::Null);
                match kind {
                    "list" | "set" => match v.as_array() {
                        Some(items) => {
                            for (i, x) in items.iter().enumerate() {
                                self.check_value(at, &format!("{path}[{i}]"), elem, x);
                            }
                        }
                        None => self.report(
                            at,
                            format!("{path}: expected a {kind}, got {}", describe(v)),
                        ),
                    },
                    "map" => match v.as_object() {
                        Some(entries) => {
                            for (k, x) in entries {
                                self.check_value(at, &format!("{path}.{k}"), elem, x);
                            }
                        }
                        None => {
                            self.report(at, format!("{path}: expected a map, got {}", describe(v)))
                        }
                    },
                    "object" => match v.as_object() {
                        Some(entries) => {
                            let fields = elem.as_object();
                            for (k, x) in entries {
                                match fields.and_then(|f| f.get(k)) {
                                    Some(fty) => {
                                        self.check_value(at, &format!("{path}.{k}"), fty, x)
                                    }
                                    None => {
                                        let hint = fields
                                            .and_then(|f| suggest(k, f.keys().map(String::as_str)));
                                        self.report(
                                            at,
                                            format!(
                                                "{path}: unknown object key \"{k}\"{}",
                                                did_you_mean(hint)
                                            ),
                                        );
                                    }
                                }
                            }
                        }
                        None => self.report(
                            at,
                            format!("{path}: expected an object, got {}", describe(v)),
                        ),
                    },
                    // Tuples and unknown type constructors are not checked (tfcheck.py neither).
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

fn is_number_text(s: &str) -> bool {
    // `-?\d+(\.\d+)?`
    let s = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit());
    digits(int) && frac.is_none_or(digits)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{check, module_with_vpc};
    use serde_json::json;

    #[test]
    fn wrong_value_shape() {
        let doc =
            module_with_vpc(json!({"cidr_block": ["10.0.0.0/16"], "enable_dns_hostnames": "true"}));
        assert_eq!(
            check(doc),
            ["main.tf.json: aws_vpc.main: cidr_block: expected a string, got an array"]
        );
        let doc = module_with_vpc(json!({"enable_dns_hostnames": "yes"}));
        assert_eq!(
            check(doc),
            ["main.tf.json: aws_vpc.main: enable_dns_hostnames: expected a bool, got \"yes\""]
        );
    }
}
