//! Scenario files: the raw `Spec` as written in RON, how it is read, and `--set` overrides.

pub mod adaptive;
pub mod error;
pub mod load;
pub mod overrides;
pub mod partition;
pub mod readmodel;
pub mod spec;
pub mod stream;

pub use adaptive::AdaptiveTimeoutSpec;
pub use error::{Problem, ScenarioError};
pub use load::{load_file, parse, read_source, DEFAULT_ORIGIN, DEFAULT_SCENARIO};
pub use overrides::{apply as apply_overrides, Override};
pub use partition::{
    KeyMoveSpec, OutageSpec, PartitioningSpec, RebalanceSpec, SchemeSpec, StaleSpec, StrategySpec,
};
pub use readmodel::ReadModelSpec;
pub use spec::*;
pub use stream::{GuaranteeSpec, StreamSpec, WindowSpec};
