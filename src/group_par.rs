//! Group-relative PAR for policy groups (docs/method.md §9): the n completions of one prompt,
//! each scored by k judgements. Completion i earns f(m_i - o_i) when m_i > o_i, else 0, where
//! m_i is the mean of its valid scores and o_i the mean of the valid scores of every judgement
//! of the *other* completions of its prompt (pooled, as the opposite side of a pair in §4).
//!
//! Means, gaps and f's thresholds are exact ([`crate::exact`]): a result depends only on the
//! multiset of verdicts of each completion, never on the row order or float rounding.
//! Needs n x k judge calls, where comparing all pairs of a group needs n(n-1)/2 x k.

use std::collections::HashMap;

use ndarray::ArrayView2;
use rayon::prelude::*;
use thiserror::Error;

use crate::exact::Exact;
use crate::par::gap_float;
use crate::shape::Shape;

/// Caller mistakes in group-relative PAR.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum GroupParError {
    #[error("scores has {scores} completion row(s) but groups has {groups} id(s): pass one group id (the prompt's) per row of scores")]
    RowMismatch { scores: usize, groups: usize },
    #[error("score {value} at completion {row}, judgement {round} is not finite: pass scores as numbers, with NaN (not infinity) for an invalid judgement")]
    NotFinite {
        row: usize,
        round: usize,
        value: f64,
    },
}

/// Per completion: `judged` (it has a valid score: false is a judge failure, to mask),
/// `gap` = m_i - o_i as the nearest float where positive (0.0 otherwise, and where no other
/// completion of the prompt has a valid score) and, with a built-in f, `par` = f(gap) decided
/// on the exact gap (0.0 for no gap; NaN for a completion that is not judged).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupRewards {
    pub judged: Vec<bool>,
    pub gap: Vec<f64>,
    pub par: Vec<f64>,
    /// The exact mean of each completion's valid scores, as the nearest float (NaN: none).
    pub mean: Vec<f64>,
}

/// Exact sum and count of one completion's valid scores.
fn row_sum(scores: ArrayView2<'_, f64>, row: usize) -> Result<(Exact, usize), GroupParError> {
    let mut sum = Exact::ZERO;
    let mut count = 0usize;
    for (round, &value) in scores.row(row).iter().enumerate() {
        if value.is_nan() {
            continue;
        }
        let exact = Exact::from_f64(value).ok_or(GroupParError::NotFinite { row, round, value })?;
        sum = sum.add(&exact);
        count += 1;
    }
    Ok((sum, count))
}

