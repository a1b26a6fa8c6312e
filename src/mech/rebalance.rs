//! Rebalancing a partitioned store when nodes join or leave, with a fixed number of
//! partitions (DDIA ch. 6, "Rebalancing Partitions": Riak, Elasticsearch, Couchbase,
//! Voldemort).
//!
//! The partition count never changes; whole partitions move between nodes:
//! 1. The plan (`plan`): partitions on nodes that leave go, one by one, to the member
//!    holding fewest partitions; then, while one member holds two or more partitions more
//!    than another, the fullest gives its highest-numbered partition to the emptiest. A
//!    node that joins thus steals a few partitions from every existing node, and no
//!    partition moves that need not (ties go to the lowest node number).
//! 2. Moves run `concurrent` at a time in plan order (Elasticsearch's
//!    `cluster.routing.allocation.node_concurrent_recoveries`, default 2); each copies the
//!    partition's data at the move's bandwidth, so it takes `size / bandwidth`. While it
//!    copies, the old owner serves the partition and both ends spend part of their
//!    capacity on the copy.
//! 3. When the copy is done, the new owner serves the partition. Clients learn it
//!    `routing_lag` later; until then they send to the old owner, which redirects them (a
//!    hop) or refuses them.
//!
//! Failure modes it shows: a rebalance under load slows the nodes that were already
//! busiest, for as long as the copies take; a lagging routing table adds hops or errors.
//!
//! `Strategy::Proportional` plans differently (`plan_proportional`): the partition count
//! follows the node count, and a join splits partitions instead of moving whole ones.

use rand::Rng;

/// How a store's partitions change (DDIA ch. 6, "Rebalancing Partitions").
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Strategy {
    /// A fixed number of partitions: only whole partitions move (Riak, Elasticsearch).
    Fixed,
    /// Dynamic partitioning of key ranges (HBase regions, MongoDB chunks): a partition
    /// whose data passes `split_mb` splits in two (`split_point`), both halves stay on its
    /// node, and `plan` then moves one if the node counts are uneven. Every request writes
    /// `write_mb` to its key. A one-key partition cannot split, however big: a hot key
    /// stays on one node.
    Dynamic { split_mb: f64, write_mb: f64 },
    /// Partitions proportional to nodes (DDIA ch. 6, "Partitioning proportionally to
    /// nodes"; Cassandra's `num_tokens`): `per_node` partitions per node, split and
    /// handed over by `plan_proportional`.
    Proportional { per_node: u32 },
}

/// Where the key range `lo..hi` splits: at the first key with at least half of the
/// range's data before it (HBase splits at the midkey of its largest file), so both halves
/// keep at least one key. `None` for a single key, which cannot split.
pub fn split_point(lo: u32, hi: u32, size: impl Fn(u32) -> f64) -> Option<u32> {
    if hi.saturating_sub(lo) < 2 {
        return None;
    }
    let total: f64 = (lo..hi).map(&size).sum();
    let mut before = 0.0;
    for k in lo..hi - 1 {
        before += size(k);
        if before >= total / 2.0 {
            return Some(k + 1);
        }
    }
    Some(hi - 1)
}

/// One partition's move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    pub partition: u32,
    pub from: u32,
    pub to: u32,
}

/// The moves that take `owner` (partition -> node) to a balanced placement on nodes
/// `0..members`. Pure; `owner` is left as it would be after all moves.
pub fn plan(owner: &mut [u32], members: u32) -> Vec<Move> {
    let nodes = owner
        .iter()
        .copied()
        .max()
        .map_or(members, |m| m.max(members - 1) + 1) as usize;
    let mut count = vec![0u32; nodes];
    for &n in owner.iter() {
        count[n as usize] += 1;
    }
    let emptiest = |count: &[u32]| -> u32 {
        (0..members)
            .min_by_key(|&n| (count[n as usize], n))
            .expect("at least one member")
    };
    let mut moves = Vec::new();
    let mut give = |owner: &mut [u32], count: &mut [u32], partition: usize, to: u32| {
        let from = owner[partition];
        count[from as usize] -= 1;
        count[to as usize] += 1;
        owner[partition] = to;
        moves.push(Move {
            partition: partition as u32,
            from,
            to,
        });
    };
    for partition in 0..owner.len() {
        if owner[partition] >= members {
            let to = emptiest(&count);
            give(owner, &mut count, partition, to);
        }
    }
    loop {
        let to = emptiest(&count);
        let from = (0..members)
            .max_by_key(|&n| (count[n as usize], std::cmp::Reverse(n)))
            .expect("at least one member");
        if count[from as usize] < count[to as usize] + 2 {
            break;
        }
        let partition = (0..owner.len())
            .rev()
            .find(|&k| owner[k] == from)
            .expect("the fullest node holds a partition");
        give(owner, &mut count, partition, to);
    }
    moves
}

