//! The pure heart of the report: rows in, figures out. No I/O and no clock — `as_of` is
//! a parameter — so every figure's definition (in `figures`) is pinned by unit tests.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, FixedOffset, SubsecRound, Utc};
use uuid::Uuid;

use super::figures::{
    Backlog, ChangeCount, ComplaintLine, Escalations, HotGroup, MonthlyReport, Rate, Reclassified,
    Recurring, Satisfaction, Tally, Timing,
};
use super::month::Month;
use super::queries::{CorrectionRow, EventRow, Rows, SurveyRow, TicketRow};
use crate::configuration::Settings;
use crate::domain::privacy::mask_phones;
use crate::ticket::{Category, Department, Kind, Status, Urgency};

/// What `compute` needs besides the rows, taken from the settings and the caller's clock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// The property's UTC offset: month boundaries are local midnights.
    pub offset: FixedOffset,
    /// When the report is computed; deadlines after it are not judged yet.
    pub as_of: DateTime<Utc>,
    /// Different residents needed for a group of complaints to be hot.
    pub hot_min_residents: u64,
    /// How many recurring (building, category) pairs to list.
    pub top_recurring: usize,
}

/// Recurring problems listed by default: enough for one page of the printed report.
pub const TOP_RECURRING: usize = 10;

impl Params {
    pub fn from_settings(settings: &Settings, as_of: DateTime<Utc>) -> Self {
        Self {
            offset: settings.locale.offset(),
            as_of,
            hot_min_residents: u64::try_from(settings.severity.hot_min_residents.max(1))
                .unwrap_or(1),
            top_recurring: TOP_RECURRING,
        }
    }
}

const WORK_PENDING: [&str; 4] = ["queued", "claimed", "in_progress", "reopened"];

