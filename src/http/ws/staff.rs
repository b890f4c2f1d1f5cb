//! `GET /api/ws/staff`: a staff member's live connection. Authenticated by
//! the session cookie, from the console's own origin only. Carries status
//! changes, offers, accept/decline, messages and whispers, typing, ending
//! and wrap-up; closes when the session ends or the desk stops.

use super::{
    bad_frame, going_away, incoming, oversize, refuse_message, too_slow, Filler, Stop, HEARTBEAT,
    MAX_READ_FRAME_BYTES,
};
use crate::domain::status::Status;
use crate::domain::{ChatId, StaffId};
use crate::engine::frames::{Answering, ServerFrame};
use crate::engine::{check_body, Command, Conn, TransferTo};
use crate::error::AppError;
use crate::http::extract::SESSION_COOKIE;
use crate::http::middleware::same_origin_of;
use crate::service::auth::{self, AuthContext};
use crate::state::AppState;
use actix_web::http::header::ORIGIN;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{CloseCode, CloseReason, Session};
use serde::Deserialize;

/// Frames a staff client sends.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum StaffFrame {
    /// Change one's own status, or (managers, admins) someone's.
    SetStatus {
        /// The new status.
        status: Status,
        /// Whose; default oneself.
        #[serde(default)]
        staff_id: Option<StaffId>,
    },
    /// Accept an offer, or pick a waiting chat (manual routing).
    Accept {
        /// The chat.
        chat_id: ChatId,
    },
    /// Decline an offer.
    Decline {
        /// The chat.
        chat_id: ChatId,
    },
    /// Send a message (or a whisper, staff only).
    Message {
        /// The chat.
        chat_id: ChatId,
        /// The client's id for it; a resend with the same id is a no-op.
        client_id: String,
        /// The text.
        body: String,
        /// Staff only.
        #[serde(default)]
        whisper: bool,
    },
    /// Typing started or stopped.
    Typing {
        /// The chat.
        chat_id: ChatId,
        /// Typing now.
        active: bool,
    },
    /// End a chat with a wrap-up reason.
    End {
        /// The chat.
        chat_id: ChatId,
        /// Why it ended. Missing: the error `wrap_up_required`.
        #[serde(default)]
        wrap_up: String,
    },
    /// Give the wrap-up reason of a chat the visitor ended.
    WrapUp {
        /// The chat.
        chat_id: ChatId,
        /// The reason. Missing: the error `wrap_up_required`.
        #[serde(default)]
        reason: String,
    },
    /// Hand the chat to a group's queue or to an agent (who must accept),
    /// with the wrap-up reason of your part.
    Transfer {
        /// The chat.
        chat_id: ChatId,
        /// To this group's queue…
        #[serde(default)]
        to_group: Option<crate::domain::GroupId>,
        /// …or to this agent.
        #[serde(default)]
        to_staff: Option<StaffId>,
        /// Why your part ended. Missing: the error `wrap_up_required`.
        #[serde(default)]
        wrap_up: String,
    },
    /// Invite another agent into the chat (conference).
    Invite {
        /// The chat.
        chat_id: ChatId,
        /// Whom.
        staff_id: StaffId,
    },
    /// Leave a conference (the owner only while another agent remains).
    Leave {
        /// The chat.
        chat_id: ChatId,
    },
    /// Watch a chat unseen by the visitor (managers of its group, admins).
    Monitor {
        /// The chat.
        chat_id: ChatId,
    },
    /// Stop watching.
    Unmonitor {
        /// The chat.
        chat_id: ChatId,
    },
    /// Send the chat's messages after `last_seq` (after a reconnect).
    Resume {
        /// The chat.
        chat_id: ChatId,
        /// The last seq the client has.
        last_seq: u64,
    },
}

