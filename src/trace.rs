//! `platsim run --trace FILE.jsonl`: the event log of one run, written through the run's
//! [`Observer`], one JSON object per line:
//!
//! ```text
//! {"t_s":12.003417,"service":"payment","event":"arrival","request":48213}
//! {"t_s":15.871202,"service":"payment","event":"error","request":48213}
//! ```
//!
//! `event` is `arrival` or how the request ended at that service (`ok`, `error`,
//! `dependency_failed`, `timeout`, `rejected`, `shed`, `crashed`); `request` is the id of
//! the request's visit to that service. A ten-minute run of the default platform has
//! millions of events, so filters keep a trace small: by service, by event, by request,
//! and a window of virtual time. Output is buffered; tracing never changes the run (the
//! observer only watches), and an untraced run does not pay for it.
//!
//! `--trace-format otlp|chrome` writes each client request as a trace of spans instead
//! ([`span`] builds them, [`export`] writes them), `--log` a JSON log that joins them
//! ([`log`]), and `platsim trace FILE` reads a trace back for its critical paths
//! ([`analyze`]).

pub mod analyze;
pub mod export;
pub mod log;
pub mod span;

use crate::engine::time::parse_duration;
use crate::engine::SimTime;
use crate::metrics::Outcome;
use crate::model::{Platform, ServiceId};
use crate::run::Observer;
use crate::scenario::error::did_you_mean;
use std::io::{self, BufWriter, Write};

/// Event names a filter may ask for.
pub const EVENTS: &[&str] = &[
    "arrival",
    "ok",
    "error",
    "dependency_failed",
    "timeout",
    "rejected",
    "shed",
    "crashed",
];

/// What to keep. Several values of one key are alternatives; different keys must all
/// match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraceFilter {
    pub services: Vec<String>,
    pub events: Vec<String>,
    pub requests: Vec<u64>,
    /// Keep events at or after this time...
    pub from: Option<SimTime>,
    /// ...and before this one.
    pub to: Option<SimTime>,
}

impl TraceFilter {
    /// From `--trace-filter KEY=VALUE` flags (keys `service`, `event`, `request`) and the
    /// `--trace-from`/`--trace-to` durations.
    pub fn parse(
        filters: &[String],
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<TraceFilter, String> {
        let mut f = TraceFilter::default();
        for text in filters {
            let (key, value) = text.split_once('=').ok_or_else(|| {
                format!("--trace-filter `{text}`: write KEY=VALUE, e.g. service=payment")
            })?;
            let value = value.trim();
            match key.trim() {
                "service" => f.services.push(value.to_string()),
                "event" => {
                    if !EVENTS.contains(&value) {
                        return Err(format!(
                            "--trace-filter `{text}`: no event `{value}`{}; events: {}",
                            did_you_mean(value, EVENTS.iter().copied()),
                            EVENTS.join(", ")
                        ));
                    }
                    f.events.push(value.to_string());
                }
                "request" => f.requests.push(value.parse().map_err(|_| {
                    format!("--trace-filter `{text}`: a request id is a whole number")
                })?),
                other => {
                    let keys = ["service", "event", "request"];
                    return Err(format!(
                        "--trace-filter `{text}`: unknown key `{other}`{}; keys: {}",
                        did_you_mean(other, keys),
                        keys.join(", ")
                    ));
                }
            }
        }
        let time = |flag: &str, v: Option<&str>| {
            v.map(|v| parse_duration(v).map_err(|e| format!("{flag} {v}: {e}")))
                .transpose()
        };
        f.from = time("--trace-from", from)?;
        f.to = time("--trace-to", to)?;
        if let (Some(a), Some(b)) = (f.from, f.to) {
            if b <= a {
                return Err(format!("--trace-to ({b}) must be after --trace-from ({a})"));
            }
        }
        Ok(f)
    }
}

impl TraceFilter {
    /// Checks the service names against `platform`.
    pub fn check(&self, platform: &Platform) -> Result<(), String> {
        let names: Vec<&str> = platform.services.iter().map(|s| s.name.as_str()).collect();
        for s in &self.services {
            if platform.service_id(s).is_none() {
                return Err(format!(
                    "--trace-filter service={s}: no such service{}; services: {}",
                    did_you_mean(s, names.iter().copied()),
                    names.join(", ")
                ));
            }
        }
        Ok(())
    }
}

/// The span formats' own flags, as given.
#[derive(Debug, Clone, Copy)]
pub struct SpanFlags<'a> {
    pub sample: Option<f64>,
    pub keep: Option<&'a str>,
    pub max_spans: u64,
}

