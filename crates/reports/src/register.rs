//! The Art. 30 record as a report (cover with the organisation profile, one section per
//! activity with every Art. 30 item, annexes of processors and of completeness gaps) and
//! as a workbook (the CSV export's rows with typed dates, and the processors).

use aura_gdpr_registers::{
    CSV_COLUMNS, ExportedActivity, OrganisationProfile, RecordKind, RegisterExport, csv_rows,
};

use crate::{
    common::{contact_line, document, or_dash, org_contact},
    labels::{Language, Words, instant},
    model::{Block, Cell, Column, Report, Sheet, Stamp, Workbook},
    values::Label,
};

/// The record of `export` (Art. 30(1) or 30(2), as it was built) in `language`.
pub fn register_report(export: &RegisterExport, language: Language, stamp: Stamp) -> Report {
    let w = language.words();
    let title = match export.record {
        RecordKind::Controller => w.controller_title,
        RecordKind::Processor => w.processor_title,
    };
    let mut blocks = cover(export, w, &stamp);
    for (index, item) in export.activities.iter().enumerate() {
        blocks.extend(activity_section(export, item, index + 1, w));
    }
    blocks.extend(processor_annex(export, w));
    blocks.extend(gap_annex(export, w));
    document(language, title, stamp, blocks)
}

fn dpo_line(org: &OrganisationProfile, w: &Words) -> String {
    match (&org.dpo, &org.dpo_not_required_reason) {
        (Some(dpo), _) => contact_line(dpo),
        (None, Some(reason)) => format!("{} ({reason})", w.no_dpo),
        (None, None) => w.no_dpo.to_owned(),
    }
}

fn cover(export: &RegisterExport, w: &Words, stamp: &Stamp) -> Vec<Block> {
    let mut blocks = vec![Block::Heading {
        level: 2,
        text: w.organisation.to_owned(),
    }];
    match &export.organisation {
        Some(org) => {
            let mut lines = vec![
                (w.legal_name.to_owned(), org.legal_name.clone()),
                (w.address.to_owned(), or_dash(org.address.as_deref())),
                (
                    w.country.to_owned(),
                    or_dash(org.country.map(|c| c.to_string()).as_deref()),
                ),
                (w.contact.to_owned(), or_dash(Some(&org_contact(org)))),
                (w.dpo.to_owned(), dpo_line(org, w)),
                (
                    w.representative.to_owned(),
                    or_dash(org.eu_representative.as_ref().map(contact_line).as_deref()),
                ),
            ];
            if !org.joint_controllers.is_empty() {
                lines.push((
                    w.joint_controllers.to_owned(),
                    org.joint_controllers
                        .iter()
                        .map(|j| match &j.responsibilities {
                            Some(r) => format!("{} ({r})", contact_line(&j.contact)),
                            None => contact_line(&j.contact),
                        })
                        .collect::<Vec<_>>()
                        .join("\n"),
                ));
            }
            blocks.push(Block::KeyValues(lines));
        }
        None => blocks.push(Block::Paragraph(w.no_profile.to_owned())),
    }
    let summary = &export.completeness;
    blocks.push(Block::Heading {
        level: 2,
        text: w.summary.to_owned(),
    });
    blocks.push(Block::KeyValues(vec![
        (w.activities.to_owned(), summary.activities.to_string()),
        (w.complete.to_owned(), summary.complete.to_string()),
        (w.incomplete.to_owned(), summary.incomplete.to_string()),
        (w.generated_at.to_owned(), instant(stamp.generated_at)),
    ]));
    blocks
}

fn lines(items: impl IntoIterator<Item = String>, w: &Words) -> String {
    let items: Vec<String> = items.into_iter().filter(|i| !i.trim().is_empty()).collect();
    if items.is_empty() {
        w.not_stated.to_owned()
    } else {
        items.join("\n")
    }
}

fn item(heading: &str, body: Block) -> [Block; 2] {
    [
        Block::Heading {
            level: 3,
            text: heading.to_owned(),
        },
        body,
    ]
}

fn text(value: Option<&str>, w: &Words) -> Block {
    Block::Paragraph(lines(value.map(str::to_owned), w))
}

