//! The progress bar of a long single run: how far virtual time is, and when the run will
//! end. It rides on the run's observer, so a run without it (not a terminal, `--quiet`,
//! `--json`, a short run) is the plain monomorphized loop with nothing added; with it,
//! an event costs one counter increment, and the bar is touched every [`EVERY`] events.

use crate::engine::SimTime;
use crate::run::Observer;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Events between two updates of the bar: a few milliseconds of work.
pub const EVERY: u32 = 1 << 16;

/// Shows virtual time against the horizon, with an ETA.
pub struct RunBar {
    bar: ProgressBar,
    count: u32,
}

impl RunBar {
    /// A bar on stderr for a run to `horizon` (milliseconds of virtual time).
    pub fn stderr(horizon: SimTime) -> RunBar {
        let bar = ProgressBar::with_draw_target(
            Some(horizon.0 / 1_000_000),
            ProgressDrawTarget::stderr_with_hz(4),
        );
        bar.set_style(
            ProgressStyle::with_template(
                "{elapsed_precise} [{bar:20}] {msg} of virtual time, ETA {eta}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        RunBar::with(bar)
    }

    pub fn with(bar: ProgressBar) -> RunBar {
        RunBar { bar, count: 0 }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Observer for RunBar {
    #[inline]
    fn event(&mut self, now: SimTime) {
        self.count = self.count.wrapping_add(1);
        if self.count.is_multiple_of(EVERY) {
            self.bar.set_position(now.0 / 1_000_000);
            let len = self.bar.length().unwrap_or(0) * 1_000_000;
            self.bar.set_message(format!("{} / {}", now, SimTime(len)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_moves_every_n_events_to_virtual_time() {
        let mut bar = RunBar::with(ProgressBar::hidden());
        bar.bar.set_length(60_000);
        for i in 1..EVERY {
            bar.event(SimTime(u64::from(i) * 1_000_000));
        }
        assert_eq!(bar.bar.position(), 0, "no update before {EVERY} events");
        bar.event(SimTime(30_000 * 1_000_000));
        assert_eq!(bar.bar.position(), 30_000);
    }
}
