//! Identifiers: UUIDv7 newtypes, so ids sort by creation time and store keys
//! (16 big-endian bytes) iterate in creation order.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// An id type: a UUIDv7 newtype, serialized as its text, with
/// [`id_impls`].
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone,
            Copy,
            Debug,
            PartialEq,
            Eq,
            Hash,
            PartialOrd,
            Ord,
            Serialize,
            Deserialize,
            utoipa::ToSchema,
        )]
        #[serde(transparent)]
        #[schema(value_type = String, format = "uuid")]
        pub struct $name(Uuid);
        id_impls!($name);
    };
}

/// The impls every id type shares: generation, key bytes, text form.
macro_rules! id_impls {
    ($name:ident) => {
        impl $name {
            /// A fresh, time-ordered id.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }
            /// The 16 bytes used in store keys.
            pub fn to_bytes(self) -> [u8; 16] {
                *self.0.as_bytes()
            }
            /// The smallest key of an id made at `at` (ms): keys below it
            /// are of older ones (UUIDv7 starts with its time).
            pub fn before_time(at: u64) -> [u8; 16] {
                let mut b = [0u8; 16];
                b[..6].copy_from_slice(&at.to_be_bytes()[2..]);
                b
            }
            /// Rebuilds an id from its 16 key bytes.
            pub fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(Uuid::from_bytes(bytes))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = BadId;
            fn from_str(s: &str) -> Result<Self, BadId> {
                Uuid::parse_str(s).map(Self).map_err(|_| BadId)
            }
        }
    };
}

id_type! {
    /// Identifies one staff member (a login).
    StaffId
}

id_type! {
    /// Identifies one group (a department with its own queue).
    GroupId
}

id_type! {
    /// Identifies one offline message (left with the widget's message form).
    OfflineMessageId
}

id_type! {
    /// Identifies one shift.
    ShiftId
}

id_type! {
    /// Identifies one mail in the outbox.
    MailId
}

id_type! {
    /// Identifies one canned response.
    CannedId
}

id_type! {
    /// Identifies one knowledge-base article.
    ArticleId
}

/// The error for an id that is not a UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid id (expected a UUID like 0192f1e4-7c2a-7b3e-9a51-3f0c2d8e4b10)")]
pub struct BadId;

id_type! {
    /// Identifies one chat.
    ChatId
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_bytes_and_text() {
        let id = StaffId::generate();
        assert_eq!(StaffId::from_bytes(id.to_bytes()), id);
        assert_eq!(id.to_string().parse::<StaffId>(), Ok(id));
        assert_eq!("nope".parse::<GroupId>(), Err(BadId));
    }

    #[test]
    fn later_ids_sort_after_earlier_ones_as_bytes() {
        let a = GroupId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = GroupId::generate();
        assert!(a.to_bytes() < b.to_bytes());
        let m = MailId::generate();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        assert!(MailId::before_time(now - 1000) < m.to_bytes());
        assert!(MailId::before_time(now + 1000) > m.to_bytes());
    }
}
