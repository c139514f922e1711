//! The preference-aware reward (PAR) of METHOD section 4, for one pair.
//!
//! Rewards are computed in two steps so that any f works, including a Python callable:
//! first the *gap* of each judgement in its preferred direction (0.0 when it earns no PAR),
//! then `par = f(gap)` for gaps > 0 ([`SideScores::apply_shape`]).
//!
//! Side means sum the valid scores in ascending order, so a mean (and every reward) depends
//! only on the multiset of scores, never on the order of the rows.

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

/// Mean of the valid (non-NaN) scores, summed in ascending order; `None` if there are none.
/// `scratch` is reused to avoid an allocation per side.
pub fn side_mean(scores: impl IntoIterator<Item = f64>, scratch: &mut Vec<f64>) -> Option<f64> {
    scratch.clear();
    scratch.extend(scores.into_iter().filter(|s| !s.is_nan()));
    mean_of_sorted(scratch)
}

/// Sorts `valid` (no NaN) ascending and returns its mean.
pub fn mean_of_sorted(valid: &mut [f64]) -> Option<f64> {
    if valid.is_empty() {
        return None;
    }
    valid.sort_unstable_by(f64::total_cmp);
    Some(valid.iter().sum::<f64>() / valid.len() as f64)
}

/// The gap of one judgement in its preferred direction, or 0.0 when it earns no PAR:
/// chosen: `score - opposite_mean` if positive; rejected: `opposite_mean - score` if positive;
/// 0.0 when the judgement has no score or the other side has no valid score.
pub fn preferred_gap(side: Side, score: Option<f64>, opposite_mean: Option<f64>) -> f64 {
    let (Some(score), Some(opposite)) = (score, opposite_mean) else {
        return 0.0;
    };
    let gap = match side {
        Side::Chosen => score - opposite,
        Side::Rejected => opposite - score,
    };
    if gap > 0.0 {
        gap
    } else {
        0.0
    }
}

/// Per-judgement rewards of one side of a pair (all vectors have one entry per judgement).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SideScores {
    /// The judge's score (NaN when the judgement has a format error).
    pub score: Vec<f64>,
    pub error_code: Vec<i8>,
    pub format_reward: Vec<f64>,
    /// The gap in the preferred direction (0.0 when no PAR is earned).
    pub gap: Vec<f64>,
    /// R_PAR = f(gap) for gap > 0, else 0.
    pub par: Vec<f64>,
    /// R = R_PAR + R_format.
    pub reward: Vec<f64>,
    /// Mean of this side's valid scores.
    pub mean: Option<f64>,
}

impl SideScores {
    /// Sets `par` and `reward` from `gap` with f; f is called only for gaps > 0.
    pub fn apply_shape<E>(&mut self, mut f: impl FnMut(f64) -> Result<f64, E>) -> Result<(), E> {
        for i in 0..self.gap.len() {
            let gap = self.gap[i];
            let par = if gap > 0.0 { f(gap)? } else { 0.0 };
            self.par[i] = par;
            self.reward[i] = par + self.format_reward[i];
        }
        Ok(())
    }
}

/// Both sides of one pair.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PairScores {
    pub chosen: SideScores,
    pub rejected: SideScores,
}

impl PairScores {
    pub fn apply_shape<E>(&mut self, mut f: impl FnMut(f64) -> Result<f64, E>) -> Result<(), E> {
        self.chosen.apply_shape(&mut f)?;
        self.rejected.apply_shape(&mut f)
    }
}

fn side_scores(
    side: Side,
    outcomes: &[Outcome],
    mean: Option<f64>,
    opposite_mean: Option<f64>,
) -> SideScores {
    let n = outcomes.len();
    let format_reward: Vec<f64> = outcomes.iter().map(Outcome::format_reward).collect();
    SideScores {
        score: outcomes.iter().map(Outcome::score_or_nan).collect(),
        error_code: outcomes.iter().map(|o| error_code(o.error)).collect(),
        gap: outcomes
            .iter()
            .map(|o| preferred_gap(side, o.score, opposite_mean))
            .collect(),
        par: vec![0.0; n],
        reward: format_reward.clone(),
        format_reward,
        mean,
    }
}

/// Gaps, format rewards and means of one pair (n chosen and m rejected judgements, n and m
/// may differ); `par`/`reward` are left for [`PairScores::apply_shape`] (or use [`pair_rewards`]).
pub fn pair_gaps(chosen: &[Outcome], rejected: &[Outcome]) -> PairScores {
    let mut scratch = Vec::new();
    let mean_c = side_mean(chosen.iter().map(Outcome::score_or_nan), &mut scratch);
    let mean_r = side_mean(rejected.iter().map(Outcome::score_or_nan), &mut scratch);
    PairScores {
        chosen: side_scores(Side::Chosen, chosen, mean_c, mean_r),
        rejected: side_scores(Side::Rejected, rejected, mean_r, mean_c),
    }
}

/// PAR and total rewards of one pair with a built-in f.
pub fn pair_rewards(chosen: &[Outcome], rejected: &[Outcome], shape: &Shape) -> PairScores {
    let mut scores = pair_gaps(chosen, rejected);
    let _ = scores.apply_shape(|gap| Ok::<f64, std::convert::Infallible>(shape.apply(gap)));
    scores
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::FormatError;
    use proptest::prelude::*;

    fn valid(score: f64) -> Outcome {
        Outcome {
            score: Some(score),
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
