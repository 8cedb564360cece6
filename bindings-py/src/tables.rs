//! Tables kept by aggregations: `Table` and `WindowedTable`.

#![allow(clippy::result_large_err)]

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use ringlet::streams::{Table, Windowed, WindowedTable};
use ringlet::Key;

use crate::convert::{self, Value};

use crate::streams::{int, StreamPy};

/// A table of Python values (`reduce`, `aggregate`) or of counts (`count`).
pub(crate) enum Held<V, C> {
    Values(V),
    Counts(C),
}

pub(crate) type TableOf = Held<Table<Value>, Table<u64>>;
pub(crate) type WindowedTableOf = Held<WindowedTable<Value>, WindowedTable<u64>>;

/// `$e` with `$t` bound to the table, whichever kind it is.
macro_rules! with_table {
    ($kind:expr, $t:ident => $e:expr) => {
        match $kind {
            Held::Values($t) => $e,
            Held::Counts($t) => $e,
        }
    };
}

/// A table kept by an aggregation: `table[key]`, `table.get(key)`, `len`, `in`,
/// `items()`; queryable while the topology updates it.
#[pyclass(frozen, module = "ringlet", name = "Table")]
pub struct TablePy {
    pub(crate) table: TableOf,
}

pub(crate) fn py_key(py: Python<'_>, k: &Key) -> Py<PyAny> {
    convert::key_to_py(py, k)
}

#[pymethods]
impl TablePy {
    /// The table's (store's) name.
    #[getter]
    fn name(&self) -> String {
        with_table!(&self.table, t => t.name().to_string())
    }

    /// The value for `key` (`str` or `bytes`), or `default`.
    #[pyo3(signature = (key, default = None))]
    fn get(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        default: Option<Py<PyAny>>,
    ) -> PyResult<Option<Py<PyAny>>> {
        let k = convert::key(key)?;
        Ok(match &self.table {
            Held::Values(t) => t.get(k).map(|v| v.get(py)),
            Held::Counts(t) => t.get(k).map(|n| int(py, n)),
        }
        .or(default))
    }

    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.get(py, key, None)?
            .ok_or_else(|| pyo3::exceptions::PyKeyError::new_err(key.clone().unbind()))
    }

    fn __contains__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.get(py, key, None)?.is_some())
    }

    fn __len__(&self) -> usize {
        with_table!(&self.table, t => t.len())
    }

    /// `(key, value)` pairs, by key.
    fn items(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        let items: Vec<Py<PyAny>> = match &self.table {
            Held::Values(t) => t
                .entries()
                .iter()
                .map(|(k, v)| {
                    PyTuple::new(py, [py_key(py, k), v.get(py)]).map(|t| t.into_any().unbind())
                })
                .collect::<PyResult<_>>()?,
            Held::Counts(t) => t
                .entries()
                .iter()
                .map(|(k, v)| {
                    PyTuple::new(py, [py_key(py, k), int(py, *v)]).map(|t| t.into_any().unbind())
                })
                .collect::<PyResult<_>>()?,
        };
        Ok(PyList::new(py, items)?.unbind())
    }

    /// The table as a dict.
    fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyDict>> {
        let d = PyDict::new(py);
        for item in self.items(py)?.bind(py).iter() {
            let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
            d.set_item(k, v)?;
        }
        Ok(d.unbind())
    }

    /// The stream of the table's updates.
    fn to_stream(&self) -> StreamPy {
        StreamPy::new(match &self.table {
            Held::Values(t) => t.to_stream(),
            Held::Counts(t) => t
                .to_stream()
                .map(|r| Python::attach(|py| Value::new(int(py, r.value).bind(py)))),
        })
    }

    /// The name of the compacted changelog topic.
    #[getter]
    fn changelog(&self) -> String {
        with_table!(&self.table, t => t.changelog().name().to_string())
    }

    fn __repr__(&self) -> String {
        format!("Table({:?}, {} keys)", self.name(), self.__len__())
    }

    fn _repr_html_(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let d = self.to_dict(py)?;
        crate::display(py, "table_html", (self.name(), d))
    }
}

