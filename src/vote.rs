//! Voting over n judgements of a trained judge (METHOD section 6).
//!
//! Scores are `[responses, n]` (mean voting) or `[pairs, n]` per side (majority voting), with
//! NaN marking an invalid judgement (a format error has no score). `rounds = Some(k)` uses
//! only the first k judgements, so evaluation can report accuracy at n = 1, 2, 4, 8 from one
//! set of 8 samples.

use ndarray::{s, ArrayView1, ArrayView2};
use rayon::prelude::*;
use thiserror::Error;

/// Verdict codes of the pairwise variant: what one round named.
pub mod verdict {
    /// No valid verdict in this round (a format error): votes for nobody.
    pub const NONE: i8 = 0;
    /// The round named response A.
    pub const A: i8 = 1;
    /// The round named response B.
    pub const B: i8 = 2;
}

/// Rows per parallel task: voting is a handful of flops per row, so small batches stay serial.
const MIN_ROWS_PER_TASK: usize = 4096;

/// Caller mistakes when voting.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VoteError {
    #[error(
        "chosen_scores has shape {chosen:?} but rejected_scores has shape {rejected:?}: pass two \
         [pairs, n] arrays of the same shape (pad missing judgements with NaN)"
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

/// Mean of the valid (non-NaN) scores of each row; NaN for a row without a valid score.
pub fn mean_vote(
    scores: ArrayView2<'_, f64>,
    rounds: Option<usize>,
    threads: Option<usize>,
) -> Result<Vec<f64>, VoteError> {
    let used = resolve_rounds(rounds, scores.ncols())?;
    let scores = scores.slice(s![.., ..used]);
    let mean_of_row = |r: usize| {
        let (sum, count) = scores
            .row(r)
            .iter()
            .filter(|v| !v.is_nan())
            .fold((0.0_f64, 0_u32), |(sum, count), &v| (sum + v, count + 1));
        if count == 0 {
            f64::NAN
        } else {
            sum / f64::from(count)
        }
    };
    Ok(crate::parallel::run(threads, || {
        (0..scores.nrows())
            .into_par_iter()
            .with_min_len(MIN_ROWS_PER_TASK)
            .map(mean_of_row)
            .collect()
    }))
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
    if chosen.dim() != rejected.dim() {
        let (c, r) = (chosen.dim(), rejected.dim());
        return Err(VoteError::ShapeMismatch {
            chosen: [c.0, c.1],
            rejected: [r.0, r.1],
        });
    }
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
    let votes = crate::parallel::run(threads, || {
        (0..chosen.nrows())
            .into_par_iter()
            .with_min_len(MIN_ROWS_PER_TASK)
            .map(votes_of_pair)
            .collect()
    });
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
    let votes = crate::parallel::run(threads, || {
        (0..choices.nrows())
            .into_par_iter()
            .with_min_len(MIN_ROWS_PER_TASK)
            .map(votes_of_pair)
            .collect::<Result<Vec<_>, _>>()
    })?;
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
