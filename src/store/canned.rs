//! Canned responses, in `cannedid_canned` (few: read whole). A shortcut is
//! unique per scope (shared, or one person's), checked under the admin
//! lock with the write.

use super::records::{decode, encode};
use super::{Store, StoreError};
use crate::domain::canned::{self, Canned};
use crate::domain::CannedId;
use serde::{Deserialize, Serialize};

/// Versions of the canned response record.
#[derive(Serialize, Deserialize)]
#[serde(tag = "v")]
enum CannedRecord {
    #[serde(rename = "1")]
    V1(Canned),
}

impl From<CannedRecord> for Canned {
    fn from(r: CannedRecord) -> Self {
        match r {
            CannedRecord::V1(c) => c,
        }
    }
}

/// Why a canned response was not stored.
#[derive(Debug, PartialEq, Eq)]
pub enum CannedRefused {
    /// Another response of the same scope has this shortcut.
    ShortcutTaken,
    /// The scope holds the most it may.
    TooMany(usize),
}

impl Store {
    /// Every canned response.
    pub fn all_canned(&self) -> Result<Vec<Canned>, StoreError> {
        self.trees
            .cannedid_canned
            .iter()
            .map(|kv| decode::<CannedRecord, Canned>("canned response", &kv?.1))
            .collect()
    }

    /// One canned response.
    pub fn canned(&self, id: CannedId) -> Result<Option<Canned>, StoreError> {
        self.trees
            .cannedid_canned
            .get(id.to_bytes())?
            .map(|b| decode::<CannedRecord, Canned>("canned response", &b))
            .transpose()
    }

    /// Adds or replaces a canned response, unless its shortcut is taken in
    /// its scope or a new one would pass the scope's limit.
    pub fn put_canned(&self, c: &Canned) -> Result<Result<(), CannedRefused>, StoreError> {
        let _a = self.admin_guard();
        let _w = self.gate.writing();
        self.room()?;
        let all = self.all_canned()?;
        if all.iter().any(|o| canned::clash(o, c)) {
            return Ok(Err(CannedRefused::ShortcutTaken));
        }
        if !all.iter().any(|o| o.id == c.id) {
            let max = if c.owner.is_some() {
                canned::MAX_PERSONAL
            } else {
                canned::MAX_SHARED
            };
            if all.iter().filter(|o| o.owner == c.owner).count() >= max {
                return Ok(Err(CannedRefused::TooMany(max)));
            }
        }
        self.trees
            .cannedid_canned
            .insert(c.id.to_bytes(), encode(&CannedRecord::V1(c.clone())))?;
        Ok(Ok(()))
    }

    /// Removes a canned response; false when there was none.
    pub fn delete_canned(&self, id: CannedId) -> Result<bool, StoreError> {
        let _w = self.gate.writing();
        Ok(self.trees.cannedid_canned.remove(id.to_bytes())?.is_some())
    }
}
