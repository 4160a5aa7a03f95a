//! The edge around the pure machine: asks the encoder about a batch before its transaction
//! opens (`prepare`), then reads what it needs (resident, session, draft, handoff), steps
//! it, and executes its effects inside the message's transaction — tickets, drafts,
//! handoffs, the unit on record — then renders the replies and saves the session.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context as _;
use async_trait::async_trait;
use redis::aio::ConnectionManager;
use sqlx::PgConnection;
use tracing::Instrument;
use uuid::Uuid;

use super::faq::Faq;
use super::machine::{
    self, Ctx, Draft, Effect, Event, HandoffView, Input, Photo, Place, Request, TextInput,
    TicketDraft,
};
use super::prompt::{Act, Prompt};
use super::render::Renderer;
use super::session::{self, Stored};
use super::{words, Understanding};
use crate::channel::{
    Dialogue, InboundMessage, ManyOutcome, MessageBody, Outcome, PlatformEvent, Prepared,
};
use crate::clock::SharedClock;
use crate::configuration::Settings;
use crate::domain::Locale;
use crate::prompts::Prompts;
use crate::ticket::repository::NewAttachment;
use crate::ticket::{
    self, residents, NewTicket, Status, Ticket, TicketContext, TicketQueue, Urgency,
};
use crate::understanding::encoder::Encoder;
use crate::understanding::intent::Intents;
use crate::understanding::semantic_input;

pub struct Engine {
    pub(super) settings: Arc<Settings>,
    pub(super) redis: ConnectionManager,
    pub(super) clock: SharedClock,
    pub(super) prompts: Arc<Prompts>,
    pub(super) db: sqlx::PgPool,
    pub(super) queue: Arc<dyn TicketQueue>,
    pub(super) understanding: Arc<dyn Understanding>,
    /// The semantic tier's encoder; `None` reads with the lexicon alone.
    pub(super) encoder: Option<Arc<Encoder>>,
    pub(super) faq: Arc<Faq>,
    pub(super) intents: Arc<Intents>,
}

/// What executing effects produces.
#[derive(Default)]
struct Edge {
    replies: Vec<String>,
    acts: Vec<Act>,
    outcome: Outcome,
}

impl Edge {
    fn act(&mut self, act: Option<Act>) {
        if let Some(a) = act.filter(|a| !self.acts.contains(a)) {
            self.acts.push(a);
        }
    }
}

#[async_trait]
impl Dialogue for Engine {
    /// One call to the encoder for every text in the batch that is worth reading twice
    /// (not a digit, a one-word answer or an emoji); what it can't answer in its budget is
    /// read by the lexicon alone.
    async fn prepare(&self, msgs: &[InboundMessage]) -> Prepared {
        let Some(encoder) = &self.encoder else {
            return Prepared::default();
        };
        // Each message whole and, when it holds several needs, each need on its own: a need
        // read by its words alone loses what the model knows ("the bathroom tap won't stop
        // dripping" is a repair to the heads, nothing to the lexicon).
        let mut wanted: Vec<(Uuid, Option<usize>, String)> = Vec::new();
        for m in msgs {
            let Some(t) = m.body.text().map(str::trim) else {
                continue;
            };
            // A message that is only a yes, a digit, a thanks or a greeting steers the
            // conversation by its words; it needs no reading of its meaning.
            if self.intents.only_steers(t) {
                continue;
            }
            let Some(whole) = semantic_input(t) else {
                continue;
            };
            wanted.push((m.id, None, whole));
            let split = self.intents.split_needs(t);
            if split.len() > 1 {
                for (i, part) in split.iter().enumerate() {
                    if let Some(p) = semantic_input(part) {
                        wanted.push((m.id, Some(i), p));
                    }
                }
            }
        }
        if wanted.is_empty() {
            return Prepared::default();
        }
        let texts: Vec<&str> = wanted.iter().map(|(_, _, t)| t.as_str()).collect();
        let vectors = encoder.embed_cached(&texts).await;
        let mut prepared = Prepared::default();
        for ((id, part, _), v) in wanted.into_iter().zip(vectors) {
            if let Some(v) = v {
                prepared.keep(id, part, v);
            }
        }
        prepared
    }

