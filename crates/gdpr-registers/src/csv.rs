//! The CSV writer every export shares (the registers', the requests', the breaches'):
//! RFC 4180 quoting, CRLF line ends, a UTF-8 byte-order mark (so spreadsheets pick the
//! encoding), and cells that a spreadsheet would run as formulas prefixed with an
//! apostrophe. An export names its columns and turns each of its rows into cells.

use time::{Date, OffsetDateTime, format_description::well_known::Rfc3339};

/// A whole document: the byte-order mark, the header of `columns`, then one line per row.
pub fn document<R>(columns: &[&str], rows: impl IntoIterator<Item = R>) -> String
where
    R: IntoIterator<Item = String>,
{
    let mut out = String::from('\u{feff}');
    push_row(&mut out, columns.iter().map(|c| (*c).to_owned()));
    for row in rows {
        push_row(&mut out, row.into_iter());
    }
    out
}

/// An instant as its cell: RFC 3339.
pub fn instant(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// An optional instant as its cell (empty when absent).
pub fn optional_instant(at: Option<OffsetDateTime>) -> String {
    at.map(instant).unwrap_or_default()
}

/// An optional date as its cell: YYYY-MM-DD, empty when absent.
pub fn optional_date(date: Option<Date>) -> String {
    date.map(|d| d.to_string()).unwrap_or_default()
}

/// Several values in one cell, separated by "; ".
pub fn list<T: AsRef<str>>(items: impl IntoIterator<Item = T>) -> String {
    let items: Vec<String> = items.into_iter().map(|i| i.as_ref().to_owned()).collect();
    items.join("; ")
}

/// Appends one CSV row of `cells` (quoted and defused) with its CRLF.
fn push_row(out: &mut String, cells: impl Iterator<Item = String>) {
    let cells: Vec<String> = cells.map(|c| cell(&c)).collect();
    out.push_str(&cells.join(","));
    out.push_str("\r\n");
}

/// Quotes a cell when needed and defuses formula triggers (CSV injection).
fn cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r', ';']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a, b"), "\"a, b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("line\nbreak"), "\"line\nbreak\"");
    }

    #[test]
    fn a_document_has_the_mark_the_header_and_crlf_rows() {
        let rows = vec![vec!["1".to_owned(), "a, b".to_owned()]];
        assert_eq!(
            document(&["id", "name"], rows),
            "\u{feff}id,name\r\n1,\"a, b\"\r\n"
        );
    }
}
