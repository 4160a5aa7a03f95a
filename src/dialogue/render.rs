//! Turns the machine's messages into text in the resident's script, from the templates in
//! `prompts/<locale>/dialogue.toml` and the FAQ. Pure given the loaded texts.

use crate::domain::Locale;
use crate::prompts::Prompts;
use crate::ticket::model::{Kind, Status};

use super::faq::Faq;
use super::machine::{Msg, Place, Var};

pub struct Renderer<'a> {
    pub prompts: &'a Prompts,
    pub faq: &'a Faq,
    pub locale: Locale,
    /// Values every template may use: `duty_phone`, `desk_hours`, `company`.
    pub base: Vec<(&'static str, String)>,
}

impl Renderer<'_> {
    pub fn text(&self, key: &str, vars: &[(&str, String)]) -> String {
        let mut all: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        all.extend(self.base.iter().map(|(k, v)| (*k, v.as_str())));
        self.prompts
            .render(self.locale, &format!("dialogue.{key}"), &all)
    }

    /// `extra` fills what only the engine knows (`number`, `within`, `concierge`).
    pub fn msg(&self, msg: &Msg, extra: &[(&str, String)]) -> String {
        match msg {
            Msg::Faq { id } => {
                let base: Vec<(&str, &str)> =
                    self.base.iter().map(|(k, v)| (*k, v.as_str())).collect();
                self.faq
                    .answer(id, self.locale)
                    .map(|a| crate::prompts::fill(a, &base))
                    .unwrap_or_default()
            }
            Msg::Prompt { key, vars } => {
                let mut all: Vec<(&str, String)> =
                    vars.iter().map(|(k, v)| (*k, self.var(v))).collect();
                all.extend(extra.iter().map(|(k, v)| (*k, v.clone())));
                self.text(key.key(), &all)
            }
        }
    }

    fn var(&self, var: &Var) -> String {
        match var {
            Var::Text(t) => t.clone(),
            Var::Place(p) => self.place(p.as_ref()),
            Var::Kind(k) => self.kind(*k),
            Var::Details {
                photos,
                phone,
                time,
            } => {
                let mut out = String::new();
                if *photos > 0 {
                    out.push_str(&self.text("details.photos", &[("n", photos.to_string())]));
                }
                if let Some(phone) = phone {
                    out.push_str(&self.text("details.phone", &[("phone", phone.clone())]));
                }
                if let Some(time) = time {
                    out.push_str(&self.text("details.time", &[("time", time.clone())]));
                }
                out
            }
        }
    }

    pub fn kind(&self, kind: Kind) -> String {
        self.text(&format!("kind.{}", kind.as_str()), &[])
    }

    pub fn status(&self, status: Status) -> String {
        self.text(&format!("status.state.{}", status.as_str()), &[])
    }

    /// `3栋2单元1101` / `Building 3, Unit 2, Room 1101`, with any free description after.
    pub fn place(&self, place: Option<&Place>) -> String {
        let Some(p) = place else {
            return self.text("place.unknown", &[]);
        };
        let mut parts = Vec::new();
        if let Some(b) = &p.building {
            // "5座", "泰和樓": as the resident named it; in English only a name ("Block 5" is
            // the locale's own word for 5座).
            let own = p
                .building_mark
                .as_ref()
                .filter(|_| self.locale != Locale::En || !b.is_ascii())
                .map(|mark| format!("{b}{mark}"));
            parts.push(
                own.unwrap_or_else(|| self.text("place.building", &[("building", b.clone())])),
            );
        }
        if let Some(u) = &p.unit {
            parts.push(self.text("place.unit", &[("unit", u.clone())]));
        }
        // A room number holds its storey (1702); a room letter ("17/F, flat D") does not.
        let storey_in_room = p
            .room
            .as_ref()
            .is_some_and(|r| r.chars().any(|c| c.is_ascii_digit()));
        if let Some(f) = p.floor.as_ref().filter(|_| !storey_in_room) {
            parts.push(self.text("place.floor", &[("floor", f.clone())]));
        }
        if let Some(r) = &p.room {
            parts.push(self.text("place.room", &[("room", r.clone())]));
        }
        let unit = parts.join(&self.text("place.sep", &[]));
        match (&p.label, unit.is_empty()) {
            (Some(label), true) => label.clone(),
            (Some(label), false) => self.text(
                "place.with_label",
                &[("unit", unit), ("label", label.clone())],
            ),
            (None, true) => self.text("place.unknown", &[]),
            (None, false) => unit,
        }
    }

    /// A limit as configured (`30m`, `1h`, `24h`, `2d`) in words.
    pub fn duration(&self, spec: &str) -> String {
        let spec = spec.trim();
        let split = spec
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(spec.len());
        let (n, unit) = spec.split_at(split);
        let key = match (n, unit) {
            ("1", "h") => "unit.hour_one",
            (_, "m" | "min") => "unit.minutes",
            (_, "h") => "unit.hours",
            (_, "d") => "unit.days",
            _ => return spec.to_owned(),
        };
        self.text(key, &[("n", n.to_owned())])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn prompts() -> Prompts {
        Prompts::load(Path::new("prompts")).unwrap()
    }

    fn renderer<'a>(p: &'a Prompts, faq: &'a Faq, locale: Locale) -> Renderer<'a> {
        Renderer {
            prompts: p,
            faq,
            locale,
            base: vec![("duty_phone", "400-1".into()), ("desk_hours", "9-5".into())],
        }
    }

    #[test]
    fn places_read_naturally_in_each_script() {
        let p = prompts();
        let faq = Faq::default();
        let place = Place {
            building: Some("3".into()),
            unit: Some("2".into()),
            room: Some("1101".into()),
            ..Place::default()
        };
        assert_eq!(
            renderer(&p, &faq, Locale::ZhHans).place(Some(&place)),
            "3栋2单元1101"
        );
        assert_eq!(
            renderer(&p, &faq, Locale::ZhHant).place(Some(&place)),
            "3棟2單元1101"
        );
        assert_eq!(
            renderer(&p, &faq, Locale::En).place(Some(&place)),
            "Building 3, Unit 2, Room 1101"
        );
        let label = Place {
            label: Some("北门车库".into()),
            ..Place::default()
        };
        assert_eq!(
            renderer(&p, &faq, Locale::ZhHans).place(Some(&label)),
            "北门车库"
        );
        assert!(!renderer(&p, &faq, Locale::ZhHans).place(None).is_empty());
        // A storey is said when no room says it.
        let storey = Place {
            building: Some("B".into()),
            floor: Some("12".into()),
            ..Place::default()
        };
        assert_eq!(
            renderer(&p, &faq, Locale::ZhHans).place(Some(&storey)),
            "B栋12楼"
        );
        assert_eq!(
            renderer(&p, &faq, Locale::En).place(Some(&storey)),
            "Building B, Floor 12"
        );
        let with_room = Place {
            room: Some("1203".into()),
            ..storey
        };
        assert_eq!(
            renderer(&p, &faq, Locale::ZhHans).place(Some(&with_room)),
            "B栋1203"
        );
    }

    #[test]
    fn a_building_keeps_the_word_the_resident_named_it_with() {
        let p = prompts();
        let faq = Faq::default();
        let block = Place {
            building: Some("5".into()),
            room: Some("1203".into()),
            building_mark: Some("座".into()),
            ..Place::default()
        };
        assert_eq!(
            renderer(&p, &faq, Locale::ZhHant).place(Some(&block)),
            "5座1203"
        );
        assert_eq!(
            renderer(&p, &faq, Locale::ZhHans).place(Some(&block)),
            "5座1203"
        );
        // English has its own word for a numbered block, and none for a named one.
        assert_eq!(
            renderer(&p, &faq, Locale::En).place(Some(&block)),
            "Building 5, Room 1203"
        );
        let named = Place {
            building: Some("泰和".into()),
            building_mark: Some("樓".into()),
            ..Place::default()
        };
        assert_eq!(renderer(&p, &faq, Locale::En).place(Some(&named)), "泰和樓");
    }

    #[test]
    fn limits_read_as_words() {
        let p = prompts();
        let faq = Faq::default();
        assert_eq!(renderer(&p, &faq, Locale::ZhHans).duration("30m"), "30分钟");
        assert_eq!(renderer(&p, &faq, Locale::ZhHant).duration("24h"), "24小時");
        assert_eq!(renderer(&p, &faq, Locale::En).duration("1h"), "1 hour");
        assert_eq!(
            renderer(&p, &faq, Locale::En).duration("same_day"),
            "same_day"
        );
    }
}