fn activity_section(
    export: &RegisterExport,
    exported: &ExportedActivity,
    number: usize,
    w: &Words,
) -> Vec<Block> {
    let f = &exported.activity.fields;
    let org = export.organisation.as_ref();
    let mut blocks = vec![
        Block::Heading {
            level: 1,
            text: format!("{number}. {}", f.name),
        },
        Block::KeyValues(vec![
            (w.description.to_owned(), or_dash(f.description.as_deref())),
            (w.status.to_owned(), f.status.label(w.lang).to_owned()),
            (w.role.to_owned(), f.role.label(w.lang).to_owned()),
            (
                w.automated_decisions.to_owned(),
                if f.automated_decision_making {
                    match &f.automated_decision_details {
                        Some(d) => format!("{}: {d}", w.yes),
                        None => w.yes.to_owned(),
                    }
                } else {
                    w.no.to_owned()
                },
            ),
            (
                w.dpia.to_owned(),
                match &f.dpia_reason {
                    Some(r) => format!("{} ({r})", f.dpia_required.label(w.lang)),
                    None => f.dpia_required.label(w.lang).to_owned(),
                },
            ),
        ]),
    ];
    let org_name = org.map(|o| o.legal_name.clone()).unwrap_or_default();
    let parties = |first: (String, String)| {
        let mut kv = vec![first];
        if let Some(o) = org {
            kv.push((w.dpo.to_owned(), dpo_line(o, w)));
            kv.push((
                w.representative.to_owned(),
                or_dash(o.eu_representative.as_ref().map(contact_line).as_deref()),
            ));
            if !o.joint_controllers.is_empty() {
                kv.push((
                    w.joint_controllers.to_owned(),
                    o.joint_controllers
                        .iter()
                        .map(|j| contact_line(&j.contact))
                        .collect::<Vec<_>>()
                        .join("\n"),
                ));
            }
        }
        Block::KeyValues(kv)
    };
    let data_subjects = lines(f.data_subject_categories.iter().cloned(), w);
    let data = lines(
        f.data_categories.iter().map(|c| {
            let mut line = c.name.clone();
            if let Some(s) = c.special_category {
                line.push_str(&format!(" ({})", s.label(w.lang)));
            }
            if c.criminal_offence_data {
                line.push_str(" (Art. 10)");
            }
            line
        }),
        w,
    );
    let transfers = Block::Paragraph(if f.transfers.is_empty() {
        w.none.to_owned()
    } else {
        lines(
            f.transfers.iter().map(|t| {
                let mut line = format!("{} ({})", t.country, t.mechanism.label(w.lang));
                if let Some(r) = &t.recipient {
                    line = format!("{r}, {line}");
                }
                if let Some(s) = &t.safeguards {
                    line.push_str(&format!(": {s}"));
                }
                line
            }),
            w,
        )
    });
    let measures = text(f.security_measures.as_deref(), w);
    let purposes = lines(
        f.purposes.iter().map(|p| {
            let mut line = format!(
                "{} ({}: {})",
                p.description,
                w.lawful_basis,
                p.lawful_basis.label(w.lang)
            );
            if let Some(li) = &p.legitimate_interest {
                line.push_str(&format!(" — {li}"));
            }
            line
        }),
        w,
    );
    match export.record {
        RecordKind::Controller => {
            let a = &w.art30_1;
            let controller = (
                w.controller.to_owned(),
                [org_name, org.map(org_contact).unwrap_or_default()]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            blocks.extend(item(a[0], parties(controller)));
            blocks.extend(item(a[1], Block::Paragraph(purposes)));
            blocks.extend(item(
                a[2],
                Block::KeyValues(vec![
                    (w.data_subjects.to_owned(), data_subjects),
                    (w.data_categories.to_owned(), data),
                ]),
            ));
            let recipients = lines(f.recipient_categories.iter().cloned(), w);
            let processors = lines(
                exported.processors.iter().map(|p| match &p.country {
                    Some(c) => format!("{} ({c})", p.name),
                    None => p.name.clone(),
                }),
                w,
            );
            blocks.extend(item(
                a[3],
                Block::KeyValues(vec![
                    (w.recipients.to_owned(), recipients),
                    (w.processors_used.to_owned(), processors),
                ]),
            ));
            blocks.extend(item(a[4], transfers));
            blocks.extend(item(
                a[5],
                Block::Paragraph(lines(
                    f.data_categories.iter().map(|c| {
                        format!(
                            "{}: {}",
                            c.name,
                            c.retention.as_deref().unwrap_or(w.not_stated)
                        )
                    }),
                    w,
                )),
            ));
            blocks.extend(item(a[6], measures));
        }
        RecordKind::Processor => {
            let a = &w.art30_2;
            let controller = (
                w.controller.to_owned(),
                [
                    f.controller_name.clone().unwrap_or_default(),
                    f.controller_contact.clone().unwrap_or_default(),
                ]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", "),
            );
            let mut kv = vec![(
                w.organisation.to_owned(),
                [org_name, org.map(org_contact).unwrap_or_default()]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(", "),
            )];
            if let Block::KeyValues(rest) = parties(controller) {
                kv.extend(rest);
            }
            blocks.extend(item(a[0], Block::KeyValues(kv)));
            blocks.extend(item(
                a[1],
                Block::KeyValues(vec![
                    (w.description.to_owned(), purposes),
                    (w.data_subjects.to_owned(), data_subjects),
                    (w.data_categories.to_owned(), data),
                ]),
            ));
            blocks.extend(item(a[2], transfers));
            blocks.extend(item(a[3], measures));
        }
    }
    blocks
}