    async fn handle(
        &self,
        conn: &mut PgConnection,
        msg: &InboundMessage,
        prepared: &Prepared,
    ) -> anyhow::Result<Outcome> {
        // A single message needs no undo: a retry of it starts from the session kept
        // before it (`Stored::start_for`).
        let mut many = self
            .handle_many(conn, std::slice::from_ref(msg), prepared)
            .await?;
        many.outcomes
            .pop()
            .context("the dialogue answered no outcome")
    }

    /// Reads every resident's context and session once for the batch, steps the messages
    /// in order (a resident's later message sees what the earlier one wrote), then saves
    /// the sessions in one round trip.
    async fn handle_many(
        &self,
        conn: &mut PgConnection,
        msgs: &[InboundMessage],
        prepared: &Prepared,
    ) -> anyhow::Result<ManyOutcome> {
        let mut residents: Vec<Uuid> = msgs.iter().map(|m| m.resident_id).collect();
        residents.sort_unstable();
        residents.dedup();
        let mut contexts: HashMap<Uuid, residents::DialogueContext> =
            residents::dialogue_contexts(conn, &residents)
                .await?
                .into_iter()
                .map(|c| (c.resident.id, c))
                .collect();
        let prefix = &self.settings.redis.key_prefix;
        let keys: Vec<String> = residents
            .iter()
            .map(|id| session::key(prefix, *id))
            .collect();
        let mut redis = self.redis.clone();
        let loaded = session::load_many(&mut redis, &keys)
            .await
            .unwrap_or_else(|e| {
                // Without Redis the conversation loses its thread but still answers.
                tracing::warn!(error = %e, "loading dialogue sessions");
                keys.iter().map(|_| (Stored::default(), None)).collect()
            });
        let mut originals = Vec::with_capacity(keys.len());
        let mut sessions: HashMap<Uuid, Stored> = HashMap::with_capacity(keys.len());
        for ((id, key), (stored, raw)) in residents.iter().zip(keys).zip(loaded) {
            sessions.insert(*id, stored);
            originals.push((key, raw));
        }

        let mut outcomes = Vec::with_capacity(msgs.len());
        let mut changed: Vec<Uuid> = Vec::new();
        for msg in msgs {
            // A resident's second message in the batch reads what the first one wrote.
            let context = match contexts.remove(&msg.resident_id) {
                Some(c) => c,
                None => residents::dialogue_context(conn, msg.resident_id)
                    .await?
                    .with_context(|| format!("no resident {}", msg.resident_id))?,
            };
            let stored = sessions.remove(&msg.resident_id).unwrap_or_default();
            let span = tracing::info_span!(
                "message",
                message_id = %msg.id,
                resident_id = %msg.resident_id,
                msg_type = %msg.body.type_name(),
            );
            let (outcome, next) = self
                .step_one(conn, msg, context, stored, prepared)
                .instrument(span)
                .await?;
            if !changed.contains(&msg.resident_id) {
                changed.push(msg.resident_id);
            }
            sessions.insert(msg.resident_id, next);
            outcomes.push(outcome);
        }

        let ttl = self.session_ttl();
        let writes: Vec<(String, Stored)> = changed
            .iter()
            .filter_map(|id| sessions.remove(id).map(|s| (session::key(prefix, *id), s)))
            .collect();
        if let Err(e) = session::save_many(&mut redis, &writes, ttl).await {
            tracing::warn!(error = %e, "saving dialogue sessions");
        }
        let undo = move || async move {
            if let Err(e) = session::restore(&mut redis, &originals, ttl).await {
                tracing::warn!(error = %e, "restoring dialogue sessions after a failed batch");
            }
        };
        Ok(ManyOutcome {
            outcomes,
            undo: Some(Box::pin(undo())),
        })
    }
}

impl Engine {
    fn session_ttl(&self) -> std::time::Duration {
        let d = &self.settings.dialogue;
        d.idle_timeout.max(d.handoff_idle_timeout) + std::time::Duration::from_secs(3600)
    }

