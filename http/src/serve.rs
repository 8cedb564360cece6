//! [`serve`]: a router on a listener, with a bound on connections and a grace
//! period at shutdown.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What [`serve`] allows.
#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    /// How long open requests may finish after shutdown is asked for, before
    /// the connections left are dropped (event streams never finish on their
    /// own; an `EventSource` reconnects and resumes with `Last-Event-ID`).
    /// Default 2 s.
    pub grace: Duration,
    /// The most connections open at once (default 16,384). At the limit, new
    /// connections wait in the operating system's backlog until one closes, so
    /// memory stays bounded however many clients connect and idle.
    pub max_connections: usize,
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits {
            grace: Duration::from_secs(2),
            max_connections: 16_384,
        }
    }
}

/// A listener that accepts only while it holds a permit for the connection.
struct Limited {
    inner: TcpListener,
    permits: Arc<Semaphore>,
}

/// A connection and the permit it holds until it closes.
struct Permitted {
    io: TcpStream,
    _permit: OwnedSemaphorePermit,
}

impl axum::serve::Listener for Limited {
    type Io = Permitted;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Permitted, std::net::SocketAddr) {
        // The semaphore is never closed, so acquiring fails only if it were.
        let permit = loop {
            if let Ok(p) = self.permits.clone().acquire_owned().await {
                break p;
            }
        };
        let (io, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        (
            Permitted {
                io,
                _permit: permit,
            },
            addr,
        )
    }

    fn local_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.inner.local_addr()
    }
}

impl AsyncRead for Permitted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Permitted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// A listener on `addr` with room for 4,096 connections not yet accepted
/// (the standard library's 128 overflows under a burst of connects, and each
/// connect refused then waits a second for its retry). Call it within a Tokio
/// runtime.
///
/// # Errors
///
/// The operating system's (the address is taken, not local, …).
pub fn bind(addr: std::net::SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(4096)
}

/// Serves `app` on `listener` until `shutdown` resolves, within `limits`.
///
/// # Errors
///
/// The listener's I/O errors.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    limits: ServeLimits,
) -> io::Result<()> {
    let listener = Limited {
        inner: listener,
        permits: Arc::new(Semaphore::new(limits.max_connections.max(1))),
    };
    let asked = Arc::new(tokio::sync::Notify::new());
    let tell = asked.clone();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown.await;
        tell.notify_one();
    });
    tokio::select! {
        r = server => r,
        () = async {
            asked.notified().await;
            tokio::time::sleep(limits.grace).await;
        } => Ok(()),
    }
}