/// Computes every figure of `month` from `rows`; see `figures` for the definitions.
pub fn compute(rows: &Rows, month: Month, params: &Params) -> MonthlyReport {
    let start = month.start(params.offset).with_timezone(&Utc);
    let end = month.end(params.offset).with_timezone(&Utc);

    let mut events: HashMap<Uuid, Vec<&EventRow>> = HashMap::new();
    for e in &rows.events {
        events.entry(e.ticket_id).or_default().push(e);
    }
    for list in events.values_mut() {
        list.sort_by_key(|e| e.at);
    }
    let mut surveys: HashMap<Uuid, Vec<&SurveyRow>> = HashMap::new();
    for s in &rows.surveys {
        surveys.entry(s.ticket_id).or_default().push(s);
    }
    let no_events = Vec::new();
    let no_surveys = Vec::new();
    let events_of = |t: &TicketRow| events.get(&t.id).unwrap_or(&no_events);
    let surveys_of = |t: &TicketRow| surveys.get(&t.id).unwrap_or(&no_surveys);

    let cohort: Vec<&TicketRow> = rows
        .tickets
        .iter()
        .filter(|t| t.created_at >= start && t.created_at < end)
        .collect();
    let complaints: Vec<&TicketRow> = cohort
        .iter()
        .copied()
        .filter(|t| t.kind == Kind::Complaint.as_str())
        .collect();
    let is_cancelled = |t: &TicketRow| t.status == Status::Cancelled.as_str();

    let response = timing(
        cohort
            .iter()
            .map(|t| (*t, first_claim(t, events_of(t)), t.respond_due_at)),
        params.as_of,
    );
    let resolution = timing(
        cohort.iter().map(|t| (*t, final_resolution(t), t.due_at)),
        params.as_of,
    );

    let answered: Vec<i16> = cohort
        .iter()
        .flat_map(|t| surveys_of(t).iter().filter_map(|s| s.rating))
        .collect();
    let satisfaction = Satisfaction {
        answered: answered.len() as u64,
        satisfied: Rate::of(
            answered.iter().filter(|r| **r >= 4).count() as u64,
            answered.len() as u64,
        ),
        average_rating: (!answered.is_empty())
            .then(|| answered.iter().map(|r| f64::from(*r)).sum::<f64>() / answered.len() as f64),
        distribution: tally(
            &["1", "2", "3", "4", "5"],
            answered.iter().map(|r| r.to_string()),
        ),
    };

    let needs_revisit: Vec<&TicketRow> = cohort
        .iter()
        .copied()
        .filter(|t| ever_resolved(t) && !is_cancelled(t) && !t.satisfied_on_spot)
        .collect();
    let revisited = needs_revisit
        .iter()
        .filter(|t| {
            surveys_of(t)
                .iter()
                .any(|s| s.answered_at.is_some() || s.rating.is_some())
        })
        .count();
    let resolved_once = cohort.iter().filter(|t| ever_resolved(t)).count();
    let reopened = cohort.iter().filter(|t| t.reopen_count > 0).count();

    let line = |t: &TicketRow| ComplaintLine {
        number: t.number.clone(),
        summary: mask_phones(&t.summary),
        severity: t.severity,
        status: t.status.clone(),
        category: t.category.clone(),
        building: t.building.clone(),
        created_at: t.created_at.with_timezone(&params.offset),
    };
    let mut serious: Vec<&TicketRow> = complaints
        .iter()
        .copied()
        .filter(|t| t.severity <= 3)
        .collect();
    serious.sort_by(|a, b| {
        (a.severity, a.created_at, &a.number).cmp(&(b.severity, b.created_at, &b.number))
    });
    let mut important: Vec<&TicketRow> =
        complaints.iter().copied().filter(|t| t.important).collect();
    important.sort_by(|a, b| (a.created_at, &a.number).cmp(&(b.created_at, &b.number)));

    MonthlyReport {
        month,
        period_start: month.start(params.offset),
        period_end: month.end(params.offset),
        as_of: params.as_of.trunc_subsecs(0).with_timezone(&params.offset),
        received: cohort.len() as u64,
        cancelled: cohort.iter().filter(|t| is_cancelled(t)).count() as u64,
        by_kind: tally(
            &labels(Kind::ALL, |k| k.as_str()),
            cohort.iter().map(|t| t.kind.clone()),
        ),
        by_category: tally(
            &labels(Category::ALL, |c| c.as_str()),
            cohort.iter().map(|t| t.category.clone()),
        ),
        by_department: tally(
            &labels(Department::ALL, |d| d.as_str()),
            cohort.iter().map(|t| t.department.clone()),
        ),
        by_urgency: tally(
            &labels(Urgency::ALL, |u| u.as_str()),
            cohort.iter().map(|t| t.urgency.clone()),
        ),
        complaints_by_severity: tally(
            &["1", "2", "3", "4"],
            complaints.iter().map(|t| t.severity.to_string()),
        ),
        response,
        resolution,
        satisfaction,
        revisit: Rate::of(revisited as u64, needs_revisit.len() as u64),
        reopen: Rate::of(reopened as u64, resolved_once as u64),
        serious_complaints: serious.into_iter().map(line).collect(),
        hot_complaints: hot_groups(&complaints, params.hot_min_residents),
        important_complaints: important.into_iter().map(line).collect(),
        recurring: recurring(
            cohort.iter().copied().filter(|t| !is_cancelled(t)),
            params.top_recurring,
        ),
        backlog: backlog(
            rows.tickets
                .iter()
                .filter(|t| t.created_at < end)
                .map(|t| (t, events_of(t))),
            end,
        ),
        escalations: escalations(&rows.tickets, &rows.events, start, end),
        reclassified: reclassified(&rows.corrections, start, end),
    }
}

