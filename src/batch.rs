//! Rewards for a whole batch of judgements in any row order (docs/method.md §1, 4 and 5).
//!
//! RL frameworks repeat rows and reorder the batch, so rows are grouped by
//! (source, pair id), never by position. This is the Rust-level API behind
//! `patarm.score_batch`, usable directly from Rust (e.g. a reward manager that decodes
//! token ids in Rust and scores without building Python strings):
//!
//! ```
//! use patarm::batch::{score_pointwise, PairId, PairKey};
//! use patarm::par::Side;
//! use patarm::shape::Shape;
//!
//! let good = "<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>8</answer>";
//! let bad = "<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>3</answer>";
//! let texts = [good, bad];
//! let key = PairKey { source: "patarm/chat", id: PairId::Int(7) };
//! let scores = score_pointwise(&texts, &[key, key], &[Side::Chosen, Side::Rejected],
//!                              false, Some(&Shape::default()), None).unwrap();
//! assert_eq!(scores.reward, vec![1.4, 1.4]);
//! assert_eq!(scores.opposite_mean, vec![3.0, 8.0]);
//! ```
//!
//! Inputs: `texts` is any slice of `AsRef<[u8]>` (`&str`, `String`, `Vec<u8>`, decoded token
//! buffers); `keys[i]` and `sides[i]` label row i. Output: [`BatchScores`], one entry per
//! row in every vector. Parsing runs in parallel in a patarm pool (`threads`, else
//! `PATARM_NUM_THREADS`, else all CPUs); grouping is linear in the number of rows.

use std::collections::HashMap;

use thiserror::Error;

use crate::exact::Exact;
use crate::par::{fill_par, row_gap_and_par, Side};
use crate::parse::{error_code, parse_outcome, Choice, Outcome, ParseOptions};
use crate::shape::Shape;

/// A pair id as callers give it: an integer or a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PairId<'a> {
    Int(i64),
    Str(&'a str),
}

/// Rows with the same key are the judgements of one pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PairKey<'a> {
    pub source: &'a str,
    pub id: PairId<'a>,
}

/// Rewards of the pairwise variant (docs/method.md §5): `correct` when the verdict names the
/// chosen response, `wrong` when it names the other one; a format error earns neither.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairwiseRewards {
    pub correct: f64,
    pub wrong: f64,
}

impl Default for PairwiseRewards {
    fn default() -> Self {
        PairwiseRewards {
            correct: 1.0,
            wrong: 0.0,
        }
    }
}

/// A caller's mistake in a batch call.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BatchError {
    #[error("{what} has {len} entries but texts has {expected}; pass one {what} entry per text (row i of every argument describes the same judgement)")]
    LengthMismatch {
        what: &'static str,
        len: usize,
        expected: usize,
    },
}

/// Per-row results, every vector aligned with the input rows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BatchScores {
    /// Total reward R = R_PAR + R_format (pairwise: verdict reward + R_format).
    pub reward: Vec<f64>,
    /// R_PAR (pairwise: the verdict reward).
    pub par: Vec<f64>,
    /// Gap in the preferred direction, the argument of f (0.0 when no PAR is earned).
    pub gap: Vec<f64>,
    pub format_reward: Vec<f64>,
    /// The judge's score; NaN for a format error (and always NaN pairwise).
    pub score: Vec<f64>,
    /// Mean of the valid scores on the other side of the pair; NaN when there are none.
    pub opposite_mean: Vec<f64>,
    /// 0 ok, 1 missing or mis-ordered tags, 2 invalid verdict (see `parse::ERROR_KINDS`).
    pub error_code: Vec<i8>,
    /// The other side of the pair has at least one row in the batch (pairwise: always true).
    pub partner_found: Vec<bool>,
}

impl BatchScores {
    fn with_outcomes(outcomes: &[Outcome]) -> BatchScores {
        let n = outcomes.len();
        let format_reward: Vec<f64> = outcomes.iter().map(Outcome::format_reward).collect();
        BatchScores {
            reward: format_reward.clone(),
            par: vec![0.0; n],
            gap: vec![0.0; n],
            format_reward,
            score: outcomes.iter().map(Outcome::score_or_nan).collect(),
            opposite_mean: vec![f64::NAN; n],
            error_code: outcomes.iter().map(|o| error_code(o.error)).collect(),
            partner_found: vec![false; n],
        }
    }

    /// Sets `par = f(gap)` for gaps > 0 (0 otherwise) and `reward = par + format_reward`.
    /// f is called only for gaps > 0, in row order; its first error stops the loop.
    pub fn apply_shape<E>(&mut self, f: impl FnMut(f64) -> Result<f64, E>) -> Result<(), E> {
        fill_par(
            &self.gap,
            &self.format_reward,
            &mut self.par,
            &mut self.reward,
            f,
        )
    }

