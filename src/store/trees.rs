//! The catalogue of sled trees. Names say what the key and value hold
//! (`email_staffid`: key email, value staff id). Every name lives here once;
//! a test checks they are unique so no two fields ever share a tree.

use sled::{Db, Tree};

/// Store-wide facts: `schema_version` (u32 BE), `owner_id` (16 bytes).
pub const META: &str = "meta";
/// Staff id → versioned staff record.
pub const STAFFID_STAFF: &str = "staffid_staff";
/// Lower-cased email → staff id (unique index).
pub const EMAIL_STAFFID: &str = "email_staffid";
/// Group id → versioned group record.
pub const GROUPID_GROUP: &str = "groupid_group";
/// Lower-cased group name → group id (unique index).
pub const GROUPNAME_GROUPID: &str = "groupname_groupid";
/// Group id + staff id → empty: the members of each group.
pub const GROUPID_STAFFID: &str = "groupid_staffid";
/// sha256(session token) → versioned session record.
pub const TOKENHASH_SESSION: &str = "tokenhash_session";
/// Staff id + token hash → empty: the sessions of each staff member.
pub const STAFFID_TOKENHASH: &str = "staffid_tokenhash";
/// Absolute expiry (u64 BE ms) + token hash → empty: for the purge job.
pub const EXPIRY_TOKENHASH: &str = "expiry_tokenhash";
/// sha256(setup token) → expiry (u64 BE ms).
pub const TOKENHASH_SETUP: &str = "tokenhash_setup";

/// Every tree, in opening order.
pub const ALL: &[&str] = &[
    META,
    STAFFID_STAFF,
    EMAIL_STAFFID,
    GROUPID_GROUP,
    GROUPNAME_GROUPID,
    GROUPID_STAFFID,
    TOKENHASH_SESSION,
    STAFFID_TOKENHASH,
    EXPIRY_TOKENHASH,
    TOKENHASH_SETUP,
];

/// The opened trees.
#[derive(Clone)]
pub struct Trees {
    pub(crate) meta: Tree,
    pub(crate) staffid_staff: Tree,
    pub(crate) email_staffid: Tree,
    pub(crate) groupid_group: Tree,
    pub(crate) groupname_groupid: Tree,
    pub(crate) groupid_staffid: Tree,
    pub(crate) tokenhash_session: Tree,
    pub(crate) staffid_tokenhash: Tree,
    pub(crate) expiry_tokenhash: Tree,
    pub(crate) tokenhash_setup: Tree,
}

impl Trees {
    pub(crate) fn open(db: &Db) -> sled::Result<Self> {
        Ok(Self {
            meta: db.open_tree(META)?,
            staffid_staff: db.open_tree(STAFFID_STAFF)?,
            email_staffid: db.open_tree(EMAIL_STAFFID)?,
            groupid_group: db.open_tree(GROUPID_GROUP)?,
            groupname_groupid: db.open_tree(GROUPNAME_GROUPID)?,
            groupid_staffid: db.open_tree(GROUPID_STAFFID)?,
            tokenhash_session: db.open_tree(TOKENHASH_SESSION)?,
            staffid_tokenhash: db.open_tree(STAFFID_TOKENHASH)?,
            expiry_tokenhash: db.open_tree(EXPIRY_TOKENHASH)?,
            tokenhash_setup: db.open_tree(TOKENHASH_SETUP)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_names_are_unique() {
        let mut names = ALL.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
    }
}