fn processor_annex(export: &RegisterExport, w: &Words) -> Vec<Block> {
    let mut blocks = vec![Block::Heading {
        level: 1,
        text: w.annex_processors.to_owned(),
    }];
    if export.processors.is_empty() {
        blocks.push(Block::Paragraph(w.no_processors.to_owned()));
        return blocks;
    }
    let name_of = |id| {
        export
            .processors
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.fields.name.clone())
            .unwrap_or_default()
    };
    let rows = export
        .processors
        .iter()
        .map(|p| {
            let f = &p.fields;
            let missing = f.clauses.missing();
            vec![
                f.name.clone(),
                or_dash(f.country.map(|c| c.to_string()).as_deref()),
                f.dpa_status.label(w.lang).to_owned(),
                or_dash(f.dpa_signed_on.map(|d| d.to_string()).as_deref()),
                if missing.is_empty() {
                    w.all_clauses.to_owned()
                } else {
                    missing.join(" ")
                },
                or_dash(f.parent_id.map(name_of).as_deref()),
            ]
        })
        .collect();
    blocks.push(Block::Table {
        columns: vec![
            Column::new(w.name, 3.0),
            Column::new(w.country, 1.0),
            Column::new(w.dpa_status, 1.4),
            Column::new(w.dpa_signed_on, 2.0),
            Column::new(w.clauses_missing, 2.2),
            Column::new(w.parent, 2.2),
        ],
        rows,
    });
    blocks
}

fn gap_annex(export: &RegisterExport, w: &Words) -> Vec<Block> {
    let mut blocks = vec![Block::Heading {
        level: 1,
        text: w.annex_gaps.to_owned(),
    }];
    let rows: Vec<Vec<String>> = export
        .activities
        .iter()
        .flat_map(|a| {
            a.activity.derived.missing.iter().map(|g| {
                vec![
                    a.activity.fields.name.clone(),
                    format!("Art. {}", g.article),
                    g.field.clone(),
                ]
            })
        })
        .collect();
    if rows.is_empty() {
        blocks.push(Block::Paragraph(w.no_gaps.to_owned()));
    } else {
        blocks.push(Block::Table {
            columns: vec![
                Column::new(w.activity, 3.0),
                Column::new(w.article, 1.5),
                Column::new(w.field, 2.5),
            ],
            rows,
        });
    }
    blocks
}

/// The register as a workbook: the activities sheet holds the CSV export's columns and
/// rows with the dates typed; the processors sheet the processors the record uses.
pub fn register_workbook(export: &RegisterExport, language: Language) -> Workbook {
    let w = language.words();
    let review = CSV_COLUMNS.iter().position(|c| *c == "review_date");
    let updated = CSV_COLUMNS.iter().position(|c| *c == "updated_at");
    let activities = csv_rows(export)
        .into_iter()
        .zip(&export.activities)
        .map(|(row, item)| {
            row.into_iter()
                .enumerate()
                .map(|(i, value)| {
                    if Some(i) == review {
                        item.activity
                            .fields
                            .review_date
                            .map_or(Cell::Empty, Cell::Date)
                    } else if Some(i) == updated {
                        Cell::DateTime(item.activity.updated_at)
                    } else if value.is_empty() {
                        Cell::Empty
                    } else {
                        Cell::Text(value)
                    }
                })
                .collect()
        })
        .collect();
    let text = |s: String| {
        if s.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(s)
        }
    };
    let date = |d: Option<time::Date>| d.map_or(Cell::Empty, Cell::Date);
    let processors = export
        .processors
        .iter()
        .map(|p| {
            let f = &p.fields;
            vec![
                Cell::Text(p.id.to_string()),
                Cell::Text(f.name.clone()),
                text(f.country.map(|c| c.to_string()).unwrap_or_default()),
                text(f.services.clone().unwrap_or_default()),
                Cell::Text(f.dpa_status.label(w.lang).to_owned()),
                date(f.dpa_signed_on),
                date(f.dpa_review_on),
                text(f.clauses.missing().join(" ")),
                text(f.parent_id.map(|id| id.to_string()).unwrap_or_default()),
                Cell::Number(p.version as f64),
                Cell::DateTime(p.updated_at),
            ]
        })
        .collect();
    Workbook {
        sheets: vec![
            Sheet {
                name: w.activities_sheet.to_owned(),
                columns: CSV_COLUMNS.iter().map(|c| (*c).to_owned()).collect(),
                rows: activities,
            },
            Sheet {
                name: w.processors_sheet.to_owned(),
                columns: [
                    "id",
                    "name",
                    "country",
                    "services",
                    "dpa_status",
                    "dpa_signed_on",
                    "dpa_review_on",
                    "clauses_missing",
                    "parent_id",
                    "version",
                    "updated_at",
                ]
                .map(str::to_owned)
                .to_vec(),
                rows: processors,
            },
        ],
    }
}
