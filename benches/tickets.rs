//! The ticket list at the size of a busy desk: 100,000 tickets in a real
//! store, then the list queries the console makes (unsolved by last change,
//! a word search, a group's open ones by priority, a deep page sorted by
//! subject, mine), each run many times; prints p50 and p99 per query
//! against the 20 ms target. `cargo bench --bench tickets [-- --quick]`
//! (quick: 20,000 tickets).

// A bench: a failed step should stop it with its message.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[allow(dead_code)]
mod support;

use livedesk::domain::ticket::{Priority, Requester, Source, TicketDraft, TicketStatus};
use livedesk::domain::ticket_list::{words, AssigneeFilter, TicketQuery, TicketSort};
use livedesk::domain::{GroupId, StaffId};
use livedesk::store::{Existing, Store};
use std::time::{Duration, Instant};

const WORDS: &[&str] = &[
    "order", "parcel", "refund", "invoice", "address", "delivery", "broken", "kettle", "login",
    "password", "size", "colour", "return", "exchange", "voucher", "discount",
];

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let n: u64 = if quick { 20_000 } else { 100_000 };
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path(), 64 << 20, 0).expect("open store");
    let groups: Vec<GroupId> = (0..8).map(|_| GroupId::generate()).collect();
    let staff: Vec<StaffId> = (0..40).map(|_| StaffId::generate()).collect();
    let started = Instant::now();
    let mut next = support::xorshift(0x2545_f491_4f6c_dd1d);
    for i in 0..n {
        let r = next();
        let subject = format!(
            "{} {} {} {}",
            WORDS[(r % 16) as usize],
            WORDS[((r >> 4) % 16) as usize],
            WORDS[((r >> 8) % 16) as usize],
            r % 10_000
        );
        let draft = TicketDraft {
            subject,
            requester: Requester {
                name: format!("Customer {}", r % 50_000),
                email: Some(format!("c{}@example.com", r % 50_000)),
            },
            group: groups[((r >> 12) % 8) as usize],
            source: [
                Source::Chat,
                Source::MissedChat,
                Source::OfflineMessage,
                Source::Manual,
            ][((r >> 16) % 4) as usize],
            chat: None,
            offline_message: None,
            priority: [
                Priority::Low,
                Priority::Normal,
                Priority::High,
                Priority::Urgent,
            ][((r >> 18) % 4) as usize],
            assignee: (!(r >> 20).is_multiple_of(3)).then(|| staff[((r >> 22) % 40) as usize]),
            by: None,
            first_note: None,
        };
        let status = [
            TicketStatus::Open,
            TicketStatus::Pending,
            TicketStatus::Solved,
            TicketStatus::Closed,
        ][((r >> 26) % 4) as usize];
        let at = 1_700_000_000_000 + i * 1000 + (r % 997);
        store
            .make_ticket(None, &|e| match e {
                Existing::Next(num) => {
                    let mut t = draft.clone().into_ticket(num, at);
                    t.status = status;
                    Some(t)
                }
                Existing::Found(_) => None,
            })
            .expect("make ticket");
    }
    println!(
        "{n} tickets written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let reopened = Instant::now();
    drop(store);
    let store = Store::open(dir.path(), 64 << 20, 0).expect("reopen");
    println!(
        "reopened (index rebuilt from the store) in {:.2} s",
        reopened.elapsed().as_secs_f64()
    );

    let base = TicketQuery {
        statuses: vec![],
        priorities: vec![],
        sources: vec![],
        group: None,
        assignee: AssigneeFilter::Any,
        words: vec![],
        sort: TicketSort::Updated,
        desc: true,
        page: 1,
        per_page: 50,
    };
    let agent_groups = [groups[0], groups[1]];
    let queries: Vec<(&str, TicketQuery, bool)> = vec![
        (
            "admin: unsolved, by last change",
            TicketQuery {
                statuses: vec![TicketStatus::Open, TicketStatus::Pending],
                ..base.clone()
            },
            false,
        ),
        (
            "admin: search \"refund kettle\"",
            TicketQuery {
                words: words("refund kettle"),
                ..base.clone()
            },
            false,
        ),
        (
            "admin: search a word every ticket has",
            TicketQuery {
                words: words("example.com"),
                ..base.clone()
            },
            false,
        ),
        (
            "agent (2 groups): open, by priority",
            TicketQuery {
                statuses: vec![TicketStatus::Open],
                sort: TicketSort::Priority,
                ..base.clone()
            },
            true,
        ),
        (
            "admin: all, by subject, page 500",
            TicketQuery {
                sort: TicketSort::Subject,
                desc: false,
                page: if quick { 100 } else { 500 },
                ..base.clone()
            },
            false,
        ),
        (
            "agent: mine, high and urgent",
            TicketQuery {
                assignee: AssigneeFilter::Staff(staff[3]),
                priorities: vec![Priority::High, Priority::Urgent],
                ..base.clone()
            },
            true,
        ),
    ];
    let t = Instant::now();
    let c = store.with_ticket_rows(|rows| {
        rows.iter()
            .filter(|r| r.status == TicketStatus::Open)
            .count()
    });
    println!(
        "plain scan: {c} open in {:.2} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let runs = if quick { 50 } else { 200 };
    let mut worst = Duration::ZERO;
    for (name, q, scoped) in &queries {
        let mut times = Vec::with_capacity(runs);
        let mut total = 0;
        for _ in 0..runs {
            let t = Instant::now();
            let (count, page) = store.with_ticket_rows(|rows| {
                let (count, page) = q.run(rows, |r| {
                    !scoped || agent_groups.contains(&r.group) || r.assignee == Some(staff[3])
                });
                (count, page.len())
            });
            times.push(t.elapsed());
            total = count;
            std::hint::black_box(page);
        }
        times.sort();
        let p50 = times[runs / 2];
        let p99 = times[runs * 99 / 100];
        worst = worst.max(p99);
        println!(
            "{name:<40} {total:>7} match  p50 {:>6.2} ms  p99 {:>6.2} ms",
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3
        );
    }
    println!(
        "worst p99 {:.2} ms (target < 20 ms at 100,000 tickets): {}",
        worst.as_secs_f64() * 1e3,
        if worst < Duration::from_millis(20) {
            "met"
        } else {
            "MISSED"
        }
    );
}
