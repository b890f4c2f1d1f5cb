//! Who may do what to staff and groups. The HTTP layer's extractors check the
//! role class; these functions decide the finer rules (own groups, the owner,
//! oneself) so the server, not the console, is the authority.
//!
//! The rules, in the users' words:
//! - owner and admins create, edit and disable staff and groups; nobody but
//!   the owner edits the owner, and ownership only changes by hand-over;
//! - managers see the staff and groups of the groups they belong to and edit
//!   those groups' settings;
//! - agents see themselves and their own groups;
//! - everyone may change their own display name and password;
//! - nobody changes their own role or disables their own account.

use super::group::Group;
use super::ids::GroupId;
use super::staff::{Role, Staff, StaffPatch};
use std::fmt;

/// A refusal, with the reason shown to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Denied(pub &'static str);

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

fn deny(reason: &'static str) -> Result<(), Denied> {
    Err(Denied(reason))
}

/// Whether `actor` may see `target`'s record.
pub fn can_view_staff(actor: &Staff, target: &Staff) -> bool {
    actor.id == target.id
        || actor.role.is_admin()
        || (actor.role == Role::Manager && actor.shares_group_with(target))
}

/// Whether `actor` may create a staff member with `role`.
pub fn create_staff(actor: &Staff, role: Role) -> Result<(), Denied> {
    if !actor.role.is_admin() {
        return deny("only the owner and admins can create staff");
    }
    if role == Role::Owner {
        return deny("there is exactly one owner; create an admin and hand ownership over instead");
    }
    Ok(())
}

/// Whether `actor` may apply `patch` to `target`.
pub fn edit_staff(actor: &Staff, target: &Staff, patch: &StaffPatch) -> Result<(), Denied> {
    if patch.role == Some(Role::Owner) {
        return deny("ownership is handed over with transfer-ownership, not set as a role");
    }
    if actor.id == target.id {
        if !patch.needs_admin() {
            return Ok(());
        }
        if !actor.role.is_admin() {
            return deny("you can change your own display name and password only");
        }
        if patch.role.is_some_and(|r| r != actor.role) {
            return deny("you cannot change your own role; ask another admin (the owner hands ownership over instead)");
        }
        if patch.disabled == Some(true) {
            return deny("you cannot disable your own account");
        }
        return Ok(());
    }
    if !actor.role.is_admin() {
        return deny("only the owner and admins can edit other staff");
    }
    if target.role == Role::Owner {
        return deny("only the owner can edit the owner's account");
    }
    Ok(())
}

/// Whether `actor` may set a new password for `target` without knowing the old one.
pub fn reset_password(actor: &Staff, target: &Staff) -> Result<(), Denied> {
    if actor.id == target.id {
        return deny("change your own password with your current one");
    }
    if !actor.role.is_admin() {
        return deny("only the owner and admins can set other staff's passwords");
    }
    if target.role == Role::Owner {
        return deny("only the owner can change the owner's password");
    }
    Ok(())
}

/// Whether `actor` may hand ownership to `target`.
pub fn transfer_ownership(actor: &Staff, target: &Staff) -> Result<(), Denied> {
    if actor.role != Role::Owner {
        return deny("only the owner can hand ownership over");
    }
    if target.role != Role::Admin || target.disabled {
        return deny("ownership can only go to an enabled admin");
    }
    Ok(())
}

/// Whether `actor` may see `group`.
pub fn can_view_group(actor: &Staff, group: &Group) -> bool {
    actor.role.is_admin() || actor.in_group(group.id)
}

/// Whether `actor` may supervise chats of `group`: watch them (monitor)
/// and move them between queues. Admins all groups, managers their own.
pub fn supervise_chats(actor: &Staff, group: GroupId) -> bool {
    actor.role.is_admin() || (actor.role == Role::Manager && actor.in_group(group))
}

/// Whether `actor` may create or delete groups.
pub fn create_or_delete_group(actor: &Staff) -> Result<(), Denied> {
    if actor.role.is_admin() {
        Ok(())
    } else {
        deny("only the owner and admins can create or delete groups")
    }
}

