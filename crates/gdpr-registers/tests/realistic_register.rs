//! Completeness and both exports against a realistic register: eleven activities (ten as
//! controller, one as processor), five processors with sub-processors and transfers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aura_gdpr_registers::*;
use aura_shared_kernel::{TenantId, TimeZoneName};
use time::{OffsetDateTime, macros::date};

fn organisation() -> OrganisationProfile {
    OrganisationProfile {
        legal_name: "Müller & Söhne GmbH".into(),
        address: Some("Hauptstraße 1, 10115 Berlin".into()),
        country: None,
        time_zone: TimeZoneName::default(),
        contact_email: Some("datenschutz@mueller.example".into()),
        contact_phone: None,
        dpo: Some(Contact {
            name: "Dr. Jana Schmidt".into(),
            email: Some("dpo@mueller.example".into()),
            phone: None,
            address: None,
        }),
        dpo_not_required_reason: None,
        eu_representative: None,
        joint_controllers: vec![],
    }
}

fn processor(
    tenant: TenantId,
    name: &str,
    country: &str,
    parent: Option<ProcessorId>,
    status: DpaStatus,
) -> Processor {
    let now = OffsetDateTime::now_utc();
    Processor::first_version(
        aura_records::Id::generate(),
        tenant,
        ProcessorFields {
            name: name.into(),
            contact_name: None,
            contact_email: Some(format!(
                "privacy@{}.example",
                name.to_lowercase().replace(' ', "-")
            )),
            country: Some(country.parse().unwrap()),
            services: Some("hosting".into()),
            data_categories: vec!["contact data".into()],
            transfer_mechanism: (!country.parse::<CountryCode>().unwrap().is_eea())
                .then_some(TransferMechanism::StandardContractualClauses),
            dpa_status: status,
            dpa_signed_on: (status == DpaStatus::Signed).then_some(date!(2025 - 03 - 01)),
            dpa_review_on: Some(date!(2027 - 03 - 01)),
            clauses: Art28Clauses {
                documented_instructions: true,
                confidentiality: true,
                security: true,
                ..Default::default()
            },
            parent_id: parent,
        },
        ProcessorLinks::default(),
        now,
    )
}

fn activity(
    tenant: TenantId,
    name: &str,
    complete: bool,
    processors: Vec<ProcessorId>,
) -> ProcessingActivity {
    let now = OffsetDateTime::now_utc();
    ProcessingActivity {
        id: aura_records::Id::generate(),
        tenant_id: tenant,
        fields: ActivityFields {
            name: name.into(),
            description: Some(format!("{name}, as run by the company")),
            role: ActivityRole::Controller,
            controller_name: None,
            controller_contact: None,
            purposes: vec![Purpose {
                description: format!("{name}; contract performance"),
                lawful_basis: LawfulBasis::Contract,
                legitimate_interest: None,
            }],
            data_subject_categories: vec!["customers".into(), "prospects".into()],
            data_categories: vec![
                DataCategory {
                    name: "contact data".into(),
                    special_category: None,
                    criminal_offence_data: false,
                    retention: Some("3 years after last contact".into()),
                },
                DataCategory {
                    name: "health data".into(),
                    special_category: Some(Art9Condition::ExplicitConsent),
                    criminal_offence_data: false,
                    retention: complete.then(|| "end of treatment + 10 years".into()),
                },
            ],
            recipient_categories: vec!["tax advisers".into()],
            transfers: vec![Transfer {
                country: "US".parse().unwrap(),
                recipient: Some("Cloud Inc.".into()),
                mechanism: TransferMechanism::StandardContractualClauses,
                safeguards: Some("SCC module 2 + TIA".into()),
            }],
            security_measures: complete
                .then(|| "encryption at rest, MFA, role-based access".into()),
            data_source: Some("the data subject".into()),
            automated_decision_making: false,
            automated_decision_details: None,
            dpia_required: DpiaRequirement::ToAssess,
            dpia_reason: None,
            owner_id: None,
            department: Some("Sales".into()),
            processor_ids: processors,
            status: ActivityStatus::Active,
            review_date: Some(date!(2027 - 01 - 31)),
        },
        version: 1,
        derived: ActivityDerived::default(),
        created_at: now,
        updated_at: now,
    }
}

