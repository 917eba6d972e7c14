//! The reports' adapters: `PdfRenderer` (krilla, with the DejaVu Sans fonts compiled in,
//! see `fonts/LICENSE`) implements `ReportRenderer`; `XlsxWriter` (rust_xlsxwriter)
//! implements `WorkbookWriter`.

mod pdf;
mod xlsx;

pub use pdf::PdfRenderer;
pub use xlsx::XlsxWriter;
