//! Bindings for parsing (`parse_judgement(s)`), the shape functions (`Graded`, `Constant`),
//! PAR for one pair (`par_rewards`) and for a batch (`score_batch`).
//!
//! Each batch call reads its arguments with the GIL held, then releases it for the parse and
//! the reward computation (`py.detach`), which run in a patarm thread pool. A Python callable
//! f is applied afterwards, with the GIL, only to the gaps > 0.

use numpy::PyArray1;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple, PyType};
use rayon::prelude::*;

use super::errors;
use super::inputs::{self, Sources, Utf8};
use super::interrupt;
use crate::batch::{self, BatchScores, PairKey, PairwiseRewards};
use crate::par::{self, PairScores, Side, SideScores};
use crate::parse::{self, Choice, ParseOptions, ERROR_KINDS};
use crate::shape::Shape;
use crate::vote::verdict;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("ERROR_KINDS", PyTuple::new(m.py(), ERROR_KINDS)?)?;
    m.add_class::<Judgement>()?;
    m.add_class::<Graded>()?;
    m.add_class::<Constant>()?;
    m.add_class::<SideRewards>()?;
    m.add_class::<PairRewards>()?;
    m.add_function(wrap_pyfunction!(parse_judgement, m)?)?;
    m.add_function(wrap_pyfunction!(parse_judgements, m)?)?;
    m.add_function(wrap_pyfunction!(par_rewards, m)?)?;
    m.add_function(wrap_pyfunction!(score_batch, m)?)?;
    m.add_function(wrap_pyfunction!(_memchr_count, m)?)?;
    Ok(())
}

fn slices<'a>(held: &'a [Utf8<'_>]) -> Vec<&'a [u8]> {
    held.iter().map(Utf8::bytes).collect()
}

fn fmt_float(value: f64) -> String {
    // Python's repr of floats: "2.0", not Rust's "2".
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e16 {
        format!("{value:.1}")
    } else {
        format!("{value}")
    }
}

/// Text made safe inside HTML elements and attribute values.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            _ => out.push(c),
        }
    }
    out
}

