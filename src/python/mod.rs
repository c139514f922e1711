//! The only PyO3 code of the crate: one binding file per core concern (or per class), and
//! the shared pieces every binding goes through: `inputs/` reads every argument (with
//! `utf8.rs`, the bindings' only `unsafe`), `errors/` builds every exception.

use pyo3::prelude::*;

mod decode;
mod errors;
mod group_par;
mod inputs;
mod interrupt;
mod judgement;
mod pair;
mod parse;
mod prompt;
mod prompt_args;
mod repr;
mod rubrics;
mod sampler;
mod scores;
mod shapes;
mod template;
#[allow(unsafe_code)]
mod utf8;
mod vote;

#[pymodule]
#[pyo3(name = "_core")]
fn core_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    interrupt::load_numpy_api(m.py())?;
    inputs::prepare(m.py())?;
    // Before any thread calls patarm, so that a fork never copies a one-time initialisation
    // in progress (the child would wait on it forever).
    crate::parallel::warm_up();
    crate::rubrics::warm_up();
    crate::prompt::Template::warm_up();
    parse::register(m)?;
    shapes::register(m)?;
    pair::register(m)?;
    scores::register(m)?;
    sampler::register(m)?;
    vote::register(m)?;
    rubrics::register(m)?;
    template::register(m)?;
    prompt::register(m)?;
    decode::register(m)?;
    group_par::register(m)?;
    Ok(())
}
