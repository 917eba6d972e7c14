//! What a report and a workbook are made of, and the ports that render them.

use time::{Date, OffsetDateTime};

/// What every page's footer says besides its number: when the report was generated and
/// the tenant's audit-chain head at that moment (the hash of its last sealed event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub generated_at: OffsetDateTime,
    /// 64 hex digits; `None` for a tenant whose chain is empty or broken.
    pub chain_head: Option<String>,
}

/// A table column: its heading and its share of the page width.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub title: String,
    pub weight: f32,
}

impl Column {
    pub fn new(title: impl Into<String>, weight: f32) -> Self {
        Self {
            title: title.into(),
            weight,
        }
    }
}

/// One piece of a report, in reading order.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A heading; level 1 starts a new page unless the page is still empty.
    Heading {
        level: u8,
        text: String,
    },
    Paragraph(String),
    /// Label → value lines (an empty value is shown as a dash).
    KeyValues(Vec<(String, String)>),
    /// A table whose cells wrap within their column.
    Table {
        columns: Vec<Column>,
        rows: Vec<Vec<String>>,
    },
}

/// A whole document: its title, the footer's labels and stamp, and its blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub title: String,
    pub stamp: Stamp,
    /// The footer's line before the page number, already in the report's language.
    pub footer: String,
    /// "Page {page} of {pages}" in the report's language (`{page}`, `{pages}` replaced).
    pub page_label: String,
    pub blocks: Vec<Block>,
}

/// A typed cell of a sheet: dates stay dates, so a spreadsheet sorts and filters them.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Date(Date),
    DateTime(OffsetDateTime),
    Empty,
}

/// One register as a sheet: a header row, then one row per record.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    /// At most 31 characters (the XLSX limit).
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Workbook {
    pub sheets: Vec<Sheet>,
}

/// The rendering failed (a font without a glyph table, a writer error): the export
/// answers 500 and logs the reason, never a half-written file.
#[derive(Debug, thiserror::Error)]
#[error("report rendering failed: {0}")]
pub struct RenderError(pub String);

/// Turns a report into a document file (PDF).
pub trait ReportRenderer: Send + Sync {
    fn render(&self, report: &Report) -> Result<Vec<u8>, RenderError>;
}

/// Turns a workbook into a spreadsheet file (XLSX).
pub trait WorkbookWriter: Send + Sync {
    fn write(&self, workbook: &Workbook) -> Result<Vec<u8>, RenderError>;
}

/// The renderers the service wires: PDF documents and XLSX workbooks.
#[derive(Clone)]
pub struct Reports {
    pub renderer: std::sync::Arc<dyn ReportRenderer>,
    pub workbooks: std::sync::Arc<dyn WorkbookWriter>,
}

#[cfg(test)]
impl Report {
    /// The title and every block's text, one per line, for the tests' `contains`.
    pub(crate) fn text(&self) -> String {
        let mut all = vec![self.title.clone()];
        for block in &self.blocks {
            match block {
                Block::Heading { text, .. } | Block::Paragraph(text) => all.push(text.clone()),
                Block::KeyValues(pairs) => {
                    all.extend(pairs.iter().flat_map(|(k, v)| [k.clone(), v.clone()]))
                }
                Block::Table { rows, .. } => all.extend(rows.iter().flatten().cloned()),
            }
        }
        all.join("\n")
    }
}
