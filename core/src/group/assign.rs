//! Sticky, balanced, deterministic partition assignment.
//!
//! Given the partitions and the members in join order (each with the partitions it
//! owns now, and an optional manual assignment), [`rebalance`] returns each
//! member's new partitions:
//!
//! 1. Manual members own exactly what they chose. The rest (the pool) is shared
//!    among the automatic members.
//! 2. Each automatic member's quota is `pool / m` or one more; the extra ones go to
//!    the members that already own the most of the pool, ties in join order — so
//!    nobody gives up a partition it may keep.
//! 3. Every automatic member keeps what it owns, lowest partitions first, up to its
//!    quota (sticky: a partition moves only when its owner left or owns too many).
//! 4. The partitions left over go, lowest first, to the members in join order
//!    until each has its quota.
//!
//! The result depends only on the inputs, so a given sequence of joins and leaves
//! always gives the same assignments.

/// One member as the assignor sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Seat<'a> {
    /// What it owns now.
    pub(crate) owned: &'a [u32],
    /// Its manual assignment, if it chose one.
    pub(crate) manual: Option<&'a [u32]>,
}

/// The new partitions of each member (same order as `members`), each ascending.
pub(crate) fn rebalance(partitions: u32, members: &[Seat<'_>]) -> Vec<Vec<u32>> {
    let n = partitions as usize;
    let mut out: Vec<Vec<u32>> = vec![Vec::new(); members.len()];
    let mut taken = vec![false; n];
    for (i, m) in members.iter().enumerate() {
        if let Some(manual) = m.manual {
            for &p in manual {
                if (p as usize) < n && !taken[p as usize] {
                    taken[p as usize] = true;
                    out[i].push(p);
                }
            }
        }
    }
    let pool = taken.iter().filter(|t| !**t).count();
    let auto: Vec<usize> = (0..members.len())
        .filter(|&i| members[i].manual.is_none())
        .collect();
    if auto.is_empty() {
        out.iter_mut().for_each(|v| v.sort_unstable());
        return out;
    }
    let manual_taken = taken.clone();
    let owned_in_pool = |i: usize| -> Vec<u32> {
        let mut v: Vec<u32> = members[i]
            .owned
            .iter()
            .copied()
            .filter(|&p| (p as usize) < n && !manual_taken[p as usize])
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let (q, r) = (pool / auto.len(), pool % auto.len());
    let mut rank: Vec<usize> = auto.clone();
    // Stable sort: ties stay in join order.
    rank.sort_by_key(|&i| std::cmp::Reverse(owned_in_pool(i).len()));
    let mut quota = vec![0usize; members.len()];
    for (k, &i) in rank.iter().enumerate() {
        quota[i] = q + usize::from(k < r);
    }
    for &i in &auto {
        for p in owned_in_pool(i) {
            if out[i].len() < quota[i] && !taken[p as usize] {
                taken[p as usize] = true;
                out[i].push(p);
            }
        }
    }
    let mut free = (0..partitions).filter(|&p| !taken[p as usize]);
    for &i in &auto {
        while out[i].len() < quota[i] {
            match free.next() {
                Some(p) => out[i].push(p),
                None => break,
            }
        }
    }
    out.iter_mut().for_each(|v| v.sort_unstable());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auto(owned: &[u32]) -> Seat<'_> {
        Seat {
            owned,
            manual: None,
        }
    }

    #[test]
    fn first_member_takes_everything() {
        assert_eq!(rebalance(3, &[auto(&[])]), vec![vec![0, 1, 2]]);
    }

    #[test]
    fn a_joiner_takes_only_what_must_move() {
        let a = [0, 1, 2, 3];
        let out = rebalance(4, &[auto(&a), auto(&[])]);
        assert_eq!(out, vec![vec![0, 1], vec![2, 3]]);
        let out = rebalance(5, &[auto(&[0, 1, 2]), auto(&[3, 4]), auto(&[])]);
        assert_eq!(out, vec![vec![0, 1], vec![3, 4], vec![2]]);
    }

    #[test]
    fn a_leavers_partitions_go_to_the_others() {
        // b (owning 2, 3) left: a keeps 0, 1 and c keeps 4, 5; 2 and 3 are shared.
        let out = rebalance(6, &[auto(&[0, 1]), auto(&[4, 5])]);
        assert_eq!(out, vec![vec![0, 1, 2], vec![3, 4, 5]]);
    }

    #[test]
    fn more_members_than_partitions() {
        let out = rebalance(2, &[auto(&[0]), auto(&[1]), auto(&[])]);
        assert_eq!(out, vec![vec![0], vec![1], vec![]]);
    }

    #[test]
    fn manual_members_own_what_they_chose() {
        let m = [1u32];
        let out = rebalance(
            3,
            &[
                auto(&[0, 1, 2]),
                Seat {
                    owned: &[],
                    manual: Some(&m),
                },
            ],
        );
        assert_eq!(out, vec![vec![0, 2], vec![1]]);
    }

    #[test]
    fn balanced_and_exclusive_for_any_history() {
        // Replay joins and leaves; after each, every partition has one owner and
        // the counts differ by at most one.
        let mut members: Vec<Vec<u32>> = Vec::new();
        let script = [1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 1];
        for (step, &join) in script.iter().enumerate() {
            if join == 1 {
                members.push(Vec::new());
            } else {
                members.remove(step % members.len());
            }
            let seats: Vec<Seat<'_>> = members.iter().map(|v| auto(v)).collect();
            let out = rebalance(7, &seats);
            let mut all: Vec<u32> = out.iter().flatten().copied().collect();
            all.sort_unstable();
            assert_eq!(all, (0..7).collect::<Vec<_>>());
            let (min, max) = (
                out.iter().map(Vec::len).min().unwrap(),
                out.iter().map(Vec::len).max().unwrap(),
            );
            assert!(max - min <= 1, "{out:?}");
            // Sticky: nobody lost a partition it could keep.
            for (old, new) in members.iter().zip(&out) {
                let kept = old.iter().filter(|p| new.contains(p)).count();
                assert!(kept == old.len() || kept >= new.len().min(old.len()));
            }
            members = out;
        }
    }
}
