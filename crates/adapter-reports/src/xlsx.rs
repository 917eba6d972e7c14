//! Workbooks as XLSX: one sheet per register, a bold frozen header row, dates as date
//! cells (instants in UTC), text never read as a formula (written as strings).

use aura_reports::{Cell, RenderError, Workbook, WorkbookWriter};
use rust_xlsxwriter::{ExcelDateTime, Format, XlsxError};
use time::{OffsetDateTime, UtcOffset};

#[derive(Debug, Clone, Copy, Default)]
pub struct XlsxWriter;

fn failed(e: XlsxError) -> RenderError {
    RenderError(e.to_string())
}

fn excel_instant(at: OffsetDateTime) -> Result<ExcelDateTime, XlsxError> {
    let at = at.to_offset(UtcOffset::UTC);
    ExcelDateTime::from_ymd(at.year() as u16, at.month() as u8, at.day())?.and_hms(
        u16::from(at.hour()),
        at.minute(),
        at.second(),
    )
}

/// A sheet name as XLSX allows it: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
        .take(31)
        .collect()
}

impl WorkbookWriter for XlsxWriter {
    fn write(&self, workbook: &Workbook) -> Result<Vec<u8>, RenderError> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let header = Format::new().set_bold();
        let date = Format::new().set_num_format("yyyy-mm-dd");
        let instant = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
        for sheet in &workbook.sheets {
            let ws = book.add_worksheet();
            ws.set_name(sheet_name(&sheet.name)).map_err(failed)?;
            for (col, title) in sheet.columns.iter().enumerate() {
                let col = col as u16;
                ws.write_string_with_format(0, col, title, &header)
                    .map_err(failed)?;
                ws.set_column_width(col, 18).map_err(failed)?;
            }
            ws.set_freeze_panes(1, 0).map_err(failed)?;
            for (r, row) in sheet.rows.iter().enumerate() {
                // A longer or shorter row would put its cells under the wrong headers.
                debug_assert_eq!(row.len(), sheet.columns.len(), "sheet {}", sheet.name);
                let r = r as u32 + 1;
                for (c, cell) in row.iter().enumerate() {
                    let c = c as u16;
                    match cell {
                        Cell::Text(text) => {
                            ws.write_string(r, c, text).map_err(failed)?;
                        }
                        Cell::Number(n) => {
                            ws.write_number(r, c, *n).map_err(failed)?;
                        }
                        Cell::Date(d) => {
                            let value =
                                ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day())
                                    .map_err(failed)?;
                            ws.write_datetime_with_format(r, c, &value, &date)
                                .map_err(failed)?;
                        }
                        Cell::DateTime(at) => {
                            let value = excel_instant(*at).map_err(failed)?;
                            ws.write_datetime_with_format(r, c, &value, &instant)
                                .map_err(failed)?;
                        }
                        Cell::Empty => {}
                    }
                }
            }
        }
        book.save_to_buffer().map_err(failed)
    }
}
