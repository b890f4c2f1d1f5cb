//! Group records and their indexes: `groupid_group`, `groupname_groupid`
//! (unique, case-insensitive), and the membership entries a deletion removes.

use super::keys::group_staff;
use super::records::{decode, encode, GroupRecord, StaffRecord, StaffRow};
use super::{abort, tx_done, Store, StoreError};
use crate::domain::{Group, GroupId};
use crate::store::kv::Transactional;

fn name_key(name: &str) -> Vec<u8> {
    name.to_lowercase().into_bytes()
}

impl Store {
    /// One group by id.
    pub fn group(&self, id: GroupId) -> Result<Option<Group>, StoreError> {
        self.trees
            .groupid_group
            .get(id.to_bytes())?
            .map(|b| decode::<GroupRecord, Group>("group", &b))
            .transpose()
    }

    /// Every group, oldest first.
    pub fn list_groups(&self) -> Result<Vec<Group>, StoreError> {
        self.trees
            .groupid_group
            .iter()
            .map(|kv| decode::<GroupRecord, Group>("group", &kv?.1))
            .collect()
    }

    /// Adds a group with a unique name.
    pub fn insert_group(&self, g: &Group) -> Result<(), StoreError> {
        let _w = self.gate.writing();
        self.room()?;
        let t = &self.trees;
        tx_done(
            (&t.groupid_group, &t.groupname_groupid).transaction(|(groups, names)| {
                if names.get(name_key(&g.name))?.is_some() {
                    return abort(StoreError::GroupNameTaken);
                }
                names.insert(name_key(&g.name), &g.id.to_bytes()[..])?;
                groups.insert(&g.id.to_bytes()[..], encode(&GroupRecord::V1(g.clone())))?;
                Ok(())
            }),
        )
    }

    /// Replaces `prev` by `next` if unchanged meanwhile, keeping names unique.
    pub fn put_group(&self, prev: &Group, next: &Group) -> Result<(), StoreError> {
        let _w = self.gate.writing();
        let t = &self.trees;
        let id = next.id;
        tx_done(
            (&t.groupid_group, &t.groupname_groupid).transaction(|(groups, names)| {
                let current = match groups.get(id.to_bytes())? {
                    None => return abort(StoreError::GroupNotFound(id)),
                    Some(b) => match decode::<GroupRecord, Group>("group", &b) {
                        Ok(g) => g,
                        Err(e) => return abort(e),
                    },
                };
                if &current != prev {
                    return abort(StoreError::ChangedMeanwhile);
                }
                if name_key(&prev.name) != name_key(&next.name) {
                    if names.get(name_key(&next.name))?.is_some() {
                        return abort(StoreError::GroupNameTaken);
                    }
                    names.remove(name_key(&prev.name))?;
                    names.insert(name_key(&next.name), &id.to_bytes()[..])?;
                }
                groups.insert(&id.to_bytes()[..], encode(&GroupRecord::V1(next.clone())))?;
                Ok(())
            }),
        )
    }

    /// Deletes a group and removes it from every member, in one transaction.
    pub fn delete_group(&self, id: GroupId) -> Result<(), StoreError> {
        let _w = self.gate.writing();
        let _guard = self.admin_guard();
        let members = self.group_members(id)?;
        let t = &self.trees;
        tx_done(
            (
                &t.groupid_group,
                &t.groupname_groupid,
                &t.groupid_staffid,
                &t.staffid_staff,
            )
                .transaction(|(groups, names, member_index, staff)| {
                    let group = match groups.remove(&id.to_bytes()[..])? {
                        None => return abort(StoreError::GroupNotFound(id)),
                        Some(b) => match decode::<GroupRecord, Group>("group", &b) {
                            Ok(g) => g,
                            Err(e) => return abort(e),
                        },
                    };
                    names.remove(name_key(&group.name))?;
                    for m in &members {
                        member_index.remove(&group_staff(id, *m)[..])?;
                        if let Some(b) = staff.get(m.to_bytes())? {
                            let mut row: StaffRow =
                                match decode::<StaffRecord, StaffRow>("staff", &b) {
                                    Ok(r) => r,
                                    Err(e) => return abort(e),
                                };
                            row.staff.groups.retain(|g| *g != id);
                            staff.insert(&m.to_bytes()[..], encode(&StaffRecord::V1(row)))?;
                        }
                    }
                    Ok(())
                }),
        )
    }
}
