//! `platsim run --log FILE`: structured JSON logs that join with traces.
//!
//! One line per client request (when its root span ends) and per fault starting or
//! ending, each request line with its `trace_id` and the root's `span_id`, as a service
//! logging through an OpenTelemetry-aware logger would write them: a log line found by
//! its error leads to the trace that explains it. Only requests that are traced are
//! logged (with `--trace-sample`, the sampled ones).
//!
//! ```text
//! {"t_s":1.33,"level":"info","event":"request","service":"checkout","outcome":"ok","latency_ms":330,"trace_id":"4bf9...","span_id":"00f0..."}
//! {"t_s":300,"level":"warn","event":"fault_start","fault":"latency","target":"payment"}
//! ```

use super::export::outcome_name;
use super::span::Span;
use crate::engine::SimTime;
use crate::metrics::Outcome;
use crate::model::Platform;
use std::io::{self, BufWriter, Write};

/// Writes the log as the run goes.
pub struct Log {
    out: BufWriter<Box<dyn Write>>,
    /// Resource names (services, then workloads' clients), JSON-quoted.
    resources: Vec<String>,
    /// Per fault: `"fault":"...","target":"..."`, ready to write.
    faults: Vec<String>,
    pub lines: u64,
    error: Option<io::Error>,
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

impl Log {
    pub fn new(out: Box<dyn Write>, p: &Platform) -> Log {
        let names = super::export::Names::new(p);
        Log {
            out: BufWriter::with_capacity(1 << 16, out),
            resources: names.resources.iter().map(|n| quote(n)).collect(),
            faults: p
                .faults
                .iter()
                .map(|f| {
                    let mut s = format!(r#""fault":"{}""#, f.kind.name());
                    if let Some(t) = f.kind.target() {
                        s.push_str(&format!(r#","target":{}"#, quote(&p.service(t).name)));
                    }
                    s
                })
                .collect(),
            lines: 0,
            error: None,
        }
    }

    fn line(&mut self, text: std::fmt::Arguments) {
        if self.error.is_none() {
            match self.out.write_fmt(text) {
                Ok(()) => self.lines += 1,
                Err(e) => self.error = Some(e),
            }
        }
    }

    /// A client request's root span ended.
    pub fn request(&mut self, s: &Span) {
        let outcome = s.outcome.unwrap_or(Outcome::Ok);
        let level = match outcome {
            Outcome::Ok => "info",
            _ => "error",
        };
        let t = ryu::Buffer::new().format(s.end.as_secs_f64()).to_string();
        let latency = ryu::Buffer::new()
            .format(s.end.since(s.start).as_millis_f64())
            .to_string();
        let service = self.resources[s.resource as usize].clone();
        self.line(format_args!(
            "{{\"t_s\":{t},\"level\":\"{level}\",\"event\":\"request\",\"service\":{service},\"outcome\":\"{}\",\"latency_ms\":{latency},\"trace_id\":\"{:016x}{:016x}\",\"span_id\":\"{:016x}\"}}\n",
            outcome_name(outcome),
            s.trace.0,
            s.trace.1,
            s.id
        ));
    }

    /// Fault `fault` starts or ends.
    pub fn fault(&mut self, now: SimTime, fault: u32, starting: bool) {
        let t = ryu::Buffer::new().format(now.as_secs_f64()).to_string();
        let event = if starting { "fault_start" } else { "fault_end" };
        let what = self.faults[fault as usize].clone();
        self.line(format_args!(
            "{{\"t_s\":{t},\"level\":\"warn\",\"event\":\"{event}\",{what}}}\n"
        ));
    }

    /// Flushes; the lines written, or the first write error.
    pub fn finish(mut self) -> io::Result<u64> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()?;
        Ok(self.lines)
    }
}