    /// Steps one message from `stored` and executes its effects; returns the outcome and
    /// the session to keep.
    async fn step_one(
        &self,
        conn: &mut PgConnection,
        msg: &InboundMessage,
        context: residents::DialogueContext,
        stored: Stored,
        prepared: &Prepared,
    ) -> anyhow::Result<(Outcome, Stored)> {
        let now = self.clock.now();
        let residents::DialogueContext {
            resident,
            draft,
            handoff,
        } = context;
        let known_locale = resident.locale();
        let text = msg.body.text().map(str::trim).filter(|t| !t.is_empty());
        let locale = match text {
            Some(t) => words::reply_locale(t, self.understanding.locale(t), known_locale),
            None => known_locale,
        };
        if locale != known_locale {
            residents::set_locale(conn, resident.id, locale).await?;
        }
        let tctx = TicketContext {
            settings: self.settings.clone(),
            clock: self.clock.clone(),
            prompts: self.prompts.clone(),
            db: self.db.clone(),
        };
        let start = stored.start_for(msg.id);
        // A survey answer is read only when the resident is not in the middle of a request:
        // "1" or "好" answering a read-back confirms it, it does not rate a finished ticket.
        let idle_timeout = chrono::Duration::from_std(self.settings.dialogue.idle_timeout)?;
        if let (Some(t), false) = (text, machine::is_pending(start.as_ref(), now, idle_timeout)) {
            if let Some(reply) =
                ticket::revisit::intercept(conn, &tctx, resident.id, t, locale).await?
            {
                let outcome = self.survey_answered(conn, resident.id, reply).await?;
                return Ok((outcome, stored));
            }
        }
        let draft = draft.and_then(|d| {
            serde_json::from_value::<Request>(d.payload)
                .ok()
                .map(|req| Draft {
                    req,
                    updated_at: d.updated_at,
                })
        });
        let handoff = handoff.map(|(id, last_activity_at)| HandoffView {
            id,
            last_activity_at,
        });
        let on_record = (resident.building.is_some() || resident.room.is_some()).then(|| Place {
            building: resident.building.clone(),
            unit: resident.unit.clone(),
            room: resident.room.clone(),
            ..Place::default()
        });
        // Only a message that says a repair did not hold, or is pleased with one, costs the
        // lookup.
        let resolved = match text {
            Some(t) if self.intents.not_fixed(t) || self.intents.pleased(t) => {
                let since = now - self.settings.survey.reopen_within;
                ticket::repository::newest_resolved(conn, resident.id, since)
                    .await?
                    .is_some()
            }
            _ => false,
        };
        let d = &self.settings.dialogue;
        let ctx = Ctx {
            idle_timeout: chrono::Duration::from_std(d.idle_timeout)?,
            draft_ttl: chrono::Duration::from_std(d.draft_ttl)?,
            handoff_idle_timeout: chrono::Duration::from_std(d.handoff_idle_timeout)?,
            unit_on_record: on_record,
            draft,
            handoff,
            resolved,
            faq: &self.faq,
            intents: &self.intents,
        };
        let input = Input {
            now,
            event: self.event(&msg.body, prepared, msg.id),
        };
        let (next, effects) = machine::step(start.clone(), &input, &ctx);

        let renderer = self.renderer(locale);
        let mut edge = Edge::default();
        for effect in effects {
            self.execute(
                conn, &tctx, msg, &resident, &renderer, locale, effect, &mut edge,
            )
            .await?;
        }

        let stored = Stored {
            current: Some(next),
            last_message_id: Some(msg.id),
            previous: start,
        };
        edge.outcome.reply = edge.replies.join("\n");
        edge.outcome.acts = edge.acts.iter().map(|a| a.as_str().to_owned()).collect();
        Ok((edge.outcome, stored))
    }
}

impl Engine {
    /// Brings the ticket's place in Redis in line with its status once the transaction
    /// commits; if that fails, the queue reconciler does it from PostgreSQL.
    fn push_after_commit(&self, outcome: &mut Outcome, ticket: Ticket, what: &'static str) {
        let queue = self.queue.clone();
        outcome.after_commit.push(Box::pin(async move {
            if let Err(e) = queue.push(&ticket).await {
                tracing::warn!(error = %e, ticket = %ticket.number, "{what}");
            }
        }));
    }

