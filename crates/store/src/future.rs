use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::oneshot;

use crate::{CommitInfo, StoreError};

type Outcome = Result<CommitInfo, StoreError>;

/// Resolves when a committed batch is durable (or failed). Runtime agnostic:
/// it needs no particular executor. Dropping it does not cancel the commit.
#[must_use = "a commit is acknowledged only when its future resolves"]
pub struct CommitFuture {
    inner: Inner,
}

enum Inner {
    Waiting(oneshot::Receiver<Outcome>),
    Ready(Option<Outcome>),
    Boxed(Pin<Box<dyn Future<Output = Outcome> + Send>>),
}

impl CommitFuture {
    /// A future and the completer a backend resolves it with.
    pub fn channel() -> (CommitCompleter, CommitFuture) {
        let (tx, rx) = oneshot::channel();
        (
            CommitCompleter { tx },
            CommitFuture {
                inner: Inner::Waiting(rx),
            },
        )
    }

    /// A future that is already resolved.
    pub fn ready(outcome: Result<CommitInfo, StoreError>) -> Self {
        CommitFuture {
            inner: Inner::Ready(Some(outcome)),
        }
    }

    /// Wrap any future (for backends that are async themselves).
    pub fn from_future(
        fut: impl Future<Output = Result<CommitInfo, StoreError>> + Send + 'static,
    ) -> Self {
        CommitFuture {
            inner: Inner::Boxed(Box::pin(fut)),
        }
    }
}

impl Future for CommitFuture {
    type Output = Result<CommitInfo, StoreError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match &mut this.inner {
            Inner::Waiting(rx) => Pin::new(rx)
                .poll(cx)
                .map(|received| received.unwrap_or(Err(StoreError::Closed))),
            Inner::Ready(outcome) => Poll::Ready(outcome.take().unwrap_or(Err(StoreError::Closed))),
            Inner::Boxed(fut) => fut.as_mut().poll(cx),
        }
    }
}

impl std::fmt::Debug for CommitFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CommitFuture")
    }
}

/// The sending half of [`CommitFuture::channel`]. Dropping it without
/// completing resolves the future with [`StoreError::Closed`].
#[derive(Debug)]
pub struct CommitCompleter {
    tx: oneshot::Sender<Outcome>,
}

impl CommitCompleter {
    pub fn complete(self, outcome: Result<CommitInfo, StoreError>) {
        // The receiver may be gone (the caller dropped its future): fine.
        let _ = self.tx.send(outcome);
    }
}