/// The month's corrections, and each label they changed, tallied.
fn reclassified(
    corrections: &[CorrectionRow],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Reclassified {
    let mut tickets = BTreeSet::new();
    let mut counts: BTreeMap<(&str, &str, &str), u64> = BTreeMap::new();
    let mut n = 0;
    for c in corrections.iter().filter(|c| c.at >= start && c.at < end) {
        n += 1;
        tickets.insert(c.ticket_id);
        for (field, from, to) in [
            ("kind", &c.from_kind, &c.kind),
            ("urgency", &c.from_urgency, &c.urgency),
            ("department", &c.from_department, &c.department),
            ("category", &c.from_category, &c.category),
        ] {
            if from != to {
                *counts.entry((field, from, to)).or_default() += 1;
            }
        }
    }
    let mut changes: Vec<ChangeCount> = counts
        .into_iter()
        .map(|((field, from, to), count)| ChangeCount {
            field: field.to_owned(),
            from: from.to_owned(),
            to: to.to_owned(),
            count,
        })
        .collect();
    // Stable: equal counts keep the map's (field, from, to) order.
    changes.sort_by_key(|c| std::cmp::Reverse(c.count));
    Reclassified {
        events: n,
        tickets: tickets.len() as u64,
        changes,
    }
}

fn labels<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|x| name(*x)).collect()
}

/// Counts `values` under `known` labels (zeros kept), then any other label alphabetically.
pub fn tally(known: &[&str], values: impl Iterator<Item = String>) -> Tally {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    let mut out: Vec<(String, u64)> = known
        .iter()
        .map(|k| (k.to_string(), counts.remove(*k).unwrap_or(0)))
        .collect();
    out.extend(counts);
    Tally(out)
}

