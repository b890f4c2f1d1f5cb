//! Plain data types and pure rules of the desk: ids, the clock, staff and
//! roles, groups, and who may do what. No I/O lives here: no sled, no actix,
//! no tokio. Every layer above uses these types; the rules are unit tested here.

pub mod article;
pub mod canned;
pub mod chat;
pub mod chat_list;
pub mod chat_order;
pub mod clock;
pub mod group;
pub mod hours;
pub mod ids;
pub mod mail;
pub mod masking;
pub mod offline;
pub mod permissions;
pub mod rate;
pub mod rating;
pub mod report;
pub mod routing;
pub mod shift;
pub mod staff;
pub mod status;
pub mod ticket;
pub mod ticket_index;
pub mod ticket_list;
pub mod validate;

pub use clock::{Clock, ManualClock, Millis, SharedClock, SystemClock};
pub use group::{Group, GroupPatch, NewGroup, Routing, WidgetLook};
pub use ids::{ArticleId, CannedId, ChatId, GroupId, MailId, OfflineMessageId, ShiftId, StaffId};
pub use staff::{NewStaff, Role, Staff, StaffPatch};
