//! The only PyO3 code of the crate: one binding file per core concern, and `errors.rs`,
//! the single place where core errors become Python exceptions.

use pyo3::prelude::*;

mod errors;
mod inputs;
mod reward;
mod sampler;
mod vote;
mod prompt;
mod decode;

#[pymodule]
#[pyo3(name = "_core")]
fn core_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    reward::register(m)?;
    sampler::register(m)?;
    vote::register(m)?;
    prompt::register(m)?;
    decode::register(m)?;
    Ok(())
}
