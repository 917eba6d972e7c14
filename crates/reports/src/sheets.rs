//! The other registers as sheets of the register workbook, beside the activities and
//! processors: the breaches and the requests with the columns of their CSV exports, the
//! DPIAs and the tasks. Dates and instants are typed cells; coded values are words in
//! the workbook's language.

use aura_breaches::export::{BreachExport, CSV_COLUMNS as BREACH_COLUMNS};
use aura_dpias::Dpia;
use aura_gdpr_registers::RegisterExport;
use aura_requests::export::{CSV_COLUMNS as REQUEST_COLUMNS, RequestExport};
use aura_tasks::Task;
use time::{Date, OffsetDateTime};

use crate::{
    labels::Language,
    model::{Cell, Sheet},
    values::{Label, joined},
};

/// The registers the workbook adds to the record of processing, read in the caller's
/// tenant: every breach (drills left out), request, DPIA and task.
#[derive(Debug, Clone)]
pub struct OtherRegisters {
    pub breaches: BreachExport,
    pub requests: RequestExport,
    pub dpias: Vec<Dpia>,
    pub tasks: Vec<Task>,
}

fn text(value: impl Into<String>) -> Cell {
    let value = value.into();
    if value.is_empty() {
        Cell::Empty
    } else {
        Cell::Text(value)
    }
}

fn optional_text(value: Option<&str>) -> Cell {
    text(value.unwrap_or_default())
}

fn label<L: Label>(value: Option<L>, language: Language) -> Cell {
    value.map_or(Cell::Empty, |v| Cell::Text(v.label(language).to_owned()))
}

fn date(value: Option<Date>) -> Cell {
    value.map_or(Cell::Empty, Cell::Date)
}

fn instant(value: Option<OffsetDateTime>) -> Cell {
    value.map_or(Cell::Empty, Cell::DateTime)
}

fn number(value: Option<i64>) -> Cell {
    value.map_or(Cell::Empty, |n| Cell::Number(n as f64))
}

/// A sheet of `rows` under `columns`. The breach and request rows are built cell by cell
/// in the order of their CSV exports' columns (those crates build the CSV rows): a row of
/// another length means the two have drifted apart.
fn sheet(name: &str, columns: &[&str], rows: Vec<Vec<Cell>>) -> Sheet {
    debug_assert!(
        rows.iter().all(|row| row.len() == columns.len()),
        "sheet {name}: a row's cells do not match its {} columns",
        columns.len()
    );
    Sheet {
        name: name.to_owned(),
        columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        rows,
    }
}

