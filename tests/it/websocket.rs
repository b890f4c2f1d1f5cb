use crate::harness::*;
use awc::ws::{CloseCode, Frame};
use futures_util::{SinkExt, StreamExt};

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
    match socket.next().await {
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
