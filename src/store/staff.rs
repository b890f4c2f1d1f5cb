//! Staff records and their indexes: `staffid_staff`, `email_staffid`,
//! `groupid_staffid`, and the owner pointer in `meta`. Every write keeps
//! the indexes in the same transaction as the record.

use super::keys::{group_staff, parse_group_staff, parse_staff_id};
use super::records::{decode, encode, StaffRecord, StaffRow};
use super::{abort, tx_done, Store, StoreError, TxResult};
use crate::domain::{GroupId, Role, StaffId};
use crate::store::kv::transaction::TransactionalTree;
use crate::store::kv::Transactional;

pub(super) const OWNER_KEY: &[u8] = b"owner_id";

/// The views a staff insert needs, in transaction order.
pub(super) struct InsertViews<'a> {
    pub meta: &'a TransactionalTree,
    pub staff: &'a TransactionalTree,
    pub email: &'a TransactionalTree,
    pub groups: &'a TransactionalTree,
    pub members: &'a TransactionalTree,
}

/// Inserts a new staff row inside a transaction: unique email, existing
/// groups, and at most one owner.
pub(super) fn insert_in_tx(v: &InsertViews<'_>, row: &StaffRow) -> TxResult<()> {
    let s = &row.staff;
    if v.email.get(s.email.as_bytes())?.is_some() {
        return abort(StoreError::EmailTaken);
    }
    for g in &s.groups {
        if v.groups.get(g.to_bytes())?.is_none() {
            return abort(StoreError::GroupNotFound(*g));
        }
        v.members.insert(&group_staff(*g, s.id)[..], &[][..])?;
    }
    if s.role == Role::Owner {
        if v.meta.get(OWNER_KEY)?.is_some() {
            return abort(StoreError::OwnerExists);
        }
        v.meta.insert(OWNER_KEY, &s.id.to_bytes()[..])?;
    }
    v.email.insert(s.email.as_bytes(), &s.id.to_bytes()[..])?;
    v.staff
        .insert(&s.id.to_bytes()[..], encode(&StaffRecord::V1(row.clone())))?;
    Ok(())
}

fn read_row(tree: &TransactionalTree, id: StaffId) -> TxResult<StaffRow> {
    match tree.get(id.to_bytes())? {
        None => abort(StoreError::StaffNotFound),
        Some(bytes) => match decode::<StaffRecord, StaffRow>("staff", &bytes) {
            Ok(row) => Ok(row),
            Err(e) => abort(e),
        },
    }
}

impl Store {
    /// One staff member by id.
    pub fn staff(&self, id: StaffId) -> Result<Option<StaffRow>, StoreError> {
        self.trees
            .staffid_staff
            .get(id.to_bytes())?
            .map(|b| decode::<StaffRecord, StaffRow>("staff", &b))
            .transpose()
    }

    /// One staff member by (normalized) email.
    pub fn staff_by_email(&self, email: &str) -> Result<Option<StaffRow>, StoreError> {
        match self.trees.email_staffid.get(email.as_bytes())? {
            None => Ok(None),
            Some(id) => self.staff(parse_staff_id(&id)?),
        }
    }

    /// Every staff member, oldest first.
    pub fn list_staff(&self) -> Result<Vec<StaffRow>, StoreError> {
        self.trees
            .staffid_staff
            .iter()
            .map(|kv| {
                let (_, v) = kv?;
                decode::<StaffRecord, StaffRow>("staff", &v)
            })
            .collect()
    }

    /// The members of a group.
    pub fn group_members(&self, group: GroupId) -> Result<Vec<StaffId>, StoreError> {
        self.trees
            .groupid_staffid
            .scan_prefix(group.to_bytes())
            .map(|kv| Ok(parse_group_staff(&kv?.0)?.1))
            .collect()
    }

    /// The owner's id, once someone has set the desk up.
    pub fn owner_id(&self) -> Result<Option<StaffId>, StoreError> {
        self.trees
            .meta
            .get(OWNER_KEY)?
            .map(|b| parse_staff_id(&b))
            .transpose()
    }

