//! Mechanisms: each one's state machine alone, as pure state with transition functions,
//! unit-tested without an engine. The run loop applies what they decide.

pub mod adaptive;
pub mod breaker;
pub mod broker;
pub mod cfs;
pub mod hpa;
pub mod jobqueue;
pub mod limits;
pub mod partition;
pub mod persistence;
pub mod probe;
pub mod producer;
pub mod projection;
pub mod ratelimit;
pub mod rebalance;
pub mod replication;
pub mod retry;
pub mod rollout;
pub mod window;
