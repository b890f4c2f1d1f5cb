//! Backup and restore: `livedesk backup` takes a consistent snapshot of a
//! running desk under load, `livedesk restore` fills a new folder from it,
//! and a desk started there has every staff member, group, chat and
//! message that was there when the backup began.

use crate::harness::*;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_livedesk");

fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("LIVEDESK__LOG__LEVEL", "warn")
        .output()
        .expect("run livedesk");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Everything staff can list: staff, groups, and every chat with its messages.
async fn everything(owner: &Client) -> (Value, Value, HashMap<String, Vec<Value>>) {
    let staff = owner.get("/api/staff").await.json;
    let groups = owner.get("/api/groups").await.json;
    let list = owner
        .get("/api/chats?scope=all&state=any&per_page=200")
        .await
        .json;
    let mut chats = HashMap::new();
    for row in list["chats"].as_array().expect("rows") {
        let id = row["id"].as_str().expect("id").to_string();
        let t = owner.get(&format!("/api/chats/{id}")).await.json;
        chats.insert(id, t["messages"].as_array().cloned().unwrap_or_default());
    }
    (staff, groups, chats)
}

#[actix_web::test]
async fn a_backup_under_load_restores_into_a_desk_with_everything_it_had() {
    let desk = Desk::new("round_robin").await;
    let (_ann, _) = desk.agent("Ann", 10).await;
    let mut visitors = Vec::new();
    for i in 0..4 {
        let (chat, token) = desk.start_chat(&format!("Visitor {i}"), "Hello").await;
        let ws = Ws::visitor(&desk.app, &token, 0).await;
        visitors.push((chat, ws));
    }
    // Some history, acknowledged before the backup.
    for (chat, ws) in &mut visitors {
        for n in 0..20 {
            ws.send(json!({"type": "message", "client_id": format!("{chat}-pre-{n}"), "body": format!("before {n}")}))
                .await;
            ws.until(|f| f["type"] == "ack").await;
        }
    }
    let (staff_before, groups_before, chats_before) = everything(&desk.owner).await;

    // Load goes on while the backup is taken: visitors keep writing.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for (chat, mut ws) in visitors {
        let stop = stop.clone();
        writers.push(actix_web::rt::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                ws.send(json!({"type": "message", "client_id": format!("{chat}-during-{n}"), "body": "during"}))
                    .await;
                ws.until(|f| f["type"] == "ack").await;
                n += 1;
            }
            n
        }));
    }
    actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    let data = desk.app.dir.path().join("data");
    let out = desk.app.dir.path().join("desk.ldb");
    let listen = desk.app.addr.to_string();
    let (data_s, out_s) = (
        data.to_str().unwrap().to_string(),
        out.to_str().unwrap().to_string(),
    );
    let (ok, said) = actix_web::rt::task::spawn_blocking(move || {
        run(&[
            "backup",
            "--out",
            &out_s,
            "--listen",
            &listen,
            "--data-dir",
            &data_s,
        ])
    })
    .await
    .unwrap();
    assert!(ok, "backup of the running desk: {said}");
    assert!(said.contains("entries"), "{said}");
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut during = 0;
    for w in writers {
        during += w.await.unwrap();
    }
    assert!(during > 0, "messages were written while the backup ran");

    // Restore into a new folder; a non-empty one is refused.
    let restored = desk.app.dir.path().join("restored");
    let (ok, said) = run(&[
        "restore",
        out.to_str().unwrap(),
        "--data-dir",
        restored.to_str().unwrap(),
    ]);
    assert!(ok, "restore: {said}");
    let (ok, said) = run(&[
        "restore",
        out.to_str().unwrap(),
        "--data-dir",
        restored.to_str().unwrap(),
    ]);
    assert!(!ok && said.contains("not empty"), "{said}");

    let restored_path = restored.clone();
    let again = TestApp::start_with(move |c| c.storage.data_dir = restored_path).await;
    assert!(again.running().setup_link.is_none(), "the owner came back");
    let mut owner = again.client();
    assert_eq!(owner.login(OWNER_EMAIL, OWNER_PASSWORD).await.status, 200);
    let (staff_after, groups_after, chats_after) = everything(&owner).await;
    assert_eq!(staff_after, staff_before, "every staff member");
    assert_eq!(groups_after, groups_before, "every group");
    assert_eq!(chats_after.len(), chats_before.len(), "every chat");
    for (id, before) in &chats_before {
        let after = &chats_after[id];
        assert!(
            after.len() >= before.len(),
            "chat {id}: {} of {} messages",
            after.len(),
            before.len()
        );
        assert_eq!(
            &after[..before.len()],
            &before[..],
            "chat {id}: the same messages, in order"
        );
        for (i, m) in after.iter().enumerate() {
            assert_eq!(m["seq"].as_u64(), Some(i as u64 + 1), "chat {id}: no gap");
        }
    }
    again.stop().await;
}

