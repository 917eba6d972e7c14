//! The screening against a realistic register: each activity's Art. 35(3) cases, WP248
//! criteria and outcome match what a DPO would write down by hand (the table below).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use Criterion::*;
use aura_dpia_screening::*;
use aura_gdpr_registers::{
    ActivityFields, ActivityRole, ActivityStatus, Art9Condition, DataCategory, DpiaRequirement,
    LawfulBasis, Purpose,
};

/// An activity as a small company records it: purposes, subjects and data categories
/// (name, Art. 9 condition, Art. 10 flag).
fn activity(
    name: &str,
    subjects: &[&str],
    categories: &[(&str, Option<Art9Condition>, bool)],
) -> ActivityFields {
    ActivityFields {
        name: name.into(),
        description: None,
        role: ActivityRole::Controller,
        controller_name: None,
        controller_contact: None,
        purposes: vec![Purpose {
            description: name.into(),
            lawful_basis: LawfulBasis::LegitimateInterests,
            legitimate_interest: Some("documented".into()),
        }],
        data_subject_categories: subjects.iter().map(|s| (*s).to_owned()).collect(),
        data_categories: (categories.iter())
            .map(|(name, special, criminal)| DataCategory {
                name: (*name).into(),
                special_category: *special,
                criminal_offence_data: *criminal,
                retention: Some("1 year".into()),
            })
            .collect(),
        recipient_categories: vec!["none".into()],
        transfers: vec![],
        security_measures: Some("access control".into()),
        data_source: None,
        automated_decision_making: false,
        automated_decision_details: None,
        dpia_required: DpiaRequirement::ToAssess,
        dpia_reason: None,
        owner_id: None,
        department: None,
        processor_ids: vec![],
        status: ActivityStatus::Active,
        review_date: None,
    }
}

/// Every question answered "no"; each row says yes where it must.
fn no() -> ScreeningAnswers {
    ScreeningAnswers {
        evaluation_or_scoring: Some(false),
        automated_decisions: Some(false),
        systematic_monitoring: Some(false),
        public_area_monitoring: Some(false),
        large_scale: Some(false),
        people_concerned: None,
        matching_datasets: Some(false),
        innovative_technology: Some(false),
        denial_of_service_or_right: Some(false),
        highly_personal_data: Some(false),
        vulnerable_data_subjects: Some(false),
        notes: None,
    }
}

struct Row {
    fields: ActivityFields,
    answers: ScreeningAnswers,
    criteria: &'static [Criterion],
    cases: &'static [Art35Case],
    outcome: Outcome,
    rule: &'static str,
}

