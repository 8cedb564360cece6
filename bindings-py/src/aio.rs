//! asyncio support: core wakers become `loop.call_soon_threadsafe` calls, made by
//! one binding thread so a waker never takes the GIL while the core may hold a
//! lock; and awaitables that are ready at once.

use std::sync::{Arc, Once, OnceLock};
use std::task::{Poll, Wake, Waker};

use parking_lot::{Condvar, Mutex};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::errors::stop_iteration;

/// One asyncio future to resolve when the core wakes a waiter.
struct PyWake {
    event_loop: Py<PyAny>,
    fut: Py<PyAny>,
}

impl Wake for PyWake {
    fn wake(self: Arc<Self>) {
        Wakeups::get().push(self);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        Wakeups::get().push(self.clone());
    }
}

/// Wake-ups waiting for the binding's thread.
struct Wakeups {
    queue: Mutex<Vec<Arc<PyWake>>>,
    ready: Condvar,
}

static WAKEUPS: OnceLock<Wakeups> = OnceLock::new();
static WAKER_THREAD: Once = Once::new();

impl Wakeups {
    fn get() -> &'static Wakeups {
        let w = WAKEUPS.get_or_init(|| Wakeups {
            queue: Mutex::new(Vec::new()),
            ready: Condvar::new(),
        });
        WAKER_THREAD.call_once(|| {
            std::thread::Builder::new()
                .name("ringlet-asyncio-waker".into())
                .spawn(move || run_wakeups(w))
                .expect("spawning the asyncio waker thread");
        });
        w
    }

    /// Takes no GIL and no core lock: safe from any thread, any context.
    fn push(&self, w: Arc<PyWake>) {
        let mut q = self.queue.lock();
        q.push(w);
        if q.len() == 1 {
            self.ready.notify_one();
        }
    }
}

static WAKE_FN: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The waker thread: resolves each woken future on its own event loop.
fn run_wakeups(w: &'static Wakeups) {
    loop {
        let batch = {
            let mut q = w.queue.lock();
            while q.is_empty() {
                w.ready.wait(&mut q);
            }
            std::mem::take(&mut *q)
        };
        // `None`: the interpreter is finalizing; nobody is waiting any more.
        let _ = Python::try_attach(|py| {
            let Ok(wake) = WAKE_FN.get_or_try_init(py, || {
                py.import("ringlet._aio")?
                    .getattr("_wake")
                    .map(Bound::unbind)
            }) else {
                return;
            };
            for pw in &batch {
                // A closed loop refuses: its waiters are gone.
                let _ = pw.event_loop.call_method1(
                    py,
                    "call_soon_threadsafe",
                    (wake, pw.fut.clone_ref(py)),
                );
            }
            drop(batch);
        });
    }
}

/// An operation in progress for an awaiting coroutine (see `ringlet._aio.drive`).
pub(crate) trait PendingOp: Send {
    /// Tries to complete; `Pending` registers `waker`.
    fn poll(&mut self, py: Python<'_>, waker: &Waker) -> Poll<PyResult<Py<PyAny>>>;
    /// Gives up (the coroutine was cancelled): removes registrations.
    fn cancel(&mut self, _py: Python<'_>) {}
}

/// An operation an `await` is waiting for, driven by `ringlet._aio.drive`.
#[pyclass(frozen, module = "ringlet")]
pub struct Pending {
    op: Mutex<Option<Box<dyn PendingOp>>>,
}

impl Pending {
    pub(crate) fn new(op: impl PendingOp + 'static) -> Self {
        Pending {
            op: Mutex::new(Some(Box::new(op))),
        }
    }
}

static DRIVE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static DRIVE_ANEXT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn drive_with(
    py: Python<'_>,
    cell: &PyOnceLock<Py<PyAny>>,
    name: &str,
    op: impl PendingOp + 'static,
) -> PyResult<Py<PyAny>> {
    let drive = cell.get_or_try_init(py, || {
        py.import("ringlet._aio")?.getattr(name).map(Bound::unbind)
    })?;
    let p = Py::new(py, Pending::new(op))?;
    drive.call1(py, (p,))
}

/// A coroutine that awaits `op`.
pub(crate) fn awaitable(py: Python<'_>, op: impl PendingOp + 'static) -> PyResult<Py<PyAny>> {
    drive_with(py, &DRIVE, "drive", op)
}

/// A coroutine that awaits `op` for `__anext__`: `Closed` ends the iteration.
pub(crate) fn awaitable_or_stop(
    py: Python<'_>,
    op: impl PendingOp + 'static,
) -> PyResult<Py<PyAny>> {
    drive_with(py, &DRIVE_ANEXT, "drive_anext", op)
}

#[pymethods]
impl Pending {
    /// Polls once: `(True, result)` when done; `(False, None)` when not, and then
    /// `fut` (of `event_loop`) is resolved when it is worth polling again.
    fn poll(
        &self,
        py: Python<'_>,
        event_loop: Py<PyAny>,
        fut: Py<PyAny>,
    ) -> PyResult<(bool, Py<PyAny>)> {
        let waker = Waker::from(Arc::new(PyWake { event_loop, fut }));
        let mut g = self
            .op
            .try_lock()
            .ok_or_else(|| PyRuntimeError::new_err("this operation is awaited twice at once"))?;
        let Some(op) = g.as_mut() else {
            return Err(PyRuntimeError::new_err("this operation is finished"));
        };
        match op.poll(py, &waker) {
            Poll::Ready(r) => {
                *g = None;
                r.map(|v| (true, v))
            }
            Poll::Pending => Ok((false, py.None())),
        }
    }

    /// Gives up a pending operation (nothing is lost: it took nothing yet).
    fn cancel(&self, py: Python<'_>) {
        let op = self.op.lock().take();
        if let Some(mut op) = op {
            op.cancel(py);
        }
    }

    fn __repr__(&self) -> &'static str {
        if self.op.lock().is_some() {
            "<ringlet pending operation>"
        } else {
            "<ringlet finished operation>"
        }
    }
}

/// An awaitable that is ready at once (the fast path of `__anext__`).
#[pyclass(frozen, module = "ringlet")]
pub struct Ready {
    value: Mutex<Option<Py<PyAny>>>,
}

impl Ready {
    pub(crate) fn wrap(py: Python<'_>, value: Py<PyAny>) -> PyResult<Py<PyAny>> {
        Ok(Py::new(
            py,
            Ready {
                value: Mutex::new(Some(value)),
            },
        )?
        .into_any())
    }
}

#[pymethods]
impl Ready {
    fn __await__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let v = self.value.lock().take().unwrap_or_else(|| py.None());
        Err(stop_iteration(v))
    }

    fn __repr__(&self) -> &'static str {
        "<ringlet ready result>"
    }
}