fn fmt_floats(values: &[f64]) -> String {
    match values {
        [one] => format!("({},)", fmt_float(*one)),
        _ => format!(
            "({})",
            values
                .iter()
                .map(|v| fmt_float(*v))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

// ---- Judgement ---------------------------------------------------------------------------

/// One parsed judgement (METHOD section 3).
#[pyclass(frozen, eq, module = "patarm._core")]
#[derive(Clone, PartialEq)]
pub struct Judgement {
    #[pyo3(get)]
    score: Option<f64>,
    #[pyo3(get)]
    choice: Option<String>,
    #[pyo3(get)]
    format_reward: f64,
    #[pyo3(get)]
    error: Option<String>,
    #[pyo3(get)]
    think: Option<String>,
    #[pyo3(get)]
    rubrics: Vec<String>,
    #[pyo3(get)]
    eval: Option<String>,
    #[pyo3(get)]
    answer: Option<String>,
}

#[pymethods]
impl Judgement {
    #[new]
    #[pyo3(signature = (score, choice, format_reward, error, think, rubrics, eval, answer))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        score: Option<f64>,
        choice: Option<String>,
        format_reward: f64,
        error: Option<String>,
        think: Option<String>,
        rubrics: Vec<String>,
        eval: Option<String>,
        answer: Option<String>,
    ) -> PyResult<Self> {
        check_judgement_fields(score, choice.as_deref(), format_reward, error.as_deref())?;
        Ok(Judgement {
            score,
            choice,
            format_reward,
            error,
            think,
            rubrics,
            eval,
            answer,
        })
    }

    /// True when the judgement has no format error.
    #[getter]
    fn ok(&self) -> bool {
        self.error.is_none()
    }

    fn __repr__(&self) -> String {
        let verdict = match (&self.choice, self.score) {
            (Some(choice), _) => format!("choice={choice:?}"),
            (None, Some(score)) => format!("score={}", fmt_float(score)),
            (None, None) => "score=None".to_string(),
        };
        let error = self
            .error
            .as_deref()
            .map_or("None".to_string(), |e| format!("{e:?}"));
        format!(
            "Judgement({verdict}, error={error}, rubrics={})",
            self.rubrics.len()
        )
    }

    /// Jupyter's rich display: the verdict, the error and the four sections of the
    /// judgement (think, rubrics, eval, answer), every text HTML-escaped.
    fn _repr_html_(&self) -> String {
        let mut html = String::from(
            "<div class=\"patarm-judgement\" style=\"border:1px solid #ccc;padding:6px;\">\n<b>Judgement</b>: ",
        );
        match (&self.choice, self.score) {
            (Some(choice), _) => html.push_str(&format!("choice <b>{}</b>", escape_html(choice))),
            (None, Some(score)) => html.push_str(&format!("score <b>{}</b>", fmt_float(score))),
            (None, None) => html.push_str("<b>no verdict</b>"),
        }
        html.push_str(&format!(
            " &middot; format reward {}",
            fmt_float(self.format_reward)
        ));
        match &self.error {
            Some(error) => html.push_str(&format!(
                " &middot; <span style=\"color:#b00020\">error: {}</span>",
                escape_html(error)
            )),
            None => html.push_str(" &middot; no error"),
        }
        html.push('\n');
        let section = |html: &mut String, name: &str, body: Option<String>| match body {
            Some(body) => html.push_str(&format!(
                "<details open><summary>{name}</summary>{body}</details>\n"
            )),
            None => html.push_str(&format!(
                "<details><summary>{name} <i>(missing)</i></summary></details>\n"
            )),
        };
        let pre = |text: &Option<String>| {
            text.as_deref().map(|t| {
                format!(
                    "<pre style=\"white-space:pre-wrap;margin:2px 0 2px 1em\">{}</pre>",
                    escape_html(t)
                )
            })
        };
        section(&mut html, "think", pre(&self.think));
        let rubrics = (!self.rubrics.is_empty()).then(|| {
            let items: String = self
                .rubrics
                .iter()
                .map(|r| format!("<li>{}</li>", escape_html(r)))
                .collect();
            format!("<ol style=\"margin:2px 0\">{items}</ol>")
        });
        section(
            &mut html,
            &format!("rubrics ({})", self.rubrics.len()),
            rubrics,
        );
        section(&mut html, "eval", pre(&self.eval));
        section(&mut html, "answer", pre(&self.answer));
        html.push_str("</div>");
        html
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyType>, Bound<'py, PyTuple>)> {
        let j = slf.get();
        let args = (
            j.score,
            j.choice.clone(),
            j.format_reward,
            j.error.clone(),
            j.think.clone(),
            j.rubrics.clone(),
            j.eval.clone(),
            j.answer.clone(),
        );
        Ok((slf.get_type(), args.into_pyobject(slf.py())?))
    }
}

/// A Judgement built by hand or unpickled must be one the parser could produce: `ok` (no
/// error) means a finite score or a verdict choice, and an error is one of `ERROR_KINDS`.
fn check_judgement_fields(
    score: Option<f64>,
    choice: Option<&str>,
    format_reward: f64,
    error: Option<&str>,
) -> PyResult<()> {
    let invalid = |why: String| Err(errors::invalid_judgement(why));
    if !format_reward.is_finite() {
        return invalid(format!(
            "Judgement format_reward is {format_reward}; it must be a finite float"
        ));
    }
    if let Some(score) = score.filter(|s| !s.is_finite()) {
        return invalid(format!(
            "Judgement score is {score}; a score is a finite float, or None when the judgement has no valid score \
             (then error names why)"
        ));
    }
    if let Some(choice) = choice.filter(|c| !matches!(*c, "A" | "B")) {
        return invalid(format!(
            "Judgement choice is {choice:?}; it must be 'A', 'B' or None"
        ));
    }
    match error {
        Some(kind) if !ERROR_KINDS.contains(&Some(kind)) => invalid(format!(
            "Judgement error is {kind:?}; it must be None or one of {:?}",
            ERROR_KINDS.iter().flatten().collect::<Vec<_>>()
        )),
        None if score.is_none() && choice.is_none() => invalid(
            "Judgement has no score, no choice and error=None: a judgement without an error has a verdict; \
             pass the error kind that explains the missing verdict"
                .to_string(),
        ),
        _ => Ok(()),
    }
}

impl Judgement {
    fn from_parse(j: &parse::Judgement<'_>) -> Judgement {
        Judgement {
            score: j.outcome.score,
            choice: j.outcome.choice.map(|c| c.as_str().to_string()),
            format_reward: j.outcome.format_reward(),
            error: j.outcome.error.map(|e| e.kind().to_string()),
            think: j.think.map(str::to_string),
            rubrics: j.rubrics.iter().map(|r| r.to_string()).collect(),
            eval: j.eval.map(str::to_string),
            answer: j.answer.map(str::to_string),
        }
    }
}

#[pyfunction]
#[pyo3(signature = (text, *, pairwise = false, think_in_prompt = false, answer_only = false))]
fn parse_judgement(
    text: &Bound<'_, PyAny>,
    pairwise: bool,
    think_in_prompt: bool,
    answer_only: bool,
) -> PyResult<Judgement> {
    let held = inputs::text(text, "text")?;
    let text = held.as_str();
    let options = ParseOptions {
        pairwise,
        think_in_prompt,
        answer_only,
    };
    Ok(Judgement::from_parse(&parse::parse(text, options)))
}

/// Batch parse: `score` (NaN when invalid), `format_reward`, `error_code`, and for pairwise
/// `choice_code` (0 none, 1 "A", 2 "B": the verdict codes `majority_vote_verdict_counts` reads).
#[pyfunction]
#[pyo3(signature = (texts, *, pairwise = false, think_in_prompt = false, num_threads = None, answer_only = false))]
fn parse_judgements<'py>(
    py: Python<'py>,
    texts: &Bound<'py, PyAny>,
    pairwise: bool,
    think_in_prompt: bool,
    num_threads: Option<&Bound<'_, PyAny>>,
    answer_only: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let threads = inputs::num_threads(num_threads)?;
    let held = inputs::texts(texts, "texts")?;
    let bytes = slices(&held);
    let options = ParseOptions {
        pairwise,
        think_in_prompt,
        answer_only,
    };
    let outcomes = interrupt::detach(py, || batch::parse_outcomes(&bytes, options, threads))?;
    let out = PyDict::new(py);
    let score: Vec<f64> = outcomes.iter().map(parse::Outcome::score_or_nan).collect();
    let format_reward: Vec<f64> = outcomes.iter().map(parse::Outcome::format_reward).collect();
    let error_code: Vec<i8> = outcomes
        .iter()
        .map(|o| parse::error_code(o.error))
        .collect();
    out.set_item("score", PyArray1::from_vec(py, score))?;
    out.set_item("format_reward", PyArray1::from_vec(py, format_reward))?;
    out.set_item("error_code", PyArray1::from_vec(py, error_code))?;
    if pairwise {
        let codes: Vec<i8> = outcomes
            .iter()
            .map(|o| match o.choice {
                None => verdict::NONE,
                Some(Choice::A) => verdict::A,
                Some(Choice::B) => verdict::B,
            })
            .collect();
        out.set_item("choice_code", PyArray1::from_vec(py, codes))?;
    }
    Ok(out)
}

// ---- shape functions ---------------------------------------------------------------------

/// Graded f: `values[k]` for `thresholds[k-1] < delta <= thresholds[k]`.
#[pyclass(frozen, module = "patarm._core")]
pub struct Graded {
    /// Always `Shape::Graded` (validated by `Shape::graded`).
    shape: Shape,
}

impl Graded {
    /// (thresholds, values) of the shape.
    fn parts(&self) -> (&[f64], &[f64]) {
        match &self.shape {
            Shape::Graded {
                thresholds, values, ..
            } => (thresholds, values),
            Shape::Constant(_) => (&[], &[]),
        }
    }
}

#[pymethods]
impl Graded {
    #[new]
    #[pyo3(signature = (thresholds = vec![2.0], values = vec![1.2, 1.4]))]
    fn new(thresholds: Vec<f64>, values: Vec<f64>) -> PyResult<Self> {
        Ok(Graded {
            shape: Shape::graded(thresholds, values)?,
        })
    }

    #[getter]
    fn thresholds<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.parts().0)
    }

    #[getter]
    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.parts().1)
    }

    /// f(delta); 0.0 for delta <= 0 (no gap in the preferred direction).
    fn __call__(&self, delta: f64) -> f64 {
        self.shape.apply(delta)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<Graded>()
            .is_ok_and(|o| o.get().shape == self.shape)
    }

    fn __hash__(&self) -> u64 {
        let (thresholds, values) = self.parts();
        thresholds
            .iter()
            .chain(values)
            .fold(17u64, |h, v| h.wrapping_mul(31).wrapping_add(v.to_bits()))
    }

    fn __repr__(&self) -> String {
        let (thresholds, values) = self.parts();
        format!(
            "Graded(thresholds={}, values={})",
            fmt_floats(thresholds),
            fmt_floats(values)
        )
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyType>, Bound<'py, PyTuple>)> {
        let (thresholds, values) = slf.get().parts();
        Ok((
            slf.get_type(),
            (thresholds, values).into_pyobject(slf.py())?,
        ))
    }
}

