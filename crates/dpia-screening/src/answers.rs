//! What the screening asks beyond the register: facts about a processing that no field
//! of the Art. 30 record holds. Each question is unanswered (`None`) until the user says
//! yes or no; the screening lists the open ones.

use aura_gdpr_registers::text::{TextRule, optional_text};
use aura_shared_kernel::{UserId, ValidationErrors};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The answers for one activity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreeningAnswers {
    /// People are evaluated or scored (profiling, predictions about performance,
    /// economic situation, health, preferences, behaviour, location).
    pub evaluation_or_scoring: Option<bool>,
    /// Decisions are taken by automated means with legal or similarly significant effect
    /// on people (beyond the register's `automated_decision_making`).
    pub automated_decisions: Option<bool>,
    /// People are observed, monitored or controlled systematically (also through
    /// networks), possibly without knowing it.
    pub systematic_monitoring: Option<bool>,
    /// The monitoring covers a publicly accessible area (shop floor, street, station).
    pub public_area_monitoring: Option<bool>,
    /// The processing is large-scale (number of people, volume, duration, geographic
    /// extent: WP248 criterion 5).
    pub large_scale: Option<bool>,
    /// About how many people the processing concerns (cited with the large-scale answer).
    pub people_concerned: Option<u64>,
    /// Datasets from different operations or controllers are matched or combined beyond
    /// what the people would reasonably expect.
    pub matching_datasets: Option<bool>,
    /// New technology or a new use of it (biometrics, IoT, AI models).
    pub innovative_technology: Option<bool>,
    /// The processing can keep people from exercising a right or using a service or
    /// contract (credit refused, insurance denied).
    pub denial_of_service_or_right: Option<bool>,
    /// Highly personal data beyond what the data categories show (financial,
    /// location, private communications, diaries).
    pub highly_personal_data: Option<bool>,
    /// Vulnerable people beyond what the data subject categories show (an imbalance of
    /// power: employees, children, patients, the elderly, asylum seekers).
    pub vulnerable_data_subjects: Option<bool>,
    /// Free context for the assessor.
    pub notes: Option<String>,
}

/// The answers as stored for an activity, with their concurrency version (0: never saved).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredAnswers {
    pub answers: ScreeningAnswers,
    pub version: i32,
    pub updated_by: Option<UserId>,
    pub updated_at: Option<OffsetDateTime>,
}

impl StoredAnswers {
    /// What an activity whose answers were never saved has.
    pub fn none() -> Self {
        Self {
            answers: ScreeningAnswers::default(),
            version: 0,
            updated_by: None,
            updated_at: None,
        }
    }
}

/// More people than live on earth is a typing error, not an answer.
pub const MAX_PEOPLE: u64 = 10_000_000_000;

impl ScreeningAnswers {
    /// The answers with the note trimmed; all problems at once, named by field.
    pub fn validated(self) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let notes = errors.collect(optional_text(
            "notes",
            self.notes.as_deref(),
            TextRule::block(5_000),
        ));
        if self.people_concerned.is_some_and(|n| n > MAX_PEOPLE) {
            errors.push("people_concerned", "must be at most 10000000000");
        }
        if self.public_area_monitoring == Some(true) && self.systematic_monitoring == Some(false) {
            errors.push(
                "systematic_monitoring",
                "cannot be false when a publicly accessible area is monitored",
            );
        }
        errors.into_result()?;
        Ok(Self {
            notes: notes.flatten(),
            ..self
        })
    }

    /// The yes/no questions still unanswered, by field name.
    pub fn unanswered(&self) -> Vec<&'static str> {
        [
            ("evaluation_or_scoring", self.evaluation_or_scoring),
            ("automated_decisions", self.automated_decisions),
            ("systematic_monitoring", self.systematic_monitoring),
            ("public_area_monitoring", self.public_area_monitoring),
            ("large_scale", self.large_scale),
            ("matching_datasets", self.matching_datasets),
            ("innovative_technology", self.innovative_technology),
            (
                "denial_of_service_or_right",
                self.denial_of_service_or_right,
            ),
            ("highly_personal_data", self.highly_personal_data),
            ("vulnerable_data_subjects", self.vulnerable_data_subjects),
        ]
        .into_iter()
        .filter_map(|(name, answer)| answer.is_none().then_some(name))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_set_leaves_every_question_open() {
        assert_eq!(ScreeningAnswers::default().unanswered().len(), 10);
        let answered = ScreeningAnswers {
            large_scale: Some(false),
            ..ScreeningAnswers::default()
        };
        assert!(!answered.unanswered().contains(&"large_scale"));
    }

    #[test]
    fn validation_names_each_field() {
        let err = ScreeningAnswers {
            people_concerned: Some(MAX_PEOPLE + 1),
            public_area_monitoring: Some(true),
            systematic_monitoring: Some(false),
            notes: Some("a\u{0}b".into()),
            ..ScreeningAnswers::default()
        }
        .validated()
        .expect_err("three problems");
        let fields: Vec<&str> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["notes", "people_concerned", "systematic_monitoring"]
        );
    }

    #[test]
    fn an_empty_note_is_none() {
        let ok = ScreeningAnswers {
            notes: Some("   ".into()),
            ..ScreeningAnswers::default()
        }
        .validated()
        .expect("valid");
        assert_eq!(ok.notes, None);
    }
}
