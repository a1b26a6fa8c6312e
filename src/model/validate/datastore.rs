//! Checks of the data-store settings: connection pools, cache-aside, fallbacks and a
//! database's write path.

use super::Check;
use crate::model::{CacheAside, Fallback, Pool, Replication, ServiceId, Writes};
use crate::scenario::{CacheSpec, CallSpec, FallbackSpec, PoolSpec, ReplicationSpec, WritesSpec};
use std::collections::BTreeMap;

/// Most keys of one cache: the key space is a table of that many entries per call edge.
pub const MAX_CACHE_KEYS: u32 = 10_000_000;

/// Most followers of one database (each commit draws a lag per follower).
pub const MAX_FOLLOWERS: u32 = 16;

/// What a call adds to its plain shape: `(pool, cache, fallback)`, or `None` after a
/// problem was reported.
pub(super) type CallExtras = (Option<Pool>, Option<CacheAside>, Option<Fallback>);

impl Check {
    /// Checks `call` (at path `cp`) of service `caller`.
    pub(super) fn call_extras(
        &mut self,
        cp: &str,
        caller: &str,
        call: &CallSpec,
        names: &BTreeMap<String, usize>,
    ) -> Option<CallExtras> {
        if call.pool.is_some() && call.bulkhead.is_some() {
            self.fail(
                format!("{cp}.pool"),
                "a connection pool already bounds the concurrent calls; keep the pool or the bulkhead, not both",
            );
        }
        let pool = call
            .pool
            .as_ref()
            .map(|p| self.pool(&format!("{cp}.pool"), p));
        let cache = call
            .cache
            .as_ref()
            .map(|c| self.cache(&format!("{cp}.cache"), caller, &call.to, c, names));
        let fallback = call
            .fallback
            .as_ref()
            .map(|f| self.fallback(&format!("{cp}.fallback"), caller, &call.to, f, names));
        if call.pool.is_some() && call.bulkhead.is_some() {
            return None;
        }
        Some((
            pool.map_or(Some(None), |p| p.map(Some))?,
            cache.map_or(Some(None), |c| c.map(Some))?,
            fallback.map_or(Some(None), |f| f.map(Some))?,
        ))
    }

    fn pool(&mut self, p: &str, pool: &PoolSpec) -> Option<Pool> {
        self.at_least_one(&format!("{p}.max_size"), pool.max_size);
        let timeout =
            self.duration(&format!("{p}.connection_timeout"), &pool.connection_timeout)?;
        (pool.max_size >= 1).then_some(Pool {
            max_size: pool.max_size,
            connection_timeout: timeout,
        })
    }

    fn cache(
        &mut self,
        p: &str,
        caller: &str,
        to: &str,
        c: &CacheSpec,
        names: &BTreeMap<String, usize>,
    ) -> Option<CacheAside> {
        let service = self.lookup(&format!("{p}.service"), &c.service, names);
        if c.service == caller || c.service == to {
            self.fail(
                format!("{p}.service"),
                format!(
                    "\"{}\" cannot cache its own calls: name a cache service other than the caller and the callee",
                    c.service
                ),
            );
        }
        let keys_ok = (1..=MAX_CACHE_KEYS).contains(&c.keys);
        if !keys_ok {
            self.fail(
                format!("{p}.keys"),
                format!("{} is not 1 to {MAX_CACHE_KEYS}", c.keys),
            );
        }
        let zipf_ok = c.zipf.is_finite() && (0.0..=10.0).contains(&c.zipf);
        if !zipf_ok {
            self.fail(
                format!("{p}.zipf"),
                format!(
                    "{} is not a Zipf exponent from 0 (all keys equally popular) to 10",
                    c.zipf
                ),
            );
        }
        let ttl = c
            .ttl
            .as_ref()
            .map(|t| self.positive_duration(&format!("{p}.ttl"), t));
        let timeout = c
            .timeout
            .as_ref()
            .map(|t| self.positive_duration(&format!("{p}.timeout"), t));
        let ttl = ttl.map_or(Some(None), |t| t.map(Some))?;
        let timeout = timeout.map_or(Some(None), |t| t.map(Some))?;
        if !(keys_ok && zipf_ok) || c.service == caller || c.service == to {
            return None;
        }
        Some(CacheAside {
            service: ServiceId(service? as u32),
            keys: c.keys,
            zipf: c.zipf,
            ttl,
            coalesce: c.coalesce,
            timeout,
        })
    }

    fn fallback(
        &mut self,
        p: &str,
        caller: &str,
        to: &str,
        f: &FallbackSpec,
        names: &BTreeMap<String, usize>,
    ) -> Option<Fallback> {
        match f {
            FallbackSpec::Default => Some(Fallback::Default),
            FallbackSpec::Service(name) => {
                let path = format!("{p}.Service");
                let found = self.lookup(&path, name, names);
                if name == caller || name == to {
                    self.fail(
                        &path,
                        format!("\"{name}\" cannot be the fallback of a call from \"{caller}\" to \"{to}\": name another service"),
                    );
                    return None;
                }
                Some(Fallback::Service(ServiceId(found? as u32)))
            }
        }
    }

    /// A database's write path (at path `p`).
    pub(super) fn writes(
        &mut self,
        p: &str,
        w: &WritesSpec,
        names: &BTreeMap<String, usize>,
    ) -> Option<Writes> {
        let from: Vec<Option<usize>> = w
            .from
            .iter()
            .enumerate()
            .map(|(i, name)| self.lookup(&format!("{p}.from[{i}]"), name, names))
            .collect();
        self.probability(&format!("{p}.share"), w.share);
        self.probability(&format!("{p}.error_rate"), w.error_rate);
        let replication = w
            .replication
            .as_ref()
            .map(|r| self.replication(&format!("{p}.replication"), r));
        let service_time = self.dist(&format!("{p}.service_time"), &w.service_time)?;
        let replication = replication.map_or(Some(None), |r| r.map(Some))?;
        let from = from
            .into_iter()
            .map(|f| f.map(|i| ServiceId(i as u32)))
            .collect::<Option<Vec<_>>>()?;
        ((0.0..=1.0).contains(&w.share) && (0.0..=1.0).contains(&w.error_rate)).then_some(Writes {
            from,
            share: w.share,
            service_time,
            error_rate: w.error_rate,
            synchronous_commit: w.synchronous_commit,
            replication,
        })
    }

    fn replication(&mut self, p: &str, r: &ReplicationSpec) -> Option<Replication> {
        if !(1..=MAX_FOLLOWERS).contains(&r.followers) {
            self.fail(
                format!("{p}.followers"),
                format!("{} is not 1 to {MAX_FOLLOWERS}", r.followers),
            );
        }
        let lag = self.dist(&format!("{p}.lag"), &r.lag);
        let failover_after =
            self.positive_duration(&format!("{p}.failover_after"), &r.failover_after);
        (1..=MAX_FOLLOWERS)
            .contains(&r.followers)
            .then_some(Replication {
                mode: r.mode,
                followers: r.followers,
                lag: lag?,
                failover_after: failover_after?,
                reads: r.reads,
            })
    }
}