/// Constant f: the same value for every delta > 0.
#[pyclass(frozen, module = "patarm._core")]
pub struct Constant {
    #[pyo3(get)]
    value: f64,
}

#[pymethods]
impl Constant {
    #[new]
    #[pyo3(signature = (value = 1.3))]
    fn new(value: f64) -> PyResult<Self> {
        Shape::constant(value)?;
        Ok(Constant { value })
    }

    fn __call__(&self, delta: f64) -> f64 {
        Shape::Constant(self.value).apply(delta)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<Constant>()
            .is_ok_and(|o| o.get().value == self.value)
    }

    fn __hash__(&self) -> u64 {
        self.value.to_bits()
    }

    fn __repr__(&self) -> String {
        format!("Constant({})", fmt_float(self.value))
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyType>, Bound<'py, PyTuple>)> {
        Ok((slf.get_type(), (slf.get().value,).into_pyobject(slf.py())?))
    }
}

/// An f argument: a built-in shape runs in Rust; any other callable runs in Python.
enum ShapeArg<'py> {
    Builtin(Shape),
    Callable(Bound<'py, PyAny>),
}

impl<'py> ShapeArg<'py> {
    fn read(f: Option<&Bound<'py, PyAny>>) -> PyResult<ShapeArg<'py>> {
        let Some(f) = f.filter(|f| !f.is_none()) else {
            return Ok(ShapeArg::Builtin(Shape::default()));
        };
        if let Ok(graded) = f.cast::<Graded>() {
            return Ok(ShapeArg::Builtin(graded.get().shape.clone()));
        }
        if let Ok(constant) = f.cast::<Constant>() {
            return Ok(ShapeArg::Builtin(Shape::Constant(constant.get().value)));
        }
        if f.is_callable() {
            return Ok(ShapeArg::Callable(f.clone()));
        }
        Err(errors::bad_shape(&format!(
            "a {}, which is not callable",
            inputs::type_name(f)
        )))
    }

    fn builtin(&self) -> Option<&Shape> {
        match self {
            ShapeArg::Builtin(shape) => Some(shape),
            ShapeArg::Callable(_) => None,
        }
    }

    /// The Python f, called for one gap > 0 (must return a finite float).
    fn call(f: &Bound<'py, PyAny>, delta: f64) -> PyResult<f64> {
        let result = f.call1((delta,))?;
        match result.extract::<f64>() {
            Ok(value) if value.is_finite() => Ok(value),
            _ => Err(errors::bad_shape_result(
                delta,
                result.repr().map_or_else(|_| "?".into(), |r| r.to_string()),
            )),
        }
    }
}

// ---- PAR for one pair --------------------------------------------------------------------

/// Per-judgement rewards of one side of a pair.
#[pyclass(frozen, module = "patarm._core")]
pub struct SideRewards {
    inner: SideScores,
}

#[pymethods]
impl SideRewards {
    #[new]
    #[pyo3(signature = (reward, par, format_reward, score, error_code, mean))]
    fn new(
        reward: Vec<f64>,
        par: Vec<f64>,
        format_reward: Vec<f64>,
        score: Vec<f64>,
        error_code: Vec<i8>,
        mean: Option<f64>,
    ) -> PyResult<Self> {
        let n = reward.len();
        if [
            par.len(),
            format_reward.len(),
            score.len(),
            error_code.len(),
        ]
        .iter()
        .any(|&len| len != n)
        {
            return Err(errors::side_rewards_lengths());
        }
        let gap = vec![0.0; n];
        Ok(SideRewards {
            inner: SideScores {
                score,
                error_code,
                format_reward,
                gap,
                par,
                reward,
                mean,
            },
        })
    }

