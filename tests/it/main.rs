//! platsim integration tests: one test binary (`cargo test --release --test it`).
//!
//! - `theory`: single stations and a small platform against queueing theory.
//! - `determinism`: same input, same bytes; streams are per component name.
//! - `charts`: charts (SVG, PNG) and report.html for every scenario folder and sweeps.
//! - `cli`: the `platsim` binary's contract (exit codes, messages, output files).
//! - `layers`: layering, circles and bottom-up recovery after outages.
//! - `links`: network faults on a link (latency, loss, one-way partitions) by hand.
//! - `orders`: brokers, job queues and the order ledger: delivery guarantees over 50
//!   seeds, exact loss counts, and the ledger's equations on random platforms.
//! - `fault_matrix`: every fault x every way an instance comes to exist x component kind,
//!   and metamorphic properties of faults (proptest).
//! - `peers`: resilience mechanisms case by case against Envoy's and Resilience4j's own rules
//!   and test suites.
//! - `outage`: whole-platform outages and what brokers, job queues and caches keep
//!   through them, worked out by hand.
//! - `properties`: invariants of random small platforms (proptest).
//! - `reference`: the reference platforms (atlas, the SRE job queue, food ordering in
//!   phases) tell their stories, and every shipped scenario runs, shortened.
//! - `resilience`: retries, breakers, limits, shedding and faults, end to end and by hand.
//! - `sweep`: sweeps, failure predicates and repro commands, shards and merge, resume,
//!   traces.
//! - `kubernetes`: pods and the Horizontal Pod Autoscaler (scaling up late, the
//!   scale-down stabilization, graceful scale-down, pod-hours).
//! - `datastore`: connection pools, cache-aside, fallbacks and write paths worked out by
//!   hand.
//! - `health`: SLOs, burn-rate alerts, reliability, cost and governance from real runs,
//!   and `platsim report`.
//!
//! - `partition`: issue 24, partitioned data: hot keys, salting, per-partition load by hand.
//! - `robust`: issue 18, every fuzzing reproducer by name; kill -9 never tears an output
//!   folder unnoticed, --resume loses no finished run, one writer per folder.
//! - `fuzz`: mutated scenarios and hostile command lines against the binary (bounded).
//! - `tracing`: issue 19, requests as OpenTelemetry traces: a hand-computed span tree,
//!   OTLP checked against the protocol, sampling, whole trees through messages.
//!
//! - `chart_drawing`: issue 20, every line of the charts of four scenarios stays in its
//!   panel and within its data, in the SVG and in the PNG.
//! - `explore`: issue 21, failure search: found, shrunk, reproduced; same bytes with any
//!   `--jobs`; bad flags.
//! - `data`: issue 22, databases in the order path: acknowledged writes lost in a
//!   failover or a crash, by hand and in `scenarios/data/`.
//!
//! - `estimate`: issue 17, the events and wall time `check` and `run` expect, against
//!   real runs and by hand.
//!
//! - `bottleneck`: issue 23, phase 3's bottleneck named by measurement, in incident
//!   windows and by hand.
//!
//! - `adaptive`: issue 24, adaptive call timeouts by hand and in their two scenarios.
//!
//! - `phases`: issue 22, the food-ordering phases' databases: phase 1's writes and
//!   commits by hand, phase 5's StatefulSet on a network and a local volume.
//!
//! Run in release mode: the theory tests simulate tens of millions of customers.

mod adaptive;
mod bottleneck;
mod chart_drawing;
mod charts;
mod cli;
mod common;
mod data;
mod datastore;
mod determinism;
mod estimate;
mod explore;
mod fault_matrix;
mod fuzz;
mod health;
mod key_order;
mod kubernetes;
mod kubernetes_pods;
mod layers;
mod link_ends;
mod links;
mod mechanisms;
mod orders;
mod outage;
mod partition;
mod peers;
mod phases;
mod properties;
mod readmodel;
mod reference;
mod resilience;
mod robust;
mod scale;
mod statefulset;
mod stream;
mod sweep;
mod theory;
mod tracing;