/// Nearest-rank percentile of ascending `sorted`: the value at rank ⌈p·n/100⌉.
pub fn percentile(sorted: &[i64], p: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// Durations from creation to `done`, and whether `done` met `due` (see `Timing`).
fn timing<'a>(
    items: impl Iterator<Item = (&'a TicketRow, Option<DateTime<Utc>>, Option<DateTime<Utc>>)>,
    as_of: DateTime<Utc>,
) -> Timing {
    let mut secs = Vec::new();
    let (mut met, mut judged) = (0u64, 0u64);
    for (t, done, due) in items {
        if let Some(done) = done {
            secs.push((done - t.created_at).num_seconds().max(0));
        }
        match (done, due) {
            (Some(done), Some(due)) => {
                judged += 1;
                if done <= due {
                    met += 1;
                }
            }
            // A cancelled ticket never got there by design, not by a miss.
            (None, Some(due)) if due <= as_of && t.status != Status::Cancelled.as_str() => {
                judged += 1
            }
            _ => {}
        }
    }
    secs.sort_unstable();
    Timing {
        count: secs.len() as u64,
        p50_secs: percentile(&secs, 50),
        p90_secs: percentile(&secs, 90),
        p99_secs: percentile(&secs, 99),
        within_sla: Rate::of(met, judged),
    }
}

/// The earliest move to `claimed`, else the `claimed_at` column.
fn first_claim(t: &TicketRow, events: &[&EventRow]) -> Option<DateTime<Utc>> {
    events
        .iter()
        .filter(|e| e.to_status.as_deref() == Some(Status::Claimed.as_str()))
        .map(|e| e.at)
        .min()
        .or(t.claimed_at)
}

/// When the work was last finished, for tickets that are finished now.
fn final_resolution(t: &TicketRow) -> Option<DateTime<Utc>> {
    let finished = t.status == Status::Resolved.as_str() || t.status == Status::Closed.as_str();
    if finished {
        t.resolved_at.or(t.closed_at)
    } else {
        None
    }
}

/// Resolved at least once, whatever happened after.
fn ever_resolved(t: &TicketRow) -> bool {
    t.resolved_at.is_some()
        || t.closed_at.is_some()
        || t.reopen_count > 0
        || t.status == Status::Resolved.as_str()
        || t.status == Status::Closed.as_str()
}

/// The ticket's status just before `instant` (see `Backlog::total` for the fallback).
pub fn status_at(t: &TicketRow, events: &[&EventRow], instant: DateTime<Utc>) -> String {
    if let Some(s) = events
        .iter()
        .rev()
        .filter(|e| e.at < instant)
        .find_map(|e| e.to_status.clone())
    {
        return s;
    }
    if t.closed_at.is_some_and(|at| at < instant) {
        Status::Closed.as_str().into()
    } else if t.resolved_at.is_some_and(|at| at < instant) {
        Status::Resolved.as_str().into()
    } else if t.updated_at < instant {
        t.status.clone()
    } else {
        Status::Queued.as_str().into()
    }
}

fn backlog<'a>(
    tickets: impl Iterator<Item = (&'a TicketRow, &'a Vec<&'a EventRow>)>,
    end: DateTime<Utc>,
) -> Backlog {
    let mut open = Vec::new();
    for (t, events) in tickets {
        let status = status_at(t, events, end);
        if WORK_PENDING.contains(&status.as_str()) {
            open.push((t, status));
        }
    }
    Backlog {
        total: open.len() as u64,
        overdue: open
            .iter()
            .filter(|(t, _)| t.due_at.is_some_and(|d| d < end))
            .count() as u64,
        by_department: tally(
            &labels(Department::ALL, |d| d.as_str()),
            open.iter().map(|(t, _)| t.department.clone()),
        ),
        by_status: tally(&WORK_PENDING, open.into_iter().map(|(_, s)| s)),
    }
}

fn escalations(
    tickets: &[TicketRow],
    events: &[EventRow],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Escalations {
    let in_month: Vec<&EventRow> = events
        .iter()
        .filter(|e| e.at >= start && e.at < end && e.action.to_lowercase().starts_with("escalat"))
        .collect();
    let ids: BTreeSet<Uuid> = in_month.iter().map(|e| e.ticket_id).collect();
    let department: HashMap<Uuid, &str> = tickets
        .iter()
        .map(|t| (t.id, t.department.as_str()))
        .collect();
    Escalations {
        events: in_month.len() as u64,
        tickets: ids.len() as u64,
        by_department: tally(
            &labels(Department::ALL, |d| d.as_str()),
            ids.iter()
                .map(|id| department.get(id).copied().unwrap_or("unknown").to_string()),
        ),
    }
}

fn hot_groups(complaints: &[&TicketRow], min_residents: u64) -> Vec<HotGroup> {
    let mut groups: BTreeMap<Uuid, Vec<&TicketRow>> = BTreeMap::new();
    for t in complaints {
        if let Some(g) = t.group_id {
            groups.entry(g).or_default().push(t);
        }
    }
    let mut hot: Vec<HotGroup> = groups
        .into_iter()
        .filter_map(|(group_id, mut members)| {
            members.sort_by(|a, b| (a.created_at, &a.number).cmp(&(b.created_at, &b.number)));
            let residents = members
                .iter()
                .map(|t| t.resident_id)
                .collect::<BTreeSet<_>>()
                .len() as u64;
            let first = members.first()?;
            (residents >= min_residents).then(|| HotGroup {
                group_id,
                residents,
                numbers: members.iter().map(|t| t.number.clone()).collect(),
                category: first.category.clone(),
                summary: mask_phones(&first.summary),
                severity: members.iter().map(|t| t.severity).min().unwrap_or(4),
            })
        })
        .collect();
    hot.sort_by(|a, b| {
        (b.residents, b.numbers.len(), &a.numbers).cmp(&(a.residents, a.numbers.len(), &b.numbers))
    });
    hot
}

fn recurring<'a>(tickets: impl Iterator<Item = &'a TicketRow>, top: usize) -> Vec<Recurring> {
    let mut counts: BTreeMap<(String, String), u64> = BTreeMap::new();
    for t in tickets {
        if let Some(b) = t
            .building
            .as_deref()
            .map(str::trim)
            .filter(|b| !b.is_empty())
        {
            *counts
                .entry((b.to_string(), t.category.clone()))
                .or_default() += 1;
        }
    }
    let mut pairs: Vec<Recurring> = counts
        .into_iter()
        .filter(|(_, n)| *n >= 2)
        .map(|((building, category), count)| Recurring {
            building,
            category,
            count,
        })
        .collect();
    // BTreeMap order already sorts ties by building then category; a stable sort keeps it.
    pairs.sort_by_key(|p| std::cmp::Reverse(p.count));
    pairs.truncate(top);
    pairs
}

#[cfg(test)]
mod tests;
