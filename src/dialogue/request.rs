//! The request a resident is filling in: where (a [`Place`]), what (the problem, its
//! details and photos) and how to reach them, and the ticket it becomes. Pure data and the
//! rules for merging what each message adds.

use serde::{Deserialize, Serialize};

use crate::ticket::model::{Category, Department, Kind, Urgency};
use crate::understanding::{Classification, Slots};

/// Where a problem is: a unit (building/unit/room), a free description, or both.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Place {
    pub building: Option<String>,
    pub unit: Option<String>,
    pub room: Option<String>,
    /// The storey, when no room says it ("B座12楼电梯厅").
    #[serde(default)]
    pub floor: Option<String>,
    /// Free text ("北门车库") or a shared location's label.
    pub label: Option<String>,
    /// How the resident named the building, when not with the locale's usual word ("5座",
    /// "泰和樓"): see [`Slots::building_mark`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub building_mark: Option<String>,
}

impl Place {
    pub fn from_slots(slots: &Slots) -> Option<Place> {
        slots.has_place().then(|| Place {
            building: slots.building.clone(),
            unit: slots.unit.clone(),
            room: slots.room.clone(),
            floor: slots.floor.clone(),
            label: slots.spot.clone(),
            building_mark: slots.building_mark.clone(),
        })
    }

    /// A home address worth remembering: building and room both known.
    pub fn is_unit(&self) -> bool {
        self.building.is_some() && self.room.is_some()
    }

    /// A building, a unit or a storey without the flat ("12栋", "3栋2单元", "5座 18樓"):
    /// nobody could find a problem inside a home from it. ("3樓之2", a whole Taiwanese
    /// address, names its flat.)
    pub fn lacks_flat(&self) -> bool {
        (self.building.is_some() || self.unit.is_some() || self.floor.is_some())
            && self.room.is_none()
            && self.label.is_none()
    }

    /// A flat with no building ("1208室"): in an estate of many buildings nobody could find
    /// it.
    pub fn lacks_building(&self) -> bool {
        self.room.is_some()
            && self.building.is_none()
            && self.unit.is_none()
            && self.label.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Photo {
    pub url: Option<String>,
    pub media_id: Option<String>,
}

/// A repair or complaint being filled in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// `None` while the resident has only sent a photo or a location.
    pub kind: Option<Kind>,
    pub urgency: Urgency,
    pub department: Department,
    pub category: Category,
    pub problem: Option<String>,
    /// What the resident added after the read-back.
    #[serde(default)]
    pub details: Vec<String>,
    pub place: Option<Place>,
    pub phone: Option<String>,
    pub preferred_time: Option<String>,
    #[serde(default)]
    pub photos: Vec<Photo>,
    /// Further needs the resident named in the same message, taken up in turn once this
    /// one is filed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub next: Vec<TextInput>,
    /// Asked where in the building a home repair is, when the flat was not told; asked
    /// again only while each answer adds to the place.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub place_detail_asked: bool,
    /// The need this request was taken up from, when the message named others too (kept
    /// so that the resident may choose another first and this one waits its turn).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub told: Option<Box<TextInput>>,
    /// A complaint is apologised for once, when it is first taken up.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub apologised: bool,
    /// The questions told with this request ("…, and how long is a renovation permit
    /// valid?"), answered or passed on then: "the permit question first" is about one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub asked: Vec<String>,
}

impl Request {
    pub(crate) fn blank(kind: Option<Kind>) -> Self {
        Request {
            kind,
            urgency: Urgency::Normal,
            department: match kind {
                Some(Kind::Repair) | None => Department::Engineering,
                _ => Department::CustomerService,
            },
            category: match kind {
                Some(Kind::Repair) | None => Category::Equipment,
                _ => Category::Services,
            },
            problem: None,
            details: Vec::new(),
            place: None,
            phone: None,
            preferred_time: None,
            photos: Vec::new(),
            next: Vec::new(),
            place_detail_asked: false,
            told: None,
            apologised: false,
            asked: Vec::new(),
        }
    }

    /// Worth keeping: a blank request (a menu choice) is not.
    pub(crate) fn has_content(&self) -> bool {
        self.problem.is_some() || self.place.is_some() || !self.photos.is_empty()
    }

    pub(crate) fn kind_or_repair(&self) -> Kind {
        self.kind.unwrap_or(Kind::Repair)
    }