#[actix_web::test]
async fn scheduled_backups_are_whole_files_and_only_the_newest_are_kept() {
    let app = TestApp::start_with(|c| c.backup.keep = 2).await;
    let owner = app.owner().await;
    app.group(&owner, "Support").await;
    let state = &app.running().state;
    let mut written = Vec::new();
    for _ in 0..3 {
        app.advance(Duration::from_secs(86_400));
        let path = livedesk::jobs::backup::run(state, state.now())
            .await
            .expect("backup");
        written.push(path);
    }
    let folder = app.dir.path().join("data").join("backups");
    let mut names: Vec<String> = std::fs::read_dir(&folder)
        .expect("backup folder")
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    let kept: Vec<String> = written[1..]
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    assert_eq!(names, kept, "the two newest, no partial file");
    let restored = app.dir.path().join("restored");
    let (ok, said) = run(&[
        "restore",
        written[2].to_str().unwrap(),
        "--data-dir",
        restored.to_str().unwrap(),
    ]);
    assert!(ok, "{said}");
}

/// `livedesk compact` refuses a running desk, and on a stopped one swaps
/// in a rewritten folder (the old one kept beside it) that a desk starts on
/// with every staff member, group, chat and message, and the transcript
/// search as it was.
#[actix_web::test]
async fn compacting_a_stopped_desk_keeps_everything_and_the_old_folder() {
    let desk = Desk::new("round_robin").await;
    let (_ann, _) = desk.agent("Ann", 10).await;
    for i in 0..3 {
        let (chat, token) = desk.start_chat(&format!("Visitor {i}"), "Hello").await;
        let mut ws = Ws::visitor(&desk.app, &token, 0).await;
        for n in 0..10 {
            ws.send(json!({"type": "message", "client_id": format!("{chat}-{n}"), "body": format!("warranty {n}")}))
                .await;
            ws.until(|f| f["type"] == "ack").await;
        }
        ws.send(json!({"type": "end"})).await;
        ws.until(|f| f["type"] == "chat_ended").await;
    }
    // Ended chats are searchable once the index has them.
    let mut waited = 0;
    while desk.owner.get("/api/chats/search?q=warranty").await.json["total"] != 3 {
        assert!(waited < 100, "the ended chats were not indexed");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    let before = everything(&desk.owner).await;
    let data = desk.app.dir.path().join("data");
    let data_s = data.to_str().unwrap().to_string();
    let arg = data_s.clone();
    let (ok, said) =
        actix_web::rt::task::spawn_blocking(move || run(&["compact", "--data-dir", &arg]))
            .await
            .unwrap();
    assert!(!ok && said.contains("nothing changed"), "running: {said}");

    let dir = desk.app.stop().await;
    let (ok, said) = run(&["compact", "--data-dir", &data_s]);
    assert!(ok, "compact: {said}");
    assert!(said.contains("the old folder is kept at"), "{said}");
    let kept = dir.path().join("data.before-compact");
    assert!(
        kept.join(livedesk::store::STORE_FILE).exists(),
        "the old folder is kept"
    );
    let (ok, said) = run(&["compact", "--data-dir", &data_s]);
    assert!(
        !ok && said.contains("from an earlier compaction"),
        "a second run while the old folder is there: {said}"
    );

    let again = TestApp::start_with(move |c| c.storage.data_dir = data).await;
    let mut owner = again.client();
    assert_eq!(owner.login(OWNER_EMAIL, OWNER_PASSWORD).await.status, 200);
    assert_eq!(everything(&owner).await, before, "everything, as it was");
    let found = owner.get("/api/chats/search?q=warranty").await.json;
    assert_eq!(found["total"], 3, "the search index came along: {found}");
    again.stop().await;
    drop(dir);
}
