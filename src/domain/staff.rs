//! Staff members and their roles. A staff member is a login; when
//! chat-enabled they take chats up to their own limit.

use super::clock::Millis;
use super::ids::{GroupId, StaffId};
use super::validate::{self, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a staff member may do. Exactly one `owner` exists at any time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including handing ownership to an admin.
    Owner,
    /// Everything but ownership: staff, groups, settings.
    Admin,
    /// Sees and manages the groups they belong to.
    Manager,
    /// Takes chats; sees themselves.
    Agent,
}

impl Role {
    /// The role's name as written in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Agent => "agent",
        }
    }
    /// Owner and admin administer the whole desk.
    pub fn is_admin(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

/// Upper bound of anyone's max concurrent chats.
pub const MAX_CONCURRENT_CHATS_LIMIT: u32 = 50;

/// A staff member as the rest of the desk sees them (never the password hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Staff {
    /// Stable id.
    pub id: StaffId,
    /// Sign-in email, lower-cased; unique.
    pub email: String,
    /// The name visitors and colleagues see.
    pub display_name: String,
    /// What they may do.
    pub role: Role,
    /// Whether they take chats at all.
    pub chat_enabled: bool,
    /// How many chats they hold at once before becoming busy.
    pub max_concurrent_chats: u32,
    /// Groups they belong to.
    pub groups: Vec<GroupId>,
    /// A disabled account cannot sign in and has no sessions.
    pub disabled: bool,
    /// When the account was made (ms since the epoch).
    pub created_at: Millis,
}

impl Staff {
    /// An active staff member of `role` in `groups`, for tests.
    #[cfg(test)]
    pub(crate) fn for_tests(role: Role, groups: Vec<GroupId>) -> Self {
        Self {
            id: StaffId::generate(),
            email: format!("{}@x.io", role.as_str()),
            display_name: role.as_str().into(),
            role,
            chat_enabled: true,
            max_concurrent_chats: 3,
            groups,
            disabled: false,
            created_at: 0,
        }
    }

    /// Whether this staff member belongs to `group`.
    pub fn in_group(&self, group: GroupId) -> bool {
        self.groups.contains(&group)
    }
    /// Whether the two share at least one group.
    pub fn shares_group_with(&self, other: &Staff) -> bool {
        self.groups.iter().any(|g| other.groups.contains(g))
    }
}

/// What an admin sends to create a staff member.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStaff {
    /// Sign-in email.
    pub email: String,
    /// Name shown to visitors and colleagues.
    pub display_name: String,
    /// `admin`, `manager` or `agent` (ownership is handed over, not created).
    pub role: Role,
    /// Initial password, which they can change after signing in.
    pub password: String,
    /// Whether they take chats (default true).
    #[serde(default = "yes")]
    pub chat_enabled: bool,
    /// Max concurrent chats (default from `[chat] default_max_concurrent_chats`).
    #[serde(default, deserialize_with = "validate::whole_number")]
    pub max_concurrent_chats: Option<u32>,
    /// Groups to join.
    #[serde(default)]
    pub groups: Vec<GroupId>,
}

fn yes() -> bool {
    true
}

/// A partial edit of a staff member; absent fields stay as they are.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffPatch {
    /// New sign-in email.
    pub email: Option<String>,
    /// New display name.
    pub display_name: Option<String>,
    /// New role (never `owner`: use the ownership hand-over).
    pub role: Option<Role>,
    /// Take chats or not.
    pub chat_enabled: Option<bool>,
    /// New max concurrent chats.
    #[serde(default, deserialize_with = "validate::whole_number")]
    pub max_concurrent_chats: Option<u32>,
    /// The complete new list of groups.
    pub groups: Option<Vec<GroupId>>,
    /// Disable (true) or re-enable (false) the account.
    pub disabled: Option<bool>,
}