/// The staff member's live connection.
pub async fn staff_socket(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    // Browsers always send Origin on websockets; a foreign one is a
    // cross-site websocket hijack attempt.
    if req.headers().get(ORIGIN).is_none() || !same_origin_of(&req) {
        return Err(AppError::Forbidden(
            "websocket connections are only accepted from the console's own origin".into(),
        ));
    }
    let token = req
        .cookie(SESSION_COOKIE)
        .map(|c| c.value().to_string())
        .ok_or(AppError::NotSignedIn)?;
    let ctx = auth::resolve(&state, &token).await?;
    let (response, session, stream) =
        actix_ws::handle(&req, body).map_err(|e| AppError::BadRequest {
            code: "websocket_expected",
            message: format!("this endpoint speaks websocket only: {e}"),
        })?;
    let stream = stream.max_frame_size(MAX_READ_FRAME_BYTES);
    let state = state.into_inner().as_ref().clone();
    actix_web::rt::spawn(run(state, ctx, token, session, stream));
    Ok(response)
}

async fn run(
    state: AppState,
    ctx: AuthContext,
    token: String,
    mut ws: Session,
    mut stream: actix_ws::MessageStream,
) {
    let me = ctx.staff.id;
    let (conn, mut out) = Conn::new(Some(ctx.token_hash));
    let conn_id = conn.id;
    state
        .engine
        .send(Command::AttachAgent(ctx.staff.clone(), conn.clone()))
        .await;
    let mut filler = Filler::new(state.clone(), true);
    let mut shutdown = state.shutdown.clone();
    let mut beat = tokio::time::interval(HEARTBEAT);
    beat.tick().await;
    let stop = loop {
        if *shutdown.borrow() {
            break Stop::Close(going_away());
        }
        let step = tokio::select! {
            msg = stream.recv() => match incoming(&mut ws, msg).await {
                    Ok(Some(text)) => handle(&state, &ctx, &conn, &mut ws, &mut filler, &text).await,
                    Ok(None) => Ok(()),
                    Err(stop) => Err(stop),
                },
            item = out.rx.recv() => match item {
                Some(o) => filler.forward(&mut ws, o).await,
                None => Err(Stop::Gone),
            },
            _ = out.latest.ready.notified() => filler.write_latest(&mut ws, &mut out).await,
            _ = out.kick.notified() => Err(too_slow()),
            _ = shutdown.changed() => Err(Stop::Close(going_away())),
            _ = beat.tick() => {
                if auth::resolve(&state, &token).await.is_err() {
                    Err(Stop::Close(CloseReason {
                        code: CloseCode::Policy,
                        description: Some("session ended; sign in again".into()),
                    }))
                } else {
                    ws.ping(b"").await.map_err(Stop::from)
                }
            }
        };
        if let Err(stop) = step {
            break stop;
        }
    };
    state.engine.send(Command::DetachAgent(me, conn_id)).await;
    if let Stop::Close(reason) = stop {
        let _ = ws.close(Some(reason)).await;
    }
}

async fn reply(
    ws: &mut Session,
    request: &'static str,
    chat_id: Option<ChatId>,
    r: Result<(), AppError>,
) -> Result<(), Stop> {
    let frame = match r {
        Ok(()) => ServerFrame::Done { request, chat_id }.json(),
        Err(e) => ServerFrame::refusal(Answering::new(request, chat_id), e.code(), e.to_string()),
    };
    ws.text(frame.to_string()).await.map_err(Stop::from)
}

