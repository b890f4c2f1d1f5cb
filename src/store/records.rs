//! Stored records, apart from the domain types and versioned: each is an
//! enum of versions, upgraded to the newest on read, so old data keeps
//! opening. New fields get `#[serde(default)]`. Encoded as JSON.

use super::StoreError;
use crate::domain::chat::{Chat, Message};
use crate::domain::{Group, Millis, Staff, StaffId};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// A staff member as stored: the domain record plus secrets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffRow {
    /// The public part.
    pub staff: Staff,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Sessions carry the epoch they were made in; bumping it (password
    /// change, disable) ends every older session at once.
    pub session_epoch: u64,
}

/// Versions of the staff record.
#[derive(Serialize, Deserialize)]
#[serde(tag = "v")]
pub enum StaffRecord {
    /// Version 1.
    #[serde(rename = "1")]
    V1(StaffRow),
}

/// Versions of the group record.
#[derive(Serialize, Deserialize)]
#[serde(tag = "v")]
pub enum GroupRecord {
    /// Version 1.
    #[serde(rename = "1")]
    V1(Group),
}

/// A staff session as stored (keyed by the token's hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRow {
    /// Whose session.
    pub staff_id: StaffId,
    /// The staff member's session epoch when it was made.
    pub epoch: u64,
    /// Sign-in time.
    pub created_at: Millis,
    /// Last use (updated at most once a minute).
    pub last_seen_at: Millis,
    /// Sent back in the `X-CSRF-Token` header on state-changing requests.
    pub csrf_token: String,
}

/// Versions of the session record.
#[derive(Serialize, Deserialize)]
#[serde(tag = "v")]
pub enum SessionRecord {
    /// Version 1.
    #[serde(rename = "1")]
    V1(SessionRow),
}

/// Versions of the chat record.
#[derive(Serialize, Deserialize)]
#[serde(tag = "v")]
pub enum ChatRecord {
    /// Version 1.
    #[serde(rename = "1")]
    V1(Chat),
}

/// Versions of the message record.
#[derive(Serialize, Deserialize)]
#[serde(tag = "v")]
pub enum MessageRecord {
    /// Version 1.
    #[serde(rename = "1")]
    V1(Message),
}

/// [`MessageRecord`] by reference, for writing without a copy of the
/// message: the same bytes.
#[derive(Serialize)]
#[serde(tag = "v")]
pub enum MessageRecordRef<'a> {
    /// Version 1.
    #[serde(rename = "1")]
    V1(&'a Message),
}

/// Versions of the transcript record: an ended chat's messages in seq
/// order, packed (`chatid_transcript`).
#[derive(Serialize, Deserialize)]
#[serde(tag = "v")]
pub enum TranscriptRecord {
    /// Version 1.
    #[serde(rename = "1")]
    V1 {
        /// Every message, in seq order.
        messages: Vec<Message>,
    },
}

/// [`TranscriptRecord`] by reference: the same bytes.
#[derive(Serialize)]
#[serde(tag = "v")]
pub enum TranscriptRecordRef<'a> {
    /// Version 1.
    #[serde(rename = "1")]
    V1 {
        /// Every message, in seq order.
        messages: &'a [Message],
    },
}

impl From<TranscriptRecord> for Vec<Message> {
    fn from(r: TranscriptRecord) -> Self {
        match r {
            TranscriptRecord::V1 { messages } => messages,
        }
    }
}

impl From<ChatRecord> for Chat {
    fn from(r: ChatRecord) -> Self {
        match r {
            ChatRecord::V1(c) => c,
        }
    }
}

impl From<MessageRecord> for Message {
    fn from(r: MessageRecord) -> Self {
        match r {
            MessageRecord::V1(m) => m,
        }
    }
}

impl From<StaffRecord> for StaffRow {
    fn from(r: StaffRecord) -> Self {
        match r {
            StaffRecord::V1(row) => row,
        }
    }
}

impl From<GroupRecord> for Group {
    fn from(r: GroupRecord) -> Self {
        match r {
            GroupRecord::V1(g) => g,
        }
    }
}

impl From<SessionRecord> for SessionRow {
    fn from(r: SessionRecord) -> Self {
        match r {
            SessionRecord::V1(s) => s,
        }
    }
}

/// Encodes a record.
pub fn encode<T: Serialize>(record: &T) -> Vec<u8> {
    // Serializing plain structs of strings and numbers to JSON cannot fail.
    serde_json::to_vec(record).unwrap_or_default()
}

/// Decodes a record of versions `R` and upgrades it to `T`.
pub fn decode<R: DeserializeOwned + Into<T>, T>(what: &str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice::<R>(bytes)
        .map(Into::into)
        .map_err(|e| StoreError::Corrupt(format!("{what} record: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_carry_their_version_and_round_trip() {
        let row = SessionRow {
            staff_id: StaffId::generate(),
            epoch: 1,
            created_at: 2,
            last_seen_at: 3,
            csrf_token: "c".into(),
        };
        let bytes = encode(&SessionRecord::V1(row.clone()));
        assert!(String::from_utf8_lossy(&bytes).starts_with(r#"{"v":"1""#));
        let back: SessionRow = decode::<SessionRecord, _>("session", &bytes).expect("decodes");
        assert_eq!(back, row);
        assert!(decode::<SessionRecord, SessionRow>("session", b"{\"v\":\"9\"}").is_err());
    }
}
