//! Reports an authority or auditor accepts: the content of a document (sections,
//! key/value lists, tables) and of a workbook (sheets of typed cells), built from the
//! registers by pure functions in the tenant's language, and the ports that turn them
//! into bytes (`ReportRenderer`: PDF; `WorkbookWriter`: XLSX). The adapters
//! (`aura-adapter-reports`) know the file formats; this crate knows only what a report
//! says.

mod breach;
mod common;
mod dpia;
mod labels;
mod model;
mod policy;
mod register;
mod request;
mod sheets;
mod values;

pub use breach::breach_report;
pub use dpia::dpia_report;
pub use labels::Language;
pub use model::{
    Block, Cell, Column, RenderError, Report, ReportRenderer, Reports, Sheet, Stamp, Workbook,
    WorkbookWriter,
};
pub use policy::policy_report;
pub use register::{register_report, register_workbook};
pub use request::request_letter;
pub use sheets::{OtherRegisters, register_sheets};
pub use values::Label;
