//! The register as XLSX, read back with calamine: the activities sheet holds the CSV
//! export's header and rows, its dates as date cells; the processors sheet its processors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fixture;

use std::io::Cursor;

use aura_adapter_reports::XlsxWriter;
use aura_gdpr_registers::to_csv;
use aura_reports::{Language, WorkbookWriter, register_workbook};
use calamine::{Data, Reader, Xlsx};
use time::{Date, Duration, Month, PrimitiveDateTime, Time};

/// The CSV export parsed back cell by cell (a strict RFC 4180 reader).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    aura_gdpr_registers::csv::parse(text).expect("the export parses")
}

/// An Excel serial date-time (days since 1899-12-30) as a UTC date-time.
fn excel(serial: f64) -> PrimitiveDateTime {
    let epoch = PrimitiveDateTime::new(
        Date::from_calendar_date(1899, Month::December, 30).unwrap(),
        Time::MIDNIGHT,
    );
    epoch + Duration::seconds((serial * 86_400.0).round() as i64)
}

fn cell_text(cell: &Data, column: &str) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::DateTime(d) => {
            let at = excel(d.as_f64());
            match column {
                "review_date" => at.date().to_string(),
                _ => format!(
                    "{}T{}Z",
                    at.date(),
                    at.time()
                        .format(&time::macros::format_description!(
                            "[hour]:[minute]:[second]"
                        ))
                        .unwrap()
                ),
            }
        }
        other => panic!("{column}: unexpected cell {other:?}"),
    }
}

#[test]
fn the_activities_sheet_has_the_csv_rows_with_typed_dates() {
    let export = fixture::register(9);
    let bytes = XlsxWriter
        .write(&register_workbook(&export, Language::En))
        .unwrap();
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
    assert_eq!(book.sheet_names(), vec!["Activities", "Processors"]);
    let sheet = book.worksheet_range("Activities").unwrap();
    let csv = parse_csv(&to_csv(&export));
    let header = &csv[0];
    let rows: Vec<&[Data]> = sheet.rows().collect();
    assert_eq!(rows.len(), csv.len(), "the header and one row per activity");
    for (column, cell) in header.iter().zip(rows[0]) {
        assert_eq!(&Data::String(column.clone()), cell);
    }
    let typed = |name: &str| header.iter().position(|c| c == name).unwrap();
    let (review, updated) = (typed("review_date"), typed("updated_at"));
    let mut dates = 0;
    for (sheet_row, csv_row) in rows[1..].iter().zip(&csv[1..]) {
        for (i, (cell, expected)) in sheet_row.iter().zip(csv_row).enumerate() {
            if (i == review && !expected.is_empty()) || i == updated {
                assert!(
                    matches!(cell, Data::DateTime(_)),
                    "{}: a date cell",
                    header[i]
                );
                dates += 1;
            }
            assert_eq!(&cell_text(cell, &header[i]), expected, "{}", header[i]);
        }
    }
    assert_eq!(dates, 9 + 5, "every update time and the five review dates");
    let processors = book.worksheet_range("Processors").unwrap();
    assert_eq!(processors.rows().count(), 1 + export.processors.len());
    assert!(
        processors
            .rows()
            .any(|r| r.get(1) == Some(&Data::String("Rechenzentrum Süd 1 AG".into())))
    );
}

#[test]
fn german_workbooks_name_their_sheets_in_german() {
    let bytes = XlsxWriter
        .write(&register_workbook(&fixture::register(1), Language::De))
        .unwrap();
    let book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
    assert_eq!(
        book.sheet_names(),
        vec!["Tätigkeiten", "Auftragsverarbeiter"]
    );
}
