//! Voting over n judgements of a trained judge (docs/method.md §6).
//!
//! Scores are `[responses, n]` (mean voting) or `[pairs, n]` per side (majority voting), with
//! NaN marking an invalid judgement (a format error has no score). `rounds = Some(k)` uses
//! only the first k judgements, so evaluation can report accuracy at n = 1, 2, 4, 8 from one
//! set of 8 samples.
//!
//! Means are exact (docs/method.md §4): each float score stands for the shortest decimal that
//! prints as it (the verdict it was parsed from), so the mean of 0.1 and 0.2 ties with 0.15.
//! Round-by-round comparisons of floats are already exact: distinct floats have distinct
//! shortest decimals, in the same order.

use std::cmp::Ordering;

use ndarray::{s, ArrayView1, ArrayView2};
use rayon::prelude::*;
use thiserror::Error;

use crate::exact::{self, Exact};

/// Verdict codes of the pairwise variant: what one round named.
pub mod verdict {
    /// No valid verdict in this round (a format error): votes for nobody.
    pub const NONE: i8 = 0;
    /// The round named response A.
    pub const A: i8 = 1;
    /// The round named response B.
    pub const B: i8 = 2;
    /// The label of each code, indexed by it: `LABELS[A as usize] == "A"`; no verdict is `""`.
    /// The one spelling of the verdicts (exported to Python as `patarm.VERDICT_LABELS`).
    pub const LABELS: [&str; 3] = ["", "A", "B"];
}

/// Rows per parallel task: voting is a handful of flops per row, so small batches stay serial.
const MIN_ROWS_PER_TASK: usize = 4096;

/// Caller mistakes when voting.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum VoteError {
    #[error(
        "the chosen scores have shape {chosen:?} but the rejected scores have shape {rejected:?}: \
         pass two [pairs, n] arrays of the same shape (pad missing judgements with NaN)"
    )]
    ShapeMismatch {
        chosen: [usize; 2],
        rejected: [usize; 2],
    },
    #[error("choices has {choices} pair(s) but correct has {correct}: pass one correct verdict (A or B) per row of choices")]
    RowMismatch { choices: usize, correct: usize },
    #[error("rounds={rounds} is out of range: there are {available} judgement(s) per response; pass 1 <= rounds <= {available}, or None for all")]
    RoundsOutOfRange { rounds: usize, available: usize },
    #[error("verdict code {code} at pair {pair}: valid codes are 0 (no verdict), 1 (A), 2 (B)")]
    InvalidVerdictCode { pair: usize, code: i8 },
    #[error("the correct verdict of pair {pair} is {code}, not A (1) or B (2): every pair needs its correct verdict")]
    InvalidCorrect { pair: usize, code: i8 },
    #[error("score {value} at row {row}, round {round} is not finite: pass scores as numbers, with NaN (not infinity) for an invalid judgement")]
    NotFinite {
        row: usize,
        round: usize,
        value: f64,
    },
    #[error("margin is {value}; pass a finite number")]
    BadMargin { value: f64 },
}

/// `per_row(r)` for every row `0..rows`, in parallel in a patarm pool; small batches stay serial.
fn map_rows<T, C>(
    rows: usize,
    threads: Option<usize>,
    per_row: impl Fn(usize) -> T + Sync + Send,
) -> C
where
    T: Send,
    C: FromParallelIterator<T> + Send,
{
    crate::parallel::run(threads, || {
        (0..rows)
            .into_par_iter()
            .with_min_len(MIN_ROWS_PER_TASK)
            .map(per_row)
            .collect()
    })
}

/// Number of rounds to use: all `available`, or the first `rounds` of them.
fn resolve_rounds(rounds: Option<usize>, available: usize) -> Result<usize, VoteError> {
    match rounds {
        None => Ok(available),
        Some(k) if k == 0 || k > available => Err(VoteError::RoundsOutOfRange {
            rounds: k,
            available,
        }),
        Some(k) => Ok(k),
    }
}

/// Exact mean of the valid (non-NaN) scores of one row; `None` when it has none.
fn exact_row_mean(row: ArrayView1<'_, f64>, index: usize) -> Result<Option<Exact>, VoteError> {
    let mut values = Vec::with_capacity(row.len());
    for (round, &value) in row.iter().enumerate() {
        if value.is_nan() {
            continue;
        }
        values.push(Exact::from_f64(value).ok_or(VoteError::NotFinite {
            row: index,
            round,
            value,
        })?);
    }
    Ok(exact::mean(&values))
}

