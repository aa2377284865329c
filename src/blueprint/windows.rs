//! Maintenance and backup windows: one portable spelling (`sun:04:00-sun:05:00`, `03:00-04:00`,
//! UTC) parsed once, rendered per provider. Part of the blueprint's vocabulary, so back-ends
//! and `k8s` read windows from here and never import `validate` (which checks they parse).

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

/// A weekly window: start day and time, optional end (default: one hour later).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeeklyWindow {
    pub day: usize,
    pub hour: u32,
    pub minute: u32,
    pub end: (usize, u32, u32),
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

    /// `SUNDAY` (Amazon MQ).
    pub fn day_upper(&self) -> String {
        DAY_NAMES[self.day].to_uppercase()
    }

    /// `04:00`.
    pub fn start(&self) -> String {
        format!("{:02}:{:02}", self.hour, self.minute)
    }
}

impl DailyWindow {
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
