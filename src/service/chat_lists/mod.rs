//! A page of a chat list without reading the history: the ended chats a
//! list shows are one or more ranges of the store's list indexes
//! (`store::chat_lists`), which never overlap; the open chats (few: the
//! live desk) are read, filtered and keyed in the same byte order. A page
//! is then found from the indexes' block counts ([`select`]) and only its
//! own chats are read.
//!
//! Sorting by group or agent walks one group's or owner's range at a time
//! in name order ("segments"), so renaming a group or agent rewrites no
//! key.

use crate::domain::chat::{Chat, ChatState};
use crate::domain::chat_list::{can_see, ChatRow, SortKey};
use crate::domain::chat_order::{id_of_key, Column, Entity, OrderFields, NO_ONE};
use crate::domain::staff::{Role, Staff};
use crate::domain::{ChatId, GroupId, StaffId};
use crate::store::chat_lists::{ListBlocks, ListId};

mod select;
use crate::store::{Store, StoreError};
use select::{select, Picked, StoreKeys};
use std::collections::{BTreeMap, HashMap};

use super::chats::{Rows, Scope, StateFilter};

/// The query of a list, as the service was asked it.
pub(crate) struct ListAsk {
    pub scope: Scope,
    pub state: StateFilter,
    pub group: Option<GroupId>,
    pub agent: Option<StaffId>,
    pub sort: SortKey,
    pub desc: bool,
    /// Position of the first row and how many.
    pub start: u64,
    pub n: usize,
}

/// The ended chats `staff` sees in a list (ARCHITECTURE: admins all;
/// managers their groups' chats and their own; agents their own), as
/// whole index lists that do not overlap.
fn ended_lists(store: &Store, staff: &Staff, ask: &ListAsk) -> Result<Vec<ListId>, StoreError> {
    let me = staff.id;
    // My joined chats of the groups that pass, or of their owners that pass.
    let joined = |group: &dyn Fn(GroupId) -> bool| -> Result<Vec<ListId>, StoreError> {
        Ok(store
            .joined_groups(me)?
            .into_iter()
            .filter(|g| group(*g))
            .map(|g| ListId::JoinedGroup(me, g))
            .collect())
    };
    let joined_owned = |group: &dyn Fn(GroupId) -> bool,
                        owner: &dyn Fn(StaffId) -> bool|
     -> Result<Vec<ListId>, StoreError> {
        let mut lists = Vec::new();
        for g in store.joined_groups(me)?.into_iter().filter(|g| group(*g)) {
            for o in store
                .joined_owners(me, g)?
                .into_iter()
                .filter(|o| owner(*o))
            {
                lists.push(ListId::JoinedOwner(me, o, g));
            }
        }
        Ok(lists)
    };
    let any_group = |_: GroupId| true;
    let mine = || -> Result<Vec<ListId>, StoreError> {
        let mut lists = vec![ListId::Owner(me)];
        lists.extend(joined(&any_group)?);
        Ok(lists)
    };
    if staff.role.is_admin() {
        return match (ask.scope, ask.group, ask.agent) {
            (Scope::Mine, _, _) => mine(),
            (Scope::Group, Some(g), _) => Ok(vec![ListId::Group(g)]),
            (Scope::Agent, _, Some(a)) => Ok(vec![ListId::Owner(a)]),
            (Scope::Agent, _, None) => Ok(vec![ListId::Owned]),
            (Scope::All | Scope::Group, _, _) => Ok(vec![ListId::All]),
        };
    }
    let managed: Vec<GroupId> = if staff.role == Role::Manager {
        staff.groups.clone()
    } else {
        Vec::new()
    };
    let listed: Vec<GroupId> = store
        .list_entities(ListId::All, Column::Group)?
        .into_iter()
        .map(|(g, _)| GroupId::from_bytes(g))
        .collect();
    // A manager of every group that has chats sees what an admin sees.
    let covered = !managed.is_empty() && listed.iter().all(|g| managed.contains(g));
    let outside = |g: GroupId| !managed.contains(&g);
    // The chats I owned outside the groups I manage.
    let own_outside = || -> Result<Vec<ListId>, StoreError> {
        if staff.role != Role::Manager {
            return Ok(vec![ListId::Owner(me)]);
        }
        Ok(store
            .owner_groups(me)?
            .into_iter()
            .filter(|g| outside(*g))
            .map(|g| ListId::OwnerGroup(me, g))
            .collect())
    };
    Ok(match (ask.scope, ask.group, ask.agent) {
        (Scope::Mine, _, _) => mine()?,
        (Scope::Group, Some(g), _) if !outside(g) => vec![ListId::Group(g)],
        (Scope::Group, Some(g), _) => vec![ListId::OwnerGroup(me, g), ListId::JoinedGroup(me, g)],
        (Scope::Agent, _, Some(a)) if covered || a == me => vec![ListId::Owner(a)],
        (Scope::Agent, _, Some(a)) => {
            let mut lists: Vec<ListId> =
                managed.iter().map(|g| ListId::OwnerGroup(a, *g)).collect();
            lists.extend(joined_owned(&outside, &|o| o == a)?);
            lists
        }
        (Scope::Agent, _, None) if covered => vec![ListId::Owned],
        (Scope::Agent, _, None) => {
            // A managed group's answered chats: each of its owners' lists.
            let mut lists = Vec::new();
            for g in &managed {
                for (e, _) in store.list_entities(ListId::Group(*g), Column::Agent)? {
                    if e != NO_ONE {
                        lists.push(ListId::OwnerGroup(StaffId::from_bytes(e), *g));
                    }
                }
            }
            lists.extend(own_outside()?);
            lists.extend(joined_owned(&outside, &|_| true)?);
            lists
        }
        (Scope::All | Scope::Group, _, _) if covered => vec![ListId::All],
        (Scope::All | Scope::Group, _, _) if staff.role != Role::Manager => mine()?,
        (Scope::All | Scope::Group, _, _) => {
            let mut lists: Vec<ListId> = managed.iter().map(|g| ListId::Group(*g)).collect();
            lists.extend(own_outside()?);
            lists.extend(joined(&outside)?);
            lists
        }
    })
}

