//! The change feed: committed change sets, numbered in store order and
//! released once durable, for the live feed's sessions (and, later, other
//! nodes and the history).
//!
//! A sequence number is reserved under the world lock (so sequence order =
//! the order batches reach the store) and the frame is released only once
//! its batch is durable, strictly in order ([`LiveFeed::committed`]).
//! Fan-out uses a bounded broadcast channel: a subscriber that falls behind
//! by more than its capacity learns it (`Lagged`) and starts over from a
//! snapshot; writers never wait. Numbers have no gaps: a failed write is
//! released as an empty frame.

use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use tokio::sync::broadcast;
use twinscape_protocol::live::DeltaOp;

/// Frames kept for subscribers that resume.
const HISTORY: usize = 10_000;
/// Frames a subscriber may fall behind before it is told it lagged.
const CHANNEL: usize = 8_192;

/// A released change set: its `Delta` message serialized once for every
/// subscriber (`text` is reference-counted, never copied), and its ops,
/// read back from the text once for all the subscribers that want them
/// (scoped sessions). Frames stay in the history and the broadcast ring
/// long after their write: they hold only the text until asked, so writers
/// do not pay for trees of JSON kept alive there.
#[derive(Debug)]
pub struct Frame {
    pub seq: u64,
    /// `{"type":"delta","seq":…,"ops":[…]}`
    pub text: Bytes,
    ops: std::sync::OnceLock<Vec<DeltaOp>>,
}

impl Frame {
    fn new(seq: u64, ops: &[DeltaOp]) -> Frame {
        Frame {
            seq,
            text: delta_text(seq, ops),
            ops: std::sync::OnceLock::new(),
        }
    }

    /// The frame's ops (parsed from its text at the first call).
    pub fn ops(&self) -> &[DeltaOp] {
        self.ops.get_or_init(|| {
            #[derive(serde::Deserialize)]
            struct Delta {
                ops: Vec<DeltaOp>,
            }
            serde_json::from_slice::<Delta>(&self.text)
                .map(|d| d.ops)
                .unwrap_or_default()
        })
    }
}

/// What subscribers of committed changes see. The in-process [`LiveFeed`]
/// is the one implementation today; a node of a scale-out deployment would
/// implement it over the shared store's change stream.
pub trait ChangeFeed: Send + Sync {
    /// Changes with each start of the feed: a `(epoch, seq)` pair names one
    /// point of one feed.
    fn epoch(&self) -> &str;
    /// The last sequence number reserved (read it under the world read
    /// lock: everything up to it is in the world that lock shows).
    fn last_seq(&self) -> u64;
    /// Frames released from now on.
    fn subscribe(&self) -> broadcast::Receiver<Arc<Frame>>;
    /// Released frames after `seq`, if the history still holds all of them.
    fn since(&self, seq: u64) -> Option<Vec<Arc<Frame>>>;
}

struct Inner {
    reserved: u64,
    released: u64,
    /// Reserved but not yet released: the frame once durable.
    pending: BTreeMap<u64, Option<Arc<Frame>>>,
    history: VecDeque<Arc<Frame>>,
}

pub struct LiveFeed {
    epoch: String,
    inner: Mutex<Inner>,
    tx: broadcast::Sender<Arc<Frame>>,
}

/// A frame reserved under the world lock, waiting for its batch to be durable.
pub struct Staged {
    seq: u64,
    frame: Arc<Frame>,
}

fn delta_text(seq: u64, ops: &[DeltaOp]) -> Bytes {
    #[derive(serde::Serialize)]
    #[serde(tag = "type", rename = "delta")]
    struct Delta<'a> {
        seq: u64,
        ops: &'a [DeltaOp],
    }
    Bytes::from(serde_json::to_vec(&Delta { seq, ops }).unwrap_or_default())
}

impl LiveFeed {
    pub fn new(epoch: String) -> LiveFeed {
        let (tx, _) = broadcast::channel(CHANNEL);
        LiveFeed {
            epoch,
            inner: Mutex::new(Inner {
                reserved: 0,
                released: 0,
                pending: BTreeMap::new(),
                history: VecDeque::new(),
            }),
            tx,
        }
    }

    /// Reserves the next sequence number for `ops` (`None`: nothing to
    /// publish). Call in store order: under the world write lock, before
    /// handing the batch to the store.
    pub fn stage(&self, ops: Vec<DeltaOp>) -> Option<Staged> {
        if ops.is_empty() {
            return None;
        }
        let mut inner = self.inner.lock();
        inner.reserved += 1;
        let seq = inner.reserved;
        inner.pending.insert(seq, None);
        drop(inner);
        Some(Staged {
            seq,
            frame: Arc::new(Frame::new(seq, &ops)),
        })
    }

