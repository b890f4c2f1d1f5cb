//! Canned responses: texts an agent inserts by a shortcut (`/greet`) in the
//! compose box. Shared ones (admins write them) serve everyone; personal
//! ones serve their owner and win over a shared one with the same shortcut.
//! Placeholders (`{visitor_name}`, `{visitor_first_name}`, `{agent_name}`)
//! are filled in by the console when the response is inserted.

use super::clock::Millis;
use super::ids::{CannedId, StaffId};
use super::staff::Staff;
use super::validate::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Longest shortcut, characters.
pub const MAX_SHORTCUT_CHARS: usize = 32;
/// Longest text, characters.
pub const MAX_BODY_CHARS: usize = 2000;
/// Most shared responses.
pub const MAX_SHARED: usize = 500;
/// Most personal responses per staff member.
pub const MAX_PERSONAL: usize = 200;

/// One canned response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Canned {
    /// Its id.
    pub id: CannedId,
    /// What the agent types after `/` or `#` (lower case letters, digits, `-`, `_`).
    pub shortcut: String,
    /// The text inserted, with placeholders.
    pub body: String,
    /// Whose it is; none: shared.
    pub owner: Option<StaffId>,
    /// Last changed (ms).
    pub updated_at: Millis,
}

/// What a shortcut may be as sent (the API document says the same).
pub const SHORTCUT_PATTERN: &str = "^[/#]?[A-Za-z0-9_-]{1,32}$";

/// A shortcut as stored: 1 to 32 of `a-z 0-9 - _` (capitals lowered), a
/// leading `/` or `#` dropped.
pub fn shortcut(value: &str) -> Result<String, FieldError> {
    let v = value
        .strip_prefix(['/', '#'])
        .unwrap_or(value)
        .to_lowercase();
    let ok = !v.is_empty()
        && v.chars().count() <= MAX_SHORTCUT_CHARS
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(v)
    } else {
        Err(FieldError {
            field: "shortcut",
            message: format!(
                "use 1 to {MAX_SHORTCUT_CHARS} letters a-z, digits, '-' or '_', no spaces (like \"greet\" or \"refund-policy\")"
            ),
        })
    }
}

/// A response's text: 1 to 2,000 characters, newlines kept.
pub fn body(value: &str) -> Result<String, FieldError> {
    super::chat::sent_body("body", value, MAX_BODY_CHARS)
}

/// Whether `staff` sees `c`: shared ones, and their own.
pub fn visible(staff: &Staff, c: &Canned) -> bool {
    c.owner.is_none_or(|o| o == staff.id)
}

/// Whether `staff` may change or delete `c`: their own; shared ones as an admin.
pub fn may_edit(staff: &Staff, c: &Canned) -> bool {
    match c.owner {
        Some(o) => o == staff.id,
        None => staff.role.is_admin(),
    }
}

/// Whether `a` and `b` would answer the same shortcut for someone: the
/// same shortcut in the same scope (shared, or one person's).
pub fn clash(a: &Canned, b: &Canned) -> bool {
    a.id != b.id && a.owner == b.owner && a.shortcut == b.shortcut
}

/// What `staff` can insert: shared and own, a personal one hiding a shared
/// one of the same shortcut, by shortcut.
pub fn usable_by(staff: &Staff, all: Vec<Canned>) -> Vec<Canned> {
    let mut mine: Vec<Canned> = all.into_iter().filter(|c| visible(staff, c)).collect();
    let personal: std::collections::HashSet<String> = mine
        .iter()
        .filter(|c| c.owner.is_some())
        .map(|c| c.shortcut.clone())
        .collect();
    mine.retain(|c| c.owner.is_some() || !personal.contains(&c.shortcut));
    mine.sort_by(|a, b| {
        a.shortcut
            .cmp(&b.shortcut)
            .then(a.owner.is_none().cmp(&b.owner.is_none()))
    });
    mine
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::staff::{Role, Staff};

    fn staff(role: Role) -> Staff {
        Staff::for_tests(role, vec![])
    }

    fn canned(shortcut: &str, owner: Option<StaffId>) -> Canned {
        Canned {
            id: CannedId::generate(),
            shortcut: shortcut.into(),
            body: format!("text of {shortcut}"),
            owner,
            updated_at: 1,
        }
    }

    #[test]
    fn shortcuts_and_bodies_are_checked() {
        assert_eq!(shortcut("/Greet"), Ok("greet".into()));
        assert!(
            shortcut(" greet").is_err(),
            "no spaces: as the document's pattern says"
        );
        assert_eq!(shortcut("#refund-policy_2"), Ok("refund-policy_2".into()));
        for bad in ["", "/", "//a", "two words", "émile", &"x".repeat(33)] {
            assert_eq!(
                shortcut(bad).map_err(|e| e.field),
                Err("shortcut"),
                "{bad:?}"
            );
        }
        assert_eq!(
            body("  Hello {visitor_name},\nhow can I help?  "),
            Ok("Hello {visitor_name},\nhow can I help?".into())
        );
        assert!(body("   ").is_err());
        assert!(body(&"x".repeat(2001)).is_err());
        assert!(
            body(&format!(" {}", "x".repeat(2000))).is_err(),
            "the limit counts what was sent, as the document's maxLength"
        );
        assert!(body("bell \u{7}").is_err());
    }

    #[test]
    fn each_sees_shared_and_own_and_their_own_wins() {
        let (ann, bob, admin) = (staff(Role::Agent), staff(Role::Agent), staff(Role::Admin));
        let all = vec![
            canned("greet", None),
            canned("bye", None),
            canned("greet", Some(ann.id)),
            canned("mine", Some(bob.id)),
        ];
        let for_ann: Vec<(String, bool)> = usable_by(&ann, all.clone())
            .into_iter()
            .map(|c| (c.shortcut, c.owner.is_some()))
            .collect();
        assert_eq!(for_ann, [("bye".into(), false), ("greet".into(), true)]);
        assert_eq!(usable_by(&bob, all.clone()).len(), 3);
        assert!(may_edit(&ann, &all[2]) && !may_edit(&ann, &all[0]) && !may_edit(&ann, &all[3]));
        assert!(may_edit(&admin, &all[0]) && !may_edit(&admin, &all[2]));
        assert!(clash(&all[0], &canned("greet", None)));
        assert!(
            !clash(&all[0], &all[2]),
            "a personal one may share a shared one's shortcut"
        );
    }
}
