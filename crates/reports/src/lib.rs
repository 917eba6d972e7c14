//! Reports an authority or auditor accepts: the content of a document (sections,
//! key/value lists, tables) and of a workbook (sheets of typed cells), built from the
//! registers by pure functions in the tenant's language, and the ports that turn them
//! into bytes (`ReportRenderer`: PDF; `WorkbookWriter`: XLSX). The adapters
//! (`aura-adapter-reports`) know the file formats; this crate knows only what a report
//! says.

mod labels;
mod model;
mod register;

pub use labels::Language;
pub use model::{
    Block, Cell, Column, RenderError, Report, ReportRenderer, Reports, Sheet, Stamp, Workbook,
    WorkbookWriter,
};
pub use register::{register_report, register_workbook};