fn register() -> Vec<Row> {
    let none = None;
    vec![
        // CCTV of one shop floor: customers and staff filmed in a public area, but one
        // shop is not large-scale, so 35(3)(c) does not apply; two criteria do.
        Row {
            fields: activity(
                "CCTV of the shop floor",
                &["customers", "shop employees"],
                &[("video images", none, false)],
            ),
            answers: ScreeningAnswers {
                systematic_monitoring: Some(true),
                public_area_monitoring: Some(true),
                people_concerned: Some(3_000),
                ..no()
            },
            criteria: &[SystematicMonitoring, VulnerableSubjects],
            cases: &[],
            outcome: Outcome::LikelyRequired,
            rule: RULE_TWO,
        },
        // HR appraisals with scoring: employees evaluated; no automated decision.
        Row {
            fields: activity(
                "HR appraisals",
                &["employees"],
                &[
                    ("performance ratings", none, false),
                    ("objectives", none, false),
                ],
            ),
            answers: ScreeningAnswers {
                evaluation_or_scoring: Some(true),
                ..no()
            },
            criteria: &[EvaluationOrScoring, VulnerableSubjects],
            cases: &[],
            outcome: Outcome::LikelyRequired,
            rule: RULE_TWO,
        },
        // A newsletter to subscribers: nothing.
        Row {
            fields: activity(
                "Newsletter",
                &["subscribers"],
                &[("e-mail address", none, false), ("first name", none, false)],
            ),
            answers: no(),
            criteria: &[],
            cases: &[],
            outcome: Outcome::NotLikely,
            rule: RULE_NONE,
        },
        // A health app offered to employees: health data of employees, tracked through
        // wearables; not large-scale.
        Row {
            fields: activity(
                "Employee health app",
                &["employees"],
                &[
                    ("health data", Some(Art9Condition::ExplicitConsent), false),
                    ("step counts", none, false),
                ],
            ),
            answers: ScreeningAnswers {
                systematic_monitoring: Some(true),
                innovative_technology: Some(true),
                ..no()
            },
            criteria: &[
                SystematicMonitoring,
                SensitiveData,
                VulnerableSubjects,
                InnovativeTechnology,
            ],
            cases: &[],
            outcome: Outcome::LikelyRequired,
            rule: RULE_TWO,
        },
        // A credit check before instalment payment: a score from a credit bureau's data
        // decides automatically whether the customer may pay later: 35(3)(a).
        Row {
            fields: ActivityFields {
                automated_decision_making: true,
                ..activity(
                    "Credit check",
                    &["customers asking for payment by instalments"],
                    &[
                        ("creditworthiness score", none, false),
                        ("payment history", none, false),
                    ],
                )
            },
            answers: ScreeningAnswers {
                evaluation_or_scoring: Some(true),
                automated_decisions: Some(true),
                matching_datasets: Some(true),
                denial_of_service_or_right: Some(true),
                ..no()
            },
            criteria: &[
                EvaluationOrScoring,
                AutomatedDecision,
                SensitiveData,
                MatchingDatasets,
                PreventsRightOrService,
            ],
            cases: &[Art35Case::SystematicEvaluation],
            outcome: Outcome::LikelyRequired,
            rule: RULE_CASE,
        },
        // Payroll: employees' salaries and bank accounts; only the employees count.
        Row {
            fields: activity(
                "Payroll",
                &["employees", "former employees"],
                &[
                    ("identification data", none, false),
                    ("salary and tax data", none, false),
                    ("bank account", none, false),
                ],
            ),
            answers: no(),
            criteria: &[VulnerableSubjects],
            cases: &[],
            outcome: Outcome::ToAssess,
            rule: RULE_ONE,
        },
        // A loyalty card profiling a quarter of a million customers, combining till and
        // web-shop data.
        Row {
            fields: activity(
                "Loyalty card",
                &["customers"],
                &[
                    ("purchase history", none, false),
                    ("contact data", none, false),
                ],
            ),
            answers: ScreeningAnswers {
                evaluation_or_scoring: Some(true),
                matching_datasets: Some(true),
                large_scale: Some(true),
                people_concerned: Some(250_000),
                ..no()
            },
            criteria: &[EvaluationOrScoring, LargeScale, MatchingDatasets],
            cases: &[],
            outcome: Outcome::LikelyRequired,
            rule: RULE_TWO,
        },
        // First-party website analytics of many visitors: large-scale, nothing else.
        Row {
            fields: activity(
                "Website analytics",
                &["website visitors"],
                &[
                    ("online identifiers", none, false),
                    ("usage data", none, false),
                ],
            ),
            answers: ScreeningAnswers {
                large_scale: Some(true),
                people_concerned: Some(1_000_000),
                ..no()
            },
            criteria: &[LargeScale],
            cases: &[],
            outcome: Outcome::ToAssess,
            rule: RULE_ONE,
        },
        // A clinic's patient records: health data of patients on a large scale: 35(3)(b).
        Row {
            fields: activity(
                "Patient records",
                &["patients"],
                &[
                    (
                        "medical records",
                        Some(Art9Condition::HealthOrSocialCare),
                        false,
                    ),
                    ("contact data", none, false),
                ],
            ),
            answers: ScreeningAnswers {
                large_scale: Some(true),
                people_concerned: Some(40_000),
                ..no()
            },
            criteria: &[SensitiveData, LargeScale, VulnerableSubjects],
            cases: &[Art35Case::LargeScaleSensitive],
            outcome: Outcome::LikelyRequired,
            rule: RULE_CASE,
        },
        // A whistleblowing channel: reports of offences by staff.
        Row {
            fields: activity(
                "Whistleblowing",
                &["staff", "suppliers"],
                &[("reports", none, false), ("alleged offences", none, true)],
            ),
            answers: no(),
            criteria: &[SensitiveData, VulnerableSubjects],
            cases: &[],
            outcome: Outcome::LikelyRequired,
            rule: RULE_TWO,
        },
        // Video surveillance of a city's stations for a transport operator: 35(3)(c).
        Row {
            fields: activity(
                "Station CCTV",
                &["passengers"],
                &[("video images", none, false)],
            ),
            answers: ScreeningAnswers {
                systematic_monitoring: Some(true),
                public_area_monitoring: Some(true),
                large_scale: Some(true),
                people_concerned: Some(2_000_000),
                ..no()
            },
            criteria: &[SystematicMonitoring, LargeScale],
            cases: &[Art35Case::PublicAreaMonitoring],
            outcome: Outcome::LikelyRequired,
            rule: RULE_CASE,
        },
    ]
}