    /// Takes what a message tells about the problem: its labels when the classifier saw a
    /// repair or complaint, and any place, phone or time it carried.
    pub(crate) fn absorb(&mut self, class: &Classification) {
        if matches!(class.kind, Kind::Repair | Kind::Complaint) {
            if self.kind.is_none() {
                self.kind = Some(class.kind);
            }
            self.urgency = class.urgency;
            self.department = class.department;
            self.category = class.category;
        }
        self.absorb_slots(&class.slots);
    }

    pub(crate) fn absorb_slots(&mut self, slots: &Slots) {
        if let Some(place) = Place::from_slots(slots) {
            self.place = Some(place);
        }
        if slots.phone.is_some() {
            self.phone.clone_from(&slots.phone);
        }
        if slots.time.is_some() {
            self.preferred_time.clone_from(&slots.time);
        }
    }

    /// Takes the parts of a place, phone or time a later message names, keeping the parts
    /// it does not: "不对 是1203室" changes the room and keeps the building. A full new
    /// address (building and room) replaces the old one whole. `true` when the place
    /// changed.
    pub(crate) fn merge_slots(&mut self, slots: &Slots) -> bool {
        if slots.phone.is_some() {
            self.phone.clone_from(&slots.phone);
        }
        if slots.time.is_some() {
            self.preferred_time.clone_from(&slots.time);
        }
        let names_place = slots.building.is_some()
            || slots.room.is_some()
            || slots.unit.is_some()
            || slots.floor.is_some()
            || slots.spot.is_some();
        if !names_place {
            return false;
        }
        let whole = slots.building.is_some() && slots.room.is_some();
        match self.place.as_mut() {
            Some(p) if !whole => {
                if slots.building.is_some() {
                    p.building.clone_from(&slots.building);
                    p.building_mark.clone_from(&slots.building_mark);
                }
                if slots.unit.is_some() {
                    p.unit.clone_from(&slots.unit);
                }
                if slots.room.is_some() {
                    p.room.clone_from(&slots.room);
                }
                if slots.floor.is_some() {
                    p.floor.clone_from(&slots.floor);
                }
                if slots.spot.is_some() {
                    p.label.clone_from(&slots.spot);
                }
            }
            _ => {
                self.place = Some(Place {
                    building: slots.building.clone(),
                    unit: slots.unit.clone(),
                    room: slots.room.clone(),
                    floor: slots.floor.clone(),
                    label: slots.spot.clone(),
                    building_mark: slots.building_mark.clone(),
                });
            }
        }
        true
    }

    /// "是卫生间不是厨房": `old` becomes `new` wherever the request says it — the problem,
    /// a described place, or a part of the address. `false` when it says it nowhere.
    pub(crate) fn swap(&mut self, old: &str, new: &str) -> bool {
        let old_lower = old.to_lowercase();
        // An address part first: the problem may quote the old address as well.
        if let Some(p) = self.place.as_mut() {
            for field in [&mut p.building, &mut p.unit, &mut p.room, &mut p.floor] {
                if field.as_deref() == Some(old) {
                    *field = Some(new.to_owned());
                    if let Some(problem) = self.problem.as_mut() {
                        *problem = problem.replace(old, new);
                    }
                    return true;
                }
            }
            // "是C棟 不是B棟": the building B, named with its mark.
            let (old_value, new_value) = (address_value(old), address_value(new));
            if !old_value.is_empty() && !new_value.is_empty() && old_value != old {
                for field in [&mut p.building, &mut p.unit, &mut p.room, &mut p.floor] {
                    if field
                        .as_deref()
                        .is_some_and(|f| f.eq_ignore_ascii_case(&old_value))
                    {
                        *field = Some(new_value);
                        return true;
                    }
                }
            }
        }
        if let Some(problem) = self.problem.as_mut() {
            if problem.contains(old) {
                *problem = problem.replace(old, new);
                return true;
            }
            // English is matched without case: "Kitchen" is "kitchen".
            let lower = problem.to_lowercase();
            if let Some(i) = lower.find(&old_lower) {
                if problem.is_char_boundary(i) && problem.is_char_boundary(i + old.len()) {
                    problem.replace_range(i..i + old.len(), new);
                    return true;
                }
            }
        }
        if let Some(p) = self.place.as_mut() {
            if let Some(label) = p.label.as_mut().filter(|l| l.contains(old)) {
                *label = label.replace(old, new);
                return true;
            }
        }
        false
    }

    /// The problem in a line, without the address it may open with: the place is shown
    /// (and filed) on its own, so "3栋2单元1101 厨房水管漏水" reads back as "厨房水管漏水".
    pub(crate) fn summary(&self) -> String {
        let problem = self.problem.as_deref().unwrap_or_default();
        summarise(without_leading_address(problem, self.place.as_ref()))
    }

