//! Ratings: `chatid_rating`, one per chat, written once (compare and swap).

use super::records::{decode, encode};
use super::{Store, StoreError};
use crate::domain::rating::Rating;
use crate::domain::ChatId;
use serde::{Deserialize, Serialize};

/// Versions of the rating record.
#[derive(Serialize, Deserialize)]
#[serde(tag = "v")]
enum RatingRecord {
    #[serde(rename = "1")]
    V1(Rating),
}

impl From<RatingRecord> for Rating {
    fn from(r: RatingRecord) -> Self {
        match r {
            RatingRecord::V1(r) => r,
        }
    }
}

impl Store {
    /// Stores a chat's rating unless it has one: `Err(the one it has)` then.
    pub fn rate_chat(&self, rating: &Rating) -> Result<Result<(), Rating>, StoreError> {
        let _w = self.gate.writing();
        self.room()?;
        let key = rating.chat.to_bytes();
        let bytes = encode(&RatingRecord::V1(rating.clone()));
        match self
            .trees
            .chatid_rating
            .compare_and_swap(key, None as Option<&[u8]>, Some(bytes))?
        {
            Ok(()) => Ok(Ok(())),
            Err(e) => match e.current {
                Some(b) => Ok(Err(decode::<RatingRecord, _>("rating", &b)?)),
                None => Err(StoreError::ChangedMeanwhile),
            },
        }
    }

    /// A chat's rating.
    pub fn rating_of(&self, chat: ChatId) -> Result<Option<Rating>, StoreError> {
        match self.trees.chatid_rating.get(chat.to_bytes())? {
            None => Ok(None),
            Some(b) => decode::<RatingRecord, _>("rating", &b).map(Some),
        }
    }

    /// The ratings of chats started from `at` on (ms), oldest chat first.
    pub fn ratings_of_chats_since(
        &self,
        at: crate::domain::Millis,
    ) -> Result<Vec<Rating>, StoreError> {
        self.trees
            .chatid_rating
            .range(ChatId::before_time(at)..)
            .map(|kv| decode::<RatingRecord, Rating>("rating", &kv?.1))
            .collect()
    }
}