/// Whether an open chat is in the list.
fn open_in(staff: &Staff, ask: &ListAsk, chat: &Chat) -> bool {
    let me = staff.id;
    can_see(staff, chat)
        && match ask.scope {
            Scope::Mine => {
                chat.owner == Some(me)
                    || chat.conference.contains(&me)
                    || chat.handoffs.iter().any(|h| h.from == me)
            }
            Scope::Group => ask.group.is_none_or(|g| chat.group == g),
            Scope::Agent => ask
                .agent
                .map_or(chat.owner.is_some(), |a| chat.owner == Some(a)),
            Scope::All => true,
        }
}

/// Which id ranges of a group or agent column a list is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ranges {
    All,
    One(Entity),
    /// Every owner's, not the "no agent" one.
    Owners,
}

/// The same set as id ranges of a list that keeps a group or agent
/// column: a list of one group (or owner) is that group's (owner's) range
/// of a wider list, and the owned chats by agent are the every-chat
/// list's agent column without its "no agent" range.
fn in_column(list: ListId, column: Column) -> (ListId, Ranges) {
    match (list, column) {
        (ListId::Group(g), Column::Group) => (ListId::All, Ranges::One(g.to_bytes())),
        (ListId::Owner(s), Column::Agent) => (ListId::All, Ranges::One(s.to_bytes())),
        (ListId::Owned, Column::Agent) => (ListId::All, Ranges::Owners),
        (ListId::OwnerGroup(s, g), Column::Group) => (ListId::Owner(s), Ranges::One(g.to_bytes())),
        (ListId::OwnerGroup(s, g), Column::Agent) => (ListId::Group(g), Ranges::One(s.to_bytes())),
        (ListId::JoinedOwner(s, o, g), Column::Agent) => {
            (ListId::JoinedGroup(s, g), Ranges::One(o.to_bytes()))
        }
        (list, _) => (list, Ranges::All),
    }
}

