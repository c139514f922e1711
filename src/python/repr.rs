//! Python-style text for `__repr__` and Jupyter's `_repr_html_` of the binding classes.

pub fn fmt_float(value: f64) -> String {
    // Python's repr of floats: "2.0", not Rust's "2".
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e16 {
        format!("{value:.1}")
    } else {
        format!("{value}")
    }
}

/// Text made safe inside HTML elements and attribute values.
pub fn escape_html(text: &str) -> String {
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

pub fn fmt_floats(values: &[f64]) -> String {
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
