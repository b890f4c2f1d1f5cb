//! The first-run setup link: `tokenhash_setup` holds the sha256 of the one
//! live link's token and its expiry. Completing setup consumes the link and
//! creates the owner in one transaction, so a link works exactly once.

use super::keys::{parse_u64, u64_be, TokenHash};
use super::records::StaffRow;
use super::staff::{insert_in_tx, InsertViews};
use super::{abort, tx_done, Store, StoreError};
use crate::domain::{Millis, Role};
use crate::store::kv::Transactional;

impl Store {
    /// Makes `hash` the only valid setup link, until `expires_at`.
    pub fn replace_setup_link(
        &self,
        hash: &TokenHash,
        expires_at: Millis,
    ) -> Result<(), StoreError> {
        let _w = self.gate.writing();
        self.trees.tokenhash_setup.clear()?;
        self.trees
            .tokenhash_setup
            .insert(&hash[..], &u64_be(expires_at)[..])?;
        Ok(())
    }

    /// Whether `hash` is the live setup link, unused and not expired at `now`.
    pub fn setup_link_valid(&self, hash: &TokenHash, now: Millis) -> Result<bool, StoreError> {
        if self.owner_id()?.is_some() {
            return Ok(false);
        }
        match self.trees.tokenhash_setup.get(&hash[..])? {
            Some(b) => Ok(parse_u64(&b)? > now),
            None => Ok(false),
        }
    }

    /// Consumes the setup link and creates the owner, atomically.
    pub fn complete_setup(
        &self,
        hash: &TokenHash,
        now: Millis,
        owner: &StaffRow,
    ) -> Result<(), StoreError> {
        let _w = self.gate.writing();
        if owner.staff.role != Role::Owner {
            return Err(StoreError::OwnershipRule);
        }
        let _guard = self.admin_guard();
        let t = &self.trees;
        tx_done(
            (
                &t.tokenhash_setup,
                &t.meta,
                &t.staffid_staff,
                &t.email_staffid,
                &t.groupid_group,
                &t.groupid_staffid,
            )
                .transaction(|(links, meta, staff, email, groups, members)| {
                    let expires_at = match links.remove(&hash[..])? {
                        None => return abort(StoreError::SetupLinkInvalid),
                        Some(b) => match parse_u64(&b) {
                            Ok(t) => t,
                            Err(e) => return abort(e),
                        },
                    };
                    if expires_at <= now {
                        return abort(StoreError::SetupLinkInvalid);
                    }
                    let v = InsertViews {
                        meta,
                        staff,
                        email,
                        groups,
                        members,
                    };
                    insert_in_tx(&v, owner)
                }),
        )
    }
}