    /// Total reward R = R_PAR + R_format, one per judgement.
    #[getter]
    fn reward<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, &self.inner.reward)
    }

    #[getter]
    fn par<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, &self.inner.par)
    }

    #[getter]
    fn format_reward<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, &self.inner.format_reward)
    }

    /// The judge's scores (NaN for a format error).
    #[getter]
    fn score<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, &self.inner.score)
    }

    #[getter]
    fn error_code<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i8>> {
        PyArray1::from_slice(py, &self.inner.error_code)
    }

    /// Mean of this side's valid scores (None when there are none).
    #[getter]
    fn mean(&self) -> Option<f64> {
        self.inner.mean
    }

    fn __len__(&self) -> usize {
        self.inner.reward.len()
    }

    fn __repr__(&self) -> String {
        let mean = self.inner.mean.map_or("None".to_string(), fmt_float);
        format!("SideRewards(n={}, mean={mean})", self.inner.reward.len())
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyType>, Bound<'py, PyTuple>)> {
        let s = &slf.get().inner;
        let args = (
            s.reward.clone(),
            s.par.clone(),
            s.format_reward.clone(),
            s.score.clone(),
            s.error_code.clone(),
            s.mean,
        );
        Ok((slf.get_type(), args.into_pyobject(slf.py())?))
    }
}