/// Tail rules a `--trace-keep` list may name.
const KEEP_RULES: &[&str] = &["errors", "timeouts", "retries", "slow"];

impl TraceFilter {
    /// The options of a trace of spans: this filter's services and window (of roots),
    /// with the sampling flags. Events and request ids belong to the event log.
    pub fn span_options(
        &self,
        platform: &Platform,
        flags: &SpanFlags,
    ) -> Result<span::SpanOptions, String> {
        if !self.events.is_empty() || !self.requests.is_empty() {
            return Err(
                "--trace-filter event=/request= select lines of the jsonl event log; \
                 for traces keep what matters with --trace-keep errors,timeouts,retries"
                    .to_string(),
            );
        }
        let sample = flags.sample.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&sample) {
            return Err(format!(
                "--trace-sample {sample}: a probability from 0 to 1, e.g. 0.01"
            ));
        }
        Ok(span::SpanOptions {
            sample,
            keep: flags.keep.map(parse_keep).transpose()?.unwrap_or_default(),
            from: self.from.unwrap_or(SimTime::ZERO),
            to: self.to.unwrap_or(SimTime::MAX),
            services: self
                .services
                .iter()
                .filter_map(|s| platform.service_id(s))
                .collect(),
            max_spans: flags.max_spans,
        })
    }
}

/// `errors,timeouts,retries,slow:p99` (or `slow:2s`).
fn parse_keep(text: &str) -> Result<span::Keep, String> {
    let mut keep = span::Keep::default();
    for rule in text.split(',').map(str::trim) {
        let (name, arg) = match rule.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (rule, None),
        };
        match (name, arg) {
            ("errors", None) => keep.errors = true,
            ("timeouts", None) => keep.timeouts = true,
            ("retries", None) => keep.retries = true,
            ("slow", Some(a)) => keep.slow = Some(parse_slow(a)?),
            ("slow", None) => {
                return Err("--trace-keep slow: say how slow, e.g. slow:p99 or slow:2s".into())
            }
            _ => {
                return Err(format!(
                    "--trace-keep: no rule `{rule}`{}; rules: errors, timeouts, retries, slow:pNN, slow:DURATION",
                    did_you_mean(name, KEEP_RULES.iter().copied())
                ))
            }
        }
    }
    Ok(keep)
}

fn parse_slow(a: &str) -> Result<span::Slow, String> {
    if let Some(p) = a.strip_prefix('p') {
        // p99 = 0.99, p999 = 0.999, p50 = 0.5.
        let digits: String = p.chars().filter(char::is_ascii_digit).collect();
        if !digits.is_empty() && digits.len() == p.len() && !p.starts_with('0') {
            let q = format!("0.{digits}").parse::<f64>().expect("digits parse");
            return Ok(span::Slow::Quantile(q));
        }
        return Err(format!(
            "--trace-keep slow:{a}: a percentile is p50, p90, p99, p999"
        ));
    }
    parse_duration(a)
        .map(span::Slow::Above)
        .map_err(|e| format!("--trace-keep slow:{a}: {e}; or a percentile, e.g. slow:p99"))
}

/// Writes the trace of a run as it goes.
pub struct Tracer<W: Write> {
    out: BufWriter<W>,
    /// Each service's name, JSON-quoted once.
    names: Vec<String>,
    keep_service: Vec<bool>,
    keep_event: [bool; 16],
    requests: Vec<u64>,
    from: SimTime,
    to: SimTime,
    lines: u64,
    error: Option<io::Error>,
    t: ryu::Buffer,
}

