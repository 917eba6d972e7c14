//! The screening itself: a pure function of an activity as the register holds it and the
//! extra answers. It finds the Art. 35(3) cases and the nine criteria of the WP248 rev.01
//! guidelines (endorsed by the EDPB) that apply, each with the fields and answers that
//! triggered it, and the outcome: any 35(3) case or two criteria → a DPIA is likely
//! required; one → assess; none → not likely. Only a suggestion: accepting it is a use
//! case of its own.

use aura_gdpr_registers::{ActivityFields, ActivityRole, DpiaRequirement, string_enum};
use serde::Serialize;

use crate::answers::ScreeningAnswers;

string_enum!(
    /// The nine criteria of WP248 rev.01, III.B.a.
    Criterion {
        /// (1) Evaluation or scoring, including profiling and predicting.
        EvaluationOrScoring => "evaluation_or_scoring",
        /// (2) Automated decision-making with legal or similarly significant effect.
        AutomatedDecision => "automated_decision_with_legal_effect",
        /// (3) Systematic monitoring.
        SystematicMonitoring => "systematic_monitoring",
        /// (4) Sensitive data or data of a highly personal nature.
        SensitiveData => "sensitive_or_highly_personal_data",
        /// (5) Data processed on a large scale.
        LargeScale => "large_scale",
        /// (6) Matching or combining datasets.
        MatchingDatasets => "matching_or_combining_datasets",
        /// (7) Data concerning vulnerable data subjects.
        VulnerableSubjects => "vulnerable_data_subjects",
        /// (8) Innovative use or applying new technological or organisational solutions.
        InnovativeTechnology => "innovative_technology",
        /// (9) The processing prevents people from exercising a right or using a service
        /// or a contract.
        PreventsRightOrService => "prevents_right_or_service",
    }
);

string_enum!(
    /// The cases of Art. 35(3) in which a DPIA is always required.
    Art35Case {
        /// (a) Systematic and extensive evaluation, based on automated processing, on which
        /// decisions with legal or similarly significant effects are based.
        SystematicEvaluation => "systematic_evaluation",
        /// (b) Large-scale processing of special categories (Art. 9(1)) or of criminal
        /// convictions and offences (Art. 10).
        LargeScaleSensitive => "large_scale_special_or_criminal_data",
        /// (c) Systematic monitoring of a publicly accessible area on a large scale.
        PublicAreaMonitoring => "large_scale_public_area_monitoring",
    }
);

string_enum!(
    /// What the screening suggests.
    Outcome {
        /// A 35(3) case, or two or more criteria.
        LikelyRequired => "likely_required",
        /// One criterion: the controller assesses and documents.
        ToAssess => "to_assess",
        /// No criterion.
        NotLikely => "not_likely",
    }
);

impl Criterion {
    /// Where the guidelines describe it.
    pub const fn reference(self) -> &'static str {
        match self {
            Self::EvaluationOrScoring => "WP248 rev.01, III.B.a(1); recitals 71, 91",
            Self::AutomatedDecision => "WP248 rev.01, III.B.a(2); Art. 22, 35(3)(a)",
            Self::SystematicMonitoring => "WP248 rev.01, III.B.a(3); Art. 35(3)(c)",
            Self::SensitiveData => "WP248 rev.01, III.B.a(4); Art. 9, 10",
            Self::LargeScale => "WP248 rev.01, III.B.a(5); recital 91",
            Self::MatchingDatasets => "WP248 rev.01, III.B.a(6)",
            Self::VulnerableSubjects => "WP248 rev.01, III.B.a(7); recital 75",
            Self::InnovativeTechnology => "WP248 rev.01, III.B.a(8); Art. 35(1), recitals 89, 91",
            Self::PreventsRightOrService => "WP248 rev.01, III.B.a(9); Art. 22, recital 91",
        }
    }
}

impl Art35Case {
    pub const fn article(self) -> &'static str {
        match self {
            Self::SystematicEvaluation => "Art. 35(3)(a)",
            Self::LargeScaleSensitive => "Art. 35(3)(b)",
            Self::PublicAreaMonitoring => "Art. 35(3)(c)",
        }
    }
}

string_enum!(
    /// Where a finding comes from: a field of the activity, or an answer of the screening.
    Origin { Register => "register", Answer => "answer" }
);

/// Why a criterion or case applies: the field or answer, and what it says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub origin: Origin,
    /// The activity's field (`data_categories[1].special_category`) or the answer's name.
    pub field: String,
    pub detail: String,
}

