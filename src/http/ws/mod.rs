//! Websocket sessions. One connection = one task with one `select!` loop
//! over client frames, heartbeat and shutdown. For now the staff socket
//! greets the signed-in staff member, keeps the connection alive, closes
//! with "going away" when the desk stops, and closes when the session ends.
//! The live chat engine's frames (see docs/protocol.md) grow here.

use crate::error::AppError;
use crate::http::extract::SESSION_COOKIE;
use crate::http::middleware::same_origin;
use crate::service::auth;
use crate::state::AppState;
use actix_web::http::header::ORIGIN;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{CloseCode, CloseReason, Message};
use serde_json::json;
use std::time::Duration;

/// Largest frame a client may send.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// How often the server pings and re-checks the session.
const HEARTBEAT: Duration = Duration::from_secs(20);

/// `GET /api/ws/staff`: the staff member's live connection.
pub async fn staff_socket(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    // Browsers always send Origin on websockets; a foreign one is a
    // cross-site websocket hijack attempt.
    if req.headers().get(ORIGIN).is_none() || !same_origin(req.headers()) {
        return Err(AppError::Forbidden(
            "websocket connections are only accepted from the console's own origin".into(),
        ));
    }
    let token = req
        .cookie(SESSION_COOKIE)
        .map(|c| c.value().to_string())
        .ok_or(AppError::NotSignedIn)?;
    let ctx = auth::resolve(&state, &token).await?;
    let (response, mut session, stream) =
        actix_ws::handle(&req, body).map_err(|e| AppError::BadRequest {
            code: "websocket_expected",
            message: format!("this endpoint speaks websocket only: {e}"),
        })?;
    let mut stream = stream.max_frame_size(MAX_FRAME_BYTES);
    let mut shutdown = state.shutdown.clone();
    let state = state.into_inner();
    actix_web::rt::spawn(async move {
        let hello = json!({"type": "hello", "staff": ctx.staff});
        if session.text(hello.to_string()).await.is_err() {
            return;
        }
        let mut beat = tokio::time::interval(HEARTBEAT);
        beat.tick().await;
        let reason = loop {
            if *shutdown.borrow() {
                break Some(going_away());
            }
            tokio::select! {
                msg = stream.recv() => match msg {
                    Some(Ok(Message::Ping(bytes))) => {
                        if session.pong(&bytes).await.is_err() { break None; }
                    }
                    Some(Ok(Message::Text(_) | Message::Binary(_))) => {
                        let err = json!({"type": "error", "code": "unknown_frame",
                            "message": "this connection accepts no frames yet; see docs/protocol.md"});
                        if session.text(err.to_string()).await.is_err() { break None; }
                    }
                    Some(Ok(Message::Close(_))) | None => break None,
                    Some(Err(e)) => break Some(CloseReason {
                        code: CloseCode::Protocol,
                        description: Some(format!("bad frame: {e}")),
                    }),
                    Some(Ok(_)) => {}
                },
                _ = shutdown.changed() => break Some(going_away()),
                _ = beat.tick() => {
                    if auth::resolve(&state, &token).await.is_err() {
                        break Some(CloseReason {
                            code: CloseCode::Policy,
                            description: Some("session ended; sign in again".into()),
                        });
                    }
                    if session.ping(b"").await.is_err() { break None; }
                }
            }
        };
        let _ = session.close(reason).await;
    });
    Ok(response)
}

fn going_away() -> CloseReason {
    CloseReason {
        code: CloseCode::Away,
        description: Some("livedesk is stopping; reconnect shortly".into()),
    }
}
