//! The names of the dialogue's reply templates (`prompts/<locale>/dialogue.toml`) and what
//! each reply does. A key is an enum variant, so a reply that names a template that does not
//! exist fails to compile; a unit test checks that every variant has its text in every
//! locale.

use serde::Serialize;

use super::words::Emergency;

/// What a reply does, in the vocabulary of `tests/conversations/FORMAT.md`. The webhook
/// reports these beside the text (`acts`), so clients and tests need not read the words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Act {
    AskPlace,
    AskDetails,
    ReadBack,
    Filed,
    Emergency,
    PossibleEmergency,
    Answer,
    Status,
    Handoff,
    Cancelled,
    Greeting,
    Apology,
    Ack,
    WhichFirst,
    Forwarded,
}

impl Act {
    pub fn as_str(self) -> &'static str {
        match self {
            Act::AskPlace => "ask_place",
            Act::AskDetails => "ask_details",
            Act::ReadBack => "read_back",
            Act::Filed => "filed",
            Act::Emergency => "emergency",
            Act::PossibleEmergency => "possible_emergency",
            Act::Answer => "answer",
            Act::Status => "status",
            Act::Handoff => "handoff",
            Act::Cancelled => "cancelled",
            Act::Greeting => "greeting",
            Act::Apology => "apology",
            Act::Ack => "ack",
            Act::WhichFirst => "which_first",
            Act::Forwarded => "forwarded",
        }
    }
}

macro_rules! prompts {
    ($($variant:ident => $key:literal, $act:expr;)*) => {
        /// A template under `prompts/<locale>/dialogue.toml`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Prompt {
            $($variant,)*
            /// The safety guidance for one kind of emergency.
            Guide(Emergency),
        }

        impl Prompt {
            /// Every key but the guides (listed with [`Emergency::ALL`]).
            pub const PLAIN: &'static [Prompt] = &[$(Prompt::$variant,)*];

            /// The key under `dialogue.` in the prompt files.
            pub fn key(self) -> &'static str {
                match self {
                    $(Prompt::$variant => $key,)*
                    Prompt::Guide(e) => e.guide_key(),
                }
            }

            /// What a reply made of this template does; `None` for the parts that only
            /// accompany another (the menu, "photo received").
            pub fn act(self) -> Option<Act> {
                match self {
                    $(Prompt::$variant => $act,)*
                    Prompt::Guide(_) => None,
                }
            }
        }
    };
}

