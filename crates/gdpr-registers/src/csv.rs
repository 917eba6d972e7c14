//! The CSV writer every export shares (the registers', the requests', the breaches'):
//! RFC 4180 quoting, CRLF line ends, a UTF-8 byte-order mark (so spreadsheets pick the
//! encoding), and cells that a spreadsheet would run as formulas prefixed with an
//! apostrophe. An export names its columns and turns each of its rows into cells.
//! [`parse`] reads such a document back, cell by cell (the exports' tests prove with it
//! that what they write parses).

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

/// A strict RFC 4180 reader of what [`document`] writes: the rows of `text` (after its
/// byte-order mark), each line ended by CRLF, a quote opening only a cell's start, `""`
/// a quote inside a quoted cell. An unterminated quote is an error.
pub fn parse(text: &str) -> Result<Vec<Vec<String>>, &'static str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') if cell.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    if quoted {
        return Err("unterminated quote");
    }
    Ok(rows)
}

/// Appends one CSV row of `cells` (quoted and defused) with its CRLF.
fn push_row(out: &mut String, cells: impl Iterator<Item = String>) {
    let cells: Vec<String> = cells.map(|c| cell(&c)).collect();
    out.push_str(&cells.join(","));
    out.push_str("\r\n");
}

/// What a spreadsheet may take as the start of a formula: the ASCII triggers, their
/// full-width and small forms (`＝＋－＠`, `﹦﹢﹣﹫`, which some spreadsheets fold to ASCII)
/// and the minus sign.
const FORMULA_TRIGGERS: [char; 13] = [
    '=', '+', '-', '@', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}', '\u{FE66}', '\u{FE62}',
    '\u{FE63}', '\u{FE6B}', '\u{2212}',
];

/// Whether a spreadsheet could run `value` as a formula: a tab or carriage return first,
/// or a trigger after any leading white space and invisible characters (zero-width
/// spaces and joiners, byte-order marks, direction marks: a reader skips them, the eye
/// does not see them).
fn is_formula(value: &str) -> bool {
    if value.starts_with(['\t', '\r']) {
        return true;
    }
    let invisible = |c: char| {
        c.is_whitespace()
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
                | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{00AD}' | '\u{180E}')
    };
    value
        .chars()
        .find(|c| !invisible(*c))
        .is_some_and(|c| FORMULA_TRIGGERS.contains(&c))
}

/// Quotes a cell when needed and defuses formula triggers (CSV injection).
fn cell(value: &str) -> String {
    let value = if is_formula(value) {
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
    fn a_document_parses_back_cell_by_cell() {
        let rows = [vec![
            "a, b".to_owned(),
            "say \"hi\"".to_owned(),
            "line\nbreak".into(),
        ]];
        let text = document(&["one", "two", "three"], rows);
        assert_eq!(
            parse(&text),
            Ok(vec![
                vec!["one".to_owned(), "two".into(), "three".into()],
                vec!["a, b".to_owned(), "say \"hi\"".into(), "line\nbreak".into()],
            ])
        );
        assert_eq!(parse("\"open\r\n"), Err("unterminated quote"));
    }

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
    fn hidden_and_full_width_formula_triggers_are_defused() {
        for attack in [
            "\u{200B}=1+1",
            "\u{FEFF}=HYPERLINK(1)",
            "\u{200D}\u{2060}@SUM(A1)",
            " =1",
            "\u{FF1D}1+1",
            "\u{FF0B}1",
            "\u{FF0D}1",
            "\u{FF20}SUM(A1)",
            "\u{FE66}1",
            "\u{202E}=1",
            "\t=1",
        ] {
            assert!(
                cell(attack).trim_start_matches('"').starts_with('\''),
                "{attack:?}"
            );
        }
        for plain in [
            "Zero\u{200B}width inside",
            "a=b",
            "ＡＢＣ",
            "\u{200B}text",
            "",
        ] {
            assert!(!cell(plain).starts_with('\''), "{plain:?}");
        }
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
