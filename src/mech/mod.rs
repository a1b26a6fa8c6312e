pub mod breaker;
pub mod limits;
pub mod retry;
