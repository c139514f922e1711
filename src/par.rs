//! The preference-aware reward (PAR) of docs/method.md §4, for one pair.
//!
//! Rewards are computed in two steps so that any f works, including a Python callable:
//! first the *gap* of each judgement in its preferred direction (0.0 when it earns no PAR),
//! then `par = f(gap)` for gaps > 0 ([`SideScores::apply_shape`]).
//!
//! Means, gaps and the comparisons against f's thresholds are exact ([`crate::exact`]), so
//! they depend only on the multiset of verdicts, never on float rounding or the row order;
//! floats appear only in the reported values and in the argument of a user's f.

use crate::exact::{self, Exact};
use crate::parse::{error_code, Outcome};
use crate::shape::Shape;

/// Which response of the pair a judgement scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Chosen,
    Rejected,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::Chosen => Side::Rejected,
            Side::Rejected => Side::Chosen,
        }
    }

    pub fn index(self) -> usize {
        match self {
            Side::Chosen => 0,
            Side::Rejected => 1,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Side::Chosen => "chosen",
            Side::Rejected => "rejected",
        }
    }

    /// `chosen` or `rejected`, exactly.
    pub fn from_label(label: &str) -> Option<Side> {
        match label {
            "chosen" => Some(Side::Chosen),
            "rejected" => Some(Side::Rejected),
            _ => None,
        }
    }
}

/// The gap of one judgement in its preferred direction, exactly, when it is positive:
/// chosen: `score - opposite_mean`; rejected: `opposite_mean - score`. `None` when the
/// judgement earns no PAR (no score, no valid score on the other side, or a gap <= 0).
pub fn preferred_gap(
    side: Side,
    score: Option<&Exact>,
    opposite_mean: Option<&Exact>,
) -> Option<Exact> {
    let (score, opposite) = (score?, opposite_mean?);
    let gap = match side {
        Side::Chosen => score.sub(opposite),
        Side::Rejected => opposite.sub(score),
    };
    gap.is_positive().then_some(gap)
}

/// The float handed to f and reported for a positive gap: the nearest float, but never 0.0
/// (a gap below the smallest float needs verdicts of 300+ digits; it is passed as 5e-324 so
/// that "gap > 0" reads the same in floats).
pub fn gap_float(gap: &Exact) -> f64 {
    gap.to_f64().max(f64::from_bits(1))
}

/// One row's gap (0.0 when none) and, with a built-in f, its PAR decided on the exact gap.
pub(crate) fn row_gap_and_par(
    side: Side,
    score: Option<&Exact>,
    opposite_mean: Option<&Exact>,
    shape: Option<&Shape>,
) -> (f64, f64) {
    match preferred_gap(side, score, opposite_mean) {
        Some(gap) => (gap_float(&gap), shape.map_or(0.0, |f| f.apply_exact(&gap))),
        None => (0.0, 0.0),
    }
}

/// Rewards handed to an RL framework are multiples of this (docs/method.md §4, float32-safe).
pub const REWARD_QUANTUM: f64 = 1.0 / 1024.0;

/// `value` rounded to the nearest multiple of [`REWARD_QUANTUM`] (ties to even, as numpy's
/// `round`): every partial sum of such values is exact in float32, so a GRPO group of
/// identical rewards has its value as mean and an advantage of exactly 0.
pub fn float32_safe(value: f64) -> f64 {
    (value / REWARD_QUANTUM).round_ties_even() * REWARD_QUANTUM
}

/// [`float32_safe`] on every value.
pub fn snap_float32(values: &mut [f64]) {
    values.iter_mut().for_each(|v| *v = float32_safe(*v));
}

/// Per-judgement rewards of one side of a pair (all vectors have one entry per judgement).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SideScores {
    /// The judge's score as the nearest float (NaN when the judgement has a format error).
    pub score: Vec<f64>,
    pub error_code: Vec<i8>,
    pub format_reward: Vec<f64>,
    /// The gap in the preferred direction as the nearest float (0.0 when no PAR is earned).
    pub gap: Vec<f64>,
    /// R_PAR = f(gap) for gap > 0, else 0.
    pub par: Vec<f64>,
    /// R = R_PAR + R_format.
    pub reward: Vec<f64>,
    /// Mean of this side's valid scores, as the nearest float.
    pub mean: Option<f64>,
}

/// Fills `par = f(gap)` for gaps > 0 (0 otherwise) and `reward = par + format_reward`, row
/// by row; f is called only for gaps > 0, in row order, and its first error stops the loop.
/// The one place PAR meets a user's f, for a pair ([`SideScores`]) and a batch
/// (`batch::BatchScores`); built-in shapes decide on the exact gap instead ([`row_gap_and_par`]).
pub(crate) fn fill_par<E>(
    gap: &[f64],
    format_reward: &[f64],
    par: &mut [f64],
    reward: &mut [f64],
    mut f: impl FnMut(f64) -> Result<f64, E>,
) -> Result<(), E> {
    let rows = gap
        .iter()
        .zip(format_reward)
        .zip(par.iter_mut().zip(reward.iter_mut()));
    for ((&gap, &format), (par, reward)) in rows {
        *par = if gap > 0.0 { f(gap)? } else { 0.0 };
        *reward = *par + format;
    }
    Ok(())
}