fn register() -> (OrganisationProfile, Vec<ProcessingActivity>, Vec<Processor>) {
    let tenant = TenantId::generate();
    let cloud = processor(tenant, "Cloud Inc", "US", None, DpaStatus::Signed);
    let cdn = processor(tenant, "Edge CDN", "IE", Some(cloud.id), DpaStatus::Signed);
    let mail = processor(tenant, "Mail Service", "DE", None, DpaStatus::Draft);
    let support = processor(tenant, "Support Desk", "IN", Some(mail.id), DpaStatus::None);
    let payroll = processor(tenant, "Payroll Co", "AT", None, DpaStatus::Signed);
    let names = [
        "Customer management",
        "Newsletter",
        "Recruiting",
        "Payroll",
        "Website analytics",
        "Video surveillance",
        "Supplier management",
        "Customer support",
        "Whistleblowing",
        "Event registration",
    ];
    let mut activities: Vec<ProcessingActivity> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let links = match i % 3 {
                0 => vec![cdn.id],
                1 => vec![support.id, payroll.id],
                _ => vec![],
            };
            activity(tenant, name, i % 4 != 0, links)
        })
        .collect();
    // Newsletter relies on legitimate interests without recording them: a gap.
    activities[1].fields.purposes[0].lawful_basis = LawfulBasis::LegitimateInterests;
    // One activity done for a client: it belongs to the processor record.
    let mut for_client = activity(tenant, "Payroll for Client AG", true, vec![payroll.id]);
    for_client.fields.role = ActivityRole::Processor;
    for_client.fields.controller_name = Some("Client AG, Wien".into());
    activities.push(for_client);
    // What each still lacks, as a store derives it where it reads the activities.
    let organisation = organisation();
    for activity in &mut activities {
        activity.derived.missing = activity_gaps(&activity.fields, Some(&organisation));
    }
    (
        organisation,
        activities,
        vec![cloud, cdn, mail, support, payroll],
    )
}

/// The export of `kind` of the realistic register, generated now, once `edit` changed its
/// activities.
fn export(kind: RecordKind, edit: impl FnOnce(&mut Vec<ProcessingActivity>)) -> RegisterExport {
    let (org, mut activities, processors) = register();
    edit(&mut activities);
    build_export(
        kind,
        Some(org),
        activities,
        processors,
        OffsetDateTime::now_utc(),
    )
}

#[test]
fn completeness_finds_every_missing_item() {
    let (org, activities, _) = register();
    let mut summary = CompletenessSummary::default();
    for a in &activities {
        summary.add(&activity_gaps(&a.fields, Some(&org)));
    }
    assert_eq!(summary.activities, 11);
    // Activities 0, 4, 8 lack retention and security measures; 1 lacks its legitimate interest.
    assert_eq!(summary.incomplete, 4, "{summary:?}");
    assert_eq!(summary.missing_by_article.get("30(1)(f)"), Some(&3));
    assert_eq!(summary.missing_by_article.get("30(1)(g)"), Some(&3));
    assert_eq!(summary.missing_by_article.get("6(1)(f)"), Some(&1));
    let gaps = activity_gaps(&activities[0].fields, Some(&org));
    assert!(
        gaps.iter()
            .any(|g| g.field == "data_categories[1].retention"),
        "{gaps:?}"
    );
    // Without an organisation profile, item (a) is missing everywhere.
    assert!(
        activity_gaps(&activities[2].fields, None)
            .iter()
            .any(|g| g.article == "30(1)(a)")
    );
    // A processor activity is judged by Art. 30(2).
    let processor_gaps = activity_gaps(&activities[10].fields, Some(&org));
    assert!(processor_gaps.is_empty(), "{processor_gaps:?}");
}

