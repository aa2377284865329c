//! Five-field cron schedules (`jobs[].schedule`) as Kubernetes reads them, and their
//! translation to the six-field `cron(…)` form of Amazon EventBridge Scheduler.
//!
//! Kubernetes parses CronJob schedules with robfig/cron's standard parser: minute, hour,
//! day-of-month, month (1–12 or `JAN`–`DEC`), day-of-week (0–6 or `SUN`–`SAT`, Sunday is 0;
//! `7` is refused), each a comma list of `*`, `?`, `a`, `a-b`, with an optional `/step`, plus
//! the descriptors `@hourly`, `@daily`/`@midnight`, `@weekly`, `@monthly`,
//! `@yearly`/`@annually`. The Quartz extensions (`L`, `W`, `#`) are not Kubernetes syntax
//! and are refused, so one schedule means the same on every provider.
//!
//! EventBridge differs in three ways the translation handles (AWS "Cron expressions
//! reference"): a sixth field (year, `*` here); day-of-week numbered 1–7 from Sunday and
//! without `/` steps (written here as day names, so no number is ever shifted by hand); and
//! exactly one of the two day fields must be `?`. Classic cron runs a schedule that
//! restricts both day fields when *either* matches, which EventBridge cannot express: such
//! a schedule is refused on AWS ([`aws`] returns an error).

/// A schedule whose five fields passed [`parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    /// minute, hour, day-of-month, month, day-of-week, as written (descriptors expanded).
    pub fields: [String; 5],
    /// The days of the week the schedule runs on (bit 0 = Sunday).
    days: u8,
}

struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const MONTHS: &[&str] = &[
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const FIELDS: [Field; 5] = [
    Field {
        name: "minute",
        min: 0,
        max: 59,
        names: &[],
    },
    Field {
        name: "hour",
        min: 0,
        max: 23,
        names: &[],
    },
    Field {
        name: "day-of-month",
        min: 1,
        max: 31,
        names: &[],
    },
    Field {
        name: "month",
        min: 1,
        max: 12,
        names: MONTHS,
    },
    Field {
        name: "day-of-week",
        min: 0,
        max: 6,
        names: DAYS,
    },
];

/// What the descriptors stand for (robfig/cron's table).
fn descriptor(s: &str) -> Option<&'static str> {
    Some(match s {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        _ => return None,
    })
}

/// Parse a five-field schedule; the error says which field is wrong and why.
pub fn parse(schedule: &str) -> Result<Cron, String> {
    let s = schedule.trim();
    if s.starts_with("TZ=") || s.starts_with("CRON_TZ=") {
        return Err(
            "a time zone inside the schedule is refused by Kubernetes; give it in `timezone`"
                .into(),
        );
    }
    let expanded = if s.starts_with('@') {
        descriptor(s).ok_or_else(|| {
            format!("`{s}` is not a descriptor Kubernetes knows (`@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`)")
        })?
    } else {
        s
    };
    let parts: Vec<&str> = expanded.split_whitespace().collect();
    if parts.len() != 5 {
        return Err(format!(
            "`{s}` has {} fields; a schedule has 5 (minute hour day-of-month month day-of-week)",
            parts.len()
        ));
    }
    let mut sets = [0u64; 5];
    for (i, (text, f)) in parts.iter().zip(&FIELDS).enumerate() {
        sets[i] = field(text, f).map_err(|e| format!("{} field `{text}`: {e}", f.name))?;
    }
    Ok(Cron {
        fields: std::array::from_fn(|i| parts[i].to_ascii_uppercase()),
        days: sets[4] as u8,
    })
}

/// The values one field selects, as a bit set.
fn field(text: &str, f: &Field) -> Result<u64, String> {
    let mut set = 0u64;
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("step `{s}` is not a positive number"))?;
                (r, step)
            }
            None => (item, 1),
        };
        let (lo, hi) = if range == "*" || range == "?" {
            (f.min, f.max)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a, f)?, value(b, f)?)
        } else {
            let v = value(range, f)?;
            // `a/n` runs from `a` to the end of the range.
            (v, if item.contains('/') { f.max } else { v })
        };
        if lo > hi {
            return Err(format!("range `{range}` runs backwards"));
        }
        set |= (lo..=hi)
            .step_by(step as usize)
            .fold(0, |acc, v| acc | 1 << v);
    }
    Ok(set)
}

fn value(text: &str, f: &Field) -> Result<u32, String> {
    if let Some(i) = f.names.iter().position(|n| n.eq_ignore_ascii_case(text)) {
        return Ok(f.min + i as u32);
    }
    let v: u32 = text.parse().map_err(|_| {
        if f.names.is_empty() {
            format!("`{text}` is not a number")
        } else {
            format!("`{text}` is not a number or one of {}", f.names.join(", "))
        }
    })?;
    if v < f.min || v > f.max {
        return Err(format!("{v} is outside {}–{}", f.min, f.max));
    }
    Ok(v)
}

/// A day field that restricts nothing.
fn any(field: &str) -> bool {
    field == "*" || field == "?"
}

