use pyo3::prelude::*;
#[pymodule]
fn _ringlet(_m: &Bound<'_, PyModule>) -> PyResult<()> { Ok(()) }