/// A table of windowed aggregates: `get(key, start)`, `fetch(key)`, `items()`.
#[pyclass(frozen, module = "ringlet", name = "WindowedTable")]
pub struct WindowedTablePy {
    pub(crate) table: WindowedTableOf,
}

pub(crate) fn windowed_items<V>(
    py: Python<'_>,
    t: &WindowedTable<V>,
    conv: impl Fn(&V) -> Py<PyAny>,
) -> PyResult<Py<PyList>>
where
    V: Clone + Send + Sync + 'static,
{
    let items = t
        .entries()
        .iter()
        .map(|(k, w, v)| {
            let t = PyTuple::new(
                py,
                [
                    py_key(py, k),
                    w.start.into_pyobject(py)?.into_any().unbind(),
                    w.end.into_pyobject(py)?.into_any().unbind(),
                    conv(v),
                ],
            )?;
            Ok(t.into_any().unbind())
        })
        .collect::<PyResult<Vec<_>>>()?;
    Ok(PyList::new(py, items)?.unbind())
}

#[pymethods]
impl WindowedTablePy {
    /// The value for `key` in the window starting at `start` (ms), or `None`.
    fn get(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        start: &Bound<'_, PyAny>,
    ) -> PyResult<Option<Py<PyAny>>> {
        let k = convert::key(key)?;
        let start = convert::timestamp_ms(start, "start")?;
        Ok(match &self.table {
            Held::Values(t) => t.get(k, start).map(|v| v.get(py)),
            Held::Counts(t) => t.get(k, start).map(|n| int(py, n)),
        })
    }

    /// `key`'s windows: `(start, end, value)` tuples, oldest first.
    fn fetch(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyList>> {
        let k = convert::key(key)?;
        fn rows<V: Clone + Send + Sync + 'static>(
            py: Python<'_>,
            t: &WindowedTable<V>,
            k: Key,
            conv: impl Fn(V) -> Py<PyAny>,
        ) -> PyResult<Vec<Py<PyAny>>> {
            t.fetch(k)
                .into_iter()
                .map(|(w, v)| {
                    (w.start, w.end, conv(v))
                        .into_pyobject(py)
                        .map(|o| o.into_any().unbind())
                })
                .collect()
        }
        let rows = match &self.table {
            Held::Values(t) => rows(py, t, k, |v| v.get(py))?,
            Held::Counts(t) => rows(py, t, k, |n| int(py, n))?,
        };
        Ok(PyList::new(py, rows)?.unbind())
    }

    /// `(key, start, end, value)` tuples, by key then start.
    fn items(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        match &self.table {
            Held::Values(t) => windowed_items(py, t, |v| v.get(py)),
            Held::Counts(t) => windowed_items(py, t, |n| int(py, *n)),
        }
    }

    /// (Record, window) pairs dropped as late.
    #[getter]
    fn dropped_late(&self) -> u64 {
        with_table!(&self.table, t => t.dropped_late())
    }

    /// The largest record timestamp seen (ms), or `None`.
    #[getter]
    fn stream_time(&self) -> Option<i64> {
        with_table!(&self.table, t => t.stream_time())
    }

    fn __len__(&self) -> usize {
        with_table!(&self.table, t => t.len())
    }

    /// The stream of updates; each value is a dict `{"start", "end", "value"}`.
    fn to_stream(&self) -> StreamPy {
        fn dict<V>(w: &Windowed<V>, v: impl FnOnce(Python<'_>) -> Py<PyAny>) -> Value {
            Python::attach(|py| {
                let d = PyDict::new(py);
                let _ = d.set_item("start", w.window.start);
                let _ = d.set_item("end", w.window.end);
                let _ = d.set_item("value", v(py));
                Value::new(d.as_any())
            })
        }
        StreamPy::new(match &self.table {
            Held::Values(t) => t
                .to_stream()
                .map(|r| dict(&r.value, |py| r.value.value.get(py))),
            Held::Counts(t) => t.to_stream().map(|r| {
                let n = r.value.value;
                dict(&r.value, move |py| int(py, n))
            }),
        })
    }

    fn __repr__(&self) -> String {
        let name = with_table!(&self.table, t => t.name().to_string());
        format!("WindowedTable({name:?}, {} windows)", self.__len__())
    }
}