    /// The staged frame's batch is durable (or failed: then it is released
    /// empty, keeping the sequence without gaps). Releases every frame that
    /// is now next in order.
    pub fn committed(&self, staged: Staged, ok: bool) {
        let frame = if ok {
            staged.frame
        } else {
            Arc::new(Frame::new(staged.seq, &[]))
        };
        let mut inner = self.inner.lock();
        inner.pending.insert(staged.seq, Some(frame));
        loop {
            let next = inner.released + 1;
            let Some(Some(frame)) = inner.pending.get(&next).cloned() else {
                break;
            };
            inner.pending.remove(&next);
            inner.released = next;
            inner.history.push_back(frame.clone());
            if inner.history.len() > HISTORY {
                inner.history.pop_front();
            }
            // No receivers is fine.
            let _ = self.tx.send(frame);
        }
    }
}

impl ChangeFeed for LiveFeed {
    fn epoch(&self) -> &str {
        &self.epoch
    }

    fn last_seq(&self) -> u64 {
        self.inner.lock().reserved
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<Frame>> {
        self.tx.subscribe()
    }

    fn since(&self, seq: u64) -> Option<Vec<Arc<Frame>>> {
        let inner = self.inner.lock();
        if seq > inner.released {
            return None;
        }
        let oldest = inner
            .history
            .front()
            .map(|f| f.seq)
            .unwrap_or(inner.released + 1);
        if seq + 1 < oldest {
            return None;
        }
        Some(
            inner
                .history
                .iter()
                .filter(|f| f.seq > seq)
                .cloned()
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use twinscape_protocol::live::ServerMessage;

    fn op(id: &str) -> Vec<DeltaOp> {
        vec![DeltaOp::DeleteTwin { id: id.into() }]
    }

    #[test]
    fn frames_are_released_in_sequence_order_whatever_the_commit_order() {
        let feed = LiveFeed::new("e".into());
        let mut rx = feed.subscribe();
        assert!(feed.stage(vec![]).is_none(), "nothing to publish");
        let (a, b, c) = (
            feed.stage(op("a")).unwrap(),
            feed.stage(op("b")).unwrap(),
            feed.stage(op("c")).unwrap(),
        );
        feed.committed(c, true);
        feed.committed(b, true);
        assert!(rx.try_recv().is_err(), "nothing before 1 is durable");
        feed.committed(a, true);
        let got: Vec<(u64, Vec<DeltaOp>)> = std::iter::from_fn(|| rx.try_recv().ok())
            .map(|f| (f.seq, f.ops().to_vec()))
            .collect();
        assert_eq!(got, [(1, op("a")), (2, op("b")), (3, op("c"))]);
        // The text is the protocol's Delta message.
        let f = feed.since(2).unwrap().pop().unwrap();
        let msg: ServerMessage = serde_json::from_slice(&f.text).unwrap();
        assert_eq!(
            msg,
            ServerMessage::Delta {
                seq: 3,
                ops: op("c")
            }
        );
        // A failed write keeps the sequence without a gap, as an empty delta.
        let d = feed.stage(op("d")).unwrap();
        feed.committed(d, false);
        let f = rx.try_recv().unwrap();
        assert_eq!(f.seq, 4);
        assert!(f.ops().is_empty());
        let msg: ServerMessage = serde_json::from_slice(&f.text).unwrap();
        assert_eq!(
            msg,
            ServerMessage::Delta {
                seq: 4,
                ops: vec![]
            }
        );
    }

    #[test]
    fn history_answers_resumes_until_it_is_too_old() {
        let feed = LiveFeed::new("e".into());
        for i in 0..(HISTORY + 5) {
            let s = feed.stage(op(&i.to_string())).unwrap();
            feed.committed(s, true);
        }
        let last = (HISTORY + 5) as u64;
        assert_eq!(feed.last_seq(), last);
        assert_eq!(feed.since(last).map(|v| v.len()), Some(0));
        assert_eq!(
            feed.since(last - 3)
                .map(|v| v.iter().map(|f| f.seq).collect::<Vec<_>>()),
            Some(vec![last - 2, last - 1, last])
        );
        assert!(
            feed.since(1).is_none(),
            "older than the history: a snapshot is needed"
        );
        assert!(
            feed.since(last + 1).is_none(),
            "ahead of the server: a snapshot is needed"
        );
    }
}
