//! platsim integration tests: one test binary (`cargo test --release --test it`).
//!
//! - `theory`: single stations and a small platform against queueing theory.
//! - `determinism`: same input, same bytes; streams are per component name.
//! - `cli`: the `platsim` binary's contract (exit codes, messages, output files).
//! - `layers`: layering, circles and bottom-up recovery after outages.
//! - `properties`: invariants of random small platforms (proptest).
//! - `resilience`: retries, breakers, limits, shedding and faults, end to end and by hand.
//!
//! Run in release mode: the theory tests simulate tens of millions of customers.

mod cli;
mod determinism;
mod layers;
mod properties;
mod resilience;
mod theory;
