//! `GET /api/backup`: a consistent snapshot of the running desk, streamed
//! as a backup file (format in docs/operations.md). Allowed to admins
//! (session) and to `livedesk backup` on the same box, which proves it may
//! read the data folder by sending the token the desk wrote there
//! (`backup.token`, readable by the desk's user only): whoever can read
//! that file can read the whole store anyway.

use crate::error::AppError;
use crate::http::extract::AdminAuth;
use crate::service::auth::{same_secret, token_hash};
use crate::state::{blocking, AppState};
use actix_web::body::SizedStream;
use actix_web::http::header::{ContentEncoding, AUTHORIZATION};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use std::io::{Read, Seek};
use std::pin::Pin;
use std::task::{Context, Poll};

/// The file in the data folder holding the token `livedesk backup` sends.
pub const TOKEN_FILE: &str = "backup.token";

/// Writes a new backup token into `dir` (owner-only) and returns its hash.
pub fn write_token(dir: &std::path::Path) -> std::io::Result<crate::store::TokenHash> {
    use std::io::Write;
    let token = crate::service::auth::random_token(32);
    let path = dir.join(TOKEN_FILE);
    let _ = std::fs::remove_file(&path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(&path)?;
    f.write_all(token.as_bytes())?;
    f.sync_all()?;
    Ok(token_hash(&token))
}

/// Body chunks read from the finished snapshot.
struct Chunks(tokio::sync::mpsc::Receiver<Result<web::Bytes, std::io::Error>>);

impl futures_core::Stream for Chunks {
    type Item = Result<web::Bytes, std::io::Error>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

async fn allowed(state: &AppState, req: &HttpRequest) -> Result<(), AppError> {
    if let Some(sent) = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        let ok = state
            .backup_token
            .is_some_and(|h| same_secret(&hex::encode(token_hash(sent.trim())), &hex::encode(h)));
        return if ok {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "that is not this desk's backup token; `livedesk backup` reads it from {TOKEN_FILE} in the data folder (run it as the desk's user)"
            )))
        };
    }
    AdminAuth::extract(req).await.map(|_| ())
}

/// A backup of the whole store, taken now (admins, or `livedesk backup`).
#[utoipa::path(get, path = "/api/backup", tag = "backup", responses(
    (status = 200, description = "The backup file (application/octet-stream)", content_type = "application/octet-stream"),
    (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn get_backup(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    allowed(&state, &req).await?;
    let store = state.store.clone();
    let now = state.now();
    let (mut file, len) = blocking(move || {
        let path = store.path().join(format!(
            ".backup-download-{}.partial",
            crate::service::auth::random_token(8)
        ));
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| AppError::Internal(format!("cannot write the backup: {e}")))?;
        // Unlinked at once: it goes when the download ends, however it ends.
        let _ = std::fs::remove_file(&path);
        store.write_backup(&file, now)?;
        let len = file
            .stream_position()
            .map_err(|e| AppError::Internal(e.to_string()))?;
        file.rewind()
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok::<_, AppError>((file, len))
    })
    .await??;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::task::spawn_blocking(move || {
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if tx
                        .blocking_send(Ok(web::Bytes::copy_from_slice(&buf[..n])))
                        .is_err()
                    {
                        break;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    break;
                }
            }
        }
    });
    let name = crate::jobs::backup::file_name(now);
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header(ContentEncoding::Identity)
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{name}\""),
        ))
        .body(SizedStream::new(len, Chunks(rx))))
}
