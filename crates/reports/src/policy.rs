//! A policy version as a report: the policy's title and kind, the version's number,
//! status and effective date (its publication), the change note, then its text. The text
//! is Markdown: `#` lines become headings, blank lines separate paragraphs, the rest is
//! printed as written.

use aura_gdpr_registers::{Policy, PolicyVersion};

use crate::{
    common::{document, heading, or_dash, pairs},
    labels::Language,
    model::{Block, Report, Stamp},
    values::Label,
};

struct PolicyWords {
    kind: &'static str,
    version: &'static str,
    status: &'static str,
    effective: &'static str,
    not_published: &'static str,
    change_note: &'static str,
}

static EN: PolicyWords = PolicyWords {
    kind: "Kind",
    version: "Version",
    status: "Status",
    effective: "Effective from",
    not_published: "not published",
    change_note: "What changed",
};

static DE: PolicyWords = PolicyWords {
    kind: "Art",
    version: "Version",
    status: "Status",
    effective: "Gültig ab",
    not_published: "nicht veröffentlicht",
    change_note: "Änderungen",
};

/// Version `version` of `policy` in `language` (the labels; the text is the version's).
pub fn policy_report(
    policy: &Policy,
    version: &PolicyVersion,
    language: Language,
    stamp: Stamp,
) -> Report {
    let (w, l) = (language.pick(&EN, &DE), language);
    let f = &policy.fields;
    let effective = match version.published_at {
        Some(at) => at.date().to_string(),
        None => w.not_published.to_owned(),
    };
    let mut blocks = vec![
        pairs([
            (w.kind, f.kind.label(l).to_owned()),
            (w.version, version.number.to_string()),
            (w.status, version.status.label(l).to_owned()),
            (w.effective, effective),
            (w.change_note, or_dash(version.change_note.as_deref())),
        ]),
        heading(2, format!("{} {}", w.version, version.number)),
    ];
    blocks.extend(markdown(&version.content));
    document(language, f.title.clone(), stamp, blocks)
}

/// Markdown text as blocks: `#` … `######` lines as headings (levels 2 and 3: a level-1
/// heading would start a page), paragraphs split at blank lines.
fn markdown(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let flush = |paragraph: &mut Vec<&str>, blocks: &mut Vec<Block>| {
        if !paragraph.is_empty() {
            blocks.push(Block::Paragraph(paragraph.join("\n")));
            paragraph.clear();
        }
    };
    for line in text.lines() {
        let trimmed = line.trim_start();
        let hashes = trimmed.chars().take_while(|c| *c == '#').count();
        if (1..=6).contains(&hashes) && trimmed[hashes..].starts_with(' ') {
            flush(&mut paragraph, &mut blocks);
            let level = if hashes == 1 { 2 } else { 3 };
            blocks.push(heading(level, trimmed[hashes..].trim()));
        } else if trimmed.is_empty() {
            flush(&mut paragraph, &mut blocks);
        } else {
            paragraph.push(line.trim_end());
        }
    }
    flush(&mut paragraph, &mut blocks);
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_headings_and_paragraphs() {
        let blocks = markdown("# Zweck\n\nDiese Richtlinie\ngilt.\n\n## Geltungsbereich\n#hashtag");
        assert_eq!(
            blocks,
            [
                heading(2, "Zweck"),
                Block::Paragraph("Diese Richtlinie\ngilt.".into()),
                heading(3, "Geltungsbereich"),
                Block::Paragraph("#hashtag".into()),
            ]
        );
    }
}