prompts! {
    Menu => "menu", None;
    Greeting => "greeting", Some(Act::Greeting);
    Identity => "identity", Some(Act::Greeting);
    Welcome => "welcome", Some(Act::Greeting);
    Clarify => "clarify", Some(Act::AskDetails);
    YouAreWelcome => "you_are_welcome", Some(Act::Ack);
    AckDone => "ack_done", Some(Act::Ack);
    NothingPending => "nothing_pending", Some(Act::Ack);
    Noted => "noted", Some(Act::Ack);
    Unsupported => "unsupported", None;
    KeptForLater => "kept_for_later", None;
    DetailAdded => "detail_added", None;
    Cancelled => "cancelled", Some(Act::Cancelled);
    Corrected => "corrected", None;
    Apology => "apology", Some(Act::Apology);
    ApologyBrief => "apology_brief", Some(Act::Apology);
    AskInquiry => "ask.inquiry", Some(Act::AskDetails);
    AskProblemRepair => "ask.problem_repair", Some(Act::AskDetails);
    AskProblemComplaint => "ask.problem_complaint", Some(Act::AskDetails);
    AskProblemAny => "ask.problem_any", Some(Act::AskDetails);
    AskProblemRetell => "ask.problem_retell", Some(Act::AskDetails);
    AskPlace => "ask.place", Some(Act::AskPlace);
    AskPlaceDetail => "ask.place_detail", Some(Act::AskPlace);
    AskBuilding => "ask.building", Some(Act::AskPlace);
    AskAgain => "ask.again", None;
    AskCorrect => "ask.correct", Some(Act::AskDetails);
    ConfirmHint => "confirm.hint", Some(Act::ReadBack);
    ReadbackRepair => "readback.repair", Some(Act::ReadBack);
    ReadbackComplaint => "readback.complaint", Some(Act::ReadBack);
    SubmittedRepair => "submitted.repair", Some(Act::Filed);
    SubmittedComplaint => "submitted.complaint", Some(Act::Filed);
    InquiryFiled => "inquiry.filed", Some(Act::Forwarded);
    SuggestionThanks => "suggestion.thanks", Some(Act::Filed);
    PraiseThanks => "praise.thanks", Some(Act::Filed);
    DraftReminderUntold => "draft.reminder_untold", None;
    DraftReminder => "draft.reminder", None;
    DraftDropped => "draft.dropped", Some(Act::Cancelled);
    PhotoFirst => "photo.first", Some(Act::AskDetails);
    PhotoAdded => "photo.added", None;
    LocationFirst => "location.first", Some(Act::AskDetails);
    PlaceFirst => "place_first", Some(Act::AskDetails);
    HandoffEnded => "handoff.ended", Some(Act::Ack);
    // Rendered by the engine with what only it knows; the effect carries the act.
    HandoffStarted => "handoff.started", None;
    HandoffNoConcierge => "handoff.no_concierge", None;
    StatusNone => "status.none", None;
    StatusTold => "status.told", None;
    StatusReopened => "status.reopened", Some(Act::Apology);
    StatusHeader => "status.header", None;
    StatusItem => "status.item", None;
    EmergencySubmitted => "emergency.submitted", Some(Act::Emergency);
    EmergencyPlaceKnown => "emergency.place_known", None;
    EmergencyPlaceUnknown => "emergency.place_unknown", None;
    EmergencyDuty => "emergency.duty", None;
    EmergencyFollowUp => "emergency.follow_up", Some(Act::Emergency);
    EmergencyOver => "emergency.over", Some(Act::Ack);
    EmergencyLocated => "emergency.located", Some(Act::Emergency);
    EmergencyNoted => "emergency.noted", Some(Act::Ack);
    // Rendered by the engine with the ticket's number.
    TicketCancelled => "ticket_cancel.done", Some(Act::Cancelled);
    TicketCancelTooLate => "ticket_cancel.too_late", Some(Act::Ack);
    PossibleAsk => "possible.ask", Some(Act::PossibleEmergency);
    PossibleNo => "possible.no", None;
    MultiAlso => "multi.also", Some(Act::WhichFirst);
    MultiWhichFirst => "multi.which_first", Some(Act::WhichFirst);
    StatusThenBack => "status_then_back", None;
}

impl Emergency {
    pub const ALL: [Emergency; 7] = [
        Emergency::Fire,
        Emergency::Gas,
        Emergency::Lift,
        Emergency::Injury,
        Emergency::Flood,
        Emergency::Power,
        Emergency::General,
    ];

    fn guide_key(self) -> &'static str {
        match self {
            Emergency::Fire => "emergency.guide.fire",
            Emergency::Gas => "emergency.guide.gas",
            Emergency::Lift => "emergency.guide.lift",
            Emergency::Injury => "emergency.guide.injury",
            Emergency::Flood => "emergency.guide.flood",
            Emergency::Power => "emergency.guide.power",
            Emergency::General => "emergency.guide.general",
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::domain::Locale;
    use crate::prompts::Prompts;

    #[test]
    fn every_prompt_has_its_text_in_every_locale() {
        let prompts = Prompts::load(Path::new("prompts")).unwrap();
        let guides = Emergency::ALL.iter().map(|e| Prompt::Guide(*e));
        for p in Prompt::PLAIN.iter().copied().chain(guides) {
            for locale in Locale::ALL {
                assert!(
                    prompts.has(locale, &format!("dialogue.{}", p.key())),
                    "{locale} lacks dialogue.{}",
                    p.key()
                );
            }
        }
    }
}