    /// A dissatisfied answer reopens the ticket: once that commits, it goes straight back
    /// onto its department's queue rather than waiting for the reconciler.
    async fn survey_answered(
        &self,
        conn: &mut PgConnection,
        resident_id: uuid::Uuid,
        reply: String,
    ) -> anyhow::Result<Outcome> {
        let mut outcome = Outcome::reply(reply);
        let reopened: Vec<_> = ticket::repository::open_for_resident(conn, resident_id)
            .await?
            .into_iter()
            .filter(|t| t.status == ticket::Status::Reopened)
            .collect();
        for t in reopened {
            self.push_after_commit(&mut outcome, t, "re-queueing reopened ticket");
        }
        Ok(outcome)
    }

    fn event(&self, body: &MessageBody, prepared: &Prepared, id: Uuid) -> Event {
        if let Some(text) = body.text().map(str::trim) {
            if text.is_empty() {
                return Event::Silent;
            }
            return Event::Text(self.text_input(text, prepared, id));
        }
        match body {
            MessageBody::Image { url, media_id } => Event::Image(Photo {
                url: url.clone(),
                media_id: media_id.clone(),
            }),
            MessageBody::Location { lat, lng, label } => Event::Location {
                lat: *lat,
                lng: *lng,
                label: label.clone(),
            },
            MessageBody::Event(PlatformEvent::Subscribe { .. }) => Event::Subscribe,
            MessageBody::Event(PlatformEvent::Click { key }) => Event::Click(key.clone()),
            MessageBody::Event(_) => Event::Silent,
            MessageBody::Text { .. }
            | MessageBody::Voice { .. }
            | MessageBody::Video { .. }
            | MessageBody::Link { .. }
            | MessageBody::Unsupported { .. } => Event::Unsupported,
        }
    }

    /// The message read whole and, when it holds several needs, each need on its own, each
    /// with both tiers when the encoder answered for it ([`Self::prepare`]).
    fn text_input(&self, text: &str, prepared: &Prepared, id: Uuid) -> TextInput {
        let split = self.intents.split_needs(text);
        let parts = if split.len() > 1 {
            split
                .iter()
                .enumerate()
                .map(|(i, p)| TextInput {
                    text: p.clone(),
                    simplified: words::to_simplified(p),
                    class: self
                        .understanding
                        .classify_with(p, prepared.part_embedding(id, i)),
                    parts: Vec::new(),
                })
                .collect()
        } else {
            Vec::new()
        };
        TextInput {
            text: text.to_owned(),
            simplified: words::to_simplified(text),
            class: self
                .understanding
                .classify_with(text, prepared.embedding(id)),
            parts,
        }
    }

