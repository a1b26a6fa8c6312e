//! Partitioned data: which partition serves a request, from the key it touches.
//!
//! A request to a partitioned service goes through these steps (DDIA, ch. 6 "Partitioning"):
//! 1. It draws a key from the key space: with probability `hot_share` the one hot key (a
//!    celebrity's timeline, a flash-sale item), otherwise a key by Zipf popularity with
//!    exponent `zipf` (0 is uniform). Keys are numbered by popularity rank, key 0 first.
//! 2. A salted hot key (`salt` > 1) gets a random suffix in `0..salt`: "adding a random
//!    number to the beginning or end of the key" spreads one key's writes over `salt`
//!    keys (DDIA, "Skewed Workloads and Relieving Hot Spots"). Reads of such a key must
//!    then read every suffix and combine; that fan-out is not modelled, so salting is for
//!    write-heavy keys, as the book says.
//! 3. The scheme maps the (sub)key to a partition: `Hash` takes a stable 64-bit hash
//!    modulo the partition count (a fixed partition count: Riak, Elasticsearch, Couchbase);
//!    `Ring` places `vnodes` tokens per partition on a hash ring and a key belongs to the
//!    first token at or after its hash (Dynamo, Cassandra's vnodes); `Range` gives each
//!    partition a contiguous run of keys (HBase regions, Bigtable tablets). Keys are
//!    numbered by rank, so `Range` puts the hottest keys together, as a key that grows with
//!    time (a timestamp) does.
//! 4. The node that holds the partition serves it: the service's replicas are its nodes,
//!    and partition `i` starts on node `i % nodes`.
//!
//! Failure modes it shows: one key's traffic exceeds one partition's capacity however many
//! partitions there are (a hot key); a range scheme concentrates popular neighbouring keys.
//! Owners are computed once per key, so routing a request costs a binary search in the
//! popularity table and a lookup, and allocates nothing.

use rand::Rng;

/// How keys map to partitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Stable hash of the key modulo the partition count.
    Hash,
    /// Consistent hashing with `vnodes` tokens per partition.
    Ring { vnodes: u32 },
    /// Contiguous ranges of keys (in popularity order), equal in key count.
    Range,
    /// A directory lists each key's partition; it starts as `Hash` places them, and a key
    /// can then move alone (`Directory`).
    Directory,
}

/// Directory-based partitioning (DDIA ch. 6, "Request Routing"; MongoDB's config servers
/// and the routers' cached routing table, Vitess's topology service): a lookup service
/// holds each key's partition, so moving a key is an update of its entry, not a change of
/// the hash. The price is the directory on the request path:
/// 1. The clients (one shared cache, as a routing tier's) keep each answer for `ttl`. A
///    request whose key is cached goes straight to the partition the cache names; one
///    whose key is not asks the directory first and pays `lookup` (as off-CPU wait, like a
///    redirect hop), then caches the answer. With requests for a key arriving at rate `r`,
///    an entry lives `ttl` and is renewed by the first request after it expires, so the
///    share of requests that look up is `1 / (1 + r x ttl)` (a renewal cycle of `ttl +
///    1/r` holds one lookup and `1 + r x ttl` requests).
/// 2. During an `outage` the directory answers nothing: a request whose key is not cached
///    fails (`Unavailable`); cached keys keep working until their entries expire.
/// 3. A key move (`KeyMove`) copies the key's data into a new partition of its own on the
///    chosen node; the key is served there once the copy is done, the directory lists it
///    `routing_lag` later. Until then requests go to the old owner, which redirects or
///    refuses them as the rebalance's `stale` says and tells the client, which drops its
///    entry (MongoDB's routers refresh on `StaleConfig`): each request in the lag asks
///    the directory again, and the first one after it learns the new place.
#[derive(Debug, Clone, PartialEq)]
pub struct Directory {
    pub lookup: crate::engine::SimTime,
    pub ttl: crate::engine::SimTime,
    /// `(from, to)`: the directory is down in `from..to`.
    pub outage: Option<(crate::engine::SimTime, crate::engine::SimTime)>,
    pub moves: Vec<KeyMove>,
}

/// Key `key` moves alone to a new partition on node `to_node`, starting at `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyMove {
    pub at: crate::engine::SimTime,
    pub key: u32,
    pub to_node: u32,
}

/// A validated key space and partitioning of one service.
#[derive(Debug, Clone, PartialEq)]
pub struct Partitioning {
    pub keys: u32,
    pub zipf: f64,
    pub hot_share: f64,
    pub salt: u32,
    pub scheme: Scheme,
    pub partitions: u32,
    /// Nodes holding partitions at the start.
    pub initial_nodes: u32,
    /// How partitions move when the node count changes (`Some` whenever it does).
    pub rebalance: Option<Rebalance>,
    /// The node count's changes (a scheduled rebalance, `NodeAdd` / `NodeRemove` faults),
    /// in time order.
    pub changes: Vec<NodeChange>,
    /// The lookup service of `Scheme::Directory`.
    pub directory: Option<Directory>,
}

