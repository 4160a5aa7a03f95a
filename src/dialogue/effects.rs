//! What one step of the machine asks the edge to do ([`Effect`]) and the messages it
//! sends ([`Msg`]): a prompt named by a [`Prompt`] key, so a reply that names no template
//! does not compile, or an FAQ answer.

use uuid::Uuid;

use super::prompt::{Act, Prompt};
pub use super::request::TicketDraft;
use super::request::{Place, Request};
use crate::ticket::model::Kind;

/// A value a reply template is filled with; the engine renders it in the resident's script.
#[derive(Debug, Clone, PartialEq)]
pub enum Var {
    Text(String),
    Place(Option<Place>),
    Kind(Kind),
    Details {
        photos: usize,
        phone: Option<String>,
        time: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    /// A template under `prompts/<locale>/dialogue.toml` (key without the `dialogue.`).
    Prompt {
        key: Prompt,
        vars: Vec<(&'static str, Var)>,
    },
    /// An answer from the FAQ.
    Faq { id: String },
}

impl Msg {
    pub fn key(key: Prompt) -> Self {
        Msg::Prompt {
            key,
            vars: Vec::new(),
        }
    }

    pub fn with(key: Prompt, vars: Vec<(&'static str, Var)>) -> Self {
        Msg::Prompt { key, vars }
    }

    /// What this message does, for the reply's `acts`.
    pub fn act(&self) -> Option<Act> {
        match self {
            Msg::Prompt { key, .. } => key.act(),
            Msg::Faq { .. } => Some(Act::Answer),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Reply(Msg),
    /// Files the ticket, then sends `replies` with `{number}` (and `{within}`) filled in.
    CreateTicket {
        ticket: TicketDraft,
        replies: Vec<Msg>,
    },
    RememberUnit(Place),
    SaveDraft(Request),
    ClearDraft,
    /// Opens (or re-announces) the conversation with the building's concierge.
    StartHandoff,
    /// The message belongs to the concierge's conversation: record activity, say nothing.
    ForwardToConcierge {
        handoff_id: Uuid,
    },
    EndHandoff {
        handoff_id: Uuid,
    },
    /// Lists the resident's open tickets.
    ListStatus,
    /// Gives the place told after an emergency was filed without one to that ticket.
    LocateEmergency(Place),
    /// Records what the resident said after an emergency was filed on that ticket, for the
    /// duty team ("救護車到咗", "still smells").
    TellEmergency(String),
    /// Records what the resident said on their newest open ticket for the staff who hold
    /// it ("3点我还在上班 能不能改到5点半以后"), and says so; says there is none otherwise.
    TellNewest(String),
    /// Reopens the resident's newest resolved ticket, the fault being back ("今天晚上又不亮
    /// 了"), with what they said recorded on it for the staff who go back.
    ReopenResolved(String),
    /// Cancels the resident's newest ticket if nobody has taken it yet (a resident may
    /// withdraw a request while it waits in the queue, not an emergency).
    CancelNewest,
}
