//! The console's HTML, written with `maud` so every piece of text — resident messages,
//! summaries, notes, names — is escaped unless it is deliberately marked otherwise.
//! Pages work without JavaScript; `console.js` only refreshes the live parts.

use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset, Utc};
use maud::{html, Markup, DOCTYPE};

use super::data::{Board, Conversation, Detail, Message};
use super::sla;
use super::viewer::Console;
use crate::staff::view::location;
use crate::ticket::{Category, Department, Kind, Role, Status, Ticket, Urgency};

/// What every signed-in page needs besides its data.
pub struct Frame<'a> {
    pub console: &'a Console,
    pub now: DateTime<Utc>,
    pub offset: FixedOffset,
}

impl Frame<'_> {
    fn time(&self, t: DateTime<Utc>) -> Markup {
        let local = t.with_timezone(&self.offset);
        html! { time datetime=(t.to_rfc3339()) { (local.format("%m-%d %H:%M")) } }
    }

    fn csrf(&self) -> Markup {
        html! { input type="hidden" name="csrf" value=(self.console.csrf); }
    }
}

pub fn department_label(d: Department) -> &'static str {
    match d {
        Department::Engineering => "工程 Engineering",
        Department::Environment => "环境 Environment",
        Department::Security => "秩序 Security",
        Department::CustomerService => "客服 Customer service",
    }
}

pub fn kind_label(k: Kind) -> &'static str {
    match k {
        Kind::Repair => "报修 repair",
        Kind::Complaint => "投诉 complaint",
        Kind::Inquiry => "咨询 inquiry",
        Kind::Suggestion => "建议 suggestion",
        Kind::Other => "其它 other",
    }
}

pub fn urgency_label(u: Urgency) -> &'static str {
    match u {
        Urgency::Emergency => "紧急 emergency",
        Urgency::Urgent => "加急 urgent",
        Urgency::Normal => "一般 normal",
    }
}

/// The statistics categories (诉求分类) as the monthly report names them.
pub fn category_label(c: Category) -> &'static str {
    match c {
        Category::Housing => "房屋 housing",
        Category::Equipment => "设备 equipment",
        Category::Safety => "安全 safety",
        Category::Environment => "环境 environment",
        Category::Services => "综合服务 services",
        Category::Dispute => "业户纠纷 dispute",
        Category::Developer => "地产相关 developer",
        Category::Other => "其它 other",
    }
}

pub fn status_label(s: Status) -> &'static str {
    match s {
        Status::Queued => "待接单 queued",
        Status::Claimed => "已接单 claimed",
        Status::InProgress => "处理中 in progress",
        Status::Resolved => "已解决 resolved",
        Status::Closed => "已关闭 closed",
        Status::Reopened => "重新打开 reopened",
        Status::Cancelled => "已取消 cancelled",
    }
}

/// Only web addresses become links or images; anything else (`javascript:` and friends)
/// is shown as text.
pub fn safe_url(url: &str) -> Option<&str> {
    let lower = url.trim_start().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then_some(url.trim())
}

fn page(title: &str, frame: Option<&Frame<'_>>, live: bool, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-Hans" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · 管家 console" }
                link rel="stylesheet" href="/console/assets/console.css";
                @if live { script src="/console/assets/console.js" defer {} }
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/console" { "管家 " span { "console" } }
                    @if let Some(f) = frame {
                        (nav(f))
                    }
                }
                main #main tabindex="-1" { (body) }
            }
        }
    }
}

fn nav(f: &Frame<'_>) -> Markup {
    let u = &f.console.user;
    html! {
        nav aria-label="Console" {
            ul {
                li { a href="/console" { "Queue board" } }
                @if matches!(u.role, Role::Concierge | Role::Manager) {
                    li { a href="/console/concierge" { "My buildings" } }
                }
                @if u.role != Role::Worker {
                    li { a href="/console/report" { "Monthly report" } }
                }
            }
            form.signout method="post" action="/console/sign-out" {
                (f.csrf())
                span.who { (u.name) " · " (u.role.as_str()) }
                button type="submit" { "Sign out" }
            }
        }
    }
}