/// A split made by a proportional rebalance: `partition` keeps the lower half of its data
/// and of its keys in hash order, and a new partition numbered `new` takes the upper half,
/// on the same node until its move copies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    pub partition: u32,
    pub new: u32,
}

/// A proportional rebalance: the splits to make at once (metadata only), then the moves.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProportionalPlan {
    pub splits: Vec<Split>,
    pub moves: Vec<Move>,
}

/// The plan that takes the partitions (`owner`, `size_mb`, `keys`: node, data and key
/// count per partition) to nodes `0..members` with partitions proportional to nodes (DDIA
/// ch. 6, "Partitioning proportionally to nodes"; Cassandra's vnodes):
/// 1. Each partition on a node that leaves goes, whole, to the member holding the least
///    data (ties to the lowest number). Cassandra streams a decommissioned node's ranges
///    to the nodes that take them over; with random tokens those are nodes at random, and
///    the least-loaded one is what its token allocation algorithm aims for.
/// 2. Each member that holds no partition (a node that joins), in node order, picks
///    `per_node` distinct partitions at random from `rng` among those with two keys or
///    more that stay where they are in this plan (a half is copied from where its data
///    is) ("randomly chooses a fixed number of existing partitions to split"; Cassandra's
///    bootstrap picks `num_tokens` random tokens, each splitting the range it lands in),
///    splits each in half and takes the upper half: `per_node` moves of half a partition.
///
/// From `P` equal partitions on `n` nodes a join moves `per_node` halves: `1 / (2n)` of
/// the data, where a fixed count's stealing moves `1 / (n + 1)` (the same for `n = 1`).
/// The new node starts with half a fair share until later joins even the sizes out, the
/// "unfair splits" DDIA says Cassandra 3.0's allocation algorithm avoids. Pure: the
/// partition count grows by the splits, numbered from `owner.len()` in order.
pub fn plan_proportional<R: Rng>(
    owner: &[u32],
    size_mb: &[f64],
    keys: &[u32],
    members: u32,
    per_node: u32,
    rng: &mut R,
) -> ProportionalPlan {
    let mut after = owner.to_vec();
    let mut size = size_mb.to_vec();
    let mut keys = keys.to_vec();
    let nodes = after
        .iter()
        .copied()
        .max()
        .map_or(members, |m| m.max(members - 1) + 1) as usize;
    let mut data = vec![0.0; nodes];
    let mut held = vec![0u32; nodes];
    for (p, &n) in after.iter().enumerate() {
        data[n as usize] += size[p];
        held[n as usize] += 1;
    }
    let mut plan = ProportionalPlan::default();
    for p in 0..after.len() {
        let from = after[p];
        if from < members {
            continue;
        }
        let to = (0..members)
            .min_by(|&a, &b| {
                data[a as usize]
                    .total_cmp(&data[b as usize])
                    .then(a.cmp(&b))
            })
            .expect("at least one member");
        data[from as usize] -= size[p];
        data[to as usize] += size[p];
        held[from as usize] -= 1;
        held[to as usize] += 1;
        after[p] = to;
        plan.moves.push(Move {
            partition: p as u32,
            from,
            to,
        });
    }
    for n in 0..members {
        if held[n as usize] > 0 {
            continue;
        }
        let mut candidates: Vec<u32> = (0..owner.len())
            .filter(|&p| keys[p] >= 2 && after[p] == owner[p])
            .map(|p| p as u32)
            .collect();
        let take = (per_node as usize).min(candidates.len());
        for i in 0..take {
            let j = rng.random_range(i..candidates.len());
            candidates.swap(i, j);
        }
        let mut picked = candidates[..take].to_vec();
        picked.sort_unstable();
        for q in picked {
            let (q, new) = (q as usize, after.len() as u32);
            let from = after[q];
            let half = size[q] / 2.0;
            let upper = keys[q] / 2;
            size[q] -= half;
            keys[q] -= upper;
            data[from as usize] -= half;
            data[n as usize] += half;
            held[n as usize] += 1;
            after.push(n);
            size.push(half);
            keys.push(upper);
            plan.splits.push(Split {
                partition: q as u32,
                new,
            });
            plan.moves.push(Move {
                partition: new,
                from,
                to: n,
            });
        }
    }
    plan
}