/// One stretch of the list's order: every source and open chat of one
/// group or owner (sorting by those), or of the whole list.
#[derive(Default)]
struct Segment {
    /// List column ranges: (list, the id range if only that one).
    srcs: Vec<(ListId, Option<(Entity, u64)>)>,
    /// Open chats: (order key, row).
    mem: Vec<(Vec<u8>, ChatRow)>,
}

impl Segment {
    fn total(&self, blocks: &HashMap<ListId, ListBlocks>) -> u64 {
        let srcs: u64 = self
            .srcs
            .iter()
            .map(|(l, only)| match only {
                Some((_, n)) => *n,
                None => blocks.get(l).map_or(0, ListBlocks::total),
            })
            .sum();
        srcs + self.mem.len() as u64
    }
}

/// The rows of a page and how many the list holds.
pub(crate) fn page(
    store: &Store,
    staff: &Staff,
    ask: &ListAsk,
    rows: &Rows,
) -> Result<(Vec<ChatRow>, u64), StoreError> {
    let column = Column::of(ask.sort);
    let segmented = matches!(column, Column::Group | Column::Agent);
    let mut segments: BTreeMap<Entity, Segment> = BTreeMap::new();
    let mut blocks: HashMap<ListId, ListBlocks> = HashMap::new();
    if ask.state != StateFilter::Active {
        for list in ended_lists(store, staff, ask)? {
            let (list, ranges) = if segmented {
                in_column(list, column)
            } else {
                (list, Ranges::All)
            };
            if let std::collections::hash_map::Entry::Vacant(v) = blocks.entry(list) {
                v.insert(store.list_blocks(list, column)?);
            }
            if !segmented {
                segments.entry(NO_ONE).or_default().srcs.push((list, None));
                continue;
            }
            for (e, n) in store.list_entities(list, column)? {
                let keep = match ranges {
                    Ranges::All => true,
                    Ranges::One(one) => one == e,
                    Ranges::Owners => e != NO_ONE,
                };
                if keep {
                    segments
                        .entry(e)
                        .or_default()
                        .srcs
                        .push((list, Some((e, n))));
                }
            }
        }
    }
    if ask.state != StateFilter::Completed {
        for chat in store.open_chats()? {
            if chat.state == ChatState::Ended || !open_in(staff, ask, &chat) {
                continue;
            }
            let row = rows.row(chat);
            let f = OrderFields::row(&row);
            let key = f.key(column, ask.sort, ask.desc);
            let e = if segmented {
                f.entity(column).unwrap_or(NO_ONE)
            } else {
                NO_ONE
            };
            segments.entry(e).or_default().mem.push((key, row));
        }
    }
    // Segments in ascending order: by group or agent name, then id.
    let mut order: Vec<(Entity, Segment)> = segments.into_iter().collect();
    if segmented {
        let name = |e: &Entity| -> (Option<String>, Entity) {
            let name = match column {
                Column::Group => Some(
                    rows.group_name(GroupId::from_bytes(*e))
                        .unwrap_or_default()
                        .to_lowercase(),
                ),
                _ if *e == NO_ONE => None,
                _ => rows.staff_name(StaffId::from_bytes(*e)).map(str::to_owned),
            };
            (name, *e)
        };
        order.sort_by_cached_key(|(e, _)| name(e));
    }
    for (_, s) in &mut order {
        s.mem.sort_by(|a, b| a.0.cmp(&b.0));
    }
    let total: u64 = order.iter().map(|(_, s)| s.total(&blocks)).sum();
    // A descending page is the mirror of an ascending one.
    let (lo, hi) = if ask.desc {
        let hi = total.saturating_sub(ask.start);
        (hi.saturating_sub(ask.n as u64), hi)
    } else {
        (ask.start, (ask.start + ask.n as u64).min(total))
    };
    let mut picked: Vec<Either> = Vec::new();
    let mut offset = 0;
    for (_, seg) in &order {
        let size = seg.total(&blocks);
        let (s_lo, s_hi) = (lo.max(offset), hi.min(offset + size));
        if s_lo < s_hi {
            let srcs = seg
                .srcs
                .iter()
                .map(|(l, only)| {
                    let b = blocks.get(l).ok_or_else(|| {
                        StoreError::Corrupt("a chat list's blocks were not read".into())
                    })?;
                    StoreKeys::new(store, *l, column, b, *only)
                })
                .collect::<Result<Vec<_>, _>>()?;
            for p in select(&srcs, &seg.mem, s_lo - offset, (s_hi - s_lo) as usize)? {
                picked.push(match p {
                    Picked::Key(k) => Either::Id(
                        id_of_key(&k)
                            .ok_or_else(|| StoreError::Corrupt("a chat list key".into()))?,
                    ),
                    Picked::Mem(row) => Either::Row(Box::new(row.clone())),
                });
            }
        }
        offset += size;
        if offset >= hi {
            break;
        }
    }
    if ask.desc {
        picked.reverse();
    }
    let ids: Vec<ChatId> = picked
        .iter()
        .filter_map(|p| match p {
            Either::Id(id) => Some(*id),
            Either::Row(_) => None,
        })
        .collect();
    let mut stored = store.read_each(&ids, Store::chat)?.into_iter();
    let mut out = Vec::with_capacity(picked.len());
    for p in picked {
        match p {
            Either::Row(r) => out.push(*r),
            // A chat deleted since its key was read is left out.
            Either::Id(_) => {
                if let Some(chat) = stored.next().flatten() {
                    out.push(rows.row(chat));
                }
            }
        }
    }
    Ok((out, total))
}