async fn handle(
    state: &AppState,
    ctx: &AuthContext,
    conn: &Conn,
    ws: &mut Session,
    filler: &mut Filler,
    text: &str,
) -> Result<(), Stop> {
    if let Some(e) = oversize(text) {
        return ws.text(e).await.map_err(Stop::from);
    }
    let frame: StaffFrame = match serde_json::from_str(text) {
        Ok(f) => f,
        Err(e) => return ws.text(bad_frame(&e, text)).await.map_err(Stop::from),
    };
    let me = ctx.staff.id;
    let engine = &state.engine;
    match frame {
        StaffFrame::SetStatus { status, staff_id } => {
            let actor = ctx.staff.clone();
            let target = staff_id.unwrap_or(me);
            let r = engine
                .ask(|reply| Command::SetStatus {
                    actor,
                    target,
                    status,
                    reply,
                })
                .await
                .map(|_| ());
            reply(ws, "set_status", None, r).await
        }
        StaffFrame::Accept { chat_id } => {
            let r = engine
                .ask(|reply| Command::Accept(me, chat_id, reply))
                .await;
            reply(ws, "accept", Some(chat_id), r).await
        }
        StaffFrame::Decline { chat_id } => {
            let r = engine
                .ask(|reply| Command::Decline(me, chat_id, reply))
                .await;
            reply(ws, "decline", Some(chat_id), r).await
        }
        StaffFrame::Message {
            chat_id,
            client_id,
            body,
            whisper,
        } => {
            let checked = crate::domain::chat::client_id(&client_id)
                .map_err(AppError::from)
                .and_then(|_| check_body(&body, state.config.chat.max_message_chars));
            match checked {
                Ok(body) => {
                    engine
                        .send(Command::AgentMessage {
                            agent: me,
                            chat: chat_id,
                            conn: conn.clone(),
                            client_id,
                            body,
                            whisper,
                        })
                        .await;
                    Ok(())
                }
                Err(e) => refuse_message(ws, chat_id, client_id, e).await,
            }
        }
        StaffFrame::Typing { chat_id, active } => {
            engine.send(Command::AgentTyping(me, chat_id, active)).await;
            Ok(())
        }
        StaffFrame::End { chat_id, wrap_up } => {
            let r = engine
                .ask(|reply| Command::EndChat(me, chat_id, wrap_up, reply))
                .await;
            reply(ws, "end", Some(chat_id), r).await
        }
        StaffFrame::WrapUp { chat_id, reason } => {
            let r = engine
                .ask(|reply| Command::WrapUp(me, chat_id, reason, reply))
                .await;
            reply(ws, "wrap_up", Some(chat_id), r).await
        }
        StaffFrame::Transfer {
            chat_id,
            to_group,
            to_staff,
            wrap_up,
        } => {
            let to = match (to_group, to_staff) {
                (Some(g), None) => TransferTo::Group(g),
                (None, Some(s)) => TransferTo::Agent(s),
                _ => {
                    let e = AppError::BadRequest {
                        code: "invalid_field",
                        message: "give exactly one of to_group and to_staff".into(),
                    };
                    return reply(ws, "transfer", Some(chat_id), Err(e)).await;
                }
            };
            let r = engine
                .ask(|reply| Command::Transfer {
                    agent: me,
                    chat: chat_id,
                    to,
                    wrap_up,
                    reply,
                })
                .await;
            reply(ws, "transfer", Some(chat_id), r).await
        }
        StaffFrame::Invite { chat_id, staff_id } => {
            let r = engine
                .ask(|reply| Command::Invite(me, chat_id, staff_id, reply))
                .await;
            reply(ws, "invite", Some(chat_id), r).await
        }
        StaffFrame::Leave { chat_id } => {
            let r = engine.ask(|reply| Command::Leave(me, chat_id, reply)).await;
            reply(ws, "leave", Some(chat_id), r).await
        }
        StaffFrame::Monitor { chat_id } => {
            let actor = ctx.staff.clone();
            let r = engine
                .ask(|reply| Command::Monitor {
                    actor,
                    chat: chat_id,
                    on: true,
                    reply,
                })
                .await;
            reply(ws, "monitor", Some(chat_id), r).await
        }
        StaffFrame::Unmonitor { chat_id } => {
            let actor = ctx.staff.clone();
            let r = engine
                .ask(|reply| Command::Monitor {
                    actor,
                    chat: chat_id,
                    on: false,
                    reply,
                })
                .await;
            reply(ws, "unmonitor", Some(chat_id), r).await
        }
        StaffFrame::Resume { chat_id, last_seq } => {
            let chat = state.read(move |s| s.chat(chat_id)).await;
            match chat {
                Ok(Some(c)) if c.owner == Some(me) || c.conference.contains(&me) => {
                    filler.resume(ws, chat_id, last_seq).await
                }
                Ok(_) => {
                    reply(
                        ws,
                        "resume",
                        Some(chat_id),
                        Err(AppError::NotFound {
                            code: "chat_not_found",
                            message: "no chat of yours has that id".into(),
                        }),
                    )
                    .await
                }
                Err(e) => reply(ws, "resume", Some(chat_id), Err(e)).await,
            }
        }
    }
}