    pub(crate) fn to_ticket(&self) -> TicketDraft {
        let mut description = self.problem.clone().unwrap_or_default();
        for d in &self.details {
            description.push('\n');
            description.push_str(d);
        }
        TicketDraft {
            kind: self.kind_or_repair(),
            urgency: self.urgency,
            department: self.department,
            category: self.category,
            summary: self.summary(),
            description,
            place: self.place.clone(),
            phone: self.phone.clone(),
            preferred_time: self.preferred_time.clone(),
            photos: self.photos.clone(),
        }
    }
}

/// The first line of what the resident wrote, cut to a read-back length.
/// `text` without an opening address, when it opens with the place's room (or, with no
/// room, its building) and nothing but address words before it. Anything else is kept as
/// written: a place named later in the sentence may carry meaning ("在3栋门口").
pub(crate) fn without_leading_address<'a>(text: &'a str, place: Option<&Place>) -> &'a str {
    let Some(place) = place else {
        return text;
    };
    let Some(token) = place.room.as_deref().or(place.building.as_deref()) else {
        return text;
    };
    let trimmed = text.trim_start();
    let Some(at) = trimmed.find(token) else {
        return text;
    };
    let head = &trimmed[..at];
    let address_words = [
        "我家", "我是", "我住", "住在", "在", "block", "building", "flat", "unit", "room", "apt",
    ];
    let mut rest_of_head = head.to_lowercase();
    for w in address_words {
        rest_of_head = rest_of_head.replace(w, "");
    }
    let only_address = rest_of_head.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || c.is_whitespace()
            || "-#/,，、栋棟幢座号號楼樓单單元室房层層期区區".contains(c)
    });
    if !only_address {
        return text;
    }
    let after = trimmed[at + token.len()..]
        .trim_start_matches(['室', '房', '号', '號', '栋', '棟', '幢', '座'])
        .trim_start_matches(|c: char| {
            c.is_whitespace() || matches!(c, ',' | '，' | '、' | ':' | '：' | '的' | '-')
        });
    if after.trim().is_empty() {
        text
    } else {
        after
    }
}

pub fn summarise(text: &str) -> String {
    const MAX: usize = 40;
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    if line.chars().count() <= MAX {
        line.to_owned()
    } else {
        let mut s: String = line.chars().take(MAX).collect();
        s.push('…');
        s
    }
}

/// A text message as the machine sees it: the words, their simplified form for matching,
/// and what the classifier read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextInput {
    pub text: String,
    pub simplified: String,
    pub class: Classification,
    /// The needs of a message that holds several ("…，另外停车月卡怎么续"), each read on
    /// its own; empty when it holds one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<TextInput>,
}

impl TextInput {
    /// The same words read otherwise: what the dialogue knows better than the classifier
    /// ("and the water shut-off?" asked is a question, not an unsure repair).
    pub fn read_as(&self, change: impl FnOnce(&mut Classification)) -> TextInput {
        let mut other = self.clone();
        change(&mut other.class);
        other
    }
}

/// A ticket to file, in the machine's terms.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketDraft {
    pub kind: Kind,
    pub urgency: Urgency,
    pub department: Department,
    pub category: Category,
    pub summary: String,
    pub description: String,
    pub place: Option<Place>,
    pub phone: Option<String>,
    pub preferred_time: Option<String>,
    pub photos: Vec<Photo>,
}

/// The value of an address part named with its mark ("b栋" → "B", "1203室" → "1203").
fn address_value(s: &str) -> String {
    const MARKS: &[&str] = &[
        "号楼", "號樓", "单元", "單元", "栋", "棟", "幢", "座", "室", "楼", "樓", "层", "層",
    ];
    let mut v = s.trim().trim_start_matches('第');
    for m in MARKS {
        if let Some(stripped) = v.strip_suffix(m) {
            v = stripped;
            break;
        }
    }
    v.trim().to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_building_named_with_its_mark_is_swapped_in_the_place() {
        let mut req = Request::blank(Some(Kind::Repair));
        req.problem = Some("B棟5樓之1 熱水器打不著".into());
        req.place = Some(Place {
            building: Some("B".into()),
            floor: Some("5".into()),
            ..Place::default()
        });
        assert!(req.swap("b棟", "c棟"));
        assert_eq!(
            req.place.as_ref().and_then(|p| p.building.as_deref()),
            Some("C")
        );
        assert_eq!(address_value("1203室"), "1203");
    }
}