/// The EventBridge Scheduler expression of a schedule: `cron(min hour dom month dow *)`.
pub fn aws(c: &Cron) -> Result<String, String> {
    let [min, hour, dom, month, dow] = &c.fields;
    let (dom, dow) = match (any(dom), any(dow)) {
        (true, true) => ("*".to_string(), "?".to_string()),
        (false, true) => (dom.clone(), "?".to_string()),
        (true, false) => ("?".to_string(), day_names(c.days)),
        (false, false) => {
            return Err(format!(
                "day-of-month `{dom}` and day-of-week `{dow}` are both restricted: cron runs on either, and EventBridge Scheduler can restrict only one of them"
            ));
        }
    };
    Ok(format!("cron({min} {hour} {dom} {month} {dow} *)"))
}

/// Days as EventBridge reads them: names, runs of three or more as ranges (`MON-FRI`).
fn day_names(days: u8) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut d = 0;
    while d < 7 {
        if days & (1 << d) == 0 {
            d += 1;
            continue;
        }
        let start = d;
        while d + 1 < 7 && days & (1 << (d + 1)) != 0 {
            d += 1;
        }
        match d - start {
            0 => out.push(DAYS[start].into()),
            1 => out.extend([DAYS[start].to_string(), DAYS[d].to_string()]),
            _ => out.push(format!("{}-{}", DAYS[start], DAYS[d])),
        }
        d += 1;
    }
    out.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to_aws(s: &str) -> Result<String, String> {
        aws(&parse(s)?)
    }

    #[test]
    fn kubernetes_syntax() {
        for ok in [
            "0 2 * * *",
            "*/15 * * * *",
            "0 9-17/2 * * 1-5",
            "30 4 1,15 * *",
            "0 0 * JAN,jul SUN",
            "5 4 ? * *",
            "@daily",
            "@hourly",
            "0 0 1/2 * *",
        ] {
            assert!(parse(ok).is_ok(), "{ok}: {:?}", parse(ok));
        }
        for (bad, why) in [
            ("0 2 * *", "has 4 fields"),
            ("0 2 * * * *", "has 6 fields"),
            ("60 * * * *", "minute field `60`: 60 is outside 0–59"),
            ("0 24 * * *", "hour field"),
            ("0 0 0 * *", "day-of-month field `0`: 0 is outside 1–31"),
            ("0 0 * 13 *", "month field"),
            ("0 0 * * 7", "day-of-week field `7`: 7 is outside 0–6"),
            ("0 0 L * *", "is not a number"),
            ("0 0 * * 5#3", "is not a number"),
            ("*/0 * * * *", "step `0`"),
            ("0 5-2 * * *", "runs backwards"),
            ("@every 5m", "not a descriptor"),
            ("TZ=UTC 0 2 * * *", "`timezone`"),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    /// Every set of days survives the translation: the names EventBridge gets select exactly
    /// the days cron selected (read back with the same field parser, which knows the names).
    #[test]
    fn every_day_set_round_trips() {
        for days in 1u8..128 {
            let aws = day_names(days);
            assert_eq!(field(&aws, &FIELDS[4]).unwrap(), u64::from(days), "{aws}");
            assert!(!aws.contains('/') && !aws.contains('*'), "{aws}");
        }
    }

    #[test]
    fn eventbridge_translation() {
        // Every day: day-of-week becomes `?`.
        assert_eq!(to_aws("0 2 * * *").unwrap(), "cron(0 2 * * ? *)");
        // Day of month: kept, day-of-week `?`.
        assert_eq!(to_aws("30 4 1,15 * *").unwrap(), "cron(30 4 1,15 * ? *)");
        // Days of the week by name: cron's 1-5 (Monday–Friday) is AWS's 2-6.
        assert_eq!(to_aws("0 9 * * 1-5").unwrap(), "cron(0 9 ? * MON-FRI *)");
        // Sunday is 0 in cron and 1 in AWS; names avoid the shift.
        assert_eq!(to_aws("0 0 * * 0").unwrap(), "cron(0 0 ? * SUN *)");
        assert_eq!(to_aws("@weekly").unwrap(), "cron(0 0 ? * SUN *)");
        assert_eq!(to_aws("0 0 * * 6,0").unwrap(), "cron(0 0 ? * SUN,SAT *)");
        // Steps are not allowed in AWS's day-of-week: expanded to the days.
        assert_eq!(
            to_aws("0 0 * * */2").unwrap(),
            "cron(0 0 ? * SUN,TUE,THU,SAT *)"
        );
        assert_eq!(
            to_aws("0 0 * * sun-tue").unwrap(),
            "cron(0 0 ? * SUN-TUE *)"
        );
        assert_eq!(to_aws("0 0 * * 1,2").unwrap(), "cron(0 0 ? * MON,TUE *)");
        // Steps elsewhere and month names pass through.
        assert_eq!(
            to_aws("*/15 8-18 * jan-mar *").unwrap(),
            "cron(*/15 8-18 * JAN-MAR ? *)"
        );
        // Both day fields restricted: cron's "either" cannot be written for EventBridge.
        assert!(to_aws("0 0 1 * 1").unwrap_err().contains("both restricted"));
    }
}
