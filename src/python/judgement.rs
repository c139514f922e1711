//! `patarm._core.Judgement`: one parsed judgement (docs/method.md §3), built by the parser,
//! by hand (checked to be one the parser could produce) or by unpickling.

use pyo3::prelude::*;
use pyo3::types::{PyTuple, PyType};

use super::errors;
use super::repr::{escape_html, fmt_float};
use crate::parse::{self, ERROR_KINDS};

/// One parsed judgement (docs/method.md §3).
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
    #[allow(
        clippy::too_many_arguments,
        reason = "one parameter per field, as Python's constructor and pickling pass them"
    )]
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
    pub(super) fn from_parse(j: &parse::Judgement<'_>) -> Judgement {
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
