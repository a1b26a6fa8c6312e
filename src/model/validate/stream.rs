//! Checks of a stream job on a consumer group (issue #24).

use super::Check;
use crate::mech::window::{Guarantee, StreamJob};
use crate::scenario::{GuaranteeSpec, StreamSpec, WindowSpec};

/// Most windows one event joins (`size / slide`): each event updates every one of them.
pub const MAX_WINDOWS_PER_EVENT: u64 = 1_000;

impl Check {
    /// Checks `stream` of the consumer at path `p` (the `consume` block's path).
    pub(super) fn stream_job(&mut self, p: &str, s: &StreamSpec) -> Option<StreamJob> {
        let p = format!("{p}.stream");
        let (size, slide) = match &s.window {
            WindowSpec::Tumbling(size) => {
                let size = self.positive_duration(&format!("{p}.window"), size);
                (size, size)
            }
            WindowSpec::Sliding { size, slide } => (
                self.positive_duration(&format!("{p}.window.size"), size),
                self.positive_duration(&format!("{p}.window.slide"), slide),
            ),
        };
        if let (Some(size), Some(slide)) = (size, slide) {
            if size.0.div_ceil(slide.0) > MAX_WINDOWS_PER_EVENT {
                self.fail(
                    format!("{p}.window.slide"),
                    format!(
                        "{slide} puts each event in {} windows of {size} (at most \
                         {MAX_WINDOWS_PER_EVENT}): use a longer slide",
                        size.0.div_ceil(slide.0)
                    ),
                );
            }
        }
        let event_delay = self.dist(&format!("{p}.event_delay"), &s.event_delay);
        let bound = self.duration(&format!("{p}.out_of_orderness"), &s.out_of_orderness);
        let lateness = self.duration(&format!("{p}.allowed_lateness"), &s.allowed_lateness);
        Some(StreamJob {
            size: size?,
            slide: slide?,
            event_delay: event_delay?,
            out_of_orderness: bound?,
            allowed_lateness: lateness?,
            guarantee: match s.guarantee {
                GuaranteeSpec::AtLeastOnce => Guarantee::AtLeastOnce,
                GuaranteeSpec::ExactlyOnce => Guarantee::ExactlyOnce,
            },
        })
        .filter(|j| j.size.0.div_ceil(j.slide.0) <= MAX_WINDOWS_PER_EVENT)
    }
}