/// From `at` on, the partitions belong on nodes `0..nodes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeChange {
    pub at: crate::engine::SimTime,
    pub nodes: u32,
}

/// A validated rebalance (see `mech::rebalance`).
#[derive(Debug, Clone, PartialEq)]
pub struct Rebalance {
    pub partition_mb: f64,
    pub bandwidth_mb_s: f64,
    pub strategy: crate::mech::rebalance::Strategy,
    pub concurrent: u32,
    pub copy_cost: f64,
    pub routing_lag: crate::engine::SimTime,
    /// `Some(hop)`: redirect at that cost; `None`: refuse.
    pub redirect: Option<crate::engine::SimTime>,
}

impl Rebalance {
    /// How long copying `mb` takes at the move's bandwidth.
    pub fn copy_time(&self, mb: f64) -> crate::engine::SimTime {
        crate::engine::SimTime(((mb / self.bandwidth_mb_s) * 1e9).round() as u64)
    }
}

/// Routes keys to partitions: the popularity table and each key's owner.
#[derive(Debug, Clone)]
pub struct KeyRouter {
    hot_share: f64,
    /// Cumulative Zipf popularity of the keys, key 0 first; the last entry is 1.
    cdf: Vec<f64>,
    /// The partition of each key.
    owner: Vec<u32>,
    /// The partition of each salted form of key 0 (`salt` entries; entry 0 is `owner[0]`).
    salted: Vec<u32>,
}

impl KeyRouter {
    pub fn new(cfg: &Partitioning) -> Self {
        let partitions = cfg.partitions;
        let weights: Vec<f64> = (0..cfg.keys)
            .map(|i| 1.0 / ((i + 1) as f64).powf(cfg.zipf))
            .collect();
        let total: f64 = weights.iter().sum();
        let mut acc = 0.0;
        let mut cdf: Vec<f64> = weights
            .iter()
            .map(|w| {
                acc += w / total;
                acc
            })
            .collect();
        if let Some(last) = cdf.last_mut() {
            *last = 1.0;
        }
        let ring = match cfg.scheme {
            Scheme::Ring { vnodes } => ring(partitions, vnodes),
            _ => Vec::new(),
        };
        let place = |key: u32, salt: u32| -> u32 {
            match cfg.scheme {
                Scheme::Hash | Scheme::Directory => {
                    (key_hash(key, salt) % partitions as u64) as u32
                }
                Scheme::Ring { .. } => on_ring(&ring, key_hash(key, salt)),
                // A salted key lands in the range of its suffix: a key prefixed by its
                // salt (HBase's salted row keys) sorts into the salt's share of the range.
                Scheme::Range if salt > 0 => {
                    ((salt as u64 * partitions as u64) / cfg.salt as u64) as u32
                }
                Scheme::Range => ((key as u64 * partitions as u64) / cfg.keys as u64) as u32,
            }
        };
        KeyRouter {
            hot_share: cfg.hot_share,
            cdf,
            owner: (0..cfg.keys).map(|k| place(k, 0)).collect(),
            salted: (0..cfg.salt).map(|s| place(0, s)).collect(),
        }
    }

    /// Draws a key and its salt (0 unless the key is key 0 and salted).
    pub fn draw<R: Rng>(&self, rng: &mut R) -> (u32, u32) {
        let u: f64 = rng.random();
        let key = if u < self.hot_share {
            0
        } else {
            // Reuse the draw: above `hot_share` it is uniform on the rest.
            let v = (u - self.hot_share) / (1.0 - self.hot_share);
            self.cdf
                .partition_point(|&c| c <= v)
                .min(self.cdf.len() - 1) as u32
        };
        let salt = if key == 0 && self.salted.len() > 1 {
            rng.random_range(0..self.salted.len() as u32)
        } else {
            0
        };
        (key, salt)
    }

    /// Keys `keys` now belong to `partition` (a range split off by dynamic partitioning).
    pub fn reassign(&mut self, keys: std::ops::Range<u32>, partition: u32) {
        for k in keys {
            self.owner[k as usize] = partition;
        }
        self.salted[0] = self.owner[0];
    }

    /// The partition that owns `key` with suffix `salt`.
    pub fn owner(&self, key: u32, salt: u32) -> u32 {
        if key == 0 {
            self.salted[salt as usize]
        } else {
            self.owner[key as usize]
        }
    }

