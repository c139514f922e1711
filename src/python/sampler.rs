//! Bindings of the pair-preserving samplers' index generation (`crate::sampler`). The
//! sampler classes themselves live in python/patarm/sampling.py (torch's Sampler protocol,
//! optional torch generators and torch.distributed defaults are Python-side concerns).

use numpy::PyArray1;
use pyo3::prelude::*;

use crate::sampler;

/// Row indices of one epoch's random pair order (pairs kept adjacent); empty below 2 rows.
#[pyfunction]
#[pyo3(signature = (num_rows, seed, epoch = 0))]
fn pair_permutation(
    py: Python<'_>,
    num_rows: i64,
    seed: u64,
    epoch: u64,
) -> PyResult<Bound<'_, PyArray1<i64>>> {
    let rows = py.detach(|| sampler::pair_permutation(num_rows, seed, epoch))?;
    Ok(PyArray1::from_vec(py, rows))
}

/// Validates a PairRandomSampler request; returns the rows one epoch yields.
#[pyfunction]
#[pyo3(signature = (num_rows, num_samples = None))]
fn resolve_pair_num_samples(num_rows: i64, num_samples: Option<i64>) -> PyResult<u64> {
    Ok(sampler::resolve_num_samples(num_rows, num_samples)?)
}

/// Row indices of one epoch of PairRandomSampler.
#[pyfunction]
#[pyo3(signature = (num_rows, seed, epoch, num_samples = None, replacement = false))]
fn random_pair_indices(
    py: Python<'_>,
    num_rows: i64,
    seed: u64,
    epoch: u64,
    num_samples: Option<i64>,
    replacement: bool,
) -> PyResult<Bound<'_, PyArray1<i64>>> {
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
fn distributed_pair_indices(
    py: Python<'_>,
    num_rows: i64,
    num_replicas: i64,
    rank: i64,
    seed: u64,
    epoch: u64,
    shuffle: bool,
    drop_last: bool,
) -> PyResult<Bound<'_, PyArray1<i64>>> {
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
    num_rows: i64,
    num_replicas: i64,
    rank: i64,
    drop_last: bool,
) -> PyResult<u64> {
    Ok(sampler::distributed_len(
        num_rows,
        num_replicas,
        rank,
        drop_last,
    )?)
}

/// Raises ValueError unless `batch_size` is a positive even number (pairs stay whole).
#[pyfunction]
#[pyo3(signature = (batch_size, *, name = "batch_size"))]
fn check_pair_batch_size(batch_size: i64, name: &str) -> PyResult<()> {
    Ok(sampler::check_pair_batch_size(batch_size, name)?)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(pair_permutation, m)?)?;
    m.add_function(wrap_pyfunction!(resolve_pair_num_samples, m)?)?;
    m.add_function(wrap_pyfunction!(random_pair_indices, m)?)?;
    m.add_function(wrap_pyfunction!(distributed_pair_indices, m)?)?;
    m.add_function(wrap_pyfunction!(distributed_pair_len, m)?)?;
    m.add_function(wrap_pyfunction!(check_pair_batch_size, m)?)?;
    Ok(())
}