impl SideScores {
    /// Snaps `par` and `reward` to multiples of [`REWARD_QUANTUM`] ([`float32_safe`]).
    pub fn snap_float32(&mut self) {
        snap_float32(&mut self.par);
        snap_float32(&mut self.reward);
    }

    /// Sets `par` and `reward` from `gap` with f; f is called only for gaps > 0.
    pub fn apply_shape<E>(&mut self, f: impl FnMut(f64) -> Result<f64, E>) -> Result<(), E> {
        fill_par(
            &self.gap,
            &self.format_reward,
            &mut self.par,
            &mut self.reward,
            f,
        )
    }
}

/// Both sides of one pair.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PairScores {
    pub chosen: SideScores,
    pub rejected: SideScores,
}

impl PairScores {
    /// Snaps both sides' `par` and `reward` ([`float32_safe`]).
    pub fn snap_float32(&mut self) {
        self.chosen.snap_float32();
        self.rejected.snap_float32();
    }

    pub fn apply_shape<E>(&mut self, mut f: impl FnMut(f64) -> Result<f64, E>) -> Result<(), E> {
        self.chosen.apply_shape(&mut f)?;
        self.rejected.apply_shape(&mut f)
    }
}

fn side_scores(
    side: Side,
    outcomes: &[Outcome],
    mean: Option<&Exact>,
    opposite_mean: Option<&Exact>,
    shape: Option<&Shape>,
) -> SideScores {
    let format_reward: Vec<f64> = outcomes.iter().map(Outcome::format_reward).collect();
    let (gap, par): (Vec<f64>, Vec<f64>) = outcomes
        .iter()
        .map(|o| row_gap_and_par(side, o.exact.as_ref(), opposite_mean, shape))
        .unzip();
    SideScores {
        score: outcomes.iter().map(Outcome::score_or_nan).collect(),
        error_code: outcomes.iter().map(|o| error_code(o.error)).collect(),
        reward: par.iter().zip(&format_reward).map(|(p, f)| p + f).collect(),
        gap,
        par,
        format_reward,
        mean: mean.map(Exact::to_f64),
    }
}

fn pair_scores(chosen: &[Outcome], rejected: &[Outcome], shape: Option<&Shape>) -> PairScores {
    let mean_c = exact::mean(chosen.iter().filter_map(|o| o.exact.as_ref()));
    let mean_r = exact::mean(rejected.iter().filter_map(|o| o.exact.as_ref()));
    PairScores {
        chosen: side_scores(
            Side::Chosen,
            chosen,
            mean_c.as_ref(),
            mean_r.as_ref(),
            shape,
        ),
        rejected: side_scores(
            Side::Rejected,
            rejected,
            mean_r.as_ref(),
            mean_c.as_ref(),
            shape,
        ),
    }
}

/// Gaps, format rewards and means of one pair (n chosen and m rejected judgements, n and m
/// may differ); `par` is 0 and `reward` the format reward, for [`PairScores::apply_shape`]
/// with a user's f (or use [`pair_rewards`]).
pub fn pair_gaps(chosen: &[Outcome], rejected: &[Outcome]) -> PairScores {
    pair_scores(chosen, rejected, None)
}