#[test]
fn criteria_cases_and_outcomes_match_the_hand_made_table() {
    let rows = register();
    assert!(rows.len() >= 8);
    for row in rows {
        let name = &row.fields.name;
        let screening = screen(&row.fields, &row.answers);
        let met: Vec<Criterion> = (screening.criteria.iter())
            .filter(|f| f.met)
            .map(|f| f.criterion)
            .collect();
        assert_eq!(met, row.criteria, "{name}: criteria");
        let cases: Vec<Art35Case> = screening.cases.iter().map(|c| c.case).collect();
        assert_eq!(cases, row.cases, "{name}: cases");
        assert_eq!(screening.outcome, row.outcome, "{name}: outcome");
        assert_eq!(screening.rule, row.rule, "{name}: rule");
        assert_eq!(screening.criteria_met, row.criteria.len(), "{name}");
        assert_eq!(screening.criteria.len(), 9, "{name}: all nine listed");
        // Every met criterion and case says why; an unmet one has no reasons.
        for finding in &screening.criteria {
            assert_eq!(finding.met, !finding.reasons.is_empty(), "{name}");
        }
        assert!(screening.cases.iter().all(|c| !c.reasons.is_empty()));
        assert!(screening.unanswered.is_empty(), "{name}: all answered");
    }
}

