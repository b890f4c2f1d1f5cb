//! `AppError`: every error a request can end in, each with a stable
//! snake_case code. This is the ONE place codes map to HTTP status. Bodies
//! are `{"error":{"code":"...","message":"..."}}`; a 5xx says nothing
//! internal and carries an error id that the log line also has.

use crate::domain::permissions::Denied;
use crate::domain::validate::FieldError;
use crate::store::StoreError;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// The JSON body of every error response.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Code and explanation of an error.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_credentials`.
    pub code: String,
    /// What went wrong and what to do, for people.
    pub message: String,
}

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is malformed (`invalid_json`, `invalid_id`, ...).
    #[error("{message}")]
    BadRequest {
        /// Stable code.
        code: &'static str,
        /// Explanation.
        message: String,
    },
    /// A field's value is not acceptable.
    #[error("{0}")]
    Field(#[from] FieldError),
    /// No session cookie.
    #[error("sign in first")]
    NotSignedIn,
    /// The session expired, was signed out, or was ended by a password change.
    #[error("your session has ended; sign in again")]
    SessionEnded,
    /// Wrong email or password; never says which.
    #[error("the email or password is wrong")]
    InvalidCredentials,
    /// Correct password, but the account is disabled.
    #[error("this account is disabled; ask an administrator")]
    AccountDisabled,
    /// Signed in but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// A state-changing request without the session's CSRF token, or from another site.
    #[error("this request lacks the X-CSRF-Token header of your session or comes from another site; reload the page")]
    CsrfRejected,
    /// Unknown id, or one the caller may not see.
    #[error("{message}")]
    NotFound {
        /// Stable code.
        code: &'static str,
        /// Explanation.
        message: String,
    },
    /// Conflicts with what is stored.
    #[error("{message}")]
    Conflict {
        /// Stable code.
        code: &'static str,
        /// Explanation.
        message: String,
    },
    /// Sign-in limiting.
    #[error("too many failed sign-ins; try again in {retry_after_secs} s")]
    TooManyAttempts {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// The path exists but not with this method.
    #[error("{method} is not allowed here; see /api/openapi.json for what this path accepts")]
    MethodNotAllowed {
        /// The method used.
        method: String,
    },
    /// A visitor rate limit.
    #[error("too many requests; try again in {retry_after_secs} s")]
    RateLimited {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// Body over the configured limit.
    #[error("the request body is larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit.
        limit: usize,
    },
    /// Not JSON.
    #[error("send the body as JSON with Content-Type: application/json")]
    ExpectedJson,
    /// The store cannot write or make writes durable.
    #[error("{0}")]
    Unavailable(String),
    /// A page on another site tried to use the visitor API.
    #[error("the site {0} may not embed this desk's chat; an admin adds it to [widget] allowed_origins in the config")]
    OriginNotAllowed(String),
    /// The data folder's disk is below its free-space reserve: writes are
    /// refused until space is freed; reads go on.
    #[error("{0}")]
    DiskFull(String),
    /// A bug or an unexpected failure; details only in the log.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest { code, .. }
            | AppError::NotFound { code, .. }
            | AppError::Conflict { code, .. } => code,
            AppError::Field(_) => "invalid_field",
            AppError::NotSignedIn => "not_signed_in",
            AppError::SessionEnded => "session_ended",
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::AccountDisabled => "account_disabled",
            AppError::Forbidden(_) => "forbidden",
            AppError::CsrfRejected => "csrf_rejected",
            AppError::OriginNotAllowed(_) => "origin_not_allowed",
            AppError::TooManyAttempts { .. } => "too_many_attempts",
            AppError::MethodNotAllowed { .. } => "method_not_allowed",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::BodyTooLarge { .. } => "body_too_large",
            AppError::ExpectedJson => "expected_json",
            AppError::Unavailable(_) => "store_unavailable",
            AppError::DiskFull(_) => "disk_full",
            AppError::Internal(_) => "internal",
        }
    }

    /// A 404 for an unknown route.
    pub fn no_route(method: &str, path: &str) -> Self {
        AppError::NotFound {
            code: "not_found",
            message: format!(
                "no such endpoint: {method} {path}; the API is described at /api/openapi.json"
            ),
        }
    }
}