    fn renderer(&self, locale: Locale) -> Renderer<'_> {
        let s = &self.settings.service;
        Renderer {
            prompts: &self.prompts,
            faq: &self.faq,
            locale,
            base: vec![
                ("duty_phone", s.duty_phone.clone()),
                ("desk_hours", s.desk_hours.clone()),
                ("company", s.company.clone()),
            ],
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn execute(
        &self,
        conn: &mut PgConnection,
        tctx: &TicketContext,
        msg: &InboundMessage,
        resident: &residents::Resident,
        renderer: &Renderer<'_>,
        locale: Locale,
        effect: Effect,
        edge: &mut Edge,
    ) -> anyhow::Result<()> {
        let now = self.clock.now();
        match effect {
            Effect::Reply(m) => {
                edge.act(m.act());
                edge.replies.push(renderer.msg(&m, &[]));
            }
            Effect::CreateTicket { ticket, replies } => {
                let filed = self
                    .file(conn, tctx, msg, resident, renderer, locale, ticket, edge)
                    .await?;
                let within = self.respond_within(&filed);
                let vars = [
                    ("number", filed.number.clone()),
                    ("within", renderer.duration(&within)),
                ];
                for m in &replies {
                    edge.act(m.act());
                    edge.replies.push(renderer.msg(m, &vars));
                }
            }
            Effect::RememberUnit(p) => {
                residents::remember_unit(
                    conn,
                    resident.id,
                    p.building.as_deref(),
                    p.unit.as_deref(),
                    p.room.as_deref(),
                )
                .await?
            }
            Effect::SaveDraft(req) => {
                residents::save_draft(conn, resident.id, &serde_json::to_value(&req)?, now).await?
            }
            Effect::ClearDraft => residents::delete_draft(conn, resident.id).await?,
            Effect::StartHandoff => {
                edge.act(Some(Act::Handoff));
                let building = resident.building.as_deref();
                residents::start_handoff(conn, resident.id, building, now).await?;
                let concierge = building
                    .and_then(|b| self.settings.concierge_for(b))
                    .filter(|c| !c.concierge.is_empty());
                edge.replies.push(match concierge {
                    Some(c) => renderer.text(
                        Prompt::HandoffStarted.key(),
                        &[
                            ("concierge", c.concierge.clone()),
                            ("phone", c.concierge_phone.clone()),
                        ],
                    ),
                    None => renderer.text(Prompt::HandoffNoConcierge.key(), &[]),
                });
            }
            Effect::ForwardToConcierge { handoff_id } => {
                residents::touch_handoff(conn, handoff_id, now).await?
            }
            Effect::EndHandoff { handoff_id } => {
                residents::end_handoff(conn, handoff_id, now).await?
            }
            Effect::LocateEmergency(place) => {
                let label = renderer.place(Some(&place));
                let location = ticket::repository::Location {
                    building: place.building.as_deref(),
                    unit: place.unit.as_deref(),
                    room: place.room.as_deref(),
                    label: &label,
                };
                let urgency = Urgency::Emergency;
                ticket::repository::locate_newest(conn, resident.id, urgency, now, location)
                    .await?;
            }
            Effect::TellEmergency(text) => {
                let urgency = Some(Urgency::Emergency);
                ticket::repository::tell_newest(conn, resident.id, urgency, now, &text).await?;
            }
            Effect::TellNewest(text) => {
                let told =
                    ticket::repository::tell_newest(conn, resident.id, None, now, &text).await?;
                let reply = match told {
                    Some(number) => {
                        // Told to the staff on it: both an acknowledgement and a message
                        // passed on.
                        edge.act(Some(Act::Ack));
                        edge.act(Some(Act::Forwarded));
                        renderer.text(Prompt::StatusTold.key(), &[("number", number)])
                    }
                    None => {
                        edge.act(Some(Act::Status));
                        renderer.text(Prompt::StatusNone.key(), &[])
                    }
                };
                edge.replies.push(reply);
            }
            Effect::ReopenResolved(text) => {
                self.reopen_resolved(conn, tctx, resident, renderer, &text, edge)
                    .await?
            }
            Effect::CancelNewest => {
                self.cancel_newest(conn, tctx, resident, renderer, edge)
                    .await?
            }
            Effect::ListStatus => {
                edge.act(Some(Act::Status));
                let open = ticket::repository::open_for_resident(conn, resident.id).await?;
                if open.is_empty() {
                    edge.replies
                        .push(renderer.text(Prompt::StatusNone.key(), &[]));
                } else {
                    let mut lines = vec![renderer.text(
                        Prompt::StatusHeader.key(),
                        &[("count", open.len().to_string())],
                    )];
                    lines.extend(open.iter().map(|t| {
                        renderer.text(
                            Prompt::StatusItem.key(),
                            &[
                                ("number", t.number.clone()),
                                ("summary", t.summary.clone()),
                                ("status", renderer.status(t.status)),
                            ],
                        )
                    }));
                    edge.replies.push(lines.join("\n"));
                }
            }
        }
        Ok(())
    }

    /// Reopens the resident's newest resolved ticket with what they said on it, and puts it
    /// back on its queue once the transaction commits.
    async fn reopen_resolved(
        &self,
        conn: &mut PgConnection,
        tctx: &TicketContext,
        resident: &residents::Resident,
        renderer: &Renderer<'_>,
        text: &str,
        edge: &mut Edge,
    ) -> anyhow::Result<()> {
        let now = self.clock.now();
        let newest = ticket::repository::newest_resolved(
            conn,
            resident.id,
            now - self.settings.survey.reopen_within,
        )
        .await?;
        let Some((id, number)) = newest else {
            edge.act(Some(Act::Status));
            edge.replies
                .push(renderer.text(Prompt::StatusNone.key(), &[]));
            return Ok(());
        };
        let actor = ticket::repository::Actor::Resident(resident.id);
        let moved = ticket::lifecycle::reopen(conn, tctx, id, actor, text)
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        self.push_after_commit(&mut edge.outcome, moved, "re-queueing reopened ticket");
        edge.act(Some(Act::Apology));
        edge.replies
            .push(renderer.text(Prompt::StatusReopened.key(), &[("number", number)]));
        Ok(())
    }

    /// Withdraws the resident's newest request while it still waits in the queue; an
    /// emergency or a request staff have taken is not withdrawn from chat.
    async fn cancel_newest(
        &self,
        conn: &mut PgConnection,
        tctx: &TicketContext,
        resident: &residents::Resident,
        renderer: &Renderer<'_>,
        edge: &mut Edge,
    ) -> anyhow::Result<()> {
        let open = ticket::repository::open_for_resident(conn, resident.id).await?;
        let Some(newest) = open.first() else {
            for key in [Prompt::NothingPending, Prompt::Menu] {
                edge.act(key.act());
                edge.replies.push(renderer.text(key.key(), &[]));
            }
            return Ok(());
        };
        let number = [("number", newest.number.clone())];
        let waiting = matches!(newest.status, Status::Queued | Status::Reopened);
        if !waiting || newest.urgency == Urgency::Emergency {
            let key = Prompt::TicketCancelTooLate;
            edge.act(key.act());
            edge.replies.push(renderer.text(key.key(), &number));
            return Ok(());
        }
        let actor = ticket::repository::Actor::Resident(resident.id);
        let note = Some("withdrawn by the resident in chat");
        let cancelled =
            ticket::lifecycle::transition(conn, tctx, newest.id, actor, Status::Cancelled, note)
                .await?;
        // The queue reconciler drops it from Redis otherwise.
        self.push_after_commit(
            &mut edge.outcome,
            cancelled,
            "unqueueing a cancelled ticket",
        );
        let key = Prompt::TicketCancelled;
        edge.act(key.act());
        edge.replies.push(renderer.text(key.key(), &number));
        Ok(())
    }

    /// Files the ticket once per message: a repeated delivery finds the first one.
    #[allow(clippy::too_many_arguments)]
    async fn file(
        &self,
        conn: &mut PgConnection,
        tctx: &TicketContext,
        msg: &InboundMessage,
        resident: &residents::Resident,
        renderer: &Renderer<'_>,
        locale: Locale,
        draft: TicketDraft,
        edge: &mut Edge,
    ) -> anyhow::Result<Ticket> {
        if let Some(existing) = residents::ticket_from_message(conn, msg.id).await? {
            return Ok(existing);
        }
        let place = draft.place.as_ref();
        let new = NewTicket {
            resident_id: resident.id,
            kind: draft.kind,
            category: draft.category,
            urgency: draft.urgency,
            department: draft.department,
            summary: draft.summary,
            description: draft.description,
            building: place.and_then(|p| p.building.clone()),
            unit: place.and_then(|p| p.unit.clone()),
            room: place.and_then(|p| p.room.clone()),
            location: place.map(|p| renderer.place(Some(p))),
            contact_phone: draft.phone.or_else(|| resident.phone.clone()),
            preferred_time: draft.preferred_time,
            locale,
            source_message_id: Some(msg.id),
            attachments: draft
                .photos
                .into_iter()
                .map(|p| NewAttachment {
                    kind: "image".into(),
                    url: p.url,
                    media_id: p.media_id,
                })
                .collect(),
        };
        let filed = ticket::create(conn, tctx, new).await?;
        // The queue reconciler puts it back from PostgreSQL.
        self.push_after_commit(&mut edge.outcome, filed.clone(), "pushing new ticket");
        Ok(filed)
    }

    /// The configured time to respond for this kind and urgency (`sla.<kind>.<urgency>`).
    fn respond_within(&self, t: &Ticket) -> String {
        self.settings
            .sla
            .limits(t.kind, t.urgency)
            .respond
            .to_string()
    }
}