/// One of the nine criteria, met or not, with its reasons (none when not met).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CriterionFinding {
    pub criterion: Criterion,
    pub reference: &'static str,
    pub met: bool,
    pub reasons: Vec<Reason>,
}

/// An Art. 35(3) case that applies, with its reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseFinding {
    pub case: Art35Case,
    pub article: &'static str,
    pub reasons: Vec<Reason>,
}

/// The screening of one activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Screening {
    /// The Art. 35(3) cases that apply (empty when none does).
    pub cases: Vec<CaseFinding>,
    /// All nine criteria, in the guidelines' order.
    pub criteria: Vec<CriterionFinding>,
    pub criteria_met: usize,
    pub outcome: Outcome,
    /// The rule that gave the outcome.
    pub rule: &'static str,
    /// What accepting the suggestion sets as the activity's `dpia_required`.
    pub suggested_requirement: DpiaRequirement,
    /// The yes/no questions still unanswered: answering them can change the outcome.
    pub unanswered: Vec<&'static str>,
    /// Context the outcome does not show (the processor's role).
    pub notes: Vec<&'static str>,
}

impl Screening {
    pub fn is_met(&self, criterion: Criterion) -> bool {
        self.criteria
            .iter()
            .any(|f| f.criterion == criterion && f.met)
    }

    /// The activity's `dpia_reason` that accepting the suggestion writes: outcome, rule,
    /// cases and criteria, short enough for the field.
    pub fn summary(&self) -> String {
        let mut text = format!(
            "DPIA screening: {} ({}).",
            self.outcome.as_str().replace('_', " "),
            self.rule
        );
        if !self.cases.is_empty() {
            let cases: Vec<&str> = self.cases.iter().map(|c| c.article).collect();
            text.push_str(&format!(" Cases: {}.", cases.join(", ")));
        }
        let met: Vec<String> = (self.criteria.iter())
            .filter(|f| f.met)
            .map(|f| f.criterion.as_str().replace('_', " "))
            .collect();
        if !met.is_empty() {
            text.push_str(&format!(
                " WP248 criteria met ({}): {}.",
                met.len(),
                met.join("; ")
            ));
        }
        text
    }
}

pub const RULE_CASE: &str =
    "Art. 35(1), (3): a listed case; a DPIA is required before the processing";
pub const RULE_TWO: &str =
    "WP248 rev.01, III.B.a: two or more criteria met; a DPIA is likely required (Art. 35(1))";
pub const RULE_ONE: &str = "WP248 rev.01, III.B.a: one criterion met; assess whether the processing is likely to result in a high risk and document why";
pub const RULE_NONE: &str = "WP248 rev.01, III.B.a: no criterion met; a DPIA is not likely required (check the authority's Art. 35(4) list)";

const PROCESSOR_NOTE: &str =
    "Art. 35(1) binds the controller: as processor, assist the controller's DPIA (Art. 28(3)(f))";

/// Words in a data category's name that mark highly personal data (WP248 criterion 4:
/// financial data open to fraud, location, private communications), and the Art. 9
/// kinds where the category lacks its special-category condition. Lower case; English
/// and German.
const HIGHLY_PERSONAL: &[(&str, &str)] = &[
    ("credit", "financial"),
    ("solvency", "financial"),
    ("bonität", "financial"),
    ("debt", "financial"),
    ("financial", "financial"),
    ("payment card", "financial"),
    ("bank transaction", "financial"),
    ("location", "location"),
    ("geolocation", "location"),
    ("gps", "location"),
    ("standort", "location"),
    ("movement", "location"),
    ("communication content", "communications"),
    ("message content", "communications"),
    ("e-mail content", "communications"),
    ("call record", "communications"),
    ("private communication", "communications"),
    ("health", "health (Art. 9)"),
    ("gesundheit", "health (Art. 9)"),
    ("medical", "health (Art. 9)"),
    ("biometric", "biometric (Art. 9)"),
    ("genetic", "genetic (Art. 9)"),
    ("sexual", "sex life or orientation (Art. 9)"),
    ("religio", "religious beliefs (Art. 9)"),
    ("political", "political opinions (Art. 9)"),
    ("trade union", "trade-union membership (Art. 9)"),
    ("ethnic", "racial or ethnic origin (Art. 9)"),
    ("criminal", "criminal offences (Art. 10)"),
];

