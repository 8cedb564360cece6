//! `ringlet.http.serve`: a notebook's bus over HTTP (`ringlet-http`'s router)
//! on a background thread. Python values cross as JSON documents, text
//! (`str`) or bytes; the server's threads take the GIL only to convert them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use ringlet::options::{QueueOptions, TopicOptions};
use ringlet::{Bus, QueueConfig, TopicConfig};
use ringlet_http::{Create, Format, HttpConfig, HttpValue, Payload};

use crate::bus::BusPy;
use crate::convert::{self, Value};

/// Python values as HTTP payloads: `None` is no value, `str` is STRING,
/// `bytes` is BINARY, and JSON-shaped objects (dict, list, int, float, bool)
/// are JSON; a request's JSON becomes dicts and lists.
struct PyFormat;

impl Format<Value> for PyFormat {
    fn decode(&self, value: HttpValue) -> Result<Value, String> {
        Python::attach(|py| {
            let obj: Py<PyAny> = match value {
                None => py.None(),
                Some(Payload::String(s)) => PyString::new(py, &s).into_any().unbind(),
                Some(Payload::Binary(b)) => PyBytes::new(py, &b).into_any().unbind(),
                Some(Payload::Json(v)) => convert::json_to_py(py, &v).map_err(|e| e.to_string())?,
            };
            Ok(Value::new(obj.bind(py)))
        })
    }

    fn encode(&self, value: &Value) -> Result<HttpValue, String> {
        Python::attach(|py| {
            let obj = value.get(py);
            let obj = obj.bind(py);
            if obj.is_none() {
                return Ok(None);
            }
            if let Ok(s) = obj.cast_exact::<PyString>() {
                return Ok(Some(Payload::String(
                    s.to_cow().map_err(|e| e.to_string())?.into_owned(),
                )));
            }
            if let Ok(b) = obj.cast_exact::<PyBytes>() {
                return Ok(Some(Payload::Binary(b.as_bytes().to_vec())));
            }
            crate::codecs::to_json(obj, 0).map(|v| Some(Payload::Json(v)))
        })
    }
}

/// Topics and queues created over HTTP hold Python values, as if the
/// notebook had created them (`None` is a compacted topic's tombstone).
struct PyCreate;

impl Create for PyCreate {
    fn topic(
        &self,
        bus: &Bus,
        name: &str,
        c: TopicConfig,
        durable: bool,
    ) -> Result<(), ringlet::Error> {
        let options = TopicOptions {
            partitions: Some(c.partitions),
            capacity: Some(c.capacity),
            max_age: c.max_age,
            on_full: Some(c.on_full),
            compacted: Some(c.compacted),
            durable: Some(durable),
            ..Default::default()
        };
        bus.open_topic_with_codecs::<Value>(
            name,
            &options,
            |v| Python::attach(|py| v.is_none(py)),
            &crate::codecs::CODECS,
        )
        .map(drop)
    }

    fn queue(
        &self,
        bus: &Bus,
        name: &str,
        c: QueueConfig,
        durable: bool,
    ) -> Result<(), ringlet::Error> {
        let options = QueueOptions {
            capacity: Some(c.capacity),
            visibility_timeout: Some(c.visibility_timeout),
            max_deliveries: c.max_deliveries,
            dead_letter: c.dead_letter,
            durable: Some(durable),
            ..Default::default()
        };
        bus.open_queue_with_codecs::<Value>(name, &options, &crate::codecs::CODECS)
            .map(drop)
    }
}

/// How long `stop()` lets open requests finish (event streams are then cut).
const GRACE: std::time::Duration = std::time::Duration::from_millis(500);

/// A running server: `url`, and `stop()` (also on `with` exit).
#[pyclass(frozen, name = "HttpServer", module = "ringlet.http")]
pub struct HttpServerPy {
    url: String,
    running: parking_lot::Mutex<Option<(tokio::sync::oneshot::Sender<()>, JoinHandle<()>)>>,
}

impl HttpServerPy {
    fn stop_now(&self) {
        let running = self.running.lock().take();
        if let Some((stop, thread)) = running {
            let _ = stop.send(());
            let _ = thread.join();
        }
    }
}

#[pymethods]
impl HttpServerPy {
    /// The server's base URL, e.g. `http://127.0.0.1:8082`.
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    /// Whether it is serving.
    #[getter]
    fn running(&self) -> bool {
        self.running.lock().is_some()
    }

    /// Stops serving (open requests are finished first) and waits for the
    /// server's thread. Stopping twice does nothing.
    fn stop(&self, py: Python<'_>) {
        py.detach(|| self.stop_now());
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.stop(py);
        false
    }

    fn __repr__(&self) -> String {
        let state = if self.running() { "serving" } else { "stopped" };
        format!("<ringlet.http.HttpServer {} ({state})>", self.url)
    }
}

impl Drop for HttpServerPy {
    fn drop(&mut self) {
        // Without the GIL: the server's threads may be waiting for it.
        match Python::try_attach(|py| py.detach(|| self.stop_now())) {
            Some(()) => {}
            None => self.stop_now(),
        }
    }
}

/// Serves `bus` over HTTP on `host:port` (`port=0`: a free one) from a
/// background thread; returns once it is listening.
#[pyfunction]
#[pyo3(signature = (bus, *, host = "127.0.0.1", port = 8082, token = None, cors_origins = None, cluster_id = None))]
pub fn serve(
    py: Python<'_>,
    bus: &BusPy,
    host: &str,
    port: u16,
    token: Option<String>,
    cors_origins: Option<Vec<String>>,
    cluster_id: Option<String>,
) -> PyResult<HttpServerPy> {
    let ip: std::net::IpAddr = host.parse().map_err(|_| {
        PyValueError::new_err(format!(
            "host must be an IP address such as \"127.0.0.1\", not {host:?}"
        ))
    })?;
    let mut config = HttpConfig::default()
        .values::<Value>(PyFormat)
        .create_with(PyCreate);
    if let Some(t) = token {
        if t.is_empty() {
            return Err(PyValueError::new_err("token must not be empty"));
        }
        config = config.token(t);
    }
    for o in cors_origins.unwrap_or_default() {
        config = config.cors_origin(o);
    }
    if let Some(id) = cluster_id {
        config = config.cluster_id(id);
    }
    let app = ringlet_http::router(bus.bus.clone(), config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("ringlet-http")
        .enable_all()
        .build()
        .map_err(|e| PyOSError::new_err(format!("cannot start the server: {e}")))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let listener = {
        let _guard = runtime.enter();
        ringlet_http::bind(SocketAddr::new(ip, port))
            .map_err(|e| PyOSError::new_err(format!("cannot listen on {host}:{port}: {e}")))?
    };
    let addr = listener
        .local_addr()
        .map_err(|e| PyOSError::new_err(e.to_string()))?;
    let runtime = Arc::new(runtime);
    let thread = py.detach(|| {
        std::thread::Builder::new()
            .name("ringlet-http".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let stopped = async move {
                        let _ = stopped.await;
                    };
                    let limits = ringlet_http::ServeLimits {
                        grace: GRACE,
                        ..Default::default()
                    };
                    let _ = ringlet_http::serve(listener, app, stopped, limits).await;
                });
            })
    });
    let thread = thread.map_err(|e| PyOSError::new_err(format!("cannot start the server: {e}")))?;
    Ok(HttpServerPy {
        url: format!("http://{addr}"),
        running: parking_lot::Mutex::new(Some((stop, thread))),
    })
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<HttpServerPy>()?;
    m.add_function(wrap_pyfunction!(serve, m)?)?;
    Ok(())
}