/// PAR and total rewards of one pair with a built-in f, decided on exact gaps.
pub fn pair_rewards(chosen: &[Outcome], rejected: &[Outcome], shape: &Shape) -> PairScores {
    pair_scores(chosen, rejected, Some(shape))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::FormatError;
    use proptest::prelude::*;

    fn valid(score: f64) -> Outcome {
        let exact = Exact::from_f64(score);
        Outcome {
            score: Some(score),
            exact,
            ..Outcome::default()
        }
    }

    fn broken(error: FormatError) -> Outcome {
        Outcome {
            error: Some(error),
            ..Outcome::default()
        }
    }

    #[test]
    fn papers_example() {
        // mean_r = 5, mean_c = 7.
        let chosen = [
            valid(8.0),
            valid(6.0),
            valid(5.0),
            broken(FormatError::InvalidVerdict),
        ];
        let rejected = [
            valid(4.0),
            valid(6.0),
            broken(FormatError::MissingOrMisorderedTags),
        ];
        let p = pair_rewards(&chosen, &rejected, &Shape::default());
        assert_eq!(p.chosen.mean, Some(19.0 / 3.0));
        assert_eq!(p.rejected.mean, Some(5.0));
        assert_eq!(p.chosen.gap, vec![3.0, 1.0, 0.0, 0.0]);
        assert_eq!(p.chosen.par, vec![1.4, 1.2, 0.0, 0.0]);
        assert_eq!(p.chosen.reward, vec![1.4, 1.2, 0.0, -1.0]);
        assert_eq!(p.rejected.par, vec![1.4, 1.2, 0.0]);
        assert_eq!(p.rejected.reward, vec![1.4, 1.2, -1.5]);
        assert!(p.chosen.score[3].is_nan());
        assert_eq!(p.rejected.error_code, vec![0, 0, 1]);
    }

    #[test]
    fn other_side_without_valid_scores_gives_no_par() {
        let chosen = [valid(9.0), valid(8.0)];
        let rejected = [broken(FormatError::InvalidVerdict)];
        let p = pair_rewards(&chosen, &rejected, &Shape::constant(1.3).unwrap());
        assert_eq!(p.chosen.par, vec![0.0, 0.0]);
        assert_eq!(p.rejected.reward, vec![-1.0]);
        assert_eq!(p.rejected.mean, None);
        let alone = pair_rewards(&chosen, &[], &Shape::default());
        assert_eq!(alone.chosen.reward, vec![0.0, 0.0]);
    }

    fn verdict(text: &str) -> Outcome {
        let judgement = format!(
            "<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>{text}</answer>"
        );
        crate::parse::parse_outcome(judgement.as_bytes(), Default::default())
    }

    #[test]
    fn gaps_and_ties_are_exact() {
        // 4.4 - 2.4 is exactly 2 (2.0000000000000004 in floats): the lower band.
        let p = pair_rewards(&[verdict("4.4")], &[verdict("2.4")], &Shape::default());
        assert_eq!(p.chosen.par, vec![1.2]);
        assert_eq!(p.rejected.par, vec![1.2]);
        assert_eq!(p.chosen.gap, vec![2.0]);
        // mean(0.1, 0.2) is exactly 0.15: a tie on both sides.
        let p = pair_rewards(
            &[verdict("0.1"), verdict("0.2")],
            &[verdict("0.15")],
            &Shape::default(),
        );
        assert_eq!(p.chosen.par, vec![0.0, 1.2]);
        assert_eq!(p.rejected.par, vec![0.0]);
        assert_eq!(p.chosen.mean, Some(0.15));
    }

    #[test]
    fn float32_safe_values() {
        assert_eq!(float32_safe(1.2), 1.2001953125);
        assert_eq!(float32_safe(1.4), 1.400390625);
        assert_eq!(float32_safe(1.3), 1.2998046875);
        for kept in [-1.5, -1.0, 0.0, 1.0] {
            assert_eq!(float32_safe(kept), kept);
        }
        let mut p = pair_rewards(&[verdict("9")], &[verdict("2")], &Shape::default());
        p.snap_float32();
        assert_eq!(p.chosen.reward, vec![1.400390625]);
        // Eight copies sum exactly in float32, so their mean is the value itself.
        let value = float32_safe(1.4) as f32;
        assert_eq!((0..8).fold(0.0f32, |sum, _| sum + value) / 8.0, value);
    }

    #[test]
    fn ties_earn_nothing() {
        let p = pair_rewards(&[valid(5.0)], &[valid(5.0)], &Shape::default());
        assert_eq!(p.chosen.par, vec![0.0]);
        assert_eq!(p.rejected.par, vec![0.0]);
    }

    proptest! {
        #[test]
        fn order_does_not_matter(
            chosen in proptest::collection::vec(0u32..=100, 0..10),
            rejected in proptest::collection::vec(0u32..=100, 0..10),
            rotate in 0usize..10,
        ) {
            let c: Vec<Outcome> = chosen.iter().map(|&s| valid(f64::from(s) / 10.0)).collect();
            let r: Vec<Outcome> = rejected.iter().map(|&s| valid(f64::from(s) / 10.0)).collect();
            let mut r_rot = r.clone();
            if !r_rot.is_empty() { let k = rotate % r_rot.len(); r_rot.rotate_left(k); }
            let a = pair_rewards(&c, &r, &Shape::default());
            let b = pair_rewards(&c, &r_rot, &Shape::default());
            prop_assert_eq!(a.chosen.reward, b.chosen.reward);
            prop_assert_eq!(a.rejected.mean, b.rejected.mean);
            // Invariants: PAR is 0 or a value of f, and never paid against the preference.
            for (i, o) in c.iter().enumerate() {
                let par = a.chosen.par[i];
                prop_assert!(par == 0.0 || par == 1.2 || par == 1.4);
                if par > 0.0 { prop_assert!(o.score.unwrap() > a.rejected.mean.unwrap()); }
            }
        }
    }
}