pub fn sign_in(message: Option<&str>) -> Markup {
    page(
        "Sign in",
        None,
        false,
        html! {
            section.card.narrow aria-labelledby="signin-h" {
                h1 #signin-h { "Sign in" }
                p { "Paste the staff token that " code { "guanjia staff add" } " printed for you." }
                @if let Some(m) = message {
                    p.alert role="alert" { (m) }
                }
                form method="post" action="/console/sign-in" {
                    label for="token" { "Staff token" }
                    input #token type="password" name="token" autocomplete="current-password" required;
                    button type="submit" { "Sign in" }
                }
            }
        },
    )
}

pub fn error_page(status: StatusCode, message: &str) -> Markup {
    page(
        status.canonical_reason().unwrap_or("Error"),
        None,
        false,
        html! {
            section.card.narrow {
                h1 { (status.as_u16()) " " (status.canonical_reason().unwrap_or("Error")) }
                p.alert role="alert" { (message) }
                p { a href="/console" { "Back to the console" } }
            }
        },
    )
}

fn sla_cell(f: &Frame<'_>, t: &Ticket) -> Markup {
    let clock = sla::of(t, f.now);
    html! {
        span class={"sla " (clock.class())} {
            @if clock.is_overdue() { span.visually-hidden { "Overdue: " } }
            (clock.label())
        }
    }
}

fn ticket_card(f: &Frame<'_>, t: &Ticket, board: &Board, claim: bool) -> Markup {
    let assignee = t.assignee.and_then(|a| board.names.get(&a));
    let clock = sla::of(t, f.now);
    html! {
        li class={"ticket urgency-" (t.urgency.as_str()) @if clock.is_overdue() { " overdue" }} {
            div.line {
                a.number href={"/console/tickets/" (t.number)} { (t.number) }
                span.badge { (t.urgency.as_str()) }
                (sla_cell(f, t))
            }
            p.summary { (t.summary) }
            p.meta {
                @if let Some(l) = location(t) { span { "Place " (l) } " · " }
                span { "filed " (f.time(t.created_at)) }
                @if let Some(a) = assignee { " · " span { "held by " (a) } }
                @if !claim { " · " span { (status_label(t.status)) } }
            }
            @if claim {
                form method="post" action={"/console/tickets/" (t.number) "/claim"} {
                    (f.csrf())
                    button type="submit" aria-label={"Claim " (t.number)} { "抢单 Claim" }
                }
            } @else if t.assignee == Some(f.console.user.id) {
                form method="post" action={"/console/tickets/" (t.number) "/release"} {
                    (f.csrf())
                    button.secondary type="submit" aria-label={"Release " (t.number)} { "Release" }
                }
            }
        }
    }
}

pub fn board(f: &Frame<'_>, b: &Board, departments: &[Department]) -> Markup {
    let d = b.department;
    page(
        &format!("{} queue", department_label(d)),
        Some(f),
        true,
        html! {
            h1 { "Queue board · " (department_label(d)) }
            @if departments.len() > 1 {
                nav.depts aria-label="Departments" {
                    ul {
                        @for other in departments {
                            li {
                                a href={"/console/queue/" (other.as_str())}
                                  aria-current=[(*other == d).then_some("page")] {
                                    (department_label(*other))
                                }
                            }
                        }
                    }
                }
            }
            @if f.console.user.role != Role::Worker {
                form.report method="get" action="/console/report" {
                    label for="month" { "Monthly report for" }
                    input #month type="month" name="month" value=(f.now.with_timezone(&f.offset).format("%Y-%m"));
                    button.secondary type="submit" { "Open report" }
                }
            }
            div #board data-live="replace" {
                p.updated aria-live="polite" { "As of " (f.time(f.now)) }
                div.columns {
                    section aria-labelledby="queued-h" {
                        h2 #queued-h { "Waiting (" (b.queued.len()) ")" }
                        @if b.queued.is_empty() {
                            p.empty { "Nothing waiting." }
                        } @else {
                            form method="post" action={"/console/queue/" (d.as_str()) "/claim-next"} {
                                (f.csrf())
                                button type="submit" { "Take the next ticket" }
                            }
                            ol.tickets { @for t in &b.queued { (ticket_card(f, t, b, true)) } }
                        }
                    }
                    section aria-labelledby="held-h" {
                        h2 #held-h { "Being handled (" (b.held.len()) ")" }
                        @if b.held.is_empty() {
                            p.empty { "Nobody is working on anything." }
                        } @else {
                            ul.tickets { @for t in &b.held { (ticket_card(f, t, b, false)) } }
                        }
                    }
                }
            }
        },
    )
}