/// Rewards of both sides of one pair.
#[pyclass(frozen, module = "patarm._core")]
pub struct PairRewards {
    #[pyo3(get)]
    chosen: Py<SideRewards>,
    #[pyo3(get)]
    rejected: Py<SideRewards>,
}

#[pymethods]
impl PairRewards {
    #[new]
    fn new(chosen: Py<SideRewards>, rejected: Py<SideRewards>) -> Self {
        PairRewards { chosen, rejected }
    }

    /// Mean of the chosen side's valid scores (None when there are none).
    #[getter]
    fn chosen_mean(&self) -> Option<f64> {
        self.chosen.get().inner.mean
    }

    #[getter]
    fn rejected_mean(&self) -> Option<f64> {
        self.rejected.get().inner.mean
    }

    fn __repr__(&self) -> String {
        let (c, r) = (&self.chosen.get().inner, &self.rejected.get().inner);
        let mean = |m: Option<f64>| m.map_or("None".to_string(), fmt_float);
        format!(
            "PairRewards(chosen: n={} mean={}, rejected: n={} mean={})",
            c.reward.len(),
            mean(c.mean),
            r.reward.len(),
            mean(r.mean)
        )
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyType>, Bound<'py, PyTuple>)> {
        let p = slf.get();
        let py = slf.py();
        Ok((
            slf.get_type(),
            (p.chosen.clone_ref(py), p.rejected.clone_ref(py)).into_pyobject(py)?,
        ))
    }
}

