//! What every report builder shares: the footer and the document around the blocks,
//! and the small text helpers (a dash for nothing, a contact on one line).

use aura_gdpr_registers::{Contact, OrganisationProfile};

use crate::{
    labels::{Language, Words, instant},
    model::{Block, Report, Stamp},
};

/// A report in `language` whose pages carry the stamp and the page numbers.
pub(crate) fn document(
    language: Language,
    title: impl Into<String>,
    stamp: Stamp,
    blocks: Vec<Block>,
) -> Report {
    let (footer, page_label) = footer(language.words(), &stamp);
    Report {
        title: title.into(),
        stamp,
        footer,
        page_label,
        blocks,
    }
}

/// The footer line and the page label of a report.
fn footer(words: &Words, stamp: &Stamp) -> (String, String) {
    let head = match &stamp.chain_head {
        Some(head) => words.chain_head.replace("{head}", head),
        None => words.no_chain_head.to_owned(),
    };
    let line = format!(
        "{} · {head}",
        words
            .footer
            .replace("{generated_at}", &instant(stamp.generated_at))
    );
    (line, words.page.to_owned())
}

pub(crate) fn heading(level: u8, text: impl Into<String>) -> Block {
    Block::Heading {
        level,
        text: text.into(),
    }
}

/// `label → value` pairs as a block.
pub(crate) fn pairs<const N: usize>(items: [(&str, String); N]) -> Block {
    Block::KeyValues(items.map(|(k, v)| (k.to_owned(), v)).to_vec())
}

pub(crate) fn or_dash(value: Option<&str>) -> String {
    value
        .filter(|v| !v.trim().is_empty())
        .unwrap_or("—")
        .to_owned()
}

/// The parts that are present, joined by `sep`.
pub(crate) fn join_present<'a>(
    parts: impl IntoIterator<Item = Option<&'a str>>,
    sep: &str,
) -> String {
    parts
        .into_iter()
        .flatten()
        .filter(|p| !p.trim().is_empty())
        .collect::<Vec<_>>()
        .join(sep)
}

pub(crate) fn contact_line(contact: &Contact) -> String {
    join_present(
        [
            Some(contact.name.as_str()),
            contact.address.as_deref(),
            contact.email.as_deref(),
            contact.phone.as_deref(),
        ],
        ", ",
    )
}

pub(crate) fn org_contact(org: &OrganisationProfile) -> String {
    join_present(
        [
            org.address.as_deref(),
            org.contact_email.as_deref(),
            org.contact_phone.as_deref(),
        ],
        ", ",
    )
}

/// A yes or no in the report's language.
pub(crate) fn yes_no(value: bool, w: &Words) -> String {
    (if value { w.yes } else { w.no }).to_owned()
}