impl<W: Write> Tracer<W> {
    /// A tracer of `platform`'s run; unknown service names in the filter are an error.
    pub fn new(out: W, platform: &Platform, filter: &TraceFilter) -> Result<Tracer<W>, String> {
        filter.check(platform)?;
        let names: Vec<&str> = platform.services.iter().map(|s| s.name.as_str()).collect();
        let mut keep_service = vec![filter.services.is_empty(); names.len()];
        for id in filter
            .services
            .iter()
            .filter_map(|s| platform.service_id(s))
        {
            keep_service[id.0 as usize] = true;
        }
        let mut keep_event = [filter.events.is_empty(); 16];
        for e in &filter.events {
            if let Some(i) = EVENTS.iter().position(|x| x == e) {
                keep_event[i] = true;
            }
        }
        Ok(Tracer {
            out: BufWriter::with_capacity(1 << 20, out),
            names: names
                .iter()
                .map(|n| serde_json::to_string(n).expect("a string serializes"))
                .collect(),
            keep_service,
            keep_event,
            requests: filter.requests.clone(),
            from: filter.from.unwrap_or(SimTime::ZERO),
            to: filter.to.unwrap_or(SimTime(u64::MAX)),
            lines: 0,
            error: None,
            t: ryu::Buffer::new(),
        })
    }

    #[inline]
    fn keep(&self, now: SimTime, service: ServiceId, event: usize, uid: u64) -> bool {
        now >= self.from
            && now < self.to
            && self.keep_service[service.0 as usize]
            && self.keep_event[event]
            && (self.requests.is_empty() || self.requests.contains(&uid))
    }

    fn line(&mut self, now: SimTime, service: ServiceId, event: &str, uid: u64) {
        if self.error.is_some() {
            return;
        }
        let t = self.t.format(now.as_secs_f64());
        let result = writeln!(
            self.out,
            r#"{{"t_s":{t},"service":{},"event":"{event}","request":{uid}}}"#,
            self.names[service.0 as usize]
        );
        match result {
            Ok(()) => self.lines += 1,
            Err(e) => self.error = Some(e),
        }
    }

    /// Flushes the trace; returns the number of lines written, or the first write error.
    pub fn finish(mut self) -> io::Result<u64> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()?;
        Ok(self.lines)
    }
}

/// `DependencyFailed` -> `dependency_failed`; follows new outcomes without a list to
/// keep in step.
fn outcome_name(o: Outcome) -> (usize, String) {
    let debug = format!("{o:?}");
    let mut name = String::with_capacity(debug.len() + 4);
    for (i, c) in debug.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            name.push('_');
        }
        name.push(c.to_ascii_lowercase());
    }
    let index = EVENTS
        .iter()
        .position(|e| *e == name)
        .unwrap_or(EVENTS.len());
    (index, name)
}

impl<W: Write> Observer for Tracer<W> {
    #[inline]
    fn arrival(&mut self, now: SimTime, service: ServiceId, uid: u64) {
        if self.keep(now, service, 0, uid) {
            self.line(now, service, "arrival", uid);
        }
    }

    #[inline]
    fn outcome(&mut self, now: SimTime, service: ServiceId, uid: u64, outcome: Outcome) {
        if now < self.from || now >= self.to || !self.keep_service[service.0 as usize] {
            return;
        }
        let (index, name) = outcome_name(outcome);
        if self.keep(now, service, index, uid) {
            self.line(now, service, &name, uid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_names_are_snake_case_events() {
        assert_eq!(
            outcome_name(Outcome::DependencyFailed).1,
            "dependency_failed"
        );
        assert_eq!(outcome_name(Outcome::Ok), (1, "ok".to_string()));
        for o in [
            Outcome::Error,
            Outcome::Timeout,
            Outcome::Rejected,
            Outcome::Shed,
            Outcome::Crashed,
        ] {
            assert!(outcome_name(o).0 < EVENTS.len(), "{o:?}");
        }
    }

    #[test]
    fn filters_parse_and_reject_unknown_keys_and_events() {
        let f = TraceFilter::parse(
            &[
                "service=payment".into(),
                "event=timeout".into(),
                "request=7".into(),
            ],
            Some("1m"),
            Some("90s"),
        )
        .unwrap();
        assert_eq!(f.services, ["payment"]);
        assert_eq!(f.events, ["timeout"]);
        assert_eq!(f.requests, [7]);
        assert_eq!(f.from, Some(SimTime(60_000_000_000)));
        let err = TraceFilter::parse(&["servce=payment".into()], None, None).unwrap_err();
        assert!(err.contains("did you mean \"service\""), "{err}");
        let err = TraceFilter::parse(&["event=timeouts".into()], None, None).unwrap_err();
        assert!(err.contains("did you mean \"timeout\""), "{err}");
        assert!(TraceFilter::parse(&[], Some("2m"), Some("1m")).is_err());
        assert!(TraceFilter::parse(&[], Some("soon"), None).is_err());
    }
}
