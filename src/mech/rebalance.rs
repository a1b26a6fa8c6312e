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

    #[test]
    fn moves_run_in_rounds() {
        assert_eq!(duration(3, 2, 25), 50);
        assert_eq!(duration(4, 2, 25), 50);
        assert_eq!(duration(0, 2, 25), 0);
    }
}
