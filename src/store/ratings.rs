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

/// Reads a stored rating.
pub(super) fn decode_rating(b: &[u8]) -> Result<Rating, StoreError> {
    decode::<RatingRecord, Rating>("rating", b)
}

impl Store {
    /// Stores a chat's rating unless it has one: `Err(the one it has)` then.
    /// The chat's report counters take the rating in the same transaction.
    pub fn rate_chat(&self, rating: &Rating) -> Result<Result<(), Rating>, StoreError> {
        use crate::store::kv::Transactional;
        let _w = self.gate.writing();
        self.room()?;
        let started = self
            .chat(rating.chat)?
            .ok_or_else(|| StoreError::Corrupt(format!("chat {} not found", rating.chat)))?
            .started_at;
        let key = rating.chat.to_bytes();
        let bytes = encode(&RatingRecord::V1(rating.clone()));
        let t = &self.trees;
        let pre = super::history::Prefetched::default().read(
            t,
            super::history::Map::Facts,
            &super::reports::fact_key(started, rating.chat),
        )?;
        super::tx_done(
            (
                &t.chatid_rating,
                &t.startedchat_fact,
                &t.day_group_staff_tally,
                &t.hour_group_staff_tally,
            )
                .transaction(|(ratings, facts, days, hours)| {
                    if let Some(b) = ratings.get(key)? {
                        return Ok(Err(decode_rating(&b).map_err(
                            crate::store::kv::transaction::ConflictableTransactionError::Abort,
                        )?));
                    }
                    ratings.insert(&key[..], bytes.clone())?;
                    let t = super::reports::ReportTrees {
                        facts: super::history::PackedTx::facts(facts, &pre),
                        days,
                        hours,
                        causes: None,
                    };
                    super::reports::count_rating(&t, started, rating.chat, rating.score)?;
                    Ok(Ok(()))
                }),
        )
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