#[test]
fn the_controller_record_exports_with_everything_linked() {
    let export = export(RecordKind::Controller, |_| {});
    assert_eq!(export.activities.len(), 10);
    assert!(
        export
            .activities
            .iter()
            .all(|a| a.activity.fields.role != ActivityRole::Processor)
    );
    // Sub-processors bring their parents: Edge CDN → Cloud Inc, Support Desk → Mail Service.
    let names: Vec<&str> = export
        .processors
        .iter()
        .map(|p| p.fields.name.as_str())
        .collect();
    for expected in [
        "Cloud Inc",
        "Edge CDN",
        "Mail Service",
        "Support Desk",
        "Payroll Co",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let json = serde_json::to_value(&export).unwrap();
    assert_eq!(json["record"], "controller");
    assert_eq!(json["organisation"]["legal_name"], "Müller & Söhne GmbH");
    assert_eq!(json["activities"][0]["processors"][0]["name"], "Edge CDN");
    assert_eq!(json["activities"][0]["transfers"][0]["country"], "US");
    assert_eq!(json["completeness"]["activities"], 10);

    let csv = to_csv(&export);
    assert!(csv.starts_with('\u{feff}'));
    let rows = parse_csv(csv.trim_start_matches('\u{feff}'));
    assert_eq!(rows.len(), 11, "header + one row per activity");
    let header = &rows[0];
    assert!(
        rows.iter().all(|r| r.len() == header.len()),
        "every row has every column"
    );
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(rows[1][col("controller")], "Müller & Söhne GmbH");
    assert_eq!(rows[1][col("processors")], "Edge CDN (IE)");
    assert!(rows[1][col("third_country_transfers")].contains("US (standard_contractual_clauses)"));
    assert!(rows[1][col("special_categories")].contains("health data: explicit_consent"));
    assert!(rows[1][col("missing_items")].contains("Art. 30(1)(g) security_measures"));
    assert!(
        rows[2][col("purposes")]
            .contains("Newsletter; contract performance [legitimate_interests]")
    );
}

#[test]
fn the_processor_record_lists_the_controllers_served() {
    let export = export(RecordKind::Processor, |_| {});
    assert_eq!(export.activities.len(), 1);
    let csv = to_csv(&export);
    let rows = parse_csv(csv.trim_start_matches('\u{feff}'));
    let col = |name: &str| rows[0].iter().position(|h| h == name).unwrap();
    assert_eq!(rows[1][col("controller")], "Client AG, Wien");
    assert_eq!(rows[1][col("role")], "processor");
}

#[test]
fn formulas_never_reach_a_spreadsheet() {
    let export = export(RecordKind::Controller, |activities| {
        activities[0].fields.name = "=cmd|' /C calc'!A0".into();
    });
    let rows = parse_csv(to_csv(&export).trim_start_matches('\u{feff}'));
    assert_eq!(rows[1][1], "'=cmd|' /C calc'!A0");
}

/// The export parsed back cell by cell (a strict RFC 4180 reader).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    aura_gdpr_registers::csv::parse(text).expect("the export parses")
}

#[test]
fn an_active_activity_whose_dpia_is_required_misses_an_approved_one() {
    let (org, activities, _) = register();
    let mut video = activities[5].fields.clone();
    let art35 = |fields: &ActivityFields, dpia: DpiaStanding| {
        activity_missing(fields, Some(&org), dpia)
            .into_iter()
            .filter(|g| g.article == "35(1)")
            .collect::<Vec<_>>()
    };
    // To assess: no entry; required: the entry, naming the rule.
    assert!(art35(&video, DpiaStanding::default()).is_empty());
    video.dpia_required = DpiaRequirement::Yes;
    let gaps = art35(&video, DpiaStanding::default());
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0].field, "dpia");
    assert_eq!(gaps[0].message, "DPIA required before the processing");
    // An approved DPIA covers it; a draft or retired activity is not processing yet/any more.
    let approved = DpiaStanding {
        approved: true,
        ..DpiaStanding::default()
    };
    assert!(art35(&video, approved).is_empty());
    video.status = ActivityStatus::Draft;
    assert!(art35(&video, DpiaStanding::default()).is_empty());
    video.status = ActivityStatus::Retired;
    assert!(art35(&video, DpiaStanding::default()).is_empty());
    // Approved with a residual high risk, the prior consultation unanswered: the Art. 36
    // entry, on an active or draft activity, not on a retired one.
    let pending = DpiaStanding {
        approved: true,
        consultation_pending: true,
    };
    let art36 = |fields: &ActivityFields| {
        activity_missing(fields, Some(&org), pending)
            .into_iter()
            .filter(|g| g.article == "36(1)")
            .collect::<Vec<_>>()
    };
    assert!(art36(&video).is_empty(), "retired");
    video.status = ActivityStatus::Draft;
    assert_eq!(art36(&video).len(), 1);
    video.status = ActivityStatus::Active;
    let gaps = art36(&video);
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0].field, "dpia");
    assert!(gaps[0].message.starts_with("prior consultation pending"));
    assert!(art35(&video, pending).is_empty(), "approved all the same");
    // The Art. 30 gaps stay as they were.
    assert_eq!(
        activity_missing(&activities[0].fields, Some(&org), DpiaStanding::default()),
        activity_gaps(&activities[0].fields, Some(&org))
    );
}
