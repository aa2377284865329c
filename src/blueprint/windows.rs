//! Maintenance and backup windows: one portable spelling (`sun:04:00-sun:05:00`, `03:00-04:00`,
//! UTC) parsed once, when the blueprint is deserialized (a bad window is a positioned error
//! there), and rendered per provider. Back-ends and `k8s` read these typed values; nothing
//! downstream sees, or re-parses, the string.

use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, Deserialize, Deserializer, Unexpected, Visitor};
use serde::{Serialize, Serializer};

const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const DAY_NAMES: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

/// What a weekly window must look like, in errors.
const WEEKLY: &str =
    "a weekly window, `ddd:hh:mm-ddd:hh:mm` or `ddd:hh:mm` in UTC (e.g. `sun:04:00-sun:05:00`)";
/// What a daily window must look like, in errors.
const DAILY: &str = "a daily window, `hh:mm-hh:mm` in UTC (e.g. `03:00-04:00`)";

/// A weekly window: start day and time, optional end (default: one hour later).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeeklyWindow {
    pub day: usize,
    pub hour: u32,
    pub minute: u32,
    pub end: (usize, u32, u32),
    /// Whether the blueprint gave the end, so notes quote the window as it was written.
    end_given: bool,
}

/// A daily window such as a backup window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyWindow {
    pub start: (u32, u32),
    pub end: (u32, u32),
}

fn hhmm(s: &str) -> Option<(u32, u32)> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some((h, m))
}

fn day_time(s: &str) -> Option<(usize, u32, u32)> {
    let (d, t) = s.split_once(':')?;
    let day = DAYS.iter().position(|x| x.eq_ignore_ascii_case(d))?;
    let (h, m) = hhmm(t)?;
    Some((day, h, m))
}

impl WeeklyWindow {
    pub fn parse(s: &str) -> Option<WeeklyWindow> {
        let (start, end) = match s.split_once('-') {
            Some((a, b)) => (day_time(a)?, Some(day_time(b)?)),
            None => (day_time(s)?, None),
        };
        let end_given = end.is_some();
        let end = end.unwrap_or_else(|| {
            let (d, h, m) = start;
            if h == 23 {
                ((d + 1) % 7, 0, m)
            } else {
                (d, h + 1, m)
            }
        });
        Some(WeeklyWindow {
            day: start.0,
            hour: start.1,
            minute: start.2,
            end,
            end_given,
        })
    }

    /// `sun:04:00-sun:05:00` (RDS, ElastiCache).
    pub fn aws(&self) -> String {
        format!(
            "{}:{:02}:{:02}-{}:{:02}:{:02}",
            DAYS[self.day], self.hour, self.minute, DAYS[self.end.0], self.end.1, self.end.2
        )
    }

    /// `sunday`.
    pub fn day_name(&self) -> &'static str {
        DAY_NAMES[self.day]
    }

    /// `sun`, as the blueprint writes it.
    pub fn day_abbr(&self) -> &'static str {
        DAYS[self.day]
    }

    /// `SUNDAY` (Amazon MQ).
    pub fn day_upper(&self) -> String {
        DAY_NAMES[self.day].to_uppercase()
    }

    /// Whether the blueprint wrote the end (a service whose window has a fixed length, such
    /// as DOKS's, says it does not use it).
    pub fn end_given(&self) -> bool {
        self.end_given
    }

    /// `04:00`.
    pub fn start(&self) -> String {
        format!("{:02}:{:02}", self.hour, self.minute)
    }
}

const WEEK: u32 = 7 * 24 * 60;

/// Minute-of-week intervals `[start, end)`, split at the week's end.
fn intervals(start: u32, end: u32) -> Vec<(u32, u32)> {
    if end > start {
        vec![(start, end)]
    } else {
        vec![(start, WEEK), (0, end)]
    }
}

impl WeeklyWindow {
    /// Minutes from the start of the week (Sunday 00:00 UTC) to the start.
    pub fn start_minute(&self) -> u32 {
        self.day as u32 * 1440 + self.hour * 60 + self.minute
    }

    /// Its length in minutes.
    pub fn minutes(&self) -> u32 {
        let end = self.end.0 as u32 * 1440 + self.end.1 * 60 + self.end.2;
        (end + WEEK - self.start_minute()) % WEEK
    }

