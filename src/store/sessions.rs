//! Staff sessions: `tokenhash_session` with two indexes kept in the same
//! transaction, `staffid_tokenhash` (end all of someone's sessions) and
//! `expiry_tokenhash` (purge by time without a full scan). Only the token's
//! sha256 is stored, so a copied data folder opens no session.

use super::keys::{
    expiry_token, parse_expiry_token, parse_staff_token, staff_token, u64_be, TokenHash,
};
use super::records::{decode, encode, SessionRecord, SessionRow};
use super::{tx_done, Store, StoreError};
use crate::domain::{Millis, StaffId};
use crate::store::kv::Transactional;

impl Store {
    /// Stores a new session that ends at `expires_at` at the latest.
    pub fn insert_session(
        &self,
        hash: &TokenHash,
        row: &SessionRow,
        expires_at: Millis,
    ) -> Result<(), StoreError> {
        let _w = self.gate.writing();
        self.room()?;
        let t = &self.trees;
        tx_done(
            (
                &t.tokenhash_session,
                &t.staffid_tokenhash,
                &t.expiry_tokenhash,
            )
                .transaction(|(sessions, by_staff, by_expiry)| {
                    sessions.insert(&hash[..], encode(&SessionRecord::V1(row.clone())))?;
                    by_staff.insert(
                        &staff_token(row.staff_id, hash)[..],
                        &u64_be(expires_at)[..],
                    )?;
                    by_expiry.insert(&expiry_token(expires_at, hash)[..], &[][..])?;
                    Ok(())
                }),
        )
    }

    /// A session by its token hash.
    pub fn session(&self, hash: &TokenHash) -> Result<Option<SessionRow>, StoreError> {
        self.trees
            .tokenhash_session
            .get(hash)?
            .map(|b| decode::<SessionRecord, SessionRow>("session", &b))
            .transpose()
    }

    /// Rewrites a session's mutable fields (last use, epoch); the indexes
    /// do not change.
    pub fn update_session(&self, hash: &TokenHash, row: &SessionRow) -> Result<(), StoreError> {
        let _w = self.gate.writing();
        if self.trees.tokenhash_session.get(hash)?.is_some() {
            self.trees
                .tokenhash_session
                .insert(&hash[..], encode(&SessionRecord::V1(row.clone())))?;
        }
        Ok(())
    }

    /// Deletes one session and its index entries.
    pub fn delete_session(&self, hash: &TokenHash) -> Result<(), StoreError> {
        let _w = self.gate.writing();
        let t = &self.trees;
        let Some(row) = self.session(hash)? else {
            return Ok(());
        };
        let key = staff_token(row.staff_id, hash);
        let expires_at = match t.staffid_tokenhash.get(key)? {
            Some(b) => super::keys::parse_u64(&b)?,
            None => 0,
        };
        tx_done(
            (
                &t.tokenhash_session,
                &t.staffid_tokenhash,
                &t.expiry_tokenhash,
            )
                .transaction(|(sessions, by_staff, by_expiry)| {
                    sessions.remove(&hash[..])?;
                    by_staff.remove(&key[..])?;
                    by_expiry.remove(&expiry_token(expires_at, hash)[..])?;
                    Ok(())
                }),
        )
    }

    /// Deletes every session of `staff` except `keep`. Returns how many.
    pub fn delete_sessions_of(
        &self,
        staff: StaffId,
        keep: Option<&TokenHash>,
    ) -> Result<usize, StoreError> {
        let _w = self.gate.writing();
        let hashes: Vec<TokenHash> = self
            .trees
            .staffid_tokenhash
            .scan_prefix(staff.to_bytes())
            .map(|kv| Ok(parse_staff_token(&kv?.0)?.1))
            .collect::<Result<_, StoreError>>()?;
        let mut n = 0;
        for h in hashes.iter().filter(|h| Some(*h) != keep) {
            self.delete_session(h)?;
            n += 1;
        }
        Ok(n)
    }

    /// Deletes sessions whose absolute expiry is at or before `now`.
    pub fn purge_expired_sessions(&self, now: Millis) -> Result<usize, StoreError> {
        let _w = self.gate.writing();
        let end = u64_be(now.saturating_add(1));
        let expired: Vec<(Vec<u8>, TokenHash)> = self
            .trees
            .expiry_tokenhash
            .range(..&end[..])
            .map(|kv| {
                let key = kv?.0;
                let (_, hash) = parse_expiry_token(&key)?;
                Ok((key.to_vec(), hash))
            })
            .collect::<Result<_, StoreError>>()?;
        for (key, hash) in &expired {
            self.delete_session(hash)?;
            // An index entry without its session (a crash between writes) goes too.
            self.trees.expiry_tokenhash.remove(key)?;
        }
        Ok(expired.len())
    }
}
