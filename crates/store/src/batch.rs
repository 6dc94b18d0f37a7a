use crate::{StoreError, Table};

/// What a batch may hold; a batch over a limit is rejected whole before
/// anything is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest key accepted, in bytes (keys must not be empty either).
    pub max_key_len: usize,
    /// Largest value (or log payload) accepted, in bytes.
    pub max_value_len: usize,
    /// Largest batch accepted (keys and values together), in bytes.
    pub max_batch_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_key_len: 4096,
            max_value_len: 64 * 1024 * 1024,
            max_batch_bytes: 512 * 1024 * 1024,
        }
    }
}

fn check_key(table: Table, key: &str, max: usize) -> Result<(), StoreError> {
    if key.is_empty() {
        return Err(StoreError::EmptyKey { table });
    }
    if key.len() > max {
        return Err(StoreError::KeyTooLong {
            table,
            len: key.len(),
            max,
        });
    }
    Ok(())
}

/// One operation of a [`WriteBatch`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Insert or replace `key` in `table`.
    Put {
        table: Table,
        key: String,
        value: Vec<u8>,
    },
    /// Remove `key` from `table` (no error if it is absent).
    Delete { table: Table, key: String },
    /// Append `payload` to the log; the store assigns its sequence number.
    AppendLog { payload: Vec<u8> },
    /// Remove every log entry with `seq <= up_to_seq`.
    TruncateLog { up_to_seq: u64 },
}

impl Op {
    /// Bytes of keys and values this op carries (for group sizing).
    pub fn payload_len(&self) -> usize {
        match self {
            Op::Put { key, value, .. } => key.len() + value.len(),
            Op::Delete { key, .. } => key.len(),
            Op::AppendLog { payload } => payload.len(),
            Op::TruncateLog { .. } => 8,
        }
    }
}

/// Operations applied atomically and in order: after a crash either all of a
/// batch is there or none of it. A later op on the same key wins.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteBatch {
    ops: Vec<Op>,
}

impl WriteBatch {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(ops: usize) -> Self {
        Self {
            ops: Vec::with_capacity(ops),
        }
    }

    /// Insert or replace `key` in `table`.
    pub fn put(
        &mut self,
        table: Table,
        key: impl Into<String>,
        value: impl Into<Vec<u8>>,
    ) -> &mut Self {
        self.ops.push(Op::Put {
            table,
            key: key.into(),
            value: value.into(),
        });
        self
    }

    /// Remove `key` from `table`.
    pub fn delete(&mut self, table: Table, key: impl Into<String>) -> &mut Self {
        self.ops.push(Op::Delete {
            table,
            key: key.into(),
        });
        self
    }

    /// Append an entry to the log; its sequence number is reported in
    /// [`CommitInfo::log_seqs`](crate::CommitInfo::log_seqs).
    pub fn append_log(&mut self, payload: impl Into<Vec<u8>>) -> &mut Self {
        self.ops.push(Op::AppendLog {
            payload: payload.into(),
        });
        self
    }

    /// Remove every log entry with `seq <= up_to_seq`.
    pub fn truncate_log(&mut self, up_to_seq: u64) -> &mut Self {
        self.ops.push(Op::TruncateLog { up_to_seq });
        self
    }

    pub fn push(&mut self, op: Op) -> &mut Self {
        self.ops.push(op);
        self
    }

    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    pub fn into_ops(self) -> Vec<Op> {
        self.ops
    }

    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Number of log appends in the batch.
    pub fn log_appends(&self) -> u64 {
        self.ops
            .iter()
            .filter(|op| matches!(op, Op::AppendLog { .. }))
            .count() as u64
    }

    /// Bytes of keys and values the batch carries.
    pub fn payload_len(&self) -> usize {
        self.ops.iter().map(Op::payload_len).sum()
    }

    /// Check the batch against `limits`; returns its payload size. Every
    /// backend calls this before writing anything.
    pub fn validate(&self, limits: &Limits) -> Result<usize, StoreError> {
        let mut total = 0usize;
        for op in &self.ops {
            match op {
                Op::Put { table, key, value } => {
                    check_key(*table, key, limits.max_key_len)?;
                    if value.len() > limits.max_value_len {
                        return Err(StoreError::ValueTooLarge {
                            len: value.len(),
                            max: limits.max_value_len,
                        });
                    }
                }
                Op::Delete { table, key } => check_key(*table, key, limits.max_key_len)?,
                Op::AppendLog { payload } => {
                    if payload.len() > limits.max_value_len {
                        return Err(StoreError::ValueTooLarge {
                            len: payload.len(),
                            max: limits.max_value_len,
                        });
                    }
                }
                Op::TruncateLog { .. } => {}
            }
            total = total.saturating_add(op.payload_len());
        }
        if total > limits.max_batch_bytes {
            return Err(StoreError::BatchTooLarge {
                len: total,
                max: limits.max_batch_bytes,
            });
        }
        Ok(total)
    }
}

impl From<Vec<Op>> for WriteBatch {
    fn from(ops: Vec<Op>) -> Self {
        Self { ops }
    }
}
