//! Bindings of the pair-preserving samplers' index generation (`crate::sampler`). The
//! sampler classes themselves live in python/patarm/sampling.py (torch's Sampler protocol,
//! optional torch generators and torch.distributed defaults are Python-side concerns).
//!
//! Every integer argument is read here by `inputs` (`int64`, `seed`, `epoch`): a bool, a
//! float or an out-of-range int is an error naming the argument. The sampler classes read
//! their settings with the same readers (`read_int64`, `read_seed`, `read_epoch`).

use numpy::PyArray1;
use pyo3::prelude::*;

use super::inputs::{self, Place};
use crate::sampler;

type Arg<'a, 'py> = &'a Bound<'py, PyAny>;

/// `num_samples`: None (one epoch of every pair) or a 64-bit int.
fn num_samples(obj: Option<Arg<'_, '_>>) -> PyResult<Option<i64>> {
    obj.filter(|o| !o.is_none())
        .map(|o| inputs::int64(o, "num_samples"))
        .transpose()
}

/// Row indices of one epoch's random pair order (pairs kept adjacent); empty below 2 rows.
#[pyfunction]
#[pyo3(signature = (num_rows, seed, epoch))]
fn pair_permutation<'py>(
    py: Python<'py>,
    num_rows: Arg<'_, 'py>,
    seed: Arg<'_, 'py>,
    epoch: Arg<'_, 'py>,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let num_rows = inputs::int64(num_rows, "num_rows")?;
    let (seed, epoch) = (inputs::seed(seed, "seed")?, inputs::epoch(epoch, "epoch")?);
    let rows = py.detach(|| sampler::pair_permutation(num_rows, seed, epoch))?;
    Ok(PyArray1::from_vec(py, rows))
}

/// Validates a PairRandomSampler request; returns the rows one epoch yields.
#[pyfunction]
#[pyo3(signature = (num_rows, num_samples = None))]
fn resolve_pair_num_samples(
    num_rows: Arg<'_, '_>,
    num_samples: Option<Arg<'_, '_>>,
) -> PyResult<u64> {
    let num_rows = inputs::int64(num_rows, "num_rows")?;
    Ok(sampler::resolve_num_samples(
        num_rows,
        self::num_samples(num_samples)?,
    )?)
}

/// Row indices of one epoch of PairRandomSampler.
#[pyfunction]
#[pyo3(signature = (num_rows, seed, epoch, num_samples = None, replacement = false))]
fn random_pair_indices<'py>(
    py: Python<'py>,
    num_rows: Arg<'_, 'py>,
    seed: Arg<'_, 'py>,
    epoch: Arg<'_, 'py>,
    num_samples: Option<Arg<'_, 'py>>,
    replacement: bool,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let num_rows = inputs::int64(num_rows, "num_rows")?;
    let (seed, epoch) = (inputs::seed(seed, "seed")?, inputs::epoch(epoch, "epoch")?);
    let num_samples = self::num_samples(num_samples)?;
    let rows =
        py.detach(|| sampler::random_pair_rows(num_rows, num_samples, replacement, seed, epoch))?;
    Ok(PyArray1::from_vec(py, rows))
}

/// Row indices of one rank for one epoch of DistributedPairSampler.
#[pyfunction]
#[pyo3(signature = (num_rows, num_replicas, rank, seed, epoch, shuffle = true, drop_last = false))]
#[allow(
    clippy::too_many_arguments,
    reason = "one parameter per Python argument of the signature above"
)]
fn distributed_pair_indices<'py>(
    py: Python<'py>,
    num_rows: Arg<'_, 'py>,
    num_replicas: Arg<'_, 'py>,
    rank: Arg<'_, 'py>,
    seed: Arg<'_, 'py>,
    epoch: Arg<'_, 'py>,
    shuffle: bool,
    drop_last: bool,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let num_rows = inputs::int64(num_rows, "num_rows")?;
    let num_replicas = inputs::int64(num_replicas, "num_replicas")?;
    let rank = inputs::int64(rank, "rank")?;
    let (seed, epoch) = (inputs::seed(seed, "seed")?, inputs::epoch(epoch, "epoch")?);
    let rows = py.detach(|| {
        sampler::distributed_pair_rows(
            num_rows,
            num_replicas,
            rank,
            shuffle,
            seed,
            epoch,
            drop_last,
        )
    })?;
    Ok(PyArray1::from_vec(py, rows))
}

/// Rows one rank yields per epoch (validates num_replicas and rank).
#[pyfunction]
#[pyo3(signature = (num_rows, num_replicas, rank, drop_last = false))]
fn distributed_pair_len(
    num_rows: Arg<'_, '_>,
    num_replicas: Arg<'_, '_>,
    rank: Arg<'_, '_>,
    drop_last: bool,
) -> PyResult<u64> {
    Ok(sampler::distributed_len(
        inputs::int64(num_rows, "num_rows")?,
        inputs::int64(num_replicas, "num_replicas")?,
        inputs::int64(rank, "rank")?,
        drop_last,
    )?)
}

/// The whole-pairs rule: raises ValueError unless `batch_size` is a positive multiple of
/// 2 x `repeats` (a block of rows, each repeated `repeats` times, then holds whole pairs).
#[pyfunction]
#[pyo3(signature = (batch_size, *, name = None, repeats = None))]
fn check_pair_batch_size(
    batch_size: Arg<'_, '_>,
    name: Option<Arg<'_, '_>>,
    repeats: Option<Arg<'_, '_>>,
) -> PyResult<()> {
    let name = match name {
        Some(name) => inputs::str_arg(name, Place::arg("name"), "a str (the setting's name)")?
            .to_owned_string()?,
        None => "batch_size".to_owned(),
    };
    let batch_size = inputs::int64(batch_size, &name)?;
    let repeats = repeats.map_or(Ok(1), |r| inputs::int64(r, "repeats"))?;
    Ok(sampler::check_pair_batch_size(batch_size, &name, repeats)?)
}

/// The samplers' 64-bit integer rule, for settings the sampler classes keep (see `inputs::int64`).
#[pyfunction]
#[pyo3(signature = (value, name))]
fn read_int64(value: Arg<'_, '_>, name: &str) -> PyResult<i64> {
    inputs::int64(value, name)
}

/// A seed as the samplers keep it: unsigned 64-bit (a negative seed is taken modulo 2**64).
#[pyfunction]
#[pyo3(signature = (value, name = "seed"))]
fn read_seed(value: Arg<'_, '_>, name: &str) -> PyResult<u64> {
    inputs::seed(value, name)
}

/// An epoch number (an int >= 0 that fits in 64 bits).
#[pyfunction]
#[pyo3(signature = (value, name = "epoch"))]
fn read_epoch(value: Arg<'_, '_>, name: &str) -> PyResult<u64> {
    inputs::epoch(value, name)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(pair_permutation, m)?)?;
    m.add_function(wrap_pyfunction!(resolve_pair_num_samples, m)?)?;
    m.add_function(wrap_pyfunction!(random_pair_indices, m)?)?;
    m.add_function(wrap_pyfunction!(distributed_pair_indices, m)?)?;
    m.add_function(wrap_pyfunction!(distributed_pair_len, m)?)?;
    m.add_function(wrap_pyfunction!(check_pair_batch_size, m)?)?;
    m.add_function(wrap_pyfunction!(read_int64, m)?)?;
    m.add_function(wrap_pyfunction!(read_seed, m)?)?;
    m.add_function(wrap_pyfunction!(read_epoch, m)?)?;
    Ok(())
}