/// Words in a data subject category that mark vulnerable people (WP248 criterion 7:
/// an imbalance of power, or a need of special protection).
const VULNERABLE: &[(&str, &str)] = &[
    ("employee", "employees"),
    ("staff", "employees"),
    ("worker", "employees"),
    ("personnel", "employees"),
    ("job applicant", "job applicants"),
    ("trainee", "employees"),
    ("apprentice", "employees"),
    ("beschäftigte", "employees"),
    ("mitarbeit", "employees"),
    ("bewerber", "job applicants"),
    ("child", "children"),
    ("minor", "children"),
    ("pupil", "children"),
    ("kinder", "children"),
    ("patient", "patients"),
    ("elderly", "the elderly"),
    ("senior", "the elderly"),
    ("asylum", "asylum seekers"),
    ("refugee", "asylum seekers"),
    ("mentally", "mentally ill persons"),
    ("disab", "persons with disabilities"),
];

fn matched(name: &str, words: &[(&str, &'static str)]) -> Option<&'static str> {
    let lower = name.to_lowercase();
    words
        .iter()
        .find(|(word, _)| lower.contains(word))
        .map(|(_, kind)| *kind)
}

fn register(field: impl Into<String>, detail: impl Into<String>) -> Reason {
    Reason {
        origin: Origin::Register,
        field: field.into(),
        detail: detail.into(),
    }
}

fn answered(answer: Option<bool>, field: &str, detail: &str) -> Option<Reason> {
    (answer == Some(true)).then(|| Reason {
        origin: Origin::Answer,
        field: field.to_owned(),
        detail: detail.to_owned(),
    })
}

/// What the register says about special-category and criminal data (the 35(3)(b) kinds).
fn special_or_criminal(fields: &ActivityFields) -> Vec<Reason> {
    let mut reasons = Vec::new();
    for (i, category) in fields.data_categories.iter().enumerate() {
        if let Some(condition) = category.special_category {
            reasons.push(register(
                format!("data_categories[{i}].special_category"),
                format!(
                    "{}: special-category data (Art. 9), condition {}",
                    category.name,
                    condition.as_str()
                ),
            ));
        }
        if category.criminal_offence_data {
            reasons.push(register(
                format!("data_categories[{i}].criminal_offence_data"),
                format!(
                    "{}: criminal convictions and offences (Art. 10)",
                    category.name
                ),
            ));
        }
    }
    reasons
}

/// Highly personal data named by a category that is not flagged as Art. 9 or 10.
fn highly_personal(fields: &ActivityFields) -> Vec<Reason> {
    (fields.data_categories.iter().enumerate())
        .filter(|(_, c)| c.special_category.is_none() && !c.criminal_offence_data)
        .filter_map(|(i, c)| {
            matched(&c.name, HIGHLY_PERSONAL).map(|kind| {
                register(
                    format!("data_categories[{i}].name"),
                    format!("{}: highly personal data ({kind})", c.name),
                )
            })
        })
        .collect()
}

fn vulnerable(fields: &ActivityFields) -> Vec<Reason> {
    (fields.data_subject_categories.iter().enumerate())
        .filter_map(|(i, name)| {
            matched(name, VULNERABLE).map(|kind| {
                register(
                    format!("data_subject_categories[{i}]"),
                    format!("{name}: vulnerable data subjects ({kind})"),
                )
            })
        })
        .collect()
}

fn large_scale_reason(answers: &ScreeningAnswers) -> Option<Reason> {
    let detail = match answers.people_concerned {
        Some(people) => format!("the processing is large-scale (about {people} people)"),
        None => "the processing is large-scale".to_owned(),
    };
    answered(answers.large_scale, "large_scale", &detail)
}

/// The screening of `fields` with `answers`. Register findings stand whatever the answers
/// say (a category named "health data" is health data); answers add what the register
/// cannot know.
pub fn screen(fields: &ActivityFields, answers: &ScreeningAnswers) -> Screening {
    let a = answers;
    let special = special_or_criminal(fields);
    let large = large_scale_reason(a);
    let adm = fields.automated_decision_making.then(|| {
        register(
            "automated_decision_making",
            "automated decision-making including profiling (Art. 22)",
        )
    });
    let public_area = answered(
        a.public_area_monitoring,
        "public_area_monitoring",
        "a publicly accessible area is monitored",
    );

    let reasons_of = |criterion: Criterion| -> Vec<Reason> {
        let mut found: Vec<Reason> = Vec::new();
        match criterion {
            Criterion::EvaluationOrScoring => found.extend(answered(
                a.evaluation_or_scoring,
                "evaluation_or_scoring",
                "people are evaluated or scored",
            )),
            Criterion::AutomatedDecision => {
                found.extend(adm.clone());
                found.extend(answered(
                    a.automated_decisions,
                    "automated_decisions",
                    "automated decisions with legal or similarly significant effect",
                ));
            }
            Criterion::SystematicMonitoring => {
                found.extend(answered(
                    a.systematic_monitoring,
                    "systematic_monitoring",
                    "people are monitored systematically",
                ));
                found.extend(public_area.clone());
            }
            Criterion::SensitiveData => {
                found.extend(special.iter().cloned());
                found.extend(highly_personal(fields));
                found.extend(answered(
                    a.highly_personal_data,
                    "highly_personal_data",
                    "highly personal data beyond the data categories",
                ));
            }
            Criterion::LargeScale => found.extend(large.clone()),
            Criterion::MatchingDatasets => found.extend(answered(
                a.matching_datasets,
                "matching_datasets",
                "datasets are matched or combined",
            )),
            Criterion::VulnerableSubjects => {
                found.extend(vulnerable(fields));
                found.extend(answered(
                    a.vulnerable_data_subjects,
                    "vulnerable_data_subjects",
                    "vulnerable people beyond the data subject categories",
                ));
            }
            Criterion::InnovativeTechnology => found.extend(answered(
                a.innovative_technology,
                "innovative_technology",
                "new technology or a new use of it",
            )),
            Criterion::PreventsRightOrService => found.extend(answered(
                a.denial_of_service_or_right,
                "denial_of_service_or_right",
                "the outcome can deny a right, a service or a contract",
            )),
        }
        found
    };
    let criteria: Vec<CriterionFinding> = (Criterion::ALL.iter())
        .map(|&criterion| {
            let reasons = reasons_of(criterion);
            CriterionFinding {
                criterion,
                reference: criterion.reference(),
                met: !reasons.is_empty(),
                reasons,
            }
        })
        .collect();
    let met = |c: Criterion| criteria.iter().any(|f| f.criterion == c && f.met);

    let mut cases = Vec::new();
    // (a): the evaluation and the decisions it feeds, both.
    if met(Criterion::EvaluationOrScoring) && met(Criterion::AutomatedDecision) {
        let reasons = [Criterion::EvaluationOrScoring, Criterion::AutomatedDecision]
            .into_iter()
            .flat_map(reasons_of)
            .collect();
        cases.push(case(Art35Case::SystematicEvaluation, reasons));
    }
    // (b): Art. 9 or 10 data proper (not merely highly personal), on a large scale.
    if let (false, Some(large)) = (special.is_empty(), &large) {
        let mut reasons = special.clone();
        reasons.push(large.clone());
        cases.push(case(Art35Case::LargeScaleSensitive, reasons));
    }
    // (c): a public area, on a large scale.
    if let (Some(area), Some(large)) = (&public_area, &large) {
        cases.push(case(
            Art35Case::PublicAreaMonitoring,
            vec![area.clone(), large.clone()],
        ));
    }

    let criteria_met = criteria.iter().filter(|f| f.met).count();
    let (outcome, rule) = match (cases.is_empty(), criteria_met) {
        (false, _) => (Outcome::LikelyRequired, RULE_CASE),
        (true, 2..) => (Outcome::LikelyRequired, RULE_TWO),
        (true, 1) => (Outcome::ToAssess, RULE_ONE),
        (true, _) => (Outcome::NotLikely, RULE_NONE),
    };
    let suggested_requirement = match outcome {
        Outcome::LikelyRequired => DpiaRequirement::Yes,
        Outcome::ToAssess => DpiaRequirement::ToAssess,
        Outcome::NotLikely => DpiaRequirement::No,
    };
    let notes = if fields.role == ActivityRole::Processor {
        vec![PROCESSOR_NOTE]
    } else {
        Vec::new()
    };
    Screening {
        cases,
        criteria,
        criteria_met,
        outcome,
        rule,
        suggested_requirement,
        unanswered: answers.unanswered(),
        notes,
    }
}

fn case(case: Art35Case, reasons: Vec<Reason>) -> CaseFinding {
    CaseFinding {
        case,
        article: case.article(),
        reasons,
    }
}
