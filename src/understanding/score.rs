//! Scoring classifications against labelled lines: the figures issue floors are set in
//! (kind, department, emergency recall, false alarms), for one tier or both.

use std::fmt::Write as _;

use super::corpus::Line;
use super::Classification;
use crate::ticket::model::Urgency;

#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Score {
    pub lines: usize,
    pub kind: usize,
    pub department: usize,
    pub urgency: usize,
    pub category: usize,
    pub categorised: usize,
    pub emergencies: usize,
    /// Emergencies read as sure emergencies.
    pub emergencies_sure: usize,
    /// Emergencies read as sure or possible: both give the safety guidance and the duty
    /// phone at once.
    pub emergencies_flagged: usize,
    pub others: usize,
    pub others_flagged: usize,
}

impl Score {
    pub fn add(&mut self, line: &Line, c: &Classification) {
        self.lines += 1;
        self.kind += usize::from(c.kind == line.kind);
        self.department += usize::from(c.department == line.department);
        self.urgency += usize::from(c.urgency == line.urgency);
        if let Some(cat) = line.category {
            self.categorised += 1;
            self.category += usize::from(c.category == cat);
        }
        let flagged = c.urgency == Urgency::Emergency || c.possible_emergency;
        if line.urgency == Urgency::Emergency {
            self.emergencies += 1;
            self.emergencies_sure += usize::from(c.urgency == Urgency::Emergency);
            self.emergencies_flagged += usize::from(flagged);
        } else {
            self.others += 1;
            self.others_flagged += usize::from(flagged);
        }
    }

    pub fn merge(&mut self, o: &Score) {
        self.lines += o.lines;
        self.kind += o.kind;
        self.department += o.department;
        self.urgency += o.urgency;
        self.category += o.category;
        self.categorised += o.categorised;
        self.emergencies += o.emergencies;
        self.emergencies_sure += o.emergencies_sure;
        self.emergencies_flagged += o.emergencies_flagged;
        self.others += o.others;
        self.others_flagged += o.others_flagged;
    }

    /// One table row: `name  lines  kind%  dept%  urgency%  category%  emergencies  false alarms`.
    pub fn row(&self, name: &str) -> String {
        let pct = |a: usize, b: usize| {
            if b == 0 {
                "—".to_owned()
            } else {
                format!("{:.1}%", 100.0 * a as f64 / b as f64)
            }
        };
        let mut s = String::new();
        let _ = write!(
            s,
            "{name:<28} {:>5} {:>7} {:>7} {:>7} {:>7}   {:>3}/{:<3} flagged ({} sure)   {}/{} = {}",
            self.lines,
            pct(self.kind, self.lines),
            pct(self.department, self.lines),
            pct(self.urgency, self.lines),
            pct(self.category, self.categorised),
            self.emergencies_flagged,
            self.emergencies,
            self.emergencies_sure,
            self.others_flagged,
            self.others,
            pct(self.others_flagged, self.others),
        );
        s
    }

    pub fn header() -> String {
        format!(
            "{:<28} {:>5} {:>7} {:>7} {:>7} {:>7}   {:<28}   {}",
            "batch / tier",
            "lines",
            "kind",
            "dept",
            "urgency",
            "categ.",
            "emergencies",
            "others flagged"
        )
    }
}
