//! The reports' adapters: `PdfRenderer` (krilla, with the DejaVu Sans fonts compiled in,
//! see `fonts/LICENSE`) implements `ReportRenderer`; `XlsxWriter` (rust_xlsxwriter)
//! implements `WorkbookWriter`; `ZipArchiver` (zip, deflate) is the accountability pack's
//! `Archive`.

mod pdf;
mod xlsx;
mod zip_archive;

pub use pdf::PdfRenderer;
pub use xlsx::XlsxWriter;
pub use zip_archive::ZipArchiver;
