//! Reports: figures per group and agent, the chats behind a figure, and
//! each table as CSV.

use crate::error::{AppError, ErrorBody};
use crate::http::extract::StaffAuth;
use crate::service::reports::{self, Report, ReportChatPage, ReportChatsQuery, ReportQuery};
use crate::state::AppState;
use actix_web::{web, HttpResponse};

/// The report for a range of days, as the caller may see it: admins every
/// group and agent, managers their groups' and their own figures, agents
/// their own.
#[utoipa::path(get, path = "/api/reports", tag = "reports", params(ReportQuery), responses(
    (status = 200, body = Report), (status = 400, body = ErrorBody, description = "`invalid_field`: a date, the zone or the range")))]
pub async fn get_report(
    state: web::Data<AppState>,
    who: StaffAuth,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(reports::report(&state, &who.0, query.into_inner()).await?))
}

/// The chats behind a figure, in start order, a page at a time (`table`
/// is ignored here).
#[utoipa::path(get, path = "/api/reports/chats", tag = "reports", params(ReportChatsQuery),
    responses((status = 200, body = ReportChatPage), (status = 400, body = ErrorBody)))]
pub async fn get_report_chats(
    state: web::Data<AppState>,
    who: StaffAuth,
    query: web::Query<ReportChatsQuery>,
) -> Result<HttpResponse, AppError> {
    let mut q = query.into_inner();
    q.table = None;
    Ok(HttpResponse::Ok().json(reports::chats(&state, &who.0, q).await?))
}

/// One table of the report as a CSV download: UTF-8 with a byte-order
/// mark, a header row, every field quoted, CRLF line ends. The chats table
/// holds at most 10,000 rows (`X-Livedesk-Truncated: true` when more).
#[utoipa::path(get, path = "/api/reports/csv", tag = "reports", params(ReportChatsQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = ErrorBody)))]
pub async fn get_report_csv(
    state: web::Data<AppState>,
    who: StaffAuth,
    query: web::Query<ReportChatsQuery>,
) -> Result<HttpResponse, AppError> {
    let csv = reports::csv(&state, &who.0, query.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{}\"", csv.filename),
        ))
        .insert_header((
            "X-Livedesk-Truncated",
            if csv.truncated { "true" } else { "false" },
        ))
        .body(csv.body))
}