    /// Adds a staff member (the owner only while none exists).
    pub fn insert_staff(&self, row: &StaffRow) -> Result<(), StoreError> {
        let _w = self.gate.writing();
        self.room()?;
        let _guard = self.admin_guard();
        let t = &self.trees;
        tx_done(
            (
                &t.meta,
                &t.staffid_staff,
                &t.email_staffid,
                &t.groupid_group,
                &t.groupid_staffid,
            )
                .transaction(|(meta, staff, email, groups, members)| {
                    let v = InsertViews {
                        meta,
                        staff,
                        email,
                        groups,
                        members,
                    };
                    insert_in_tx(&v, row)
                }),
        )
    }

    /// Replaces `prev` by `next` if nobody changed it meanwhile, keeping the
    /// email and membership indexes in step. Roles never move to or from
    /// owner here: that is [`Store::transfer_ownership`].
    pub fn put_staff(&self, prev: &StaffRow, next: &StaffRow) -> Result<(), StoreError> {
        let _w = self.gate.writing();
        if prev.staff.id != next.staff.id {
            return Err(StoreError::ChangedMeanwhile);
        }
        if (prev.staff.role == Role::Owner) != (next.staff.role == Role::Owner) {
            return Err(StoreError::OwnershipRule);
        }
        let _guard = self.admin_guard();
        let t = &self.trees;
        let id = next.staff.id;
        tx_done(
            (
                &t.staffid_staff,
                &t.email_staffid,
                &t.groupid_group,
                &t.groupid_staffid,
            )
                .transaction(|(staff, email, groups, members)| {
                    let current = read_row(staff, id)?;
                    if &current != prev {
                        return abort(StoreError::ChangedMeanwhile);
                    }
                    if prev.staff.email != next.staff.email {
                        if email.get(next.staff.email.as_bytes())?.is_some() {
                            return abort(StoreError::EmailTaken);
                        }
                        email.remove(prev.staff.email.as_bytes())?;
                        email.insert(next.staff.email.as_bytes(), &id.to_bytes()[..])?;
                    }
                    for g in &prev.staff.groups {
                        if !next.staff.groups.contains(g) {
                            members.remove(&group_staff(*g, id)[..])?;
                        }
                    }
                    for g in &next.staff.groups {
                        if groups.get(g.to_bytes())?.is_none() {
                            return abort(StoreError::GroupNotFound(*g));
                        }
                        members.insert(&group_staff(*g, id)[..], &[][..])?;
                    }
                    staff.insert(&id.to_bytes()[..], encode(&StaffRecord::V1(next.clone())))?;
                    Ok(())
                }),
        )
    }

    /// Hands ownership from the owner `from` to the admin `to`, atomically:
    /// `from` becomes an admin, so there is always exactly one owner.
    pub fn transfer_ownership(&self, from: StaffId, to: StaffId) -> Result<(), StoreError> {
        let _w = self.gate.writing();
        let _guard = self.admin_guard();
        let t = &self.trees;
        tx_done((&t.meta, &t.staffid_staff).transaction(|(meta, staff)| {
            if meta.get(OWNER_KEY)?.as_deref() != Some(&from.to_bytes()[..]) {
                return abort(StoreError::OwnershipRule);
            }
            let mut old = read_row(staff, from)?;
            let mut new = read_row(staff, to)?;
            if new.staff.role != Role::Admin || new.staff.disabled {
                return abort(StoreError::OwnershipRule);
            }
            old.staff.role = Role::Admin;
            new.staff.role = Role::Owner;
            staff.insert(&from.to_bytes()[..], encode(&StaffRecord::V1(old)))?;
            staff.insert(&to.to_bytes()[..], encode(&StaffRecord::V1(new)))?;
            meta.insert(OWNER_KEY, &to.to_bytes()[..])?;
            Ok(())
        }))
    }
}