#[pyfunction]
#[pyo3(signature = (chosen, rejected, *, f = None, think_in_prompt = false, num_threads = None, float32_safe = false))]
fn par_rewards(
    py: Python<'_>,
    chosen: &Bound<'_, PyAny>,
    rejected: &Bound<'_, PyAny>,
    f: Option<&Bound<'_, PyAny>>,
    think_in_prompt: bool,
    num_threads: Option<&Bound<'_, PyAny>>,
    float32_safe: bool,
) -> PyResult<PairRewards> {
    let threads = inputs::num_threads(num_threads)?;
    let shape = ShapeArg::read(f)?;
    let held_c = inputs::texts(chosen, "chosen")?;
    let held_r = inputs::texts(rejected, "rejected")?;
    let (bytes_c, bytes_r) = (slices(&held_c), slices(&held_r));
    let options = ParseOptions {
        pairwise: false,
        think_in_prompt,
        ..ParseOptions::default()
    };
    let builtin = shape.builtin();
    let mut scores: PairScores = interrupt::detach(py, || {
        let c = batch::parse_outcomes(&bytes_c, options, threads);
        let r = batch::parse_outcomes(&bytes_r, options, threads);
        match builtin {
            Some(shape) => par::pair_rewards(&c, &r, shape),
            None => par::pair_gaps(&c, &r),
        }
    })?;
    if let ShapeArg::Callable(f) = &shape {
        scores.apply_shape(|gap| ShapeArg::call(f, gap))?;
    }
    if float32_safe {
        scores.snap_float32();
    }
    Ok(PairRewards {
        chosen: Py::new(
            py,
            SideRewards {
                inner: scores.chosen,
            },
        )?,
        rejected: Py::new(
            py,
            SideRewards {
                inner: scores.rejected,
            },
        )?,
    })
}

// ---- PAR for a batch ---------------------------------------------------------------------

/// The rows' side labels: pointwise sides, or the correct verdict of each pairwise row.
pub(super) enum RowSides {
    Pointwise(Vec<Side>),
    Pairwise(Vec<Choice>),
}

/// Reads `sides` for the scoring mode (a clear error naming the row on any other label).
pub(super) fn read_sides(labels: &[Utf8<'_>], pairwise: bool) -> PyResult<RowSides> {
    let labels = labels.iter().map(Utf8::as_str).enumerate();
    if pairwise {
        let correct = labels.map(|(row, label)| {
            Choice::from_label(label).ok_or_else(|| errors::bad_side(row, label, true))
        });
        Ok(RowSides::Pairwise(correct.collect::<PyResult<_>>()?))
    } else {
        let sides = labels.map(|(row, label)| {
            Side::from_label(label).ok_or_else(|| errors::bad_side(row, label, false))
        });
        Ok(RowSides::Pointwise(sides.collect::<PyResult<_>>()?))
    }
}

pub(super) fn scores_dict<'py>(py: Python<'py>, s: BatchScores) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("reward", PyArray1::from_vec(py, s.reward))?;
    out.set_item("par", PyArray1::from_vec(py, s.par))?;
    out.set_item("format_reward", PyArray1::from_vec(py, s.format_reward))?;
    out.set_item("score", PyArray1::from_vec(py, s.score))?;
    out.set_item("opposite_mean", PyArray1::from_vec(py, s.opposite_mean))?;
    out.set_item("error_code", PyArray1::from_vec(py, s.error_code))?;
    out.set_item("partner_found", PyArray1::from_vec(py, s.partner_found))?;
    Ok(out)
}

