//! The engine: virtual time, the event queue and seeded random streams. It knows nothing
//! of services or requests; the run loop (`crate::run`) gives events their meaning.

pub mod queue;
pub mod rng;
pub mod time;

pub use queue::EventQueue;
pub use rng::{stream, Stream};
pub use time::{parse_duration, SimTime};