fn conversation(f: &Frame<'_>, messages: &[Message]) -> Markup {
    html! {
        @if messages.is_empty() {
            p.empty { "No messages." }
        } @else {
            ol.chat {
                @for m in messages {
                    li class={"msg from-" (m.side)} {
                        span.who {
                            @match m.side.as_str() {
                                "resident" => "Resident",
                                "bot" => "Auto-reply",
                                _ => "Staff",
                            }
                        }
                        " " (f.time(m.at))
                        @if let Some(s) = &m.status { " · " span.delivery { (s) } }
                        p { (m.text) }
                    }
                }
            }
        }
    }
}

/// The detail page; `notice` is the outcome of the last action (an error when it failed).
pub fn ticket(f: &Frame<'_>, d: &Detail, notice: Option<&str>) -> Markup {
    let t = &d.ticket;
    let u = &f.console.user;
    let base = format!("/console/tickets/{}", t.number);
    let assignee = t
        .assignee
        .map(|a| d.names.get(&a).cloned().unwrap_or_else(|| a.to_string()));
    let can_reply = crate::staff::scope::can_reply(u, t);
    let can_assign = crate::staff::scope::can_assign(u, t.department);
    let can_reclassify = crate::staff::scope::can_reclassify(u, t);
    let next = match t.status {
        Status::Queued | Status::Reopened => Status::Claimed,
        Status::Claimed => Status::InProgress,
        Status::InProgress => Status::Resolved,
        Status::Resolved => Status::Closed,
        Status::Closed | Status::Cancelled => Status::Reopened,
    };
    page(
        &t.number,
        Some(f),
        true,
        html! {
            p.back { a href={"/console/queue/" (t.department.as_str())} { "← " (department_label(t.department)) } }
            h1 { "Ticket " (t.number) }
            p.live-notice hidden role="status" { "This ticket changed. " a href=(base) { "Reload" } }
            @if let Some(n) = notice {
                p.alert role="alert" { (n) }
            }
            div.columns {
                section.card aria-labelledby="facts-h" {
                    h2 #facts-h { "Request" }
                    p.summary { (t.summary) }
                    @if !t.description.is_empty() && t.description != t.summary {
                        p.description { (t.description) }
                    }
                    dl.facts {
                        dt { "Status" } dd { strong { (status_label(t.status)) } }
                        dt { "SLA" } dd { (sla_cell(f, t)) }
                        dt { "Respond by" } dd { @if let Some(x) = t.respond_due_at { (f.time(x)) } @else { "—" } }
                        dt { "Resolve by" } dd { @if let Some(x) = t.due_at { (f.time(x)) } @else { "—" } }
                        dt { "Kind" } dd { (t.kind.as_str()) " · " (t.category.as_str()) }
                        dt { "Urgency" } dd { (t.urgency.as_str()) @if t.important { " · important" } }
                        dt { "Department" } dd { (department_label(t.department)) }
                        dt { "Place" } dd { (location(t).unwrap_or_else(|| "—".into())) }
                        dt { "Resident" } dd { (d.resident_name.as_deref().unwrap_or("—")) }
                        dt { "Phone" } dd { (t.contact_phone.as_deref().unwrap_or("—")) }
                        dt { "Preferred time" } dd { (t.preferred_time.as_deref().unwrap_or("—")) }
                        dt { "Held by" } dd { (assignee.as_deref().unwrap_or("nobody")) }
                        dt { "Filed" } dd { (f.time(t.created_at)) }
                    }
                    @if !d.attachments.is_empty() {
                        h3 { "Photos and attachments" }
                        ul.photos {
                            @for a in &d.attachments {
                                li {
                                    @match a.url.as_deref().and_then(safe_url) {
                                        Some(url) if a.kind == "image" => {
                                            a href=(url) rel="noreferrer noopener" target="_blank" {
                                                img src=(url) alt={"Photo from the resident (" (t.number) ")"} loading="lazy";
                                            }
                                        }
                                        Some(url) => { a href=(url) rel="noreferrer noopener" { (a.kind) " attachment" } }
                                        None => { (a.kind) " " (a.media_id.as_deref().or(a.url.as_deref()).unwrap_or("")) }
                                    }
                                }
                            }
                        }
                    }
                }
                section.card aria-labelledby="act-h" {
                    h2 #act-h { "Actions" }
                    @if t.status.is_queued() && crate::staff::scope::can_use_queue(u, t.department) {
                        form method="post" action={(base) "/claim"} {
                            (f.csrf())
                            button type="submit" { "抢单 Claim" }
                        }
                    }
                    @if t.assignee == Some(u.id) && t.status == Status::Claimed {
                        form method="post" action={(base) "/release"} {
                            (f.csrf())
                            button.secondary type="submit" { "Release back to the queue" }
                        }
                    }
                    form method="post" action={(base) "/status"} {
                        (f.csrf())
                        fieldset {
                            legend { "Change status" }
                            label for="status" { "New status" }
                            select #status name="status" {
                                @for s in Status::ALL {
                                    @if *s != t.status {
                                        option value=(s.as_str()) selected[*s == next] { (status_label(*s)) }
                                    }
                                }
                            }
                            label for="note" { "Note (optional)" }
                            textarea #note name="note" rows="2" {}
                            button type="submit" { "Change status" }
                        }
                    }
                    @if can_reply {
                        form method="post" action={(base) "/reply"} {
                            (f.csrf())
                            fieldset {
                                legend { "Reply to the resident" }
                                label for="reply" { "Message" }
                                textarea #reply name="text" rows="3" required {}
                                button type="submit" { "Send reply" }
                            }
                        }
                    }
                    @if can_reclassify && t.status.is_open() {
                        (reclassify_form(f, t, &base))
                    }
                    @if can_assign && t.status.is_open() && t.status != Status::Resolved {
                        form method="post" action={(base) "/assign"} {
                            (f.csrf())
                            fieldset {
                                legend { "Reassign" }
                                label for="staff" { "Hand to" }
                                select #staff name="staff_id" {
                                    @for c in &d.colleagues {
                                        option value=(c.id) selected[Some(c.id) == t.assignee] { (c.name) " (" (c.role) ")" }
                                    }
                                }
                                button type="submit" { "Reassign" }
                            }
                        }
                    }
                }
            }
            section.card aria-labelledby="conv-h" {
                h2 #conv-h { "Conversation" }
                (conversation(f, &d.conversation))
            }
            section.card aria-labelledby="hist-h" {
                h2 #hist-h { "History" }
                ol.history {
                    @for e in &d.events {
                        li {
                            (f.time(e.at)) " · "
                            strong { (e.action) }
                            @if let (Some(a), Some(b)) = (&e.from_status, &e.to_status) { " " (a) " → " (b) }
                            " · " (e.actor_name.as_deref().unwrap_or(&e.actor_kind))
                            @if let Some(n) = &e.note { p.note { (n) } }
                        }
                    }
                }
            }
        },
    )
}

