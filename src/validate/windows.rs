//! Maintenance and backup windows must parse (`crate::blueprint::windows`); each error names
//! the field and the spelling expected.

use super::Checker;
use crate::blueprint::types::Blueprint;
use crate::blueprint::windows::{DailyWindow, WeeklyWindow};

fn weekly(c: &mut Checker, path: &str, w: &Option<String>) {
    if let Some(w) = w
        && WeeklyWindow::parse(w).is_none()
    {
        c.error(path, format!("`{w}` is not a weekly window"))
            .expected =
            Some("`ddd:hh:mm-ddd:hh:mm` or `ddd:hh:mm` in UTC, e.g. `sun:04:00-sun:05:00`".into());
    }
}

fn daily(c: &mut Checker, path: &str, w: &Option<String>) {
    if let Some(w) = w
        && DailyWindow::parse(w).is_none()
    {
        c.error(path, format!("`{w}` is not a daily window"))
            .expected = Some("`hh:mm-hh:mm` in UTC, e.g. `03:00-04:00`".into());
    }
}

pub fn check(c: &mut Checker, bp: &Blueprint) {
    if let Some(cl) = &bp.cluster {
        weekly(c, "cluster.maintenance_window", &cl.maintenance_window);
    }
    for (i, d) in bp.databases.iter().enumerate() {
        weekly(
            c,
            &format!("databases[{i}].maintenance_window"),
            &d.maintenance_window,
        );
        if let Some(b) = &d.backup {
            daily(c, &format!("databases[{i}].backup.window"), &b.window);
        }
    }
    for (i, k) in bp.caches.iter().enumerate() {
        weekly(
            c,
            &format!("caches[{i}].maintenance_window"),
            &k.maintenance_window,
        );
        if let Some(s) = &k.snapshots {
            daily(c, &format!("caches[{i}].snapshots.window"), &s.window);
        }
    }
    for (i, q) in bp.queues.iter().enumerate() {
        weekly(
            c,
            &format!("queues[{i}].maintenance_window"),
            &q.maintenance_window,
        );
    }
}

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
}
