//! The shape function f of the preference-aware reward (docs/method.md §4): it maps the size of
//! the gap in the preferred direction (delta > 0) to the PAR reward.

use thiserror::Error;

use crate::exact::Exact;

/// A caller's mistake when building a shape; the message says how to fix it.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ShapeError {
    #[error("Graded needs exactly one more value than thresholds: got {thresholds} threshold(s) and {values} value(s); pass len(values) == len(thresholds) + 1, e.g. Graded(thresholds=(2.0,), values=(1.2, 1.4))")]
    ValueCount { thresholds: usize, values: usize },
    #[error("Graded threshold {index} is {value}; thresholds must be finite numbers (no NaN or infinity)")]
    NonFiniteThreshold { index: usize, value: f64 },
    #[error("Graded thresholds must be strictly increasing, but threshold {index} ({value}) is not greater than the one before it ({previous}); sort them and drop duplicates")]
    NotIncreasing {
        index: usize,
        value: f64,
        previous: f64,
    },
    #[error(
        "shape value {index} is {value}; reward values must be finite numbers (no NaN or infinity)"
    )]
    NonFiniteValue { index: usize, value: f64 },
}

/// A built-in f. `Graded` is the paper's default: 1.2 for 0 < delta <= 2, 1.4 above.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// `values[k]` for `thresholds[k-1] < delta <= thresholds[k]` (with -inf / +inf at the ends).
    /// A threshold means the shortest decimal that prints as its float (0.1 is 1/10), kept
    /// exactly in `exact_thresholds`, against which gaps are compared exactly.
    Graded {
        thresholds: Vec<f64>,
        values: Vec<f64>,
        exact_thresholds: Vec<Exact>,
    },
    /// The same value for every delta > 0.
    Constant(f64),
}

impl Default for Shape {
    fn default() -> Self {
        Shape::Graded {
            exact_thresholds: vec![Exact::int(2)],
            thresholds: vec![2.0],
            values: vec![1.2, 1.4],
        }
    }
}

fn check_values(values: &[f64]) -> Result<(), ShapeError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(ShapeError::NonFiniteValue {
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

impl Shape {
    /// A graded f: finite, strictly increasing thresholds and one more finite value.
    pub fn graded(thresholds: Vec<f64>, values: Vec<f64>) -> Result<Shape, ShapeError> {
        if values.len() != thresholds.len() + 1 {
            return Err(ShapeError::ValueCount {
                thresholds: thresholds.len(),
                values: values.len(),
            });
        }
        if let Some(index) = thresholds.iter().position(|t| !t.is_finite()) {
            return Err(ShapeError::NonFiniteThreshold {
                index,
                value: thresholds[index],
            });
        }
        for (index, pair) in thresholds.windows(2).enumerate() {
            if pair[1] <= pair[0] {
                return Err(ShapeError::NotIncreasing {
                    index: index + 1,
                    value: pair[1],
                    previous: pair[0],
                });
            }
        }
        check_values(&values)?;
        let exact_thresholds = thresholds
            .iter()
            .filter_map(|&t| Exact::from_f64(t))
            .collect();
        Ok(Shape::Graded {
            thresholds,
            values,
            exact_thresholds,
        })
    }

    /// A constant f (finite value).
    pub fn constant(value: f64) -> Result<Shape, ShapeError> {
        check_values(&[value])?;
        Ok(Shape::Constant(value))
    }

    /// f(delta) for delta > 0; 0.0 for delta <= 0 or NaN (no gap in the preferred direction).
    /// A float delta means its shortest decimal, like a threshold.
    pub fn apply(&self, delta: f64) -> f64 {
        Exact::from_f64(delta).map_or(0.0, |delta| self.apply_exact(&delta))
    }

    /// f(gap) for an exact gap > 0; 0.0 for gap <= 0.
    pub fn apply_exact(&self, gap: &Exact) -> f64 {
        if !gap.is_positive() {
            return 0.0;
        }
        match self {
            Shape::Constant(value) => *value,
            Shape::Graded {
                values,
                exact_thresholds,
                ..
            } => {
                // Thresholds are few and sorted: the band is the number of thresholds below gap.
                let band = exact_thresholds.partition_point(|t| t < gap);
                values.get(band).copied().unwrap_or(0.0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_the_papers_graded() {
        let f = Shape::default();
        assert_eq!(f.apply(0.5), 1.2);
        assert_eq!(f.apply(2.0), 1.2);
        assert_eq!(f.apply(2.0000001), 1.4);
        assert_eq!(f.apply(10.0), 1.4);
        assert_eq!(f.apply(0.0), 0.0);
        assert_eq!(f.apply(-1.0), 0.0);
        assert_eq!(f.apply(f64::NAN), 0.0);
    }

    #[test]
    fn several_bands() {
        let f = Shape::graded(vec![1.0, 3.0], vec![0.5, 1.0, 2.0]).unwrap();
        assert_eq!(
            [f.apply(1.0), f.apply(1.5), f.apply(3.0), f.apply(3.5)],
            [0.5, 1.0, 1.0, 2.0]
        );
        let flat = Shape::graded(vec![], vec![0.7]).unwrap();
        assert_eq!(flat.apply(100.0), 0.7);
    }

    #[test]
    fn thresholds_are_their_shortest_decimals() {
        let tenth = Shape::graded(vec![0.1], vec![1.0, 2.0]).unwrap();
        assert_eq!(tenth.apply(0.1), 1.0);
        let exactly_a_tenth = Exact::parse_decimal(b"0.1").unwrap();
        assert_eq!(tenth.apply_exact(&exactly_a_tenth), 1.0);
        let just_above = Exact::parse_decimal(b"0.10000000000000000000001").unwrap();
        assert_eq!(tenth.apply_exact(&just_above), 2.0);
        // 4.4 - 2.4 is exactly 2: the lower band of the default.
        let gap = Exact::parse_decimal(b"4.4")
            .unwrap()
            .sub(&Exact::parse_decimal(b"2.4").unwrap());
        assert_eq!(Shape::default().apply_exact(&gap), 1.2);
    }

    #[test]
    fn constant() {
        let f = Shape::constant(1.3).unwrap();
        assert_eq!(f.apply(1e-9), 1.3);
        assert_eq!(f.apply(9.0), 1.3);
        assert_eq!(f.apply(0.0), 0.0);
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(matches!(
            Shape::graded(vec![2.0], vec![1.2]),
            Err(ShapeError::ValueCount { .. })
        ));
        assert!(matches!(
            Shape::graded(vec![f64::NAN], vec![1.0, 2.0]),
            Err(ShapeError::NonFiniteThreshold { .. })
        ));
        assert!(matches!(
            Shape::graded(vec![2.0, 2.0], vec![1.0, 2.0, 3.0]),
            Err(ShapeError::NotIncreasing { index: 1, .. })
        ));
        assert!(matches!(
            Shape::graded(vec![2.0], vec![1.0, f64::INFINITY]),
            Err(ShapeError::NonFiniteValue { index: 1, .. })
        ));
        assert!(Shape::constant(f64::NAN).is_err());
        let message = Shape::graded(vec![3.0, 1.0], vec![0.0; 3])
            .unwrap_err()
            .to_string();
        assert!(message.contains("strictly increasing"), "{message}");
    }
}