fn check_finite(name: &str, value: f64) -> PyResult<()> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(errors::not_finite(name, value))
    }
}

#[pyfunction]
#[pyo3(signature = (
    texts, pair_ids, sides, *, sources = None, f = None, pairwise = false, think_in_prompt = false,
    num_threads = None, correct_reward = 1.0, wrong_reward = 0.0, float32_safe = false,
    answer_only = false,
))]
#[allow(clippy::too_many_arguments)]
fn score_batch<'py>(
    py: Python<'py>,
    texts: &Bound<'py, PyAny>,
    pair_ids: &Bound<'py, PyAny>,
    sides: &Bound<'py, PyAny>,
    sources: Option<&Bound<'py, PyAny>>,
    f: Option<&Bound<'py, PyAny>>,
    pairwise: bool,
    think_in_prompt: bool,
    num_threads: Option<&Bound<'_, PyAny>>,
    correct_reward: f64,
    wrong_reward: f64,
    float32_safe: bool,
    answer_only: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let threads = inputs::num_threads(num_threads)?;
    let options = ParseOptions {
        pairwise,
        think_in_prompt,
        answer_only,
    };
    check_finite("correct_reward", correct_reward)?;
    check_finite("wrong_reward", wrong_reward)?;
    let shape = ShapeArg::read(f)?;
    let held = inputs::texts(texts, "texts")?;
    let rows = held.len();
    let ids = inputs::pair_ids(pair_ids)?;
    batch::check_len("pair_ids", ids.len(), rows)?;
    let side_labels = inputs::labels(sides, "sides")?;
    batch::check_len("sides", side_labels.len(), rows)?;
    let row_sides = read_sides(&side_labels, pairwise)?;
    let sources = Sources::read(sources, rows)?;
    let bytes = slices(&held);

    let sides = match row_sides {
        RowSides::Pointwise(sides) => sides,
        RowSides::Pairwise(correct) => {
            let rewards = PairwiseRewards {
                correct: correct_reward,
                wrong: wrong_reward,
            };
            let mut scores = interrupt::detach(py, || {
                batch::score_pairwise_with(&bytes, &correct, options, rewards, threads)
            })??;
            if float32_safe {
                scores.snap_float32();
            }
            return scores_dict(py, scores);
        }
    };
    let keys: Vec<PairKey<'_>> = ids
        .iter()
        .enumerate()
        .map(|(row, id)| PairKey {
            source: sources.get(row),
            id: id.as_key(),
        })
        .collect();
    let builtin = shape.builtin();
    let mut scores = interrupt::detach(py, || {
        batch::score_pointwise_with(&bytes, &keys, &sides, options, builtin, threads)
    })??;
    if let ShapeArg::Callable(f) = &shape {
        scores.apply_shape(|gap| ShapeArg::call(f, gap))?;
    }
    if float32_safe {
        scores.snap_float32();
    }
    scores_dict(py, scores)
}

/// Benchmark helper: counts `<` in every text with memchr, in parallel, after the same
/// str-to-UTF-8 step as `score_batch`: the speed limit of any scan over the same bytes.
#[pyfunction]
#[pyo3(signature = (texts, *, num_threads = None))]
fn _memchr_count(
    py: Python<'_>,
    texts: &Bound<'_, PyAny>,
    num_threads: Option<&Bound<'_, PyAny>>,
) -> PyResult<usize> {
    let threads = inputs::num_threads(num_threads)?;
    let held = inputs::texts(texts, "texts")?;
    let bytes = slices(&held);
    Ok(py.detach(|| {
        crate::parallel::run(threads, || {
            bytes
                .par_iter()
                .map(|b| memchr::memchr_iter(b'<', b).count())
                .sum()
        })
    }))
}
