//! Exports for the supervisory authority (Art. 30(4)): the controller record or the
//! processor record, with linked processors and the organisation profile, as JSON (serde)
//! or CSV (one row per activity).

use std::collections::BTreeSet;

use serde::Serialize;
use time::OffsetDateTime;

use crate::{
    activity::{ActivityRole, ProcessingActivity},
    completeness::CompletenessSummary,
    csv,
    organisation::OrganisationProfile,
    processor::{Processor, ProcessorId},
    text::string_enum,
};

string_enum!(
    /// Art. 30(1) (controller) or Art. 30(2) (processor).
    RecordKind { Controller => "controller", Processor => "processor" }
);

/// A processor as listed beside an activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkedProcessor {
    pub id: ProcessorId,
    pub name: String,
    pub country: Option<String>,
    pub dpa_status: String,
    pub parent_id: Option<ProcessorId>,
}

/// An activity as exported (its gaps are in `activity.derived.missing`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportedActivity {
    #[serde(flatten)]
    pub activity: ProcessingActivity,
    pub processors: Vec<LinkedProcessor>,
}

/// The whole record as the authority receives it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegisterExport {
    pub record: RecordKind,
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    pub organisation: Option<OrganisationProfile>,
    pub completeness: CompletenessSummary,
    pub activities: Vec<ExportedActivity>,
    /// The processors the activities use, with the parents of sub-processors.
    pub processors: Vec<Processor>,
}

/// Builds the record of `kind` from the tenant's data: controller and joint-controller
/// activities for the controller record, processor activities (by controller) for the
/// processor record.
pub fn build_export(
    kind: RecordKind,
    organisation: Option<OrganisationProfile>,
    activities: Vec<ProcessingActivity>,
    processors: Vec<Processor>,
    generated_at: OffsetDateTime,
) -> RegisterExport {
    let mut selected: Vec<ProcessingActivity> = activities
        .into_iter()
        .filter(|a| (a.fields.role == ActivityRole::Processor) == (kind == RecordKind::Processor))
        .collect();
    if kind == RecordKind::Processor {
        selected.sort_by(|a, b| {
            (a.fields.controller_name.as_deref(), &a.fields.name)
                .cmp(&(b.fields.controller_name.as_deref(), &b.fields.name))
        });
    }
    let find = |id: &ProcessorId| processors.iter().find(|p| p.id == *id);
    let mut used = BTreeSet::new();
    let mut summary = CompletenessSummary::default();
    let exported: Vec<ExportedActivity> = selected
        .into_iter()
        .map(|activity| {
            summary.add(&activity.derived.missing);
            let linked = activity
                .fields
                .processor_ids
                .iter()
                .filter_map(find)
                .map(|p| {
                    // A sub-processor brings its chain of parents into the record.
                    let mut current = Some(p);
                    while let Some(processor) = current {
                        if !used.insert(processor.id) {
                            break;
                        }
                        current = processor.fields.parent_id.as_ref().and_then(find);
                    }
                    LinkedProcessor {
                        id: p.id,
                        name: p.fields.name.clone(),
                        country: p.fields.country.map(|c| c.to_string()),
                        dpa_status: p.fields.dpa_status.to_string(),
                        parent_id: p.fields.parent_id,
                    }
                })
                .collect();
            ExportedActivity {
                activity,
                processors: linked,
            }
        })
        .collect();
    let processors = processors
        .into_iter()
        .filter(|p| used.contains(&p.id))
        .collect();
    RegisterExport {
        record: kind,
        generated_at,
        organisation,
        completeness: summary,
        activities: exported,
        processors,
    }
}

/// The CSV's header row (the XLSX activities sheet's too).
pub const CSV_COLUMNS: &[&str] = &[
    "id",
    "name",
    "status",
    "role",
    "controller",
    "controller_contact",
    "dpo",
    "description",
    "purposes",
    "lawful_bases",
    "legitimate_interests",
    "data_subject_categories",
    "data_categories",
    "special_categories",
    "criminal_offence_data",
    "retention",
    "recipient_categories",
    "third_country_transfers",
    "security_measures",
    "data_source",
    "automated_decision_making",
    "dpia_required",
    "dpia_reason",
    "department",
    "owner_id",
    "processors",
    "review_date",
    "missing_items",
    "version",
    "updated_at",
];