/// Mean of the valid (non-NaN) scores of each row, computed exactly and returned as the
/// nearest float; NaN for a row without a valid score.
pub fn mean_vote(
    scores: ArrayView2<'_, f64>,
    rounds: Option<usize>,
    threads: Option<usize>,
) -> Result<Vec<f64>, VoteError> {
    let used = resolve_rounds(rounds, scores.ncols())?;
    let scores = scores.slice(s![.., ..used]);
    let mean_of_row = |r: usize| {
        exact_row_mean(scores.row(r), r).map(|mean| mean.map_or(f64::NAN, |m| m.to_f64()))
    };
    map_rows::<_, Result<Vec<_>, _>>(scores.nrows(), threads, mean_of_row)
}

/// Mean voting on pairs, compared exactly: per pair, `mean(chosen) - mean(rejected)` as the
/// nearest float (`gap`, NaN when a side has no valid score) and its exact order against
/// `margin` (`order`: 1 above, 0 equal, -1 below; 0 where `gap` is NaN). With margin 0,
/// `order == 1` is "chosen wins" (a tie is not a win); the SFT filter keeps `gap > 2` exactly.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MeanGaps {
    pub gap: Vec<f64>,
    pub order: Vec<i8>,
}

pub fn mean_gaps(
    chosen: ArrayView2<'_, f64>,
    rejected: ArrayView2<'_, f64>,
    margin: f64,
    rounds: Option<usize>,
    threads: Option<usize>,
) -> Result<MeanGaps, VoteError> {
    check_same_shape(chosen, rejected)?;
    let margin = Exact::from_f64(margin).ok_or(VoteError::BadMargin { value: margin })?;
    let used = resolve_rounds(rounds, chosen.ncols())?;
    let (chosen, rejected) = (chosen.slice(s![.., ..used]), rejected.slice(s![.., ..used]));
    let gap_of_pair = |p: usize| -> Result<(f64, i8), VoteError> {
        let mean_c = exact_row_mean(chosen.row(p), p)?;
        let mean_r = exact_row_mean(rejected.row(p), p)?;
        Ok(match (mean_c, mean_r) {
            (Some(c), Some(r)) => {
                let gap = c.sub(&r);
                let order = match gap.cmp(&margin) {
                    Ordering::Greater => 1,
                    Ordering::Equal => 0,
                    Ordering::Less => -1,
                };
                (gap.to_f64(), order)
            }
            _ => (f64::NAN, 0),
        })
    };
    let pairs: Vec<(f64, i8)> =
        map_rows::<_, Result<Vec<_>, _>>(chosen.nrows(), threads, gap_of_pair)?;
    let (gap, order) = pairs.into_iter().unzip();
    Ok(MeanGaps { gap, order })
}

fn check_same_shape(
    chosen: ArrayView2<'_, f64>,
    rejected: ArrayView2<'_, f64>,
) -> Result<(), VoteError> {
    if chosen.dim() == rejected.dim() {
        return Ok(());
    }
    let (c, r) = (chosen.dim(), rejected.dim());
    Err(VoteError::ShapeMismatch {
        chosen: [c.0, c.1],
        rejected: [r.0, r.1],
    })
}

/// Votes per pair: how many rounds preferred the chosen response, and how many the rejected.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MajorityCounts {
    pub chosen_votes: Vec<i64>,
    pub rejected_votes: Vec<i64>,
}

impl MajorityCounts {
    /// The chosen response wins with strictly more votes; a tie is not a win.
    pub fn chosen_wins(&self) -> Vec<bool> {
        self.chosen_votes
            .iter()
            .zip(&self.rejected_votes)
            .map(|(c, r)| c > r)
            .collect()
    }

    fn from_votes(votes: Vec<(i64, i64)>) -> Self {
        let (chosen_votes, rejected_votes) = votes.into_iter().unzip();
        MajorityCounts {
            chosen_votes,
            rejected_votes,
        }
    }
}