impl StaffPatch {
    /// True when the patch touches anything beyond the editor's own profile
    /// (display name), i.e. needs an administrator.
    pub fn needs_admin(&self) -> bool {
        self.email.is_some()
            || self.role.is_some()
            || self.chat_enabled.is_some()
            || self.max_concurrent_chats.is_some()
            || self.groups.is_some()
            || self.disabled.is_some()
    }

    /// Applies the patch to `staff`, validating each field.
    pub fn apply(&self, staff: &mut Staff) -> Result<(), FieldError> {
        if let Some(e) = &self.email {
            staff.email = validate::email(e)?;
        }
        if let Some(n) = &self.display_name {
            staff.display_name = validate::text("display_name", n, 1, 80)?;
        }
        if let Some(r) = self.role {
            staff.role = r;
        }
        if let Some(c) = self.chat_enabled {
            staff.chat_enabled = c;
        }
        if let Some(m) = self.max_concurrent_chats {
            staff.max_concurrent_chats =
                validate::range("max_concurrent_chats", m, 1, MAX_CONCURRENT_CHATS_LIMIT)?;
        }
        if let Some(g) = &self.groups {
            staff.groups = dedup(g);
        }
        if let Some(d) = self.disabled {
            staff.disabled = d;
        }
        Ok(())
    }
}

impl NewStaff {
    /// Validates the request and builds the staff member it describes.
    pub fn build(
        &self,
        id: StaffId,
        default_max_chats: u32,
        now: Millis,
    ) -> Result<Staff, FieldError> {
        validate::password(&self.password)?;
        Ok(Staff {
            id,
            email: validate::email(&self.email)?,
            display_name: validate::text("display_name", &self.display_name, 1, 80)?,
            role: self.role,
            chat_enabled: self.chat_enabled,
            max_concurrent_chats: validate::range(
                "max_concurrent_chats",
                self.max_concurrent_chats.unwrap_or(default_max_chats),
                1,
                MAX_CONCURRENT_CHATS_LIMIT,
            )?,
            groups: dedup(&self.groups),
            disabled: false,
            created_at: now,
        })
    }
}

fn dedup(groups: &[GroupId]) -> Vec<GroupId> {
    let mut out: Vec<GroupId> = Vec::with_capacity(groups.len());
    for g in groups {
        if !out.contains(g) {
            out.push(*g);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_staff() -> NewStaff {
        NewStaff {
            email: "Ann@Example.com".into(),
            display_name: "Ann".into(),
            role: Role::Agent,
            password: "correct horse".into(),
            chat_enabled: true,
            max_concurrent_chats: None,
            groups: vec![],
        }
    }

    #[test]
    fn new_staff_is_normalized_and_takes_the_default_limit() {
        let s = new_staff().build(StaffId::generate(), 3, 7).expect("valid");
        assert_eq!(s.email, "ann@example.com");
        assert_eq!(s.max_concurrent_chats, 3);
        assert!(!s.disabled);
    }

    #[test]
    fn bad_fields_are_named() {
        let mut n = new_staff();
        n.password = "x".into();
        assert_eq!(
            n.build(StaffId::generate(), 3, 0).unwrap_err().field,
            "password"
        );
        let mut n = new_staff();
        n.max_concurrent_chats = Some(0);
        assert_eq!(
            n.build(StaffId::generate(), 3, 0).unwrap_err().field,
            "max_concurrent_chats"
        );
    }

    #[test]
    fn patch_changes_only_what_it_names_and_dedups_groups() {
        let mut s = new_staff().build(StaffId::generate(), 3, 0).expect("valid");
        let g = GroupId::generate();
        let p = StaffPatch {
            groups: Some(vec![g, g]),
            ..Default::default()
        };
        assert!(p.needs_admin());
        p.apply(&mut s).expect("valid");
        assert_eq!(s.groups, vec![g]);
        assert_eq!(s.display_name, "Ann");
        let own = StaffPatch {
            display_name: Some("Annie".into()),
            ..Default::default()
        };
        assert!(!own.needs_admin());
    }
}
