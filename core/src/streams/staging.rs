//! What one record stages on its way through the graph: table updates and outputs,
//! applied only once the whole graph has processed it.

use super::{BoxError, Cause, Failure, Interrupt};
use crate::record::Record;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Something applied when a record has gone through the whole graph (a table).
pub(crate) trait Staged: Send + Sync {
    /// Applies what was staged.
    fn commit(&self) -> Result<(), Cause>;
    /// Forgets what was staged.
    fn abort(&self);
}

type Output = Box<dyn FnOnce() -> Result<(), Cause> + Send>;

/// The record being processed: what it staged.
pub(crate) struct Staging {
    pub(super) node: usize,
    pub(super) staged: Vec<Arc<dyn Staged>>,
    pub(super) outputs: Vec<(usize, Output)>,
}

impl Staging {
    pub(super) fn new() -> Self {
        Staging {
            node: 0,
            staged: Vec::new(),
            outputs: Vec::new(),
        }
    }

    /// Calls `f` as node `node`, turning its error into a failure of that node.
    #[inline]
    pub(crate) fn call<R>(
        &mut self,
        node: usize,
        f: impl FnOnce() -> Result<R, BoxError>,
    ) -> Result<R, Failure> {
        self.node = node;
        f().map_err(|e| Failure {
            node,
            cause: match e.downcast::<Interrupt>() {
                Ok(i) => Cause::Interrupted(Arc::from(i.0)),
                Err(e) => Cause::Callback(Arc::from(e)),
            },
        })
    }

    pub(crate) fn fail(&self, node: usize, cause: Cause) -> Failure {
        Failure { node, cause }
    }

    /// Stages a table: it is committed or aborted with the record.
    pub(crate) fn stage(&mut self, s: Arc<dyn Staged>) {
        if !self.staged.iter().any(|x| Arc::ptr_eq(x, &s)) {
            self.staged.push(s);
        }
    }

    pub(super) fn finish(&mut self) -> Result<(), Failure> {
        let outputs = std::mem::take(&mut self.outputs);
        for (node, out) in outputs {
            if let Err(cause) = out() {
                self.abort();
                return Err(Failure { node, cause });
            }
        }
        let staged = std::mem::take(&mut self.staged);
        let mut first = None;
        for s in staged {
            if first.is_none() {
                if let Err(cause) = s.commit() {
                    first = Some(Failure {
                        node: self.node,
                        cause,
                    });
                }
            } else {
                s.abort();
            }
        }
        first.map_or(Ok(()), Err)
    }

    pub(super) fn abort(&mut self) {
        self.outputs.clear();
        for s in self.staged.drain(..) {
            s.abort();
        }
    }
}

type Operator<T> = Box<dyn FnMut(&mut Staging, &Record<T>) -> Result<(), Failure> + Send>;

/// The processors fed by one node.
pub(crate) struct Downstream<T>(Arc<DownstreamInner<T>>);

pub(crate) struct DownstreamInner<T> {
    pub(super) ops: Mutex<Vec<Operator<T>>>,
    /// Processors added while `ops` was in use (by a callback of this node's
    /// downstream, or another thread): they join before the next record.
    pub(super) late: Mutex<Vec<Operator<T>>>,
    pub(super) has_late: AtomicBool,
}

impl<T> Clone for Downstream<T> {
    fn clone(&self) -> Self {
        Downstream(self.0.clone())
    }
}

impl<T> Downstream<T> {
    pub(super) fn new() -> Self {
        Downstream(Arc::new(DownstreamInner {
            ops: Mutex::new(Vec::new()),
            late: Mutex::new(Vec::new()),
            has_late: AtomicBool::new(false),
        }))
    }

    pub(crate) fn add(&self, op: Operator<T>) {
        match self.0.ops.try_lock() {
            Some(mut ops) => ops.push(op),
            None => {
                self.0.late.lock().push(op);
                self.0.has_late.store(true, Ordering::Release);
            }
        }
    }

    /// Makes `down` fed with every record of this node.
    pub(crate) fn forward(&self, down: &Downstream<T>)
    where
        T: 'static,
    {
        let down = down.clone();
        self.add(Box::new(move |ctx, rec| down.emit(ctx, rec)));
    }

    /// Hands `rec` to every processor fed by this node.
    #[inline]
    pub(crate) fn emit(&self, ctx: &mut Staging, rec: &Record<T>) -> Result<(), Failure> {
        let mut ops = self.0.ops.lock();
        // A plain load first: the swap (a locked instruction) only when some are late.
        if self.0.has_late.load(Ordering::Acquire) && self.0.has_late.swap(false, Ordering::AcqRel)
        {
            ops.append(&mut self.0.late.lock());
        }
        for op in ops.iter_mut() {
            op(ctx, rec)?;
        }
        Ok(())
    }
}
