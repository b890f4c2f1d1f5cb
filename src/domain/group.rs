//! Groups: departments with their own queue, members, routing strategy, RONA
//! timeout, queue online/offline switch and widget look.

use super::clock::Millis;
use super::ids::GroupId;
use super::validate::{self, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How a group's waiting chats reach agents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Routing {
    /// Rotate fairly over eligible agents.
    RoundRobin,
    /// Fewest open chats first, then longest since their last chat.
    LeastBusy,
    /// Chats wait in the queue and agents pick them.
    Manual,
}

/// How the group's chat widget looks to visitors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WidgetLook {
    /// Title bar text.
    pub title: String,
    /// Accent colour, `#rrggbb`.
    pub color: String,
    /// First line the visitor reads.
    pub greeting: String,
    /// Language tag of the widget's texts (`en`, `sv`, `nl-BE` ...).
    pub language: String,
}

impl Default for WidgetLook {
    fn default() -> Self {
        Self {
            title: "Chat with us".into(),
            color: "#1f6feb".into(),
            greeting: "Hello! How can we help?".into(),
            language: "en".into(),
        }
    }
}

impl WidgetLook {
    fn validated(&self) -> Result<Self, FieldError> {
        Ok(Self {
            title: validate::text("widget.title", &self.title, 1, 60)?,
            color: validate::colour("widget.color", &self.color)?,
            greeting: validate::text("widget.greeting", &self.greeting, 0, 300)?,
            language: validate::language(&self.language)?,
        })
    }
}

/// Shortest RONA timeout, seconds.
pub const RONA_MIN_SECS: u32 = 5;
/// Longest RONA timeout, seconds.
pub const RONA_MAX_SECS: u32 = 600;

/// A group as stored and shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Group {
    /// Stable id.
    pub id: GroupId,
    /// Unique name (case-insensitive), e.g. "Support".
    pub name: String,
    /// Routing strategy.
    pub routing: Routing,
    /// Seconds an agent has to accept an offered chat before going `rona`.
    pub rona_timeout_secs: u32,
    /// Whether the queue takes new chats; offline makes the widget offer a message form.
    pub queue_online: bool,
    /// When no member is online (connected, available or busy), a new chat
    /// is not queued for nobody: the widget offers the message form.
    /// Default true; false queues it for whoever comes online.
    #[serde(default = "yes")]
    pub offline_when_nobody_online: bool,
    /// Widget look.
    pub widget: WidgetLook,
    /// When the group was made.
    pub created_at: Millis,
}

/// What an admin sends to create a group.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    /// Unique name.
    pub name: String,
    /// Routing strategy (default `round_robin`).
    #[serde(default = "default_routing")]
    pub routing: Routing,
    /// RONA timeout in seconds (default from `[chat] default_rona_timeout`).
    #[serde(default, deserialize_with = "validate::whole_number")]
    pub rona_timeout_secs: Option<u32>,
    /// Queue online (default true).
    #[serde(default = "yes")]
    pub queue_online: bool,
    /// Offer the message form instead of queueing when no member is online
    /// (default true).
    #[serde(default = "yes")]
    pub offline_when_nobody_online: bool,
    /// Widget look (defaults shown in the docs).
    #[serde(default)]
    pub widget: Option<WidgetLook>,
}

fn default_routing() -> Routing {
    Routing::RoundRobin
}

fn yes() -> bool {
    true
}

/// A partial edit of a group; absent fields stay.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupPatch {
    /// New name.
    pub name: Option<String>,
    /// New routing strategy.
    pub routing: Option<Routing>,
    /// New RONA timeout, seconds.
    #[serde(default, deserialize_with = "validate::whole_number")]
    pub rona_timeout_secs: Option<u32>,
    /// Queue online or offline.
    pub queue_online: Option<bool>,
    /// Offer the message form instead of queueing when no member is online.
    pub offline_when_nobody_online: Option<bool>,
    /// New widget look (all four fields).
    pub widget: Option<WidgetLook>,
}

impl NewGroup {
    /// Validates and builds the group.
    pub fn build(
        &self,
        id: GroupId,
        default_rona_secs: u32,
        now: Millis,
    ) -> Result<Group, FieldError> {
        Ok(Group {
            id,
            name: validate::text("name", &self.name, 1, 60)?,
            routing: self.routing,
            rona_timeout_secs: validate::range(
                "rona_timeout_secs",
                self.rona_timeout_secs.unwrap_or(default_rona_secs),
                RONA_MIN_SECS,
                RONA_MAX_SECS,
            )?,
            queue_online: self.queue_online,
            offline_when_nobody_online: self.offline_when_nobody_online,
            widget: self.widget.clone().unwrap_or_default().validated()?,
            created_at: now,
        })
    }
}

impl GroupPatch {
    /// Applies the patch, validating each field.
    pub fn apply(&self, group: &mut Group) -> Result<(), FieldError> {
        if let Some(n) = &self.name {
            group.name = validate::text("name", n, 1, 60)?;
        }
        if let Some(r) = self.routing {
            group.routing = r;
        }
        if let Some(t) = self.rona_timeout_secs {
            group.rona_timeout_secs =
                validate::range("rona_timeout_secs", t, RONA_MIN_SECS, RONA_MAX_SECS)?;
        }
        if let Some(q) = self.queue_online {
            group.queue_online = q;
        }
        if let Some(o) = self.offline_when_nobody_online {
            group.offline_when_nobody_online = o;
        }
        if let Some(w) = &self.widget {
            group.widget = w.validated()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_group_gets_defaults_and_checks_fields() {
        let n: NewGroup = serde_json::from_str(r#"{"name":" Support "}"#).expect("json");
        let g = n.build(GroupId::generate(), 30, 0).expect("valid");
        assert_eq!(g.name, "Support");
        assert_eq!(g.routing, Routing::RoundRobin);
        assert_eq!(g.rona_timeout_secs, 30);
        assert_eq!(g.widget, WidgetLook::default());
        let bad: NewGroup =
            serde_json::from_str(r#"{"name":"S","rona_timeout_secs":1}"#).expect("json");
        assert_eq!(
            bad.build(GroupId::generate(), 30, 0).unwrap_err().field,
            "rona_timeout_secs"
        );
    }

    #[test]
    fn patch_validates_the_widget() {
        let mut g = serde_json::from_str::<NewGroup>(r#"{"name":"S"}"#)
            .expect("json")
            .build(GroupId::generate(), 30, 0)
            .expect("valid");
        let p = GroupPatch {
            widget: Some(WidgetLook {
                color: "blue".into(),
                ..WidgetLook::default()
            }),
            ..Default::default()
        };
        assert_eq!(p.apply(&mut g).unwrap_err().field, "widget.color");
        let p = GroupPatch {
            routing: Some(Routing::Manual),
            queue_online: Some(false),
            ..Default::default()
        };
        p.apply(&mut g).expect("valid");
        assert_eq!((g.routing, g.queue_online), (Routing::Manual, false));
    }
}