impl From<Denied> for AppError {
    fn from(d: Denied) -> Self {
        AppError::Forbidden(d.0.to_string())
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        let message = e.to_string();
        let conflict = |code| AppError::Conflict {
            code,
            message: message.clone(),
        };
        match e {
            StoreError::EmailTaken => conflict("email_taken"),
            StoreError::GroupNameTaken => conflict("group_name_taken"),
            StoreError::OwnerExists => conflict("owner_exists"),
            StoreError::ChangedMeanwhile => conflict("changed_meanwhile"),
            StoreError::OwnershipRule => conflict("ownership_rule"),
            // 404: no such link (any more); the body is well-formed.
            StoreError::SetupLinkInvalid => AppError::NotFound {
                code: "setup_link_invalid",
                message,
            },
            StoreError::StaffNotFound => AppError::NotFound {
                code: "staff_not_found",
                message,
            },
            StoreError::GroupNotFound(_) => AppError::NotFound {
                code: "group_not_found",
                message,
            },
            StoreError::Io(_) | StoreError::NotDurable(_) => AppError::Unavailable(message),
            StoreError::DiskFull { .. } => AppError::DiskFull(message),
            StoreError::InUse { .. }
            | StoreError::Open { .. }
            | StoreError::NewerSchema { .. }
            | StoreError::Corrupt(_) => AppError::Internal(message),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } | AppError::Field(_) => StatusCode::BAD_REQUEST,
            AppError::NotSignedIn
            | AppError::SessionEnded
            | AppError::InvalidCredentials
            | AppError::AccountDisabled => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) | AppError::CsrfRejected | AppError::OriginNotAllowed(_) => {
                StatusCode::FORBIDDEN
            }
            AppError::NotFound { .. } => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::TooManyAttempts { .. } | AppError::RateLimited { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            AppError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            AppError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::ExpectedJson => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::DiskFull(_) => StatusCode::INSUFFICIENT_STORAGE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        // The store logs once when the disk runs low; each refusal is not news.
        let message = if let AppError::DiskFull(m) = self {
            m.clone()
        } else if status.is_server_error() {
            let id = hex::encode(rand::random::<[u8; 6]>());
            tracing::error!(error_id = %id, error = %self, "request failed");
            match self {
                AppError::Unavailable(m) => format!("{m} (error id {id})"),
                _ => format!("internal error; the server log has the details under error id {id}"),
            }
        } else {
            self.to_string()
        };
        let mut res = HttpResponse::build(status);
        if let AppError::TooManyAttempts { retry_after_secs }
        | AppError::RateLimited { retry_after_secs } = self
        {
            res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        res.json(ErrorBody {
            error: ErrorDetail {
                code: self.code().to_string(),
                message,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    #[actix_web::test]
    async fn errors_have_the_documented_json_shape_and_5xx_hide_details() {
        let res = AppError::InvalidCredentials.error_response();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let body = to_bytes(res.into_body()).await.expect("body");
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(v["error"]["code"], "invalid_credentials");
        assert_eq!(v["error"]["message"], "the email or password is wrong");

        let res = AppError::Internal("sled page 7 is broken".into()).error_response();
        let body = to_bytes(res.into_body()).await.expect("body");
        let text = String::from_utf8_lossy(&body);
        assert!(!text.contains("sled"), "{text}");
        assert!(text.contains("error id"), "{text}");
    }

    #[test]
    fn store_errors_map_to_stable_codes() {
        assert_eq!(AppError::from(StoreError::EmailTaken).code(), "email_taken");
        assert_eq!(
            AppError::from(StoreError::NotDurable("x".into())).status_code(),
            503
        );
        let too_many = AppError::TooManyAttempts {
            retry_after_secs: 4,
        }
        .error_response();
        assert_eq!(
            too_many.headers().get("retry-after").map(|v| v.as_bytes()),
            Some(&b"4"[..])
        );
    }
}