    /// The share of requests each of the `partitions` partitions receives, from the
    /// popularity table alone: what a partition's utilization should come to, times the
    /// arrival rate and the mean service time over its node's servers.
    pub fn expected_shares(&self, partitions: u32) -> Vec<f64> {
        let mut shares = vec![0.0; partitions as usize];
        let rest = 1.0 - self.hot_share;
        let mut prev = 0.0;
        for (k, &c) in self.cdf.iter().enumerate() {
            let p = (c - prev) * rest + if k == 0 { self.hot_share } else { 0.0 };
            prev = c;
            if k == 0 {
                let each = p / self.salted.len() as f64;
                for &o in &self.salted {
                    shares[o as usize] += each;
                }
            } else {
                shares[self.owner[k] as usize] += p;
            }
        }
        shares
    }
}

/// The node partition `partition` starts on.
pub fn initial_node(partition: u32, nodes: u32) -> u32 {
    partition % nodes
}

/// A stable 64-bit hash of a key and its salt (SplitMix64's finalizer): the same on every
/// platform and release, unlike std's hashers.
pub fn key_hash(key: u32, salt: u32) -> u64 {
    let mut z = ((key as u64) << 32 | salt as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The tokens of a hash ring, sorted: `(position, partition)`.
fn ring(partitions: u32, vnodes: u32) -> Vec<(u64, u32)> {
    let mut tokens: Vec<(u64, u32)> = (0..partitions)
        .flat_map(|p| (0..vnodes).map(move |v| (key_hash(p, v ^ 0x8000_0000), p)))
        .collect();
    tokens.sort_unstable();
    tokens
}

/// The partition of the first token at or after `h`, wrapping around.
fn on_ring(tokens: &[(u64, u32)], h: u64) -> u32 {
    let i = tokens.partition_point(|&(t, _)| t < h);
    tokens[i % tokens.len()].1
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn cfg(scheme: Scheme, partitions: u32) -> Partitioning {
        Partitioning {
            keys: 1000,
            zipf: 0.0,
            hot_share: 0.0,
            salt: 1,
            scheme,
            partitions,
            initial_nodes: 1,
            rebalance: None,
            changes: Vec::new(),
            directory: None,
        }
    }

    #[test]
    fn uniform_keys_spread_about_evenly_by_hash() {
        let r = KeyRouter::new(&cfg(Scheme::Hash, 8));
        let shares = r.expected_shares(8);
        assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        // 1000 keys over 8 partitions: 125 each on average, a binomial spread of ~10.
        for s in shares {
            assert!((0.09..0.16).contains(&s), "{s}");
        }
    }

    #[test]
    fn range_gives_contiguous_equal_runs() {
        let r = KeyRouter::new(&cfg(Scheme::Range, 4));
        assert_eq!(r.owner(1, 0), 0);
        assert_eq!(r.owner(249, 0), 0);
        assert_eq!(r.owner(250, 0), 1);
        assert_eq!(r.owner(999, 0), 3);
    }

    #[test]
    fn ring_owners_are_partitions_and_spread() {
        let r = KeyRouter::new(&cfg(Scheme::Ring { vnodes: 64 }, 4));
        let shares = r.expected_shares(4);
        for s in shares {
            assert!((0.15..0.35).contains(&s), "{s}");
        }
    }

    /// The hot key's partition takes `hot_share` plus its part of the rest; salting over
    /// as many suffixes as partitions spreads the hot share (hand-computed: 0.5 / 8 per
    /// suffix, and suffixes land where their hash says).
    #[test]
    fn a_hot_key_loads_one_partition_and_salting_spreads_it() {
        let mut c = cfg(Scheme::Hash, 8);
        c.hot_share = 0.5;
        let hot = KeyRouter::new(&c);
        let shares = hot.expected_shares(8);
        let owner = hot.owner(0, 0) as usize;
        assert!(shares[owner] > 0.5, "{shares:?}");
        c.salt = 8;
        let salted = KeyRouter::new(&c);
        let shares = salted.expected_shares(8);
        assert!(shares.iter().all(|&s| s < 0.3), "{shares:?}");
        // Draws follow the table.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let n = 200_000;
        let mut count = [0u32; 8];
        for _ in 0..n {
            let (k, s) = salted.draw(&mut rng);
            count[salted.owner(k, s) as usize] += 1;
        }
        for (c, s) in count.iter().zip(&shares) {
            assert!((*c as f64 / n as f64 - s).abs() < 0.005, "{c} vs {s}");
        }
    }

    #[test]
    fn zipf_top_key_share_matches_the_harmonic_number() {
        let mut c = cfg(Scheme::Hash, 2);
        c.zipf = 1.0;
        c.keys = 4;
        let r = KeyRouter::new(&c);
        // H_4 = 1 + 1/2 + 1/3 + 1/4 = 25/12: key 0 has 12/25 of the requests.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let hits = (0..100_000).filter(|_| r.draw(&mut rng).0 == 0).count();
        assert!((hits as f64 / 1e5 - 0.48).abs() < 0.005, "{hits}");
    }
}
