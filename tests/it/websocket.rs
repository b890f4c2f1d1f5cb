use crate::harness::*;
use awc::ws::{CloseCode, Frame};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::time::Duration;

async fn connect(app: &TestApp, c: &Client, origin: &str) -> Result<(), u16> {
    let mut req = awc::Client::new()
        .ws(format!("{}/api/ws/staff", app.base.replace("http", "ws")))
        .origin(origin);
    if let Some(cookie) = &c.cookie {
        req = req.header("Cookie", cookie.clone());
    }
    match req.connect().await {
        Ok(_) => Ok(()),
        Err(awc::error::WsClientError::InvalidResponseStatus(s)) => Err(s.as_u16()),
        Err(e) => panic!("ws connect: {e}"),
    }
}

#[actix_web::test]
async fn the_staff_socket_greets_and_refuses_foreign_origins_and_strangers() {
    let app = TestApp::start().await;
    let owner = app.owner().await;
    assert_eq!(
        connect(&app, &owner, "https://evil.example").await.err(),
        Some(403)
    );
    assert_eq!(
        connect(&app, &app.client(), &app.base).await.err(),
        Some(401)
    );

    let (_, mut socket) = awc::Client::new()
        .ws(format!("{}/api/ws/staff", app.base.replace("http", "ws")))
        .origin(app.base.as_str())
        .header("Cookie", owner.cookie.clone().expect("cookie"))
        .connect()
        .await
        .expect("connects");
    match socket.next().await {
        Some(Ok(Frame::Text(t))) => {
            let v: serde_json::Value = serde_json::from_slice(&t).expect("json");
            assert_eq!(v["type"], "hello");
            assert_eq!(v["staff"]["email"], OWNER_EMAIL);
        }
        other => panic!("expected hello, got {other:?}"),
    }
    socket
        .send(awc::ws::Message::Text("{\"type\":\"bogus\"}".into()))
        .await
        .expect("send");
    // The roster and queue views come unasked; the answer is the next other frame.
    let answer = loop {
        match socket.next().await {
            Some(Ok(Frame::Text(t))) => {
                let v: serde_json::Value = serde_json::from_slice(&t).expect("json");
                if v["type"] != "roster" && v["type"] != "queue_view" {
                    break Some(Ok(Frame::Text(t)));
                }
            }
            other => break other,
        }
    };
    match answer {
        Some(Ok(Frame::Text(t))) => {
            let v: serde_json::Value = serde_json::from_slice(&t).expect("json");
            assert_eq!(
                v["type"], "error",
                "a bad frame gets an error frame, not a disconnect"
            );
        }
        other => panic!("expected error frame, got {other:?}"),
    }

    // Stopping the desk closes the socket with "going away".
    let stopping = actix_web::rt::spawn(app.stop());
    let mut closed = None;
    while let Some(frame) = socket.next().await {
        if let Ok(Frame::Close(reason)) = frame {
            closed = reason;
            break;
        }
    }
    assert_eq!(closed.map(|r| r.code), Some(CloseCode::Away));
    stopping.await.expect("stopped");
}

/// The visitor's chat token travels in the socket's first frame, never in
/// the URL (proxies and access logs keep URLs). A token in the URL is
/// refused with a clear error; a first frame that is not a hello gets an
/// error and the socket waits; a socket that never says hello is closed.
#[actix_web::test]
async fn the_visitor_socket_takes_its_token_in_the_first_frame_only() {
    let desk = Desk::new("round_robin").await;
    let (_ann, _) = desk.agent("Ann", 3).await;
    let (chat, token) = desk.start_chat("Vera", "Hi").await;

    let in_url = desk
        .app
        .client()
        .get(&format!("/api/ws/visitor?token={token}&last_seq=0"))
        .await;
    assert_eq!(in_url.status, 400);
    assert_eq!(in_url.code(), "token_in_url", "{}", in_url.json);

    let mut vera = Ws::visitor_unsaid(&desk.app.base).await;
    vera.send(json!({"type": "message", "client_id": "v1", "body": "too early"}))
        .await;
    let e = vera.expect("error").await;
    assert_eq!(e["code"], "hello_expected");
    assert!(
        e["message"].as_str().unwrap_or("").contains("\"hello\""),
        "{e}"
    );
    vera.send(visitor_hello(&token, 0)).await;
    let hello = vera.expect("visitor_hello").await;
    assert_eq!(hello["chat_id"], chat.as_str());
    let first = vera.expect("message").await;
    assert_eq!(
        first["message"]["body"], "Hi",
        "messages after last_seq follow"
    );
    assert!(
        !desk
            .owner
            .get(&format!("/api/chats/{chat}"))
            .await
            .text
            .contains("too early"),
        "nothing before the hello was taken as a message"
    );

    let mut silent = Ws::visitor_unsaid(&desk.app.base).await;
    assert!(
        !silent.closes_within(Duration::from_secs(2)).await,
        "there is time to say hello"
    );
    assert!(
        silent.closes_within(Duration::from_secs(12)).await,
        "a socket that never says hello is closed"
    );
}
