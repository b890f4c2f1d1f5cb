//! Shifts, in `shiftid_shift`; groups' own hours and closed dates, in
//! `groupid_hours`.

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

/// Versions of a group's hours record.
#[derive(Serialize, Deserialize)]
#[serde(tag = "v")]
enum HoursRecord {
    #[serde(rename = "1")]
    V1(crate::domain::hours::GroupHours),
}

impl From<HoursRecord> for crate::domain::hours::GroupHours {
    fn from(r: HoursRecord) -> Self {
        match r {
            HoursRecord::V1(h) => h,
        }
    }
}

impl Store {
    /// Every group's own hours, by group.
    pub fn list_hours(
        &self,
    ) -> Result<Vec<(crate::domain::GroupId, crate::domain::hours::GroupHours)>, StoreError> {
        self.trees
            .groupid_hours
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                let id = super::keys::parse_group_id(&k)?;
                Ok((
                    id,
                    decode::<HoursRecord, crate::domain::hours::GroupHours>("hours", &v)?,
                ))
            })
            .collect()
    }

    /// A group's own hours (the default, always open, when none are set).
    pub fn hours(
        &self,
        group: crate::domain::GroupId,
    ) -> Result<crate::domain::hours::GroupHours, StoreError> {
        Ok(self
            .trees
            .groupid_hours
            .get(group.to_bytes())?
            .map(|b| decode::<HoursRecord, crate::domain::hours::GroupHours>("hours", &b))
            .transpose()?
            .unwrap_or_default())
    }

    /// Replaces a group's own hours.
    pub fn put_hours(
        &self,
        group: crate::domain::GroupId,
        h: &crate::domain::hours::GroupHours,
    ) -> Result<(), StoreError> {
        let _w = self.gate.writing();
        self.room()?;
        self.trees
            .groupid_hours
            .insert(group.to_bytes(), encode(&HoursRecord::V1(h.clone())))?;
        Ok(())
    }

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
