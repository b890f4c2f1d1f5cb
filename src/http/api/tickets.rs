//! Tickets: the list, one ticket, making one, changing it, its notes, and
//! the dashboard's figures.

use crate::domain::ticket::TicketPatch;
use crate::error::{AppError, ErrorBody};
use crate::http::extract::Json;
use crate::http::extract::StaffAuth;
use crate::service::tickets::{
    self, NewNote, NewTicket, SummaryQuery, TicketListQuery, TicketPage, TicketSummary, TicketView,
};
use crate::state::AppState;
use actix_web::{web, HttpResponse};

/// Lists the tickets the caller may see (agents and managers those of
/// their groups and those assigned to them, admins all), filtered,
/// searched, sorted and paged.
#[utoipa::path(get, path = "/api/tickets", tag = "tickets", params(TicketListQuery), responses(
    (status = 200, body = TicketPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_tickets(
    state: web::Data<AppState>,
    who: StaffAuth,
    query: web::Query<TicketListQuery>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(tickets::list(&state, &who.0, query.into_inner()).await?))
}

/// Makes a ticket from a chat (201; 200 with the chat's ticket when it has
/// one already) or one of its own (`manual`).
#[utoipa::path(post, path = "/api/tickets", tag = "tickets", request_body = NewTicket, responses(
    (status = 201, body = TicketView), (status = 200, body = TicketView, description = "The chat's existing ticket"),
    (status = 400, body = ErrorBody), (status = 404, body = ErrorBody, description = "No such chat that you may see")))]
pub async fn post_ticket(
    state: web::Data<AppState>,
    who: StaffAuth,
    body: Json<NewTicket>,
) -> Result<HttpResponse, AppError> {
    let made = tickets::create(&state, &who.0, body.into_inner()).await?;
    Ok(if made.created {
        HttpResponse::Created().json(made.ticket)
    } else {
        HttpResponse::Ok().json(made.ticket)
    })
}

/// One ticket: its fields, notes and the history of every change.
#[utoipa::path(get, path = "/api/tickets/{number}", tag = "tickets",
    params(("number" = u64, Path, minimum = 1, description = "Ticket number")),
    responses((status = 200, body = TicketView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_ticket(
    state: web::Data<AppState>,
    who: StaffAuth,
    number: web::Path<u64>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(tickets::get(&state, &who.0, number.into_inner()).await?))
}

/// Changes a ticket's status, priority, assignee, group or subject; each
/// change goes into its history with who and when.
#[utoipa::path(patch, path = "/api/tickets/{number}", tag = "tickets", request_body = TicketPatch,
    params(("number" = u64, Path, minimum = 1, description = "Ticket number")),
    responses((status = 200, body = TicketView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn patch_ticket(
    state: web::Data<AppState>,
    who: StaffAuth,
    number: web::Path<u64>,
    body: Json<TicketPatch>,
) -> Result<HttpResponse, AppError> {
    let t = tickets::update(&state, &who.0, number.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(t))
}

/// Adds an internal note.
#[utoipa::path(post, path = "/api/tickets/{number}/notes", tag = "tickets", request_body = NewNote,
    params(("number" = u64, Path, minimum = 1, description = "Ticket number")),
    responses((status = 201, body = TicketView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn post_note(
    state: web::Data<AppState>,
    who: StaffAuth,
    number: web::Path<u64>,
    body: Json<NewNote>,
) -> Result<HttpResponse, AppError> {
    let t = tickets::add_note(&state, &who.0, number.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(t))
}

/// The dashboard's ticket panel: tickets made from chats today and in the
/// last 7 days, unsolved ones, and the latest changes.
#[utoipa::path(get, path = "/api/tickets/summary", tag = "tickets", params(SummaryQuery), responses(
    (status = 200, body = TicketSummary), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn get_summary(
    state: web::Data<AppState>,
    who: StaffAuth,
    query: web::Query<SummaryQuery>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(tickets::summary(&state, &who.0, query.into_inner()).await?))
}
