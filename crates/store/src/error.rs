use std::path::PathBuf;
use std::sync::Arc;

use crate::Table;

type Source = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// Everything the store can fail with. `Clone`, because one failed group
/// commit reports the same error to every batch in it.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Another process (or another handle in this one) has the data dir open.
    #[error(
        "the data directory {} is already in use: another Twinscape server (or another store handle) holds the lock on {}",
        dir.display(),
        file.display()
    )]
    Locked { dir: PathBuf, file: PathBuf },

    #[error("cannot create the data directory {}: {source}", dir.display())]
    CreateDir {
        dir: PathBuf,
        #[source]
        source: Arc<std::io::Error>,
    },

    #[error("cannot open the store {}: {source}", file.display())]
    Open {
        file: PathBuf,
        #[source]
        source: Source,
    },

    /// The file was written by a newer (or unknown) store format.
    #[error("the store {} has format version {found}; this build reads version {supported}", file.display())]
    UnsupportedFormat {
        file: PathBuf,
        found: u64,
        supported: u64,
    },

    #[error("invalid batch: empty key in table {table}")]
    EmptyKey { table: Table },

    #[error("invalid batch: key of {len} bytes in table {table} exceeds the limit of {max}")]
    KeyTooLong {
        table: Table,
        len: usize,
        max: usize,
    },

    #[error("invalid batch: value of {len} bytes exceeds the limit of {max}")]
    ValueTooLarge { len: usize, max: usize },

    #[error("invalid batch: {len} bytes in all exceeds the limit of {max} for one batch")]
    BatchTooLarge { len: usize, max: usize },

    /// The backend failed while reading or writing.
    #[error("storage error while {context}: {source}")]
    Backend {
        context: &'static str,
        #[source]
        source: Source,
    },

    /// A stored record could not be decoded.
    #[error("corrupt store: {0}")]
    Corrupt(String),

    /// The store is shut down (or its writer died); nothing was written.
    #[error("the store is closed")]
    Closed,
}

impl StoreError {
    pub(crate) fn backend(
        context: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        StoreError::Backend {
            context,
            source: Arc::new(source),
        }
    }

    /// Whether the error is about the batch itself (nothing was tried), as
    /// opposed to the storage failing.
    pub fn is_invalid_batch(&self) -> bool {
        matches!(
            self,
            StoreError::EmptyKey { .. }
                | StoreError::KeyTooLong { .. }
                | StoreError::ValueTooLarge { .. }
                | StoreError::BatchTooLarge { .. }
        )
    }
}
