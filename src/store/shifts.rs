//! Shifts, in `shiftid_shift`.

use super::records::{decode, encode};
use super::{Store, StoreError};
use crate::domain::shift::StoredShift;
use crate::domain::ShiftId;
use serde::{Deserialize, Serialize};

/// Versions of the shift record.
#[derive(Serialize, Deserialize)]
#[serde(tag = "v")]
enum ShiftRecord {
    #[serde(rename = "1")]
    V1(StoredShift),
}

impl From<ShiftRecord> for StoredShift {
    fn from(r: ShiftRecord) -> Self {
        match r {
            ShiftRecord::V1(s) => s,
        }
    }
}

impl Store {
    /// Every shift, oldest first.
    pub fn list_shifts(&self) -> Result<Vec<StoredShift>, StoreError> {
        self.trees
            .shiftid_shift
            .iter()
            .map(|kv| decode::<ShiftRecord, StoredShift>("shift", &kv?.1))
            .collect()
    }

    /// One shift.
    pub fn shift(&self, id: ShiftId) -> Result<Option<StoredShift>, StoreError> {
        self.trees
            .shiftid_shift
            .get(id.to_bytes())?
            .map(|b| decode::<ShiftRecord, StoredShift>("shift", &b))
            .transpose()
    }

    /// Adds or replaces a shift.
    pub fn put_shift(&self, s: &StoredShift) -> Result<(), StoreError> {
        let _w = self.gate.writing();
        self.room()?;
        self.trees
            .shiftid_shift
            .insert(s.id.to_bytes(), encode(&ShiftRecord::V1(s.clone())))?;
        Ok(())
    }

    /// Removes a shift; false when there was none.
    pub fn delete_shift(&self, id: ShiftId) -> Result<bool, StoreError> {
        let _w = self.gate.writing();
        Ok(self.trees.shiftid_shift.remove(id.to_bytes())?.is_some())
    }
}