fn reasons(screening: &Screening, criterion: Criterion) -> Vec<(Origin, String)> {
    (screening.criteria.iter())
        .find(|f| f.criterion == criterion)
        .map(|f| {
            f.reasons
                .iter()
                .map(|r| (r.origin, r.field.clone()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn each_reason_names_the_field_or_answer_behind_it() {
    let rows = register();
    let cctv = screen(&rows[0].fields, &rows[0].answers);
    assert_eq!(
        reasons(&cctv, VulnerableSubjects),
        [(Origin::Register, "data_subject_categories[1]".to_owned())]
    );
    assert_eq!(
        reasons(&cctv, SystematicMonitoring),
        [
            (Origin::Answer, "systematic_monitoring".to_owned()),
            (Origin::Answer, "public_area_monitoring".to_owned())
        ]
    );
    let credit = screen(&rows[4].fields, &rows[4].answers);
    assert_eq!(
        reasons(&credit, SensitiveData),
        [(Origin::Register, "data_categories[0].name".to_owned())]
    );
    let case_fields: Vec<&str> = credit.cases[0]
        .reasons
        .iter()
        .map(|r| r.field.as_str())
        .collect();
    assert_eq!(
        case_fields,
        [
            "evaluation_or_scoring",
            "automated_decision_making",
            "automated_decisions"
        ]
    );
    let clinic = screen(&rows[8].fields, &rows[8].answers);
    let detail = &clinic.cases[0].reasons;
    assert_eq!(detail[0].field, "data_categories[0].special_category");
    assert!(
        detail[1].detail.contains("about 40000 people"),
        "{detail:?}"
    );
    let whistle = screen(&rows[9].fields, &rows[9].answers);
    assert_eq!(
        reasons(&whistle, SensitiveData),
        [(
            Origin::Register,
            "data_categories[1].criminal_offence_data".to_owned()
        )]
    );
}

#[test]
fn answers_move_the_outcome_and_the_register_still_counts() {
    let rows = register();
    // Payroll at one criterion; a large-scale answer makes two.
    let payroll = &rows[5];
    let larger = ScreeningAnswers {
        large_scale: Some(true),
        ..payroll.answers.clone()
    };
    assert_eq!(
        screen(&payroll.fields, &larger).outcome,
        Outcome::LikelyRequired
    );
    // Answering "no" to vulnerable people does not unsay the register's employees.
    let denied = ScreeningAnswers {
        vulnerable_data_subjects: Some(false),
        ..payroll.answers.clone()
    };
    assert!(screen(&payroll.fields, &denied).is_met(VulnerableSubjects));
    // Health data named but not flagged as Art. 9 is still sensitive, by its name.
    let unflagged = activity(
        "Sick notes",
        &["customers"],
        &[("health data", None, false)],
    );
    let screening = screen(&unflagged, &no());
    assert_eq!(
        reasons(&screening, SensitiveData),
        [(Origin::Register, "data_categories[0].name".to_owned())]
    );
    // ... but 35(3)(b) needs the Art. 9 or 10 data proper, even on a large scale.
    let large = ScreeningAnswers {
        large_scale: Some(true),
        ..no()
    };
    assert!(screen(&unflagged, &large).cases.is_empty());
    // A loan applicant is not a job applicant.
    let loans = activity("Loans", &["loan applicants"], &[("name", None, false)]);
    assert!(!screen(&loans, &no()).is_met(VulnerableSubjects));
}

#[test]
fn open_questions_are_listed_and_the_summary_cites_the_rule() {
    let rows = register();
    let fresh = screen(&rows[2].fields, &ScreeningAnswers::default());
    assert_eq!(fresh.outcome, Outcome::NotLikely);
    assert_eq!(fresh.unanswered.len(), 10);
    assert_eq!(fresh.suggested_requirement, DpiaRequirement::No);

    let credit = screen(&rows[4].fields, &rows[4].answers);
    assert_eq!(credit.suggested_requirement, DpiaRequirement::Yes);
    let summary = credit.summary();
    assert!(summary.starts_with("DPIA screening: likely required (Art. 35(1), (3)"));
    assert!(summary.contains("Cases: Art. 35(3)(a)."), "{summary}");
    assert!(summary.contains("WP248 criteria met (5)"), "{summary}");
    assert!(summary.chars().count() <= 5_000);

    let payroll = screen(&rows[5].fields, &rows[5].answers);
    assert_eq!(payroll.suggested_requirement, DpiaRequirement::ToAssess);
}

#[test]
fn a_processor_activity_says_whose_duty_the_dpia_is() {
    let mut fields = activity("Payroll for a client", &["client's employees"], &[]);
    fields.role = ActivityRole::Processor;
    let screening = screen(&fields, &no());
    assert_eq!(screening.notes.len(), 1);
    assert!(screening.notes[0].contains("Art. 28(3)(f)"));
}

#[test]
fn the_screening_serialises_with_stable_names() {
    let rows = register();
    let json = serde_json::to_value(screen(&rows[8].fields, &rows[8].answers)).unwrap();
    assert_eq!(json["outcome"], "likely_required");
    assert_eq!(json["suggested_requirement"], "yes");
    assert_eq!(
        json["cases"][0]["case"],
        "large_scale_special_or_criminal_data"
    );
    assert_eq!(json["cases"][0]["article"], "Art. 35(3)(b)");
    assert_eq!(
        json["criteria"][3]["criterion"],
        "sensitive_or_highly_personal_data"
    );
    assert_eq!(json["criteria"][3]["reasons"][0]["origin"], "register");
}
