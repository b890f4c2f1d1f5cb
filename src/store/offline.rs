//! Offline messages, newest last in `offlineid_message` (ids are
//! time-ordered).

use super::records::{decode, encode};
use super::{Store, StoreError};
use crate::domain::offline::OfflineMessage;
use serde::{Deserialize, Serialize};

/// Versions of the offline message record.
#[derive(Serialize, Deserialize)]
#[serde(tag = "v")]
enum OfflineRecord {
    #[serde(rename = "1")]
    V1(OfflineMessage),
}

impl From<OfflineRecord> for OfflineMessage {
    fn from(r: OfflineRecord) -> Self {
        match r {
            OfflineRecord::V1(m) => m,
        }
    }
}

/// The stored form of an offline message.
pub(super) fn record(m: &OfflineMessage) -> Vec<u8> {
    encode(&OfflineRecord::V1(m.clone()))
}

impl Store {
    /// Every offline message that `keep` accepts, newest first (stored with
    /// their tickets by [`Store::insert_offline_message`]).
    pub fn offline_messages(
        &self,
        keep: impl Fn(&OfflineMessage) -> bool,
    ) -> Result<Vec<OfflineMessage>, StoreError> {
        let mut out = Vec::new();
        for kv in self.trees.offlineid_message.iter().rev() {
            let (_, v) = kv?;
            let m: OfflineMessage = decode::<OfflineRecord, _>("offline message", &v)?;
            if keep(&m) {
                out.push(m);
            }
        }
        Ok(out)
    }
}