/// The sheets of `others` in `language`; a DPIA's activities are named as `export`
/// names them.
pub fn register_sheets(
    export: &RegisterExport,
    others: &OtherRegisters,
    language: Language,
) -> Vec<Sheet> {
    let (w, l) = (language.words(), language);
    let yes_no = |v: bool| Cell::Text((if v { w.yes } else { w.no }).to_owned());
    let breaches = others.breaches.breaches.iter().map(|b| {
        vec![
            Cell::Text(b.id.to_string()),
            Cell::Text(b.reference.clone()),
            Cell::Text(b.title.clone()),
            text(joined(&b.kinds, l, ", ")),
            Cell::DateTime(b.became_aware_at),
            Cell::DateTime(b.authority_deadline),
            instant(b.notified_at),
            label(Some(b.timeliness), l),
            number(b.hours_late),
            optional_text(b.delay_reasons.as_deref()),
            Cell::Number(b.notification_phases as f64),
            text(b.authority_references.join(", ")),
            number(b.approximate_subjects),
            number(b.approximate_records),
            label(b.risk, l),
            optional_text(b.risk_reasoning.as_deref()),
            label(Some(b.authority_decision), l),
            optional_text(b.not_notified_reasoning.as_deref()),
            instant(b.not_notified_at),
            label(b.subjects, l),
            date(b.subjects_communicated_on),
            label(b.subjects_not_communicated_ground, l),
            optional_text(b.subjects_not_communicated_reasoning.as_deref()),
            label(Some(b.status), l),
            instant(b.closed_at),
            yes_no(b.drill),
        ]
    });
    let requests = others.requests.requests.iter().map(|r| {
        vec![
            Cell::Text(r.reference.clone()),
            Cell::DateTime(r.received_at),
            label(Some(r.channel), l),
            text(joined(&r.rights, l, ", ")),
            label(Some(r.status), l),
            date(r.first_due_on),
            date(r.extended_due_on),
            date(r.answered_on),
            label(Some(r.timeliness), l),
            label(r.outcome, l),
            instant(r.closed_at),
        ]
    });
    let activity_name = |id: aura_gdpr_registers::ActivityId| {
        (export.activities.iter())
            .find(|a| a.activity.id == id)
            .map_or_else(|| id.to_string(), |a| a.activity.fields.name.clone())
    };
    let dpias = others.dpias.iter().map(|d| {
        let (f, s) = (&d.fields, &d.derived);
        let consultation = s.prior_consultation.as_ref();
        vec![
            Cell::Text(d.id.to_string()),
            Cell::Text(f.title.clone()),
            label(Some(s.status), l),
            Cell::Number(f64::from(s.revision)),
            text(
                (f.activity_ids.iter().map(|id| activity_name(*id)))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            Cell::Number(f.risks.len() as f64),
            label(s.residual_level, l),
            Cell::Number(f.measures.len() as f64),
            date(f.review_date),
            instant(s.submitted_at),
            instant(s.approved_at),
            date(consultation.map(|c| c.submitted_on)),
            date(consultation.map(|c| c.answer_due)),
            date(consultation.and_then(|c| c.answered_on)),
            text(joined(&s.missing, l, ", ")),
            Cell::DateTime(d.updated_at),
        ]
    });
    let tasks = others.tasks.iter().map(|t| {
        let f = &t.fields;
        vec![
            Cell::Text(t.id.to_string()),
            Cell::Text(f.title.clone()),
            label(Some(f.category), l),
            label(Some(f.status), l),
            date(f.due_date),
            label(Some(f.recurrence), l),
            instant(t.derived.completed_at),
            Cell::DateTime(t.created_at),
            Cell::DateTime(t.updated_at),
        ]
    });
    vec![
        sheet(w.breaches_sheet, BREACH_COLUMNS, breaches.collect()),
        sheet(w.requests_sheet, REQUEST_COLUMNS, requests.collect()),
        sheet(
            w.dpias_sheet,
            &[
                "id",
                "title",
                "status",
                "revision",
                "activities",
                "risks",
                "residual_risk",
                "measures",
                "review_date",
                "submitted_at",
                "approved_at",
                "consultation_submitted_on",
                "consultation_answer_due",
                "consultation_answered_on",
                "missing",
                "updated_at",
            ],
            dpias.collect(),
        ),
        sheet(
            w.tasks_sheet,
            &[
                "id",
                "title",
                "category",
                "status",
                "due_date",
                "recurrence",
                "completed_at",
                "created_at",
                "updated_at",
            ],
            tasks.collect(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use aura_gdpr_registers::{CompletenessSummary, RecordKind};
    use aura_records::Record;
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2027-06-01 12:00 UTC);

    fn record<K: aura_records::RecordKind>(fields: serde_json::Value) -> Record<K> {
        Record::of_json(fields, datetime!(2027-03-01 10:00 UTC)).expect("fields")
    }

    #[test]
    fn every_row_has_a_cell_under_each_column_of_its_sheet() {
        let breach = record::<aura_breaches::Breaches>(json!({
            "title": "Laptop stolen", "description": null, "discovery": null,
            "became_aware_at": "2027-03-01T09:00:00Z", "occurred_from": null, "occurred_to": null,
            "kinds": ["confidentiality"], "data_subject_categories": [], "approximate_subjects": 12,
            "data_categories": [], "approximate_records": null, "activity_ids": [],
            "processor_ids": [], "consequences": null, "measures": null, "contact_point": null,
            "drill": false, "owner_id": null, "assignee_id": null
        }));
        let request = record::<aura_requests::request::Requests>(json!({
            "received_at": "2027-03-01T10:00:00Z", "channel": "letter",
            "subject": {"name": "Zoë", "email": null, "contact": null, "category": "customer"},
            "agent": null, "rights": ["access"], "scope": null, "assignee_id": null
        }));
        let dpia = record::<aura_dpias::Dpias>(json!({
            "title": "Cameras", "activity_ids": [], "description": null, "necessity": [],
            "risks": [], "measures": [], "dpo_advice": null, "subject_views": null,
            "subject_views_not_sought": null, "review_date": null, "owner_id": null,
            "revision_of": null
        }));
        let task: aura_tasks::Task = record(json!({"title": "Training", "category": "training"}));
        let others = OtherRegisters {
            breaches: aura_breaches::export::build_export(&[breach], None, None, false, NOW),
            requests: aura_requests::export::build_export(vec![request], None, None, NOW),
            dpias: vec![dpia],
            tasks: vec![task],
        };
        let export = RegisterExport {
            record: RecordKind::Controller,
            generated_at: NOW,
            organisation: None,
            completeness: CompletenessSummary::default(),
            activities: vec![],
            processors: vec![],
        };
        let sheets = register_sheets(&export, &others, Language::En);
        assert_eq!(sheets.len(), 4);
        for sheet in sheets {
            assert_eq!(sheet.rows.len(), 1, "{}", sheet.name);
            assert_eq!(sheet.rows[0].len(), sheet.columns.len(), "{}", sheet.name);
        }
    }
}