/// Whether `actor` may change `group`'s settings.
pub fn edit_group(actor: &Staff, group: &Group) -> Result<(), Denied> {
    match actor.role {
        Role::Owner | Role::Admin => Ok(()),
        Role::Manager if actor.in_group(group.id) => Ok(()),
        Role::Manager => deny("managers can only edit the groups they belong to"),
        Role::Agent => deny("agents cannot edit groups"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::NewGroup;

    #[test]
    fn chats_are_supervised_by_admins_and_the_managers_of_their_group() {
        let (g, other) = (GroupId::generate(), GroupId::generate());
        assert!(supervise_chats(&staff(Role::Owner, vec![]), g));
        assert!(supervise_chats(&staff(Role::Admin, vec![]), g));
        assert!(supervise_chats(&staff(Role::Manager, vec![g]), g));
        assert!(!supervise_chats(&staff(Role::Manager, vec![other]), g));
        assert!(!supervise_chats(&staff(Role::Agent, vec![g]), g));
    }

    fn staff(role: Role, groups: Vec<GroupId>) -> Staff {
        Staff::for_tests(role, groups)
    }

    fn group() -> Group {
        let n: NewGroup = serde_json::from_str(r#"{"name":"G"}"#).expect("json");
        n.build(GroupId::generate(), 30, 0).expect("valid")
    }

    #[test]
    fn view_staff_by_role() {
        let g = GroupId::generate();
        let owner = staff(Role::Owner, vec![]);
        let manager = staff(Role::Manager, vec![g]);
        let mate = staff(Role::Agent, vec![g]);
        let stranger = staff(Role::Agent, vec![GroupId::generate()]);
        assert!(can_view_staff(&owner, &stranger));
        assert!(can_view_staff(&manager, &mate));
        assert!(!can_view_staff(&manager, &stranger));
        assert!(!can_view_staff(&mate, &manager));
        assert!(can_view_staff(&mate, &mate));
    }

    #[test]
    fn only_admins_create_staff_and_never_an_owner() {
        let admin = staff(Role::Admin, vec![]);
        assert!(create_staff(&admin, Role::Admin).is_ok());
        assert!(create_staff(&admin, Role::Owner).is_err());
        assert!(create_staff(&staff(Role::Manager, vec![]), Role::Agent).is_err());
        assert!(create_staff(&staff(Role::Agent, vec![]), Role::Agent).is_err());
    }

    #[test]
    fn edit_rules_protect_the_owner_and_oneself() {
        let owner = staff(Role::Owner, vec![]);
        let admin = staff(Role::Admin, vec![]);
        let agent = staff(Role::Agent, vec![]);
        let name_only = StaffPatch {
            display_name: Some("N".into()),
            ..Default::default()
        };
        let disable = StaffPatch {
            disabled: Some(true),
            ..Default::default()
        };
        let promote = StaffPatch {
            role: Some(Role::Admin),
            ..Default::default()
        };
        let crown = StaffPatch {
            role: Some(Role::Owner),
            ..Default::default()
        };
        assert!(edit_staff(&agent, &agent, &name_only).is_ok());
        assert!(edit_staff(&agent, &agent, &promote).is_err());
        assert!(edit_staff(&agent, &admin, &name_only).is_err());
        assert!(edit_staff(&admin, &agent, &promote).is_ok());
        assert!(edit_staff(&admin, &agent, &crown).is_err());
        assert!(edit_staff(&admin, &owner, &name_only).is_err());
        assert!(edit_staff(&admin, &admin, &disable).is_err());
        assert!(edit_staff(&owner, &owner, &disable).is_err());
        assert!(edit_staff(&owner, &owner, &promote).is_err());
        assert!(edit_staff(&owner, &admin, &disable).is_ok());
    }

    #[test]
    fn password_reset_and_ownership_hand_over() {
        let owner = staff(Role::Owner, vec![]);
        let admin = staff(Role::Admin, vec![]);
        let agent = staff(Role::Agent, vec![]);
        assert!(reset_password(&admin, &agent).is_ok());
        assert!(reset_password(&admin, &owner).is_err());
        assert!(reset_password(&agent, &admin).is_err());
        assert!(reset_password(&admin, &admin).is_err());
        assert!(transfer_ownership(&owner, &admin).is_ok());
        assert!(transfer_ownership(&owner, &agent).is_err());
        assert!(transfer_ownership(&admin, &admin).is_err());
        let mut disabled_admin = staff(Role::Admin, vec![]);
        disabled_admin.disabled = true;
        assert!(transfer_ownership(&owner, &disabled_admin).is_err());
    }

    #[test]
    fn group_rules_by_role() {
        let g = group();
        let admin = staff(Role::Admin, vec![]);
        let member_manager = staff(Role::Manager, vec![g.id]);
        let other_manager = staff(Role::Manager, vec![GroupId::generate()]);
        let member_agent = staff(Role::Agent, vec![g.id]);
        assert!(can_view_group(&admin, &g));
        assert!(can_view_group(&member_agent, &g));
        assert!(!can_view_group(&other_manager, &g));
        assert!(edit_group(&member_manager, &g).is_ok());
        assert!(edit_group(&other_manager, &g).is_err());
        assert!(edit_group(&member_agent, &g).is_err());
        assert!(create_or_delete_group(&admin).is_ok());
        assert!(create_or_delete_group(&member_manager).is_err());
    }
}