/// Correcting what the classifier read. The department is fixed while someone holds the
/// ticket (the action refuses it), so the form does not offer what would only fail.
fn reclassify_form(f: &Frame<'_>, t: &Ticket, base: &str) -> Markup {
    let moves = t.status.is_queued();
    html! {
        form method="post" action={(base) "/reclassify"} {
            (f.csrf())
            fieldset {
                legend { "重新分类 Reclassify" }
                label for="rc-kind" { "类型 Kind" }
                select #rc-kind name="kind" {
                    @for k in Kind::ALL {
                        option value=(k.as_str()) selected[*k == t.kind] { (kind_label(*k)) }
                    }
                }
                label for="rc-urgency" { "紧急程度 Urgency" }
                select #rc-urgency name="urgency" {
                    @for x in Urgency::ALL {
                        option value=(x.as_str()) selected[*x == t.urgency] { (urgency_label(*x)) }
                    }
                }
                label for="rc-department" { "部门 Department" }
                select #rc-department name="department" disabled[!moves]
                    aria-describedby=[(!moves).then_some("rc-department-why")] {
                    @for d in Department::ALL {
                        option value=(d.as_str()) selected[*d == t.department] { (department_label(*d)) }
                    }
                }
                @if !moves {
                    p.meta #rc-department-why { "已接单的工单要先退回队列才能改部门 · Release it to its queue to change the department" }
                }
                label for="rc-category" { "诉求分类 Category" }
                select #rc-category name="category" {
                    @for c in Category::ALL {
                        option value=(c.as_str()) selected[*c == t.category] { (category_label(*c)) }
                    }
                }
                label for="rc-note" { "原因（可选） Reason (optional)" }
                textarea #rc-note name="note" rows="2" {}
                button type="submit" { "重新分类 Reclassify" }
            }
        }
    }
}