/// Majority voting on scores: in each round the response scored strictly higher gets a vote;
/// a round where either score is NaN, or both are equal, votes for nobody.
pub fn majority_vote(
    chosen: ArrayView2<'_, f64>,
    rejected: ArrayView2<'_, f64>,
    rounds: Option<usize>,
    threads: Option<usize>,
) -> Result<MajorityCounts, VoteError> {
    check_same_shape(chosen, rejected)?;
    let used = resolve_rounds(rounds, chosen.ncols())?;
    let (chosen, rejected) = (chosen.slice(s![.., ..used]), rejected.slice(s![.., ..used]));
    let votes_of_pair = |p: usize| {
        // Branch-free counting (random scores defeat branch prediction). Comparisons with NaN
        // are false, so an invalid round votes for nobody; so does a tie.
        chosen
            .row(p)
            .iter()
            .zip(rejected.row(p).iter())
            .fold((0_i64, 0_i64), |(c, r), (&sc, &sr)| {
                (c + i64::from(sc > sr), r + i64::from(sr > sc))
            })
    };
    let votes = map_rows(chosen.nrows(), threads, votes_of_pair);
    Ok(MajorityCounts::from_votes(votes))
}

/// Majority voting on pairwise verdicts: `choices[p, i]` is what round i named for pair p
/// (`verdict::A`, `verdict::B` or `verdict::NONE`), `correct[p]` the label of the chosen
/// response. A round naming the chosen response votes for it, naming the other votes for
/// the rejected one, and `NONE` votes for nobody.
pub fn majority_vote_verdicts(
    choices: ArrayView2<'_, i8>,
    correct: ArrayView1<'_, i8>,
    rounds: Option<usize>,
    threads: Option<usize>,
) -> Result<MajorityCounts, VoteError> {
    if choices.nrows() != correct.len() {
        return Err(VoteError::RowMismatch {
            choices: choices.nrows(),
            correct: correct.len(),
        });
    }
    let used = resolve_rounds(rounds, choices.ncols())?;
    let choices = choices.slice(s![.., ..used]);
    let votes_of_pair = |p: usize| -> Result<(i64, i64), VoteError> {
        let answer = correct[p];
        if answer != verdict::A && answer != verdict::B {
            return Err(VoteError::InvalidCorrect {
                pair: p,
                code: answer,
            });
        }
        let mut votes = (0, 0);
        for &code in choices.row(p) {
            match code {
                verdict::NONE => {}
                verdict::A | verdict::B if code == answer => votes.0 += 1,
                verdict::A | verdict::B => votes.1 += 1,
                _ => return Err(VoteError::InvalidVerdictCode { pair: p, code }),
            }
        }
        Ok(votes)
    };
    let votes = map_rows::<_, Result<Vec<_>, _>>(choices.nrows(), threads, votes_of_pair)?;
    Ok(MajorityCounts::from_votes(votes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2};

    const NAN: f64 = f64::NAN;

    #[test]
    fn mean_ignores_invalid_scores() {
        let scores = array![[1.0, NAN, 3.0], [NAN, NAN, NAN], [4.0, 4.0, 7.0]];
        let means = mean_vote(scores.view(), None, Some(1)).unwrap();
        assert_eq!(means[0], 2.0);
        assert!(means[1].is_nan());
        assert_eq!(means[2], 5.0);
        let first = mean_vote(scores.view(), Some(1), None).unwrap();
        assert_eq!(first[0], 1.0);
        assert!(first[1].is_nan());
    }

    #[test]
    fn means_are_exact() {
        let chosen = array![[0.1, 0.2], [4.4, NAN], [1.0, 1.0], [NAN, NAN]];
        let rejected = array![[0.15, 0.15], [2.4, 2.4], [0.5, 0.5], [1.0, 1.0]];
        assert_eq!(mean_vote(chosen.view(), None, None).unwrap()[0], 0.15);
        let ties = mean_gaps(chosen.view(), rejected.view(), 0.0, None, None).unwrap();
        assert_eq!(ties.order[..3], [0, 1, 1]);
        let sft = mean_gaps(chosen.view(), rejected.view(), 2.0, None, None).unwrap();
        assert_eq!(sft.order[..3], [-1, 0, -1]);
        assert_eq!(sft.gap[1], 2.0);
        assert!(sft.gap[3].is_nan());
        let inf = array![[f64::INFINITY]];
        assert_eq!(
            mean_vote(inf.view(), None, None),
            Err(VoteError::NotFinite {
                row: 0,
                round: 0,
                value: f64::INFINITY
            })
        );
    }

    #[test]
    fn majority_counts_strict_wins_and_ignores_nan_and_ties() {
        let chosen = array![
            [8.0, 5.0, NAN, 6.0],
            [3.0, 3.0, 9.0, 1.0],
            [5.0, 5.0, 5.0, 5.0]
        ];
        let rejected = array![
            [7.0, 6.0, 9.0, 2.0],
            [4.0, 3.0, 2.0, 1.0],
            [5.0, NAN, 5.0, 5.0]
        ];
        let counts = majority_vote(chosen.view(), rejected.view(), None, Some(2)).unwrap();
        assert_eq!(counts.chosen_votes, vec![2, 1, 0]);
        assert_eq!(counts.rejected_votes, vec![1, 1, 0]);
        assert_eq!(counts.chosen_wins(), vec![true, false, false]);
        let one = majority_vote(chosen.view(), rejected.view(), Some(1), None).unwrap();
        assert_eq!(one.chosen_wins(), vec![true, false, false]);
    }

    #[test]
    fn verdict_labels_are_indexed_by_code() {
        use verdict::{A, B, LABELS, NONE};
        assert_eq!(LABELS[NONE as usize], "");
        assert_eq!(LABELS[A as usize], "A");
        assert_eq!(LABELS[B as usize], "B");
    }

    #[test]
    fn verdict_votes_follow_the_correct_label() {
        use verdict::{A, B, NONE};
        let choices = array![[A, A, B], [A, B, NONE], [B, B, A]];
        let correct = array![A, B, B];
        let counts = majority_vote_verdicts(choices.view(), correct.view(), None, None).unwrap();
        assert_eq!(counts.chosen_votes, vec![2, 1, 2]);
        assert_eq!(counts.rejected_votes, vec![1, 1, 1]);
        assert_eq!(counts.chosen_wins(), vec![true, false, true]);
    }

    #[test]
    fn caller_mistakes_are_errors() {
        let a = Array2::<f64>::zeros((2, 3));
        let b = Array2::<f64>::zeros((2, 4));
        assert!(matches!(
            majority_vote(a.view(), b.view(), None, None),
            Err(VoteError::ShapeMismatch { .. })
        ));
        assert!(matches!(
            mean_vote(a.view(), Some(0), None),
            Err(VoteError::RoundsOutOfRange { .. })
        ));
        assert!(matches!(
            mean_vote(a.view(), Some(4), None),
            Err(VoteError::RoundsOutOfRange { .. })
        ));
        let choices = array![[1_i8, 3]];
        assert_eq!(
            majority_vote_verdicts(choices.view(), array![1_i8].view(), None, None),
            Err(VoteError::InvalidVerdictCode { pair: 0, code: 3 })
        );
        assert_eq!(
            majority_vote_verdicts(choices.view(), array![0_i8].view(), None, None),
            Err(VoteError::InvalidCorrect { pair: 0, code: 0 })
        );
        assert!(matches!(
            majority_vote_verdicts(choices.view(), array![1_i8, 2].view(), None, None),
            Err(VoteError::RowMismatch { .. })
        ));
    }

    #[test]
    fn empty_inputs_give_empty_results() {
        let none = Array2::<f64>::zeros((0, 4));
        assert!(mean_vote(none.view(), None, None).unwrap().is_empty());
        let no_rounds = Array2::<f64>::zeros((2, 0));
        assert!(mean_vote(no_rounds.view(), None, None)
            .unwrap()
            .iter()
            .all(|m| m.is_nan()));
        let counts = majority_vote(no_rounds.view(), no_rounds.view(), None, None).unwrap();
        assert_eq!(counts.chosen_wins(), vec![false, false]);
    }

    #[test]
    fn parallel_and_serial_agree_on_large_input() {
        let n = 20_000;
        let chosen = Array2::from_shape_fn((n, 8), |(i, j)| ((i * 7 + j * 3) % 11) as f64);
        let rejected = Array2::from_shape_fn((n, 8), |(i, j)| {
            if (i + j) % 5 == 0 {
                NAN
            } else {
                ((i * 3 + j) % 10) as f64
            }
        });
        let one = majority_vote(chosen.view(), rejected.view(), None, Some(1)).unwrap();
        let two = majority_vote(chosen.view(), rejected.view(), None, Some(2)).unwrap();
        assert_eq!(one, two);
        let m1 = mean_vote(rejected.view(), None, Some(1)).unwrap();
        let m2 = mean_vote(rejected.view(), None, Some(2)).unwrap();
        assert!(m1
            .iter()
            .zip(&m2)
            .all(|(a, b)| a == b || (a.is_nan() && b.is_nan())));
    }
}
