//! What was created over HTTP on a durable bus, kept in
//! `<dir>/ringlet-http.json` so that the next server reopens it (the store
//! keeps the records; this file keeps the configurations).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use ringlet::{QueueConfig, TopicConfig};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// The file's name in the data directory.
pub(crate) const FILE: &str = "ringlet-http.json";

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(crate) struct Manifest {
    #[serde(default)]
    pub topics: BTreeMap<String, TopicConfig>,
    #[serde(default)]
    pub queues: BTreeMap<String, QueueConfig>,
}

/// The manifest and where it lives.
#[derive(Debug)]
pub(crate) struct Kept {
    path: PathBuf,
    pub current: parking_lot::Mutex<Manifest>,
}

impl Kept {
    /// Reads `<dir>/ringlet-http.json` (none yet: empty).
    pub fn open(dir: &Path) -> Result<Kept, String> {
        let path = dir.join(FILE);
        let current = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| format!("{} is damaged: {e}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Manifest::default(),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        Ok(Kept {
            path,
            current: parking_lot::Mutex::new(current),
        })
    }

    /// Changes the manifest and writes it whole (a temporary file renamed
    /// over the old one, synced): a crash leaves the old or the new one.
    pub fn update(&self, change: impl FnOnce(&mut Manifest)) -> Result<(), ApiError> {
        let mut m = self.current.lock();
        let mut next = m.clone();
        change(&mut next);
        self.write(&next).map_err(|e| {
            ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                50300,
                "Io",
                format!("cannot record the change in {}: {e}", self.path.display()),
            )
        })?;
        *m = next;
        Ok(())
    }

    fn write(&self, m: &Manifest) -> std::io::Result<()> {
        let tmp = self.path.with_extension("json.tmp");
        let bytes = serde_json::to_vec_pretty(m).map_err(std::io::Error::other)?;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}