    /// Whether the daily window `d` overlaps this one on some day (windows that only touch
    /// do not overlap).
    pub fn overlaps(&self, d: &DailyWindow) -> bool {
        let start = self.start_minute();
        let mine = intervals(start, (start + self.minutes()) % WEEK);
        (0..7).any(|day| {
            let from = day * 1440 + d.start.0 * 60 + d.start.1;
            intervals(from % WEEK, (from + d.minutes()) % WEEK)
                .iter()
                .any(|&(bs, be)| mine.iter().any(|&(ms, me)| bs < me && ms < be))
        })
    }
}

impl DailyWindow {
    /// Its length in minutes (a window past midnight ends the next day).
    pub fn minutes(&self) -> u32 {
        let (s, e) = (
            self.start.0 * 60 + self.start.1,
            self.end.0 * 60 + self.end.1,
        );
        (e + 1440 - s) % 1440
    }

    pub fn parse(s: &str) -> Option<DailyWindow> {
        let (a, b) = s.split_once('-')?;
        Some(DailyWindow {
            start: hhmm(a)?,
            end: hhmm(b)?,
        })
    }

    pub fn aws(&self) -> String {
        format!(
            "{:02}:{:02}-{:02}:{:02}",
            self.start.0, self.start.1, self.end.0, self.end.1
        )
    }
}

/// The window as the blueprint wrote it (day names in lower case): `sun:04:00` or
/// `sun:04:00-sun:05:00`.
impl fmt::Display for WeeklyWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.end_given {
            f.write_str(&self.aws())
        } else {
            write!(f, "{}:{}", DAYS[self.day], self.start())
        }
    }
}

/// `03:00-04:00`.
impl fmt::Display for DailyWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.aws())
    }
}

/// A window read from its string: a scalar that does not parse is refused where it stands.
fn deserialize_window<'de, D: Deserializer<'de>, T>(
    d: D,
    expecting: &'static str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, D::Error> {
    struct V<T> {
        expecting: &'static str,
        parse: fn(&str) -> Option<T>,
    }
    impl<T> Visitor<'_> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(self.expecting)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            (self.parse)(v).ok_or_else(|| E::invalid_value(Unexpected::Str(v), &self))
        }
    }
    d.deserialize_str(V { expecting, parse })
}

impl<'de> Deserialize<'de> for WeeklyWindow {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_window(d, WEEKLY, WeeklyWindow::parse)
    }
}

impl<'de> Deserialize<'de> for DailyWindow {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_window(d, DAILY, DailyWindow::parse)
    }
}

/// Written back as the blueprint wrote it; schemars needs it to show a field's default.
macro_rules! as_written {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    };
}
as_written!(WeeklyWindow);
as_written!(DailyWindow);

/// Users write windows as strings, and the schema says so: the same schema as `String`,
/// inlined, so `blueprint.schema.json` does not change with the Rust type.
macro_rules! string_schema {
    ($t:ty) => {
        impl JsonSchema for $t {
            fn inline_schema() -> bool {
                true
            }

            fn schema_name() -> std::borrow::Cow<'static, str> {
                String::schema_name()
            }

            fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                String::json_schema(generator)
            }
        }
    };
}
string_schema!(WeeklyWindow);
string_schema!(DailyWindow);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows() {
        let w = WeeklyWindow::parse("sun:04:00-sun:05:00").unwrap();
        assert_eq!(w.aws(), "sun:04:00-sun:05:00");
        assert_eq!(w.day_name(), "sunday");
        assert_eq!(w.start(), "04:00");
        assert_eq!(
            WeeklyWindow::parse("sat:23:30").unwrap().aws(),
            "sat:23:30-sun:00:30"
        );
        assert!(WeeklyWindow::parse("sunday 04:00").is_none());
        assert!(WeeklyWindow::parse("sun:25:00").is_none());
        assert_eq!(
            DailyWindow::parse("03:00-04:00").unwrap().aws(),
            "03:00-04:00"
        );
        assert!(DailyWindow::parse("3-4").is_none());
    }

    #[test]
    fn shown_as_written() {
        for w in ["sun:04:00", "mon:02:30-mon:03:30", "sat:23:30-sun:00:30"] {
            assert_eq!(WeeklyWindow::parse(w).unwrap().to_string(), w);
        }
        assert_eq!(
            WeeklyWindow::parse("SUN:04:00").unwrap().to_string(),
            "sun:04:00"
        );
        assert_eq!(
            DailyWindow::parse("03:00-04:00").unwrap().to_string(),
            "03:00-04:00"
        );
    }
}
