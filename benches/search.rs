//! Transcript search at the size of a busy desk: ended chats with six
//! messages each written through the store, then the release binary on
//! that folder, which finds its transcript index missing and rebuilds it
//! in the background (timed until every chat is searchable), then the
//! searches staff make (as an admin), each run many times.
//! Prints the rebuild time and p50/p99 per search.
//!
//!     cargo bench --bench search               # 200,000 chats
//!     cargo bench --bench search -- --quick    # 20,000 chats
//!
//! Loopback only, bounded.

// A bench: a failed step should stop it with its message.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[allow(dead_code)]
mod support;

use livedesk::domain::chat::{Chat, ChatState, EndedBy, Message, MessageKind, Visitor};
use livedesk::domain::{GroupId, StaffId};
use livedesk::store::Store;
use std::time::{Duration, Instant};
use support::{set_up_owner, start_server, Samples};

const WORDS: &[&str] = &[
    "order", "parcel", "refund", "invoice", "address", "delivery", "broken", "kettle", "login",
    "password", "size", "colour", "return", "exchange", "voucher", "discount", "receipt",
    "warranty",
];

fn seed(dir: &std::path::Path, n: u64) {
    let store = Store::open(&dir.join("data"), 64 << 20, 0).expect("open store");
    let groups: Vec<GroupId> = (0..4).map(|_| GroupId::generate()).collect();
    let agents: Vec<StaffId> = (0..20).map(|_| StaffId::generate()).collect();
    let mut next = support::xorshift(0x2545_f491_4f6c_dd1d);
    let started = Instant::now();
    let t0 = 1_764_547_200_000u64;
    for i in 0..n {
        let r = next();
        let at = t0 + i * 30_000;
        let g = (r % 4) as usize;
        let agent = agents[g * 5 + ((r >> 8) % 5) as usize];
        let visitor = Visitor {
            name: format!("Visitor {}", r % 100_000),
            email: Some(format!("v{}@example.com", r % 100_000)),
            page_url: None,
        };
        let mut chat = Chat::waiting(groups[g], visitor, at);
        let text = |k: u64| {
            let w = |s: u64| WORDS[((r >> s) % WORDS.len() as u64) as usize];
            format!(
                "My {} and the {} of order {} ({k})",
                w(k * 5),
                w(k * 5 + 3),
                r % 90_000
            )
        };
        for seq in 1..=6u64 {
            let m = Message {
                chat_id: chat.id,
                seq,
                kind: if seq % 2 == 1 {
                    MessageKind::Visitor
                } else {
                    MessageKind::Agent
                },
                author: (seq % 2 == 0).then_some(agent),
                author_name: if seq % 2 == 0 {
                    "Agent".into()
                } else {
                    "Visitor".into()
                },
                body: text(seq),
                client_id: None,
                at: at + seq * 1000,
                event: None,
            };
            store.append_plain_message(&m).expect("message");
        }
        chat.state = ChatState::Ended;
        chat.owner = Some(agent);
        chat.answered_at = Some(at + 5_000);
        chat.ended_at = Some(at + 60_000);
        chat.ended_by = Some(EndedBy::Agent { staff: agent });
        chat.last_seq = 6;
        store.put_chat(&chat).expect("put chat");
    }
    println!(
        "{n} ended chats with 6 messages written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    store.close().expect("close store");
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let n: u64 = if quick { 20_000 } else { 200_000 };
    let dir = tempfile::tempdir().expect("tempdir");
    seed(dir.path(), n);
    let server = start_server(dir.path(), "cache_mb = 64", "");
    actix_web::rt::System::new().block_on(async move {
        let api = set_up_owner(&server, "owner@example.com", "owner password 1").await;
        // The index is built in the background from the store.
        let (_, waited) = support::wait_for_index(&api, "order", Duration::from_secs(1800)).await;
        let usage = support::usage(server.pid());
        println!(
            "transcript index rebuilt from the store in {:.1} s (server RSS {} MB)",
            waited,
            usage.0 / 1024
        );
        let searches = [
            ("a rare pair of words", "refund warranty"),
            ("a word in every chat", "order"),
            ("a typo", "recipt"),
            ("a visitor's email", "v4711@example.com"),
        ];
        let runs = if quick { 20 } else { 50 };
        for (name, q) in searches {
            let mut samples = Samples(Vec::with_capacity(runs));
            let mut total = 0;
            for _ in 0..runs {
                let t = Instant::now();
                let (status, v) = api
                    .get(&format!("/api/chats/search?q={}", q.replace(' ', "%20")))
                    .await;
                assert_eq!(status, 200, "{v}");
                total = v["total"].as_u64().unwrap_or(0);
                samples.0.push(t.elapsed().as_micros() as u64);
            }
            println!("{name:<24} {total:>7} found  {}", samples.summary());
        }
        drop(server);
    });
}