/// Group-relative PAR of a batch of completions in any order: `scores` is `[completions, k]`
/// (NaN for an invalid judgement or padding), `groups` the prompt id of each row. `shape`
/// `None` leaves `par` at 0.0 for the caller to apply its own f to the gaps > 0.
pub fn group_par(
    scores: ArrayView2<'_, f64>,
    groups: &[i64],
    shape: Option<&Shape>,
    threads: Option<usize>,
) -> Result<GroupRewards, GroupParError> {
    let rows = scores.nrows();
    if groups.len() != rows {
        return Err(GroupParError::RowMismatch {
            scores: rows,
            groups: groups.len(),
        });
    }
    let sums: Vec<(Exact, usize)> = crate::parallel::run(threads, || {
        (0..rows)
            .into_par_iter()
            .with_min_len(256)
            .map(|r| row_sum(scores, r))
            .collect::<Result<_, _>>()
    })?;
    // Group totals, added in row order: exact sums do not depend on that order.
    let mut totals: HashMap<i64, (Exact, usize)> = HashMap::new();
    for (&group, (sum, count)) in groups.iter().zip(&sums) {
        let total = totals.entry(group).or_insert((Exact::ZERO, 0));
        total.0 = total.0.add(sum);
        total.1 += count;
    }
    let mut out = GroupRewards {
        judged: Vec::with_capacity(rows),
        gap: Vec::with_capacity(rows),
        par: Vec::with_capacity(rows),
        mean: Vec::with_capacity(rows),
    };
    for (group, (sum, count)) in groups.iter().zip(&sums) {
        if *count == 0 {
            out.judged.push(false);
            out.gap.push(0.0);
            out.par.push(f64::NAN);
            out.mean.push(f64::NAN);
            continue;
        }
        let own = sum.div_count(*count);
        let (total, total_count) = &totals[group];
        let others = total_count - count;
        let gap = (others > 0)
            .then(|| own.sub(&total.sub(sum).div_count(others)))
            .filter(Exact::is_positive);
        out.judged.push(true);
        out.mean.push(own.to_f64());
        match gap {
            Some(gap) => {
                out.gap.push(gap_float(&gap));
                out.par.push(shape.map_or(0.0, |f| f.apply_exact(&gap)));
            }
            None => {
                out.gap.push(0.0);
                out.par.push(0.0);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    const NAN: f64 = f64::NAN;

    #[test]
    fn pays_the_gap_to_the_mean_of_the_other_completions() {
        // Group 7: means 9, 5, 4 (others' pooled means 4.5, 6.5, 7). Group 3: one completion.
        let scores = array![[9.0, 9.0], [5.0, NAN], [4.0, 4.0], [8.0, 8.0]];
        let out = group_par(scores.view(), &[7, 7, 7, 3], Some(&Shape::default()), None).unwrap();
        assert_eq!(out.judged, vec![true; 4]);
        // 9 - (5 + 4 + 4) / 3 = 14/3 > 2: 1.4; the others have no positive gap.
        assert_eq!(out.par, vec![1.4, 0.0, 0.0, 0.0]);
        assert!((out.gap[0] - 14.0 / 3.0).abs() < 1e-12);
        // A prompt with one completion has nothing to compare against: 0, as a missing partner.
        assert_eq!(out.gap[3], 0.0);
    }

    #[test]
    fn ties_and_thresholds_are_exact() {
        // 4.4 against 2.4 is a gap of exactly 2: graded pays 1.2, not 1.4.
        let edge = array![[4.4], [2.4]];
        let out = group_par(edge.view(), &[1, 1], Some(&Shape::default()), None).unwrap();
        assert_eq!(out.par, vec![1.2, 0.0]);
        // 0.15 against the others' mean (0.1 + 0.2) / 2 is an exact tie: no PAR for anyone.
        let tie = array![[0.15, NAN], [0.1, 0.2]];
        let out = group_par(tie.view(), &[1, 1], Some(&Shape::default()), None).unwrap();
        assert_eq!(out.par, vec![0.0, 0.0]);
    }

    #[test]
    fn a_completion_without_a_valid_score_is_not_judged_and_not_counted() {
        let scores = array![[NAN, NAN], [6.0, 6.0], [3.0, NAN]];
        let out = group_par(scores.view(), &[0, 0, 0], Some(&Shape::Constant(1.3)), None).unwrap();
        assert_eq!(out.judged, vec![false, true, true]);
        assert!(out.par[0].is_nan() && out.mean[0].is_nan());
        assert_eq!(&out.par[1..], &[1.3, 0.0]);
    }

    #[test]
    fn row_order_does_not_change_any_reward() {
        let scores = array![[9.0, 7.5], [6.25, NAN], [8.0, 2.0], [1.0, 1.0]];
        let groups = [4, 4, 5, 4];
        let forward = group_par(scores.view(), &groups, Some(&Shape::default()), None).unwrap();
        let order = [3usize, 1, 2, 0];
        let shuffled = scores.select(ndarray::Axis(0), &order);
        let ids: Vec<i64> = order.iter().map(|&i| groups[i]).collect();
        let back = group_par(shuffled.view(), &ids, Some(&Shape::default()), None).unwrap();
        for (position, &row) in order.iter().enumerate() {
            assert_eq!(back.par[position], forward.par[row]);
            assert_eq!(back.gap[position], forward.gap[row]);
        }
    }

    #[test]
    fn caller_mistakes_name_the_fix() {
        let scores = array![[1.0], [f64::INFINITY]];
        let err = group_par(scores.view(), &[1], None, None).unwrap_err();
        assert!(err.to_string().contains("one group id"));
        let err = group_par(scores.view(), &[1, 1], None, None).unwrap_err();
        assert_eq!(
            err,
            GroupParError::NotFinite {
                row: 1,
                round: 0,
                value: f64::INFINITY
            }
        );
    }
}
