//! Desk-wide settings kept in `meta`: the wrap-up reasons list and an
//! admin's masking switch.

use super::records::{decode, encode};
use super::{Store, StoreError};
use serde::{Deserialize, Serialize};

const WRAP_UP_KEY: &[u8] = b"wrap_up_reasons";
const MASK_KEY: &[u8] = b"mask_pii";
const TICKET_REASONS_KEY: &[u8] = b"ticket_reasons";

/// Versions of the wrap-up reasons record.
#[derive(Serialize, Deserialize)]
#[serde(tag = "v")]
enum WrapUpRecord {
    #[serde(rename = "1")]
    V1 { reasons: Vec<String> },
}

impl From<WrapUpRecord> for Vec<String> {
    fn from(r: WrapUpRecord) -> Self {
        match r {
            WrapUpRecord::V1 { reasons } => reasons,
        }
    }
}

/// The reasons a new desk starts with.
pub const DEFAULT_WRAP_UP_REASONS: &[&str] = &[
    "Resolved",
    "Follow-up needed",
    "Sale",
    "Transferred",
    "No response",
    "Other",
];

/// The wrap-up reasons that make a ticket on a new desk.
pub const DEFAULT_TICKET_REASONS: &[&str] = &["Follow-up needed"];

impl Store {
    /// The wrap-up reasons whose chats become tickets.
    pub fn ticket_reasons(&self) -> Result<Vec<String>, StoreError> {
        match self.trees.meta.get(TICKET_REASONS_KEY)? {
            None => Ok(DEFAULT_TICKET_REASONS
                .iter()
                .map(|s| s.to_string())
                .collect()),
            Some(b) => decode::<WrapUpRecord, Vec<String>>("ticket reasons", &b),
        }
    }

    /// Replaces the wrap-up reasons and those of them that make tickets,
    /// together.
    pub fn set_wrap_up_reasons_and_tickets(
        &self,
        reasons: &[String],
        tickets: &[String],
    ) -> Result<(), StoreError> {
        let _w = self.gate.writing();
        self.room()?;
        let all = WrapUpRecord::V1 {
            reasons: reasons.to_vec(),
        };
        let some = WrapUpRecord::V1 {
            reasons: tickets.to_vec(),
        };
        let t = &self.trees.meta;
        let mut batch = crate::store::kv::Batch::default();
        batch.insert(WRAP_UP_KEY, encode(&all));
        batch.insert(TICKET_REASONS_KEY, encode(&some));
        t.apply_batch(batch)?;
        Ok(())
    }

    /// The wrap-up reasons agents choose from.
    pub fn wrap_up_reasons(&self) -> Result<Vec<String>, StoreError> {
        match self.trees.meta.get(WRAP_UP_KEY)? {
            None => Ok(DEFAULT_WRAP_UP_REASONS
                .iter()
                .map(|s| s.to_string())
                .collect()),
            Some(b) => decode::<WrapUpRecord, Vec<String>>("wrap-up reasons", &b),
        }
    }

    /// Replaces the wrap-up reasons.
    pub fn set_wrap_up_reasons(&self, reasons: &[String]) -> Result<(), StoreError> {
        let _w = self.gate.writing();
        self.room()?;
        let record = WrapUpRecord::V1 {
            reasons: reasons.to_vec(),
        };
        self.trees.meta.insert(WRAP_UP_KEY, encode(&record))?;
        Ok(())
    }

    /// Masking as an admin last switched it (None: never; the config rules).
    pub fn mask_setting(&self) -> Result<Option<bool>, StoreError> {
        Ok(self
            .trees
            .meta
            .get(MASK_KEY)?
            .map(|b| b.first() == Some(&1)))
    }

    /// Keeps an admin's masking choice.
    pub fn set_mask_setting(&self, on: bool) -> Result<(), StoreError> {
        let _w = self.gate.writing();
        self.room()?;
        self.trees.meta.insert(MASK_KEY, &[u8::from(on)][..])?;
        Ok(())
    }
}