/// How long `moves` take, `concurrent` at a time, each `each` long: the rebalance's
/// duration (in the unit of `each`).
pub fn duration(moves: usize, concurrent: u32, each: u64) -> u64 {
    (moves as u64).div_ceil(concurrent.max(1) as u64) * each
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 12 partitions on 3 nodes (4 each); a 4th node joins: it steals one partition from
    /// each (3 moves), the highest-numbered of each, and every node ends with 3.
    #[test]
    fn a_joining_node_steals_one_partition_from_each() {
        let mut owner: Vec<u32> = (0..12).map(|k| k % 3).collect();
        let moves = plan(&mut owner, 4);
        assert_eq!(moves.len(), 3, "{moves:?}");
        assert!(moves.iter().all(|m| m.to == 3));
        let mut froms: Vec<u32> = moves.iter().map(|m| m.from).collect();
        froms.sort();
        assert_eq!(froms, vec![0, 1, 2]);
        for n in 0..4 {
            assert_eq!(owner.iter().filter(|&&o| o == n).count(), 3);
        }
        // Partitions 9, 10, 11 are the highest on nodes 0, 1, 2.
        let mut moved: Vec<u32> = moves.iter().map(|m| m.partition).collect();
        moved.sort();
        assert_eq!(moved, vec![9, 10, 11]);
    }

    /// A node leaves: only its partitions move, spread over the others.
    #[test]
    fn a_leaving_node_hands_over_only_its_own() {
        let mut owner: Vec<u32> = (0..12).map(|k| k % 4).collect();
        let moves = plan(&mut owner, 3);
        assert_eq!(moves.len(), 3);
        assert!(moves.iter().all(|m| m.from == 3));
        for n in 0..3 {
            assert_eq!(owner.iter().filter(|&&o| o == n).count(), 4);
        }
    }

    #[test]
    fn a_balanced_placement_moves_nothing() {
        let mut owner: Vec<u32> = (0..10).map(|k| k % 4).collect();
        assert!(plan(&mut owner, 4).is_empty());
    }

    /// Equal keys split in the middle; a heavy first key takes the lower half alone; a
    /// single key never splits.
    #[test]
    fn ranges_split_at_the_middle_of_their_data() {
        assert_eq!(split_point(0, 10, |_| 1.0), Some(5));
        assert_eq!(split_point(20, 24, |_| 1.0), Some(22));
        let skewed = |k: u32| if k == 0 { 8.0 } else { 1.0 };
        assert_eq!(split_point(0, 5, skewed), Some(1));
        let last = |k: u32| if k == 4 { 100.0 } else { 1.0 };
        assert_eq!(split_point(0, 5, last), Some(4));
        assert_eq!(split_point(3, 4, |_| 1.0), None);
    }

    /// Dynamic partitioning from one partition on one of 4 nodes: each split leaves both
    /// halves on their node, and the plan moves the new (highest-numbered) half to the
    /// emptiest node until no node holds two more than another. Hand-computed: split 0 ->
    /// {0, 1} on node 0, 1 moves to node 1; both split -> 2 on node 0, 3 on node 1; counts
    /// 2, 2, 0, 0: node 0 gives 2 to node 2, node 1 gives 3 to node 3.
    #[test]
    fn splits_then_moves_spread_partitions_over_the_nodes() {
        let mut owner = vec![0u32];
        owner.push(owner[0]);
        assert_eq!(
            plan(&mut owner, 4),
            vec![Move {
                partition: 1,
                from: 0,
                to: 1
            }]
        );
        owner.push(owner[0]);
        owner.push(owner[1]);
        let moves = plan(&mut owner, 4);
        assert_eq!(
            moves,
            vec![
                Move {
                    partition: 2,
                    from: 0,
                    to: 2
                },
                Move {
                    partition: 3,
                    from: 1,
                    to: 3
                }
            ]
        );
        assert_eq!(owner, vec![0, 1, 2, 3]);
    }

    /// 12 partitions of 1024 MB on 3 nodes, 4 per node; a 4th node joins with
    /// `per_node: 4`: it splits 4 distinct partitions and takes the upper half of each, 4
    /// moves of 512 MB = 2048 MB, 1/6 of the 12,288 MB (1 / (2n), n = 3). Every old node
    /// keeps its 4 partitions (each split leaves one half in place), the new one holds 4.
    #[test]
    fn a_joining_node_splits_per_node_partitions_and_takes_a_half_of_each() {
        use rand::SeedableRng;
        let owner: Vec<u32> = (0..12).map(|k| k % 3).collect();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let plan = plan_proportional(&owner, &[1024.0; 12], &[100; 12], 4, 4, &mut rng);
        assert_eq!(plan.splits.len(), 4);
        assert_eq!(plan.moves.len(), 4);
        let mut split: Vec<u32> = plan.splits.iter().map(|s| s.partition).collect();
        split.dedup();
        assert_eq!(split.len(), 4, "distinct partitions: {plan:?}");
        for (i, (s, m)) in plan.splits.iter().zip(&plan.moves).enumerate() {
            assert_eq!(s.new, 12 + i as u32);
            assert_eq!(
                *m,
                Move {
                    partition: s.new,
                    from: owner[s.partition as usize],
                    to: 3
                }
            );
        }
        // The same stream picks the same partitions.
        let mut again = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        assert_eq!(
            plan_proportional(&owner, &[1024.0; 12], &[100; 12], 4, 4, &mut again),
            plan
        );
        // A one-key partition cannot split: only the others are picked.
        let mut keys = [1u32; 12];
        keys[5] = 2;
        let plan = plan_proportional(&owner, &[1024.0; 12], &keys, 4, 4, &mut rng);
        assert_eq!(
            plan.splits,
            vec![Split {
                partition: 5,
                new: 12
            }]
        );
    }

    /// Node 3 leaves holding partitions of 512, 512, 1024 MB while nodes 0-2 hold 3072,
    /// 2560, 2560 MB: each goes whole to the member with least data at that point: 512 to
    /// node 1 (tie with 2, lowest number), 512 to node 2, 1024 to node 0 (3072 against
    /// 3072 and 3072: the lowest). Nothing else moves and nothing splits.
    #[test]
    fn a_leaving_node_hands_each_partition_to_the_least_loaded_member() {
        let owner = [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3];
        let mut size = [1024.0; 12];
        (size[4], size[7], size[9], size[10]) = (512.0, 512.0, 512.0, 512.0);
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::from_seed([0; 32]);
        let plan = plan_proportional(&owner, &size, &[100; 12], 3, 4, &mut rng);
        assert!(plan.splits.is_empty());
        let to: Vec<(u32, u32)> = plan.moves.iter().map(|m| (m.partition, m.to)).collect();
        assert_eq!(to, vec![(9, 1), (10, 2), (11, 0)]);
        assert!(plan.moves.iter().all(|m| m.from == 3));
    }

    /// Two nodes join 2 at once (4 partitions of 1024 MB, 2 per node, `per_node: 2`):
    /// each splits 2 partitions that stay put, so every half is copied from node 0 or 1,
    /// where its data is; node 3 may split what node 2 split first (a lower half of 512
    /// MB, giving 256). The data is conserved and the new nodes hold what moved.
    #[test]
    fn nodes_joining_together_split_only_partitions_that_stay() {
        use rand::SeedableRng;
        for seed in 0..20 {
            let owner = [0, 1, 0, 1];
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let plan = plan_proportional(&owner, &[1024.0; 4], &[100; 4], 4, 2, &mut rng);
            assert_eq!((plan.splits.len(), plan.moves.len()), (4, 4));
            assert!(plan.splits.iter().all(|s| s.partition < 4), "{plan:?}");
            assert!(
                plan.moves.iter().all(|m| m.from < 2 && m.to >= 2),
                "{plan:?}"
            );
            let mut size = vec![1024.0; 4];
            for s in &plan.splits {
                size[s.partition as usize] /= 2.0;
                size.push(size[s.partition as usize]);
            }
            assert_eq!(size.iter().sum::<f64>(), 4096.0);
            let moved: f64 = plan.moves.iter().map(|m| size[m.partition as usize]).sum();
            assert!((1536.0..=2048.0).contains(&moved), "{moved}");
        }
    }

    #[test]
    fn moves_run_in_rounds() {
        assert_eq!(duration(3, 2, 25), 50);
        assert_eq!(duration(4, 2, 25), 50);
        assert_eq!(duration(0, 2, 25), 0);
    }
}