enum Either {
    Id(ChatId),
    Row(Box<ChatRow>),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(name: &str, role: Role, groups: Vec<GroupId>) -> Staff {
        Staff {
            id: StaffId::generate(),
            email: format!("{name}@x"),
            display_name: name.into(),
            role,
            chat_enabled: true,
            max_concurrent_chats: 3,
            groups,
            disabled: false,
            created_at: 1,
        }
    }

    /// Every viewer, scope, filter, state, sort and direction, at the
    /// first, a middle, the last and a too-far page: the rows and total are
    /// those of the whole history filtered and sorted in memory (the old
    /// way), over blocks of at most 8 keys (the test size).
    #[test]
    fn pages_equal_the_whole_history_filtered_and_sorted() {
        use crate::domain::chat::{Handoff, Message, MessageKind, Visitor};
        use crate::domain::chat_list::sort_rows;
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), 8 << 20, 0).expect("open");
        let g: Vec<GroupId> = (0..3).map(|_| GroupId::generate()).collect();
        let admin = person("Ada", Role::Admin, vec![]);
        let manager = person("Mia", Role::Manager, vec![g[0]]);
        let all_groups = person("Max", Role::Manager, g.clone());
        let sam1 = person("Sam", Role::Agent, vec![g[0], g[1]]);
        let sam2 = person("Sam", Role::Agent, vec![g[2]]);
        let gone = StaffId::generate(); // a deleted agent: no name
        let owners = [
            None,
            Some(manager.id),
            Some(sam1.id),
            Some(sam2.id),
            Some(admin.id),
            Some(gone),
        ];
        let people = [manager.id, sam1.id, sam2.id, all_groups.id];
        let mut next = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = move || {
            next ^= next << 13;
            next ^= next >> 7;
            next ^= next << 17;
            next
        };
        let now = 10_000_000;
        let mut ids = Vec::new();
        for i in 0..160u64 {
            let r = rnd();
            let visitor = Visitor {
                name: ["anna", "Anna", "bo", "Åsa", "cid"][(r % 5) as usize].into(),
                email: (r % 3 != 0).then(|| format!("{}@x", (r >> 8) % 4)),
                page_url: None,
            };
            let mut chat = Chat::waiting(
                g[((r >> 4) % 3) as usize],
                visitor,
                1_000 + (r >> 12) % 4_000,
            );
            let first = Message {
                chat_id: chat.id,
                seq: 1,
                kind: MessageKind::Visitor,
                author: None,
                author_name: "v".into(),
                body: "hi".into(),
                client_id: None,
                at: chat.started_at,
                event: None,
            };
            let mut token = [0u8; 32];
            token[..8].copy_from_slice(&i.to_be_bytes());
            store.insert_chat(&chat, &token, &first).expect("insert");
            chat.owner = owners[((r >> 20) % 6) as usize];
            if (r >> 24) % 5 == 0 {
                chat.conference.push(people[((r >> 28) % 4) as usize]);
            }
            if (r >> 32) % 6 == 0 {
                chat.handoffs.push(Handoff {
                    from: people[((r >> 36) % 4) as usize],
                    to: "someone".into(),
                    reason: "x".into(),
                    at: chat.started_at + 1,
                });
            }
            if (r >> 40) % 5 == 0 {
                chat.state = ChatState::Active;
                chat.visitor_active_at = chat.started_at + (r >> 44) % 3_000_000;
            } else {
                chat.state = ChatState::Ended;
                chat.ended_at = Some(chat.started_at + (r >> 44) % 600_000);
            }
            store.put_chat(&chat).expect("put");
            ids.push(chat.id);
        }
        for id in ids.iter().step_by(17) {
            let _ = store.delete_chat(*id); // open ones are refused
        }
        let mut group_names = HashMap::new();
        for (gid, name) in g.iter().zip(["beta", "Alpha", "gamma"]) {
            group_names.insert(*gid, name.to_string());
        }
        let mut staff_names = HashMap::new();
        for p in [&admin, &manager, &all_groups, &sam1, &sam2] {
            staff_names.insert(p.id, p.display_name.clone());
        }
        let rows = Rows::of(group_names, staff_names, now);
        let history = store.all_chats().expect("all");
        let sorts = [
            SortKey::Visitor,
            SortKey::Email,
            SortKey::Group,
            SortKey::Agent,
            SortKey::Started,
            SortKey::Duration,
            SortKey::Idle,
        ];
        let asks = [
            (Scope::Mine, None, None),
            (Scope::All, None, None),
            (Scope::Group, None, None),
            (Scope::Group, Some(g[0]), None),
            (Scope::Group, Some(g[2]), None),
            (Scope::Agent, None, None),
            (Scope::Agent, None, Some(sam1.id)),
            (Scope::Agent, None, Some(manager.id)),
            (Scope::Agent, None, Some(gone)),
        ];
        let per = 13usize;
        let mut checked = 0;
        for viewer in [&admin, &manager, &all_groups, &sam1, &sam2] {
            for (scope, group, agent) in asks {
                for state in [
                    StateFilter::Active,
                    StateFilter::Completed,
                    StateFilter::Any,
                ] {
                    for sort in sorts {
                        for desc in [false, true] {
                            let mut ask = ListAsk {
                                scope,
                                state,
                                group,
                                agent,
                                sort,
                                desc,
                                start: 0,
                                n: per,
                            };
                            let mut want: Vec<ChatRow> = history
                                .iter()
                                .filter(|c| open_in(viewer, &ask, c))
                                .filter(|c| match state {
                                    StateFilter::Active => c.state != ChatState::Ended,
                                    StateFilter::Completed => c.state == ChatState::Ended,
                                    StateFilter::Any => true,
                                })
                                .map(|c| rows.row(c.clone()))
                                .collect();
                            sort_rows(&mut want, sort, desc);
                            let pages = want.len().div_ceil(per);
                            for page_no in [0, pages / 2, pages.saturating_sub(1), pages] {
                                ask.start = (page_no * per) as u64;
                                let (got, total) = page(&store, viewer, &ask, &rows).expect("page");
                                let label = format!(
                                    "{} {scope:?} {group:?} {agent:?} {state:?} {sort:?} desc={desc} page {page_no}",
                                    viewer.display_name
                                );
                                assert_eq!(total as usize, want.len(), "{label}");
                                let got: Vec<ChatId> = got.iter().map(|r| r.id).collect();
                                let w: Vec<ChatId> = want
                                    .iter()
                                    .skip(page_no * per)
                                    .take(per)
                                    .map(|r| r.id)
                                    .collect();
                                assert_eq!(got, w, "{label}");
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
        assert!(checked > 5000);
    }
}
