//! Placement: which server a new account goes to, by one of WHMCS's two
//! fill rules. Pure: the caller brings each server's state.
//!
//! - *least full*: the lowest share of its `maxAccounts` in use (a server
//!   without a limit counts as empty, then by fewest accounts); ties by id;
//! - *fill in order*: by id, the first that still has room.
//!
//! A server is skipped when it is draining, full, unreachable this pass, or
//! paused after refusing its token; every skip is given with its reason so
//! the log says why an account landed where it did (or nowhere).
//!
//! Invariant: placement is asked only for an account that has no server
//! yet. Once written on the account (before `createacct`), the server never
//! changes, whatever happens after.

use crate::whm_server::{Fill, ServerStatus};

/// One server as placement sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: String,
    pub status: ServerStatus,
    /// In the plan's group (or the plan names none).
    pub in_group: bool,
    /// Accounts on it now, PROVISIONING included, TERMINATED not.
    pub used: u32,
    pub max: Option<u32>,
    /// Why it cannot be asked now: unreachable this pass, or paused after
    /// refusing its token.
    pub down: Option<&'static str>,
}

/// The servers to try, best first, and those skipped with why.
pub fn order(candidates: &[Candidate], fill: Fill) -> (Vec<String>, Vec<String>) {
    let mut open = Vec::new();
    let mut skipped = Vec::new();
    for c in candidates.iter().filter(|c| c.in_group) {
        let why = match c {
            Candidate { status: ServerStatus::Draining, .. } => Some("draining".to_owned()),
            Candidate { max: Some(max), used, .. } if used >= max => Some(format!("full ({used} of {max})")),
            Candidate { down: Some(why), .. } => Some((*why).to_owned()),
            _ => None,
        };
        match why {
            Some(why) => skipped.push(format!("{}: {why}", c.id)),
            None => open.push(c),
        }
    }
    match fill {
        // used/max compared as used·max' < used'·max, exact in integers.
        Fill::LeastFull => open.sort_by(|a, b| {
            let share = |c: &Candidate| (u64::from(c.used), u64::from(c.max.unwrap_or(0)));
            let ((ua, ma), (ub, mb)) = (share(a), share(b));
            let by_share = match (a.max, b.max) {
                (Some(_), Some(_)) => (ua * mb).cmp(&(ub * ma)),
                (None, None) => ua.cmp(&ub),
                (None, Some(_)) => std::cmp::Ordering::Less,
                (Some(_), None) => std::cmp::Ordering::Greater,
            };
            by_share.then_with(|| a.id.cmp(&b.id))
        }),
        Fill::InOrder => open.sort_by(|a, b| a.id.cmp(&b.id)),
    }
    (open.into_iter().map(|c| c.id.clone()).collect(), skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(id: &str, used: u32, max: Option<u32>) -> Candidate {
        Candidate { id: id.into(), status: ServerStatus::Enabled, in_group: true, used, max, down: None }
    }

    #[test]
    fn servers_are_tried_by_the_fill_rule_and_skipped_with_a_reason() {
        let draining = Candidate { status: ServerStatus::Draining, ..server("d", 0, Some(10)) };
        let down = Candidate { down: Some("not answering"), ..server("x", 0, Some(10)) };
        let elsewhere = Candidate { in_group: false, ..server("o", 0, Some(10)) };
        // The servers, the rule, the order they are tried in, those skipped.
        type Case = (Vec<Candidate>, Fill, Vec<&'static str>, Vec<&'static str>);
        let cases: Vec<Case> = vec![
            // 50 of 100 (0.5) is fuller than 2 of 10 (0.2).
            (vec![server("a", 50, Some(100)), server("b", 2, Some(10))], Fill::LeastFull, vec!["b", "a"], vec![]),
            (vec![server("a", 50, Some(100)), server("b", 2, Some(10))], Fill::InOrder, vec!["a", "b"], vec![]),
            // Equal shares: by id.
            (vec![server("b", 1, Some(10)), server("a", 2, Some(20))], Fill::LeastFull, vec!["a", "b"], vec![]),
            // No limit: empty by share, then fewest accounts.
            (
                vec![server("a", 1, Some(100)), server("z", 9, None), server("y", 3, None)],
                Fill::LeastFull,
                vec!["y", "z", "a"],
                vec![],
            ),
            (
                vec![server("a", 10, Some(10)), server("b", 9, Some(10))],
                Fill::InOrder,
                vec!["b"],
                vec!["a: full (10 of 10)"],
            ),
            (
                vec![draining, down, elsewhere, server("c", 0, Some(1))],
                Fill::LeastFull,
                vec!["c"],
                vec!["d: draining", "x: not answering"],
            ),
            (vec![], Fill::LeastFull, vec![], vec![]),
        ];
        for (candidates, fill, tried, skipped) in cases {
            let (got, why) = order(&candidates, fill);
            assert_eq!(
                (got, why),
                (
                    tried.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                    skipped.iter().map(|s| s.to_string()).collect::<Vec<_>>()
                ),
                "{candidates:?} {fill:?}"
            );
        }
    }
}