    /// Snaps `par` and `reward` to multiples of 2^-10 for an RL framework
    /// (docs/method.md §4, [`crate::par::float32_safe`]).
    pub fn snap_float32(&mut self) {
        crate::par::snap_float32(&mut self.par);
        crate::par::snap_float32(&mut self.reward);
    }

    pub fn len(&self) -> usize {
        self.reward.len()
    }

    pub fn is_empty(&self) -> bool {
        self.reward.is_empty()
    }
}

/// `what` must have one entry per text.
pub fn check_len(what: &'static str, len: usize, expected: usize) -> Result<(), BatchError> {
    if len == expected {
        Ok(())
    } else {
        Err(BatchError::LengthMismatch {
            what,
            len,
            expected,
        })
    }
}

/// Parses every text in parallel (the batch form of `parse::parse_outcome`).
pub fn parse_outcomes<T: AsRef<[u8]> + Sync>(
    texts: &[T],
    options: ParseOptions,
    threads: Option<usize>,
) -> Vec<Outcome> {
    crate::parallel::map_chunked(
        threads,
        texts,
        |text| text.as_ref().len(),
        |_, text| parse_outcome(text.as_ref(), options),
    )
}

/// Pointwise PAR for a batch: rows grouped by `keys`, `sides[i]` says which response row i
/// judged. With `shape`, `par` and `reward` are filled; with `None` they hold only the format
/// reward and the caller applies its own f through [`BatchScores::apply_shape`].
pub fn score_pointwise<T: AsRef<[u8]> + Sync>(
    texts: &[T],
    keys: &[PairKey<'_>],
    sides: &[Side],
    think_in_prompt: bool,
    shape: Option<&Shape>,
    threads: Option<usize>,
) -> Result<BatchScores, BatchError> {
    let options = ParseOptions {
        think_in_prompt,
        ..ParseOptions::default()
    };
    score_pointwise_with(texts, keys, sides, options, shape, threads)
}

/// [`score_pointwise`] with every parse option (e.g. `answer_only` for baseline judges);
/// `options.pairwise` is ignored.
pub fn score_pointwise_with<T: AsRef<[u8]> + Sync>(
    texts: &[T],
    keys: &[PairKey<'_>],
    sides: &[Side],
    options: ParseOptions,
    shape: Option<&Shape>,
    threads: Option<usize>,
) -> Result<BatchScores, BatchError> {
    check_len("pair_ids", keys.len(), texts.len())?;
    check_len("sides", sides.len(), texts.len())?;
    let options = ParseOptions {
        pairwise: false,
        ..options
    };
    let outcomes = parse_outcomes(texts, options, threads);
    let mut scores = BatchScores::with_outcomes(&outcomes);

    // Slot = 2 * group + side: one slot per side of each pair.
    let mut group_of: HashMap<PairKey<'_>, usize> = HashMap::with_capacity(keys.len() / 2 + 1);
    let slots: Vec<usize> = keys
        .iter()
        .zip(sides)
        .map(|(key, side)| {
            let next = group_of.len();
            2 * *group_of.entry(*key).or_insert(next) + side.index()
        })
        .collect();
    let slot_count = 2 * group_of.len();

    // Exact sum and count of the valid scores of each slot, then each slot's exact mean.
    let mut rows_in_slot = vec![0usize; slot_count];
    let mut valid_in_slot = vec![0usize; slot_count];
    let mut sums = vec![Exact::ZERO; slot_count];
    for (&slot, outcome) in slots.iter().zip(&outcomes) {
        rows_in_slot[slot] += 1;
        if let Some(score) = &outcome.exact {
            valid_in_slot[slot] += 1;
            sums[slot] = sums[slot].add(score);
        }
    }
    let means: Vec<Option<Exact>> = sums
        .iter()
        .zip(&valid_in_slot)
        .map(|(sum, &count)| (count > 0).then(|| sum.div_count(count)))
        .collect();
    let mean_floats: Vec<f64> = means
        .iter()
        .map(|mean| mean.as_ref().map_or(f64::NAN, Exact::to_f64))
        .collect();

    for (row, (&slot, outcome)) in slots.iter().zip(&outcomes).enumerate() {
        let opposite = slot ^ 1;
        scores.opposite_mean[row] = mean_floats[opposite];
        scores.partner_found[row] = rows_in_slot[opposite] > 0;
        let (gap, par) = row_gap_and_par(
            sides[row],
            outcome.exact.as_ref(),
            means[opposite].as_ref(),
            shape,
        );
        scores.gap[row] = gap;
        scores.par[row] = par;
        scores.reward[row] = par + scores.format_reward[row];
    }
    Ok(scores)
}

/// The pairwise variant (docs/method.md §5): `correct[i]` is the verdict that names the chosen
/// response of row i. Rows need no grouping: each judgement sees both responses.
pub fn score_pairwise<T: AsRef<[u8]> + Sync>(
    texts: &[T],
    correct: &[Choice],
    think_in_prompt: bool,
    rewards: PairwiseRewards,
    threads: Option<usize>,
) -> Result<BatchScores, BatchError> {
    let options = ParseOptions {
        think_in_prompt,
        ..ParseOptions::default()
    };
    score_pairwise_with(texts, correct, options, rewards, threads)
}

/// [`score_pairwise`] with every parse option; `options.pairwise` is ignored.
pub fn score_pairwise_with<T: AsRef<[u8]> + Sync>(
    texts: &[T],
    correct: &[Choice],
    options: ParseOptions,
    rewards: PairwiseRewards,
    threads: Option<usize>,
) -> Result<BatchScores, BatchError> {
    check_len("sides", correct.len(), texts.len())?;
    let options = ParseOptions {
        pairwise: true,
        ..options
    };
    let outcomes = parse_outcomes(texts, options, threads);
    let mut scores = BatchScores::with_outcomes(&outcomes);
    for (row, (outcome, &want)) in outcomes.iter().zip(correct).enumerate() {
        let par = match outcome.choice {
            Some(choice) if choice == want => rewards.correct,
            Some(_) => rewards.wrong,
            None => 0.0,
        };
        scores.par[row] = par;
        scores.reward[row] = par + scores.format_reward[row];
        scores.partner_found[row] = true;
    }
    Ok(scores)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::par::pair_rewards;
    use proptest::prelude::*;

    fn judgement(answer: &str) -> String {
        format!("<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>{answer}</answer>")
    }

    fn key(source: &str, id: i64) -> PairKey<'_> {
        PairKey {
            source,
            id: PairId::Int(id),
        }
    }

    #[test]
    fn groups_by_source_and_id_in_any_order() {
        let texts = [
            judgement("8"),
            judgement("2"),
            judgement("3"),
            judgement("6"),
            judgement("9"),
        ];
        let keys = [
            key("a", 1),
            key("b", 1),
            key("a", 1),
            key("b", 1),
            key("c", 5),
        ];
        let sides = [
            Side::Chosen,
            Side::Chosen,
            Side::Rejected,
            Side::Rejected,
            Side::Chosen,
        ];
        let s = score_pointwise(
            &texts,
            &keys,
            &sides,
            false,
            Some(&Shape::default()),
            Some(2),
        )
        .unwrap();
        assert_eq!(s.gap, vec![5.0, 0.0, 5.0, 0.0, 0.0]);
        assert_eq!(s.reward, vec![1.4, 0.0, 1.4, 0.0, 0.0]);
        assert_eq!(s.partner_found, vec![true, true, true, true, false]);
        assert!(s.opposite_mean[4].is_nan());
        assert_eq!(s.opposite_mean[..4], [3.0, 6.0, 8.0, 2.0]);
    }

    #[test]
    fn string_and_int_ids_are_distinct() {
        let texts = [judgement("8"), judgement("2")];
        let keys = [
            PairKey {
                source: "",
                id: PairId::Str("1"),
            },
            key("", 1),
        ];
        let s = score_pointwise(
            &texts,
            &keys,
            &[Side::Chosen, Side::Rejected],
            false,
            Some(&Shape::default()),
            None,
        )
        .unwrap();
        assert_eq!(s.partner_found, vec![false, false]);
    }

    #[test]
    fn length_mismatch_is_an_error() {
        let texts = [judgement("8")];
        let err = score_pointwise(&texts, &[], &[Side::Chosen], false, None, None).unwrap_err();
        assert_eq!(
            err,
            BatchError::LengthMismatch {
                what: "pair_ids",
                len: 0,
                expected: 1
            }
        );
        assert!(err.to_string().contains("one pair_ids entry per text"));
        assert!(score_pairwise(&texts, &[], false, PairwiseRewards::default(), None).is_err());
    }

    #[test]
    fn pairwise_rewards() {
        let texts = [
            judgement("A"),
            judgement("B"),
            judgement("7"),
            "junk".to_string(),
        ];
        let correct = [Choice::A, Choice::A, Choice::B, Choice::B];
        let s = score_pairwise(
            &texts,
            &correct,
            false,
            PairwiseRewards {
                correct: 1.0,
                wrong: -0.5,
            },
            Some(1),
        )
        .unwrap();
        assert_eq!(s.par, vec![1.0, -0.5, 0.0, 0.0]);
        assert_eq!(s.reward, vec![1.0, -0.5, -1.0, -1.5]);
        assert_eq!(s.error_code, vec![0, 0, 2, 1]);
    }

    #[test]
    fn answer_only_batches_score_baseline_judgements() {
        let texts = [
            "Good. <answer>9</answer>",
            "Weak. <answer>4</answer>",
            "no verdict",
        ];
        let keys = [key("s", 1), key("s", 1), key("s", 1)];
        let sides = [Side::Chosen, Side::Rejected, Side::Rejected];
        let options = ParseOptions {
            answer_only: true,
            ..ParseOptions::default()
        };
        let s = score_pointwise_with(
            &texts,
            &keys,
            &sides,
            options,
            Some(&Shape::default()),
            None,
        )
        .unwrap();
        assert_eq!(s.score[..2], [9.0, 4.0]);
        assert_eq!(s.error_code, vec![0, 0, 1]);
        assert_eq!(s.reward, vec![1.4, 1.4, -1.5]);
        // The same texts under the PaTaRM rules are all tag errors.
        let strict =
            score_pointwise(&texts, &keys, &sides, false, Some(&Shape::default()), None).unwrap();
        assert_eq!(strict.error_code, vec![1, 1, 1]);
        let pair = score_pairwise_with(
            &["<answer>A</answer>"],
            &[Choice::A],
            options,
            PairwiseRewards::default(),
            None,
        )
        .unwrap();
        assert_eq!(pair.reward, vec![1.0]);
    }

    #[test]
    fn empty_batch() {
        let texts: [&str; 0] = [];
        let s = score_pointwise(&texts, &[], &[], false, Some(&Shape::default()), None).unwrap();
        assert!(s.is_empty());
    }

    proptest! {
        /// A batch gives every row what `pair_rewards` gives its pair, whatever the row order.
        #[test]
        fn batch_matches_pairs_in_any_order(
            rows in proptest::collection::vec((0i64..6, any::<bool>(), 0u32..=100, 0u8..10), 0..60),
            seed in any::<u64>(),
        ) {
            let answer = |s: u32, noise: u8| if noise == 0 { "bad".to_string() } else { format!("{}", f64::from(s) / 10.0) };
            let texts: Vec<String> = rows.iter().map(|&(_, _, s, n)| judgement(&answer(s, n))).collect();
            let keys: Vec<PairKey> = rows.iter().map(|&(id, ..)| key("src", id)).collect();
            let sides: Vec<Side> = rows.iter().map(|&(_, c, ..)| if c { Side::Chosen } else { Side::Rejected }).collect();
            let shape = Shape::default();
            let s = score_pointwise(&texts, &keys, &sides, false, Some(&shape), Some(2)).unwrap();

            // Shuffle rows with a simple LCG permutation and compare row by row.
            let mut order: Vec<usize> = (0..rows.len()).collect();
            let mut state = seed | 1;
            for i in (1..order.len()).rev() {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                order.swap(i, (state >> 33) as usize % (i + 1));
            }
            let t2: Vec<&String> = order.iter().map(|&i| &texts[i]).collect();
            let k2: Vec<PairKey> = order.iter().map(|&i| keys[i]).collect();
            let s2v: Vec<Side> = order.iter().map(|&i| sides[i]).collect();
            let s2 = score_pointwise(&t2, &k2, &s2v, false, Some(&shape), Some(1)).unwrap();
            for (pos, &i) in order.iter().enumerate() {
                prop_assert_eq!(s.reward[i], s2.reward[pos]);
            }

            for id in 0..6 {
                let pick = |side: Side| -> (Vec<usize>, Vec<Outcome>) {
                    let idx: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].0 == id && sides[i] == side).collect();
                    let outs = idx.iter().map(|&i| parse_outcome(texts[i].as_bytes(), ParseOptions::default())).collect();
                    (idx, outs)
                };
                let (ci, co) = pick(Side::Chosen);
                let (ri, ro) = pick(Side::Rejected);
                let p = pair_rewards(&co, &ro, &shape);
                for (k, &i) in ci.iter().enumerate() { prop_assert_eq!(s.reward[i], p.chosen.reward[k]); }
                for (k, &i) in ri.iter().enumerate() { prop_assert_eq!(s.reward[i], p.rejected.reward[k]); }
            }
        }
    }
}
