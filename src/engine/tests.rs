//! Property test of ENGINE.md's invariants: random sequences of events
//! (agents connect, drop, change status, accept, decline, end; visitors
//! start, write, leave; the clock moves) drive the owner task's state, and
//! every invariant is checked after every event. Seeded, so a failure
//! names the seed that reproduces it.

use super::conn::Conn;
use super::core::Core;
use super::{Command, Delivery};
use crate::config::Config;
use crate::domain::chat::{ChatState, StartChatRequest};
use crate::domain::status::Status;
use crate::domain::{ChatId, GroupId, ManualClock, NewGroup, Role, Routing, Staff, StaffId};
use crate::store::{StaffRow, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

struct World {
    core: Core,
    deliveries: mpsc::UnboundedReceiver<Delivery>,
    clock: Arc<ManualClock>,
    agents: Vec<Staff>,
    groups: Vec<GroupId>,
    conns: HashMap<StaffId, Vec<(Conn, super::conn::ConnRx)>>,
    visitors: Vec<ChatId>,
    _dir: tempfile::TempDir,
}

fn world(seed: u64, routing: Routing) -> World {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(&dir.path().join("data"), 8 << 20, 0).expect("store"));
    let clock = Arc::new(ManualClock::starting_now());
    let mut groups = Vec::new();
    for name in ["A", "B"] {
        let mut g = serde_json::from_str::<NewGroup>(&format!(r#"{{"name":"{name}"}}"#))
            .expect("json")
            .build(GroupId::generate(), 30, 0)
            .expect("valid");
        g.routing = routing;
        store.insert_group(&g).expect("group");
        groups.push(g.id);
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut agents = Vec::new();
    for i in 0..5 {
        let member_of: Vec<GroupId> = groups
            .iter()
            .copied()
            .filter(|_| rng.gen_bool(0.7))
            .collect();
        let staff = Staff {
            id: StaffId::generate(),
            email: format!("a{i}@x.io"),
            display_name: format!("A{i}"),
            role: Role::Agent,
            chat_enabled: true,
            max_concurrent_chats: rng.gen_range(1..=3),
            groups: member_of,
            disabled: false,
            created_at: 0,
        };
        store
            .insert_staff(&StaffRow {
                staff: staff.clone(),
                password_hash: String::new(),
                session_epoch: 0,
            })
            .expect("staff");
        agents.push(staff);
    }
    let (tx, deliveries) = mpsc::unbounded_channel();
    let shared: crate::domain::SharedClock = clock.clone();
    let core = Core::rebuild(store, shared, Config::default().chat, tx).expect("core");
    World {
        core,
        deliveries,
        clock,
        agents,
        groups,
        conns: HashMap::new(),
        visitors: Vec::new(),
        _dir: dir,
    }
}

impl World {
    /// Runs what waits for durability (as the deliverer would).
    fn settle_deliveries(&mut self) {
        while let Ok(d) = self.deliveries.try_recv() {
            (d.then)(Ok(()));
        }
        // Drain outbound frames so no connection is kicked for being slow.
        for list in self.conns.values_mut() {
            for (_, rx) in list.iter_mut() {
                while rx.rx.try_recv().is_ok() {}
            }
        }
    }

    fn step(&mut self, rng: &mut StdRng) -> String {
        let agent = self.agents[rng.gen_range(0..self.agents.len())].clone();
        let chat = (!self.core.chats.is_empty()).then(|| {
            *self
                .core
                .chats
                .keys()
                .nth(rng.gen_range(0..self.core.chats.len()))
                .expect("some")
        });
        let (reply, _rx) = oneshot::channel();
        let event = match rng.gen_range(0..100) {
            0..=9 => {
                let (conn, rx) = Conn::new(None);
                self.conns
                    .entry(agent.id)
                    .or_default()
                    .push((conn.clone(), rx));
                self.core
                    .handle_for_test(Command::AttachAgent(agent.clone(), conn));
                format!("connect {}", agent.display_name)
            }
            10..=14 => {
                if let Some((conn, _)) = self.conns.get_mut(&agent.id).and_then(|l| l.pop()) {
                    self.core
                        .handle_for_test(Command::DetachAgent(agent.id, conn.id));
                }
                format!("drop {}", agent.display_name)
            }
            15..=29 => {
                let status = [
                    Status::Available,
                    Status::Available,
                    Status::Busy,
                    Status::Away,
                    Status::Offline,
                ][rng.gen_range(0..5)];
                let (reply, _rx) = oneshot::channel();
                self.core.handle_for_test(Command::SetStatus {
                    actor: agent.clone(),
                    target: agent.id,
                    status,
                    reply,
                });
                format!("{} sets {status:?}", agent.display_name)
            }
            30..=49 => {
                let group = self.groups[rng.gen_range(0..self.groups.len())];
                let req = StartChatRequest {
                    name: "V".into(),
                    email: None,
                    group,
                    question: "q".into(),
                    page_url: None,
                };
                let (reply, _rx) = oneshot::channel();
                self.core.handle_for_test(Command::StartChat(req, reply));
                "visitor starts".into()
            }
            50..=64 => match chat {
                Some(c) => {
                    self.core
                        .handle_for_test(Command::Accept(agent.id, c, reply));
                    format!("{} accepts", agent.display_name)
                }
                None => "nothing".into(),
            },
            65..=69 => match chat {
                Some(c) => {
                    self.core
                        .handle_for_test(Command::Decline(agent.id, c, reply));
                    format!("{} declines", agent.display_name)
                }
                None => "nothing".into(),
            },
            70..=77 => match chat {
                Some(c) => {
                    self.core.handle_for_test(Command::EndChat(
                        agent.id,
                        c,
                        "Resolved".into(),
                        reply,
                    ));
                    format!("{} ends", agent.display_name)
                }
                None => "nothing".into(),
            },
            78..=82 => match chat {
                Some(c) => {
                    self.core.handle_for_test(Command::VisitorEnd(c));
                    "visitor leaves".into()
                }
                None => "nothing".into(),
            },
            83..=89 => match chat {
                Some(c) => {
                    let (conn, _rx) = Conn::new(None);
                    self.core.handle_for_test(Command::VisitorMessage {
                        chat: c,
                        conn,
                        client_id: format!("c{}", rng.gen::<u32>()),
                        body: "hi".into(),
                    });
                    self.visitors.push(c);
                    "visitor writes".into()
                }
                None => "nothing".into(),
            },
            _ => {
                let secs = rng.gen_range(0..45);
                self.clock.advance(Duration::from_secs(secs));
                self.core.handle_for_test(Command::Tick(None));
                format!("clock +{secs}s")
            }
        };
        self.settle_deliveries();
        event
    }

    /// Every invariant of ENGINE.md that the live state can show.
    fn check(&self) -> Result<(), String> {
        let core = &self.core;
        let mut offered_to: HashMap<ChatId, usize> = HashMap::new();
        let mut owned_by: HashMap<ChatId, usize> = HashMap::new();
        for a in core.agents.values() {
            // 2. offers + owned chats within the limit.
            if a.load() > a.staff.max_concurrent_chats {
                return Err(format!(
                    "{} holds {} > {}",
                    a.staff.display_name,
                    a.load(),
                    a.staff.max_concurrent_chats
                ));
            }
            // The automatic busy rule.
            let at_limit = a.load() >= a.staff.max_concurrent_chats;
            if a.presence.status == Status::Available && at_limit {
                return Err(format!("{} available at the limit", a.staff.display_name));
            }
            if a.presence.status == Status::Busy && !a.presence.busy_by_hand && !at_limit {
                return Err(format!(
                    "{} auto-busy below the limit",
                    a.staff.display_name
                ));
            }
            for c in &a.offers {
                *offered_to.entry(*c).or_default() += 1;
            }
            for c in &a.chats {
                *owned_by.entry(*c).or_default() += 1;
            }
        }
        for (id, live) in &core.chats {
            let chat = &live.chat;
            match chat.state {
                ChatState::Offered => {
                    // 3. offered to exactly one agent, who has it.
                    let (to, _) = live.offer.ok_or("offered without an offer")?;
                    if offered_to.get(id) != Some(&1) || !core.agents[&to].offers.contains(id) {
                        return Err(format!("chat {id} offered inconsistently"));
                    }
                }
                ChatState::Active => {
                    // 1. exactly one owner, who has it.
                    let owner = chat.owner.ok_or("active without owner")?;
                    if owned_by.get(id) != Some(&1) || !core.agents[&owner].chats.contains(id) {
                        return Err(format!("chat {id} owned inconsistently"));
                    }
                }
                ChatState::Waiting => {
                    if offered_to.contains_key(id) || owned_by.contains_key(id) {
                        return Err(format!("waiting chat {id} held by an agent"));
                    }
                    let queued = core
                        .groups
                        .get(&chat.group)
                        .is_some_and(|g| g.queue.contains(&live.queue_key()));
                    if !queued {
                        return Err(format!("waiting chat {id} not in its queue"));
                    }
                    // 4. work-conserving: no eligible agent with a free slot idles.
                    let routing = core.groups.get(&chat.group).map(|g| g.group.routing);
                    if routing != Some(Routing::Manual) {
                        let idle = core.agents.values().find(|a| {
                            a.staff.in_group(chat.group)
                                && a.presence.takes_offers()
                                && !a.conns.is_empty()
                                && a.load() < a.staff.max_concurrent_chats
                                && Some(a.staff.id) != live.last_refused
                        });
                        if let Some(a) = idle {
                            return Err(format!(
                                "chat {id} waits while {} is free",
                                a.staff.display_name
                            ));
                        }
                    }
                }
                ChatState::Ended => return Err(format!("ended chat {id} still live")),
            }
        }
        Ok(())
    }

    /// 7. Every chat's stored messages are 1..=last_seq with no gap.
    fn check_store(&mut self) -> Result<(), String> {
        // As the owner task does each second and at shutdown.
        self.core.write_stale_records();
        for chat in self.core.store.all_chats().map_err(|e| e.to_string())? {
            let seqs: Vec<u64> = self
                .core
                .store
                .messages_after(chat.id, 0, usize::MAX)
                .map_err(|e| e.to_string())?
                .iter()
                .map(|m| m.seq)
                .collect();
            if seqs != (1..=chat.last_seq).collect::<Vec<_>>() {
                return Err(format!("chat {} has seqs {seqs:?}", chat.id));
            }
        }
        Ok(())
    }
}

fn run(seed: u64, routing: Routing, steps: usize) {
    let mut w = world(seed, routing);
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let mut log = Vec::new();
    for _ in 0..steps {
        log.push(w.step(&mut rng));
        if let Err(e) = w.check() {
            let tail: Vec<&String> = log.iter().rev().take(12).collect();
            panic!("seed {seed}, {routing:?}: {e}\nlast events (newest first): {tail:#?}");
        }
    }
    if let Err(e) = w.check_store() {
        panic!("seed {seed}: {e}");
    }
}

/// `LIVEDESK_ENGINE_SEEDS=1000 cargo test --lib engine::tests` runs longer.
#[test]
fn invariants_hold_under_random_events() {
    let seeds = std::env::var("LIVEDESK_ENGINE_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40u64);
    for seed in 0..seeds {
        run(seed, Routing::RoundRobin, 400);
        run(seed, Routing::LeastBusy, 400);
    }
    for seed in 0..10 {
        run(seed, Routing::Manual, 300);
    }
}