/// One row per activity, with the exports' CSV conventions ([`crate::csv`]).
pub fn to_csv(export: &RegisterExport) -> String {
    csv::document(CSV_COLUMNS, csv_rows(export))
}

/// The CSV's rows as text cells, one per activity in [`CSV_COLUMNS`] order (the XLSX
/// export writes the same rows).
pub fn csv_rows(export: &RegisterExport) -> Vec<Vec<String>> {
    let org = export.organisation.as_ref();
    let dpo = org
        .and_then(|o| o.dpo.as_ref())
        .map(|d| {
            [
                Some(d.name.as_str()),
                d.email.as_deref(),
                d.phone.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ")
        })
        .or_else(|| {
            org.and_then(|o| o.dpo_not_required_reason.as_ref())
                .map(|r| format!("none: {r}"))
        })
        .unwrap_or_default();
    let rows = export.activities.iter().map(|item| {
        let f = &item.activity.fields;
        let (controller, contact) = match export.record {
            RecordKind::Processor => (
                f.controller_name.clone().unwrap_or_default(),
                f.controller_contact.clone().unwrap_or_default(),
            ),
            RecordKind::Controller => (
                org.map(|o| o.legal_name.clone()).unwrap_or_default(),
                org.map(|o| {
                    [
                        o.address.as_deref(),
                        o.contact_email.as_deref(),
                        o.contact_phone.as_deref(),
                    ]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", ")
                })
                .unwrap_or_default(),
            ),
        };
        let join = |items: Vec<String>| items.join("; ");
        vec![
            item.activity.id.to_string(),
            f.name.clone(),
            f.status.to_string(),
            f.role.to_string(),
            controller,
            contact,
            dpo.clone(),
            f.description.clone().unwrap_or_default(),
            join(
                f.purposes
                    .iter()
                    .map(|p| format!("{} [{}]", p.description, p.lawful_basis))
                    .collect(),
            ),
            join(
                f.purposes
                    .iter()
                    .map(|p| p.lawful_basis.to_string())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
            ),
            join(
                f.purposes
                    .iter()
                    .filter_map(|p| p.legitimate_interest.clone())
                    .collect(),
            ),
            join(f.data_subject_categories.clone()),
            join(f.data_categories.iter().map(|c| c.name.clone()).collect()),
            join(
                f.data_categories
                    .iter()
                    .filter_map(|c| c.special_category.map(|s| format!("{}: {s}", c.name)))
                    .collect(),
            ),
            join(
                f.data_categories
                    .iter()
                    .filter(|c| c.criminal_offence_data)
                    .map(|c| c.name.clone())
                    .collect(),
            ),
            join(
                f.data_categories
                    .iter()
                    .map(|c| {
                        format!(
                            "{}: {}",
                            c.name,
                            c.retention.as_deref().unwrap_or("not stated")
                        )
                    })
                    .collect(),
            ),
            join(f.recipient_categories.clone()),
            join(
                f.transfers
                    .iter()
                    .map(|t| {
                        let mut text = format!("{} ({})", t.country, t.mechanism);
                        if let Some(r) = &t.recipient {
                            text = format!("{r}, {text}");
                        }
                        if let Some(s) = &t.safeguards {
                            text.push_str(&format!(": {s}"));
                        }
                        text
                    })
                    .collect(),
            ),
            f.security_measures.clone().unwrap_or_default(),
            f.data_source.clone().unwrap_or_default(),
            if f.automated_decision_making {
                format!(
                    "yes{}",
                    f.automated_decision_details
                        .as_ref()
                        .map(|d| format!(": {d}"))
                        .unwrap_or_default()
                )
            } else {
                "no".to_owned()
            },
            f.dpia_required.to_string(),
            f.dpia_reason.clone().unwrap_or_default(),
            f.department.clone().unwrap_or_default(),
            f.owner_id.map(|o| o.to_string()).unwrap_or_default(),
            join(
                item.processors
                    .iter()
                    .map(|p| match p.country.as_deref() {
                        Some(c) => format!("{} ({c})", p.name),
                        None => p.name.clone(),
                    })
                    .collect(),
            ),
            f.review_date.map(|d| d.to_string()).unwrap_or_default(),
            join(
                (item.activity.derived.missing.iter())
                    .map(|g| format!("Art. {} {}", g.article, g.field))
                    .collect(),
            ),
            item.activity.version.to_string(),
            csv::instant(item.activity.updated_at),
        ]
    });
    rows.collect()
}