pub fn concierge(f: &Frame<'_>, tickets: &[Ticket], conversations: &[Conversation]) -> Markup {
    let u = &f.console.user;
    page(
        "My buildings",
        Some(f),
        true,
        html! {
            h1 { "My buildings" }
            @if u.role == Role::Concierge {
                p { "Buildings: " (u.buildings.join(", ")) }
            }
            div #concierge-live data-live="notice" {}
            p.live-notice hidden role="status" { "Something changed. " a href="/console/concierge" { "Reload" } }
            section aria-labelledby="conv-h" {
                h2 #conv-h { "Conversations with residents (" (conversations.len()) ")" }
                @if conversations.is_empty() { p.empty { "No open conversations." } }
                @for c in conversations {
                    @let h = &c.handoff;
                    @let fid = h.id.simple().to_string();
                    article.card aria-labelledby={"h-" (fid)} {
                        h3 id={"h-" (fid)} {
                            (c.resident_name.as_deref().unwrap_or("Resident"))
                            @if let Some(b) = &h.building { " · building " (b) }
                        }
                        p.meta { "Since " (f.time(h.started_at)) " · last message " (f.time(h.last_activity_at)) }
                        (conversation(f, &c.messages))
                        form method="post" action={"/console/handoffs/" (h.id) "/reply"} {
                            (f.csrf())
                            label for={"r-" (fid)} { "Reply" }
                            textarea id={"r-" (fid)} name="text" rows="2" required {}
                            button type="submit" { "Send" }
                        }
                        form method="post" action={"/console/handoffs/" (h.id) "/end"} {
                            (f.csrf())
                            button.secondary type="submit" { "End conversation" }
                        }
                    }
                }
            }
            section aria-labelledby="open-h" {
                h2 #open-h { "Open tickets (" (tickets.len()) ")" }
                @if tickets.is_empty() { p.empty { "No open tickets." } }
                ul.tickets {
                    @for t in tickets {
                        li.ticket {
                            div.line {
                                a.number href={"/console/tickets/" (t.number)} { (t.number) }
                                span.badge { (status_label(t.status)) }
                                (sla_cell(f, t))
                            }
                            p.summary { (t.summary) }
                            p.meta { @if let Some(l) = location(t) { "Place " (l) " · " } (department_label(t.department)) }
                        }
                    }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_addresses_are_links() {
        assert_eq!(safe_url("https://x/y.jpg"), Some("https://x/y.jpg"));
        assert_eq!(safe_url(" HTTP://x"), Some("HTTP://x"));
        assert_eq!(safe_url("javascript:alert(1)"), None);
        assert_eq!(safe_url("data:text/html,hi"), None);
    }

    #[test]
    fn text_is_escaped() {
        let m = error_page(StatusCode::CONFLICT, "<script>alert(1)</script>").into_string();
        assert!(!m.contains("<script>alert"), "{m}");
        assert!(m.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    }
}
