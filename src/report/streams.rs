//! The terminal table's line per stream job: its counts checked against its events.

use crate::metrics::Summary;
use std::fmt::Write;

/// One line per stream job, or nothing.
pub fn render(out: &mut String, s: &Summary) {
    for (name, j) in &s.streams {
        let _ = writeln!(
            out,
            "\nstream {name} ({}, {} s windows every {} s): {} events, {} processed; \
             {} double-counted, {} missing, {} late dropped, {} late updates, {} aborted; \
             windows {} ({} too high, {} too low)",
            j.guarantee,
            j.window_s,
            j.slide_s,
            j.events,
            j.processed,
            j.double_counted,
            j.missing,
            j.late_dropped,
            j.late_updates,
            j.aborted,
            j.windows,
            j.windows_overcounted,
            j.windows_undercounted
        );
    }
}
