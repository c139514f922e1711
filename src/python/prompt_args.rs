//! The prompt builders' row arguments: a prompt (a str or chat messages, with OpenAI-style
//! content parts), a response, and the per-row `domains` / `tasks`.

use crate::prompt::{render_content_parts, ContentPart, PromptText, Turn};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

use super::errors;
use super::inputs::{self, type_name, Place};

fn message_content(content: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    if content.is_none() {
        return Ok(String::new());
    }
    if content.cast::<PyString>().is_ok() {
        return inputs::owned_str(content, Place::arg(&format!("{what}['content']")));
    }
    // OpenAI-style content parts (the core renders them).
    if content.cast::<PyList>().is_ok() || content.cast::<PyTuple>().is_ok() {
        let mut parts = Vec::new();
        for part in content.try_iter()? {
            let part = part?;
            let part = part
                .cast::<PyDict>()
                .map_err(|_| errors::bad_content_part(what))?;
            let kind: String = match part.get_item("type")? {
                Some(kind) => {
                    inputs::owned_str(&kind, Place::arg(&format!("{what} content part 'type'")))?
                }
                None => "text".to_string(),
            };
            match (kind.as_str(), part.get_item("text")?) {
                ("text", Some(text)) => parts.push(ContentPart::Text(inputs::owned_str(
                    &text,
                    Place::arg(&format!("{what} content part 'text'")),
                )?)),
                _ => parts.push(ContentPart::Other(kind)),
            }
        }
        return Ok(render_content_parts(&parts));
    }
    Err(errors::wrong_type(
        &format!("{what} content"),
        "a str or a list of content parts",
        &type_name(content),
    ))
}

/// A prompt: a str, or a list of chat messages {"role", "content"}.
pub(super) fn extract_prompt(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<PromptText> {
    if obj.cast::<PyString>().is_ok() {
        return Ok(PromptText::Plain(inputs::owned_str(obj, Place::arg(what))?));
    }
    if obj.cast::<PyList>().is_err() && obj.cast::<PyTuple>().is_err() {
        return Err(errors::wrong_type(
            what,
            "a str or a list of chat messages {'role': ..., 'content': ...}",
            &type_name(obj),
        ));
    }
    let mut turns = Vec::new();
    for (i, message) in obj.try_iter()?.enumerate() {
        let message = message?;
        let here = format!("{what}[{i}]");
        let message = message.cast::<PyDict>().map_err(|_| {
            errors::wrong_type(
                &here,
                "a dict {'role': ..., 'content': ...}",
                &type_name(&message),
            )
        })?;
        let role = match message.get_item("role")? {
            Some(role) => inputs::owned_str(&role, Place::arg(&format!("{here}['role']")))?,
            None => return Err(errors::message_without(&here, "role")),
        };
        let content = match message.get_item("content")? {
            Some(content) => message_content(&content, &here)?,
            None => return Err(errors::message_without(&here, "content")),
        };
        turns.push(Turn { role, content });
    }
    if turns.is_empty() {
        return Err(errors::empty_conversation(what));
    }
    Ok(PromptText::Conversation(turns))
}

pub(super) fn extract_response(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    inputs::owned_str(obj, Place::arg(what))
}

pub(super) fn check_length(what: &str, len: usize, rows: usize) -> PyResult<()> {
    if len != rows {
        return Err(errors::prompt_rows_mismatch(what, len, rows));
    }
    Ok(())
}

/// One value for all rows (a str or None), or one per row.
pub(super) fn per_row_strings(
    obj: Option<&Bound<'_, PyAny>>,
    what: &str,
    rows: usize,
) -> PyResult<Vec<Option<String>>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(vec![None; rows]);
    };
    if obj.cast::<PyString>().is_ok() {
        return Ok(vec![Some(extract_response(obj, what)?); rows]);
    }
    let items = inputs::items(obj, what)?;
    check_length(what, items.len(), rows)?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            if item.is_none() {
                Ok(None)
            } else {
                extract_response(item, &format!("{what}[{i}]")).map(Some)
            }
        })
        .collect()
}
