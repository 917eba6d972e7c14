//! Reports as PDF. Two passes: the layout breaks text into lines (words measured with
//! the font's advances) and lines into A4 pages; then, with the page count known, each
//! page is drawn with krilla and its footer (the report's stamp, "page n of m") added.
//! Text is real text in an embedded, subset font: selectable, searchable, every Latin,
//! Greek and Cyrillic letter of DejaVu Sans.

use std::sync::Arc;

use aura_reports::{Block, Column, RenderError, Report, ReportRenderer};
use krilla::{
    Document,
    color::rgb,
    geom::{PathBuilder, Point},
    metadata::Metadata,
    page::PageSettings,
    paint::{Fill, Stroke},
    text::{Font, GlyphId, KrillaGlyph},
};
use skrifa::{
    FontRef, MetadataProvider,
    charmap::Charmap,
    instance::{LocationRef, Size},
    metrics::GlyphMetrics,
};

static REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 50.0;
const FOOTER_SIZE: f32 = 7.0;
/// The text area ends above the footer.
const BODY_BOTTOM: f32 = PAGE_H - MARGIN - 3.0 * FOOTER_SIZE * 1.3;
const BODY_SIZE: f32 = 9.5;
const TABLE_SIZE: f32 = 8.5;
const LEADING: f32 = 1.3;
const CELL_PAD: f32 = 3.0;

/// A face's advances, in ems.
struct Metrics {
    charmap: Charmap<'static>,
    glyphs: GlyphMetrics<'static>,
}

impl Metrics {
    fn of(data: &'static [u8]) -> Result<Self, RenderError> {
        let font = FontRef::new(data).map_err(|e| RenderError(format!("font: {e}")))?;
        Ok(Self {
            charmap: font.charmap(),
            glyphs: font.glyph_metrics(Size::new(1.0), LocationRef::default()),
        })
    }

    /// A character's glyph (0, the missing glyph, when the font has none) and advance.
    fn glyph(&self, c: char) -> (u32, f32) {
        let glyph = self.charmap.map(c).unwrap_or_default();
        (
            glyph.to_u32(),
            self.glyphs.advance_width(glyph).unwrap_or(0.6),
        )
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.glyph(c).1).sum::<f32>() * size
    }

    /// `text` as positioned glyphs, one per character, each mapped back to its
    /// characters (so the PDF's text is what was written). No shaping: the reports
    /// use scripts whose letters stand alone (Latin, Greek, Cyrillic).
    fn glyphs(&self, text: &str) -> Vec<KrillaGlyph> {
        text.char_indices()
            .map(|(at, c)| {
                let (glyph, advance) = self.glyph(c);
                KrillaGlyph::new(
                    GlyphId::new(glyph),
                    advance,
                    0.0,
                    0.0,
                    0.0,
                    at..at + c.len_utf8(),
                    None,
                )
            })
            .collect()
    }
}

/// The two faces, read once: for measuring and for krilla.
struct Faces {
    regular: (Metrics, Font),
    bold: (Metrics, Font),
}

impl Faces {
    fn load() -> Result<Self, RenderError> {
        let font = |data: &'static [u8]| {
            let bytes: Arc<dyn AsRef<[u8]> + Send + Sync> = Arc::new(data);
            Font::new(bytes.into(), 0).ok_or_else(|| RenderError("font: unreadable".into()))
        };
        Ok(Self {
            regular: (Metrics::of(REGULAR)?, font(REGULAR)?),
            bold: (Metrics::of(BOLD)?, font(BOLD)?),
        })
    }

    fn face(&self, bold: bool) -> &(Metrics, Font) {
        if bold { &self.bold } else { &self.regular }
    }

    fn width(&self, text: &str, size: f32, bold: bool) -> f32 {
        self.face(bold).0.width(text, size)
    }

    /// `text` broken into lines at most `width` wide: at white space, and inside a word
    /// only when the word alone is wider than the line. Line breaks in `text` are kept.
    fn wrap(&self, text: &str, size: f32, bold: bool, width: f32) -> Vec<String> {
        let metrics = &self.face(bold).0;
        let space = metrics.width(" ", size);
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let (mut line, mut used) = (String::new(), 0.0);
            for word in paragraph.split_whitespace() {
                let word_w = metrics.width(word, size);
                let gap = if line.is_empty() { 0.0 } else { space };
                if used + gap + word_w <= width {
                    if !line.is_empty() {
                        line.push(' ');
                    }
                    line.push_str(word);
                    used += gap + word_w;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    used = 0.0;
                }
                if word_w <= width {
                    line.push_str(word);
                    used = word_w;
                    continue;
                }
                // A word wider than the line: cut it where it reaches the edge.
                for c in word.chars() {
                    let w = metrics.glyph(c).1 * size;
                    if used + w > width && !line.is_empty() {
                        lines.push(std::mem::take(&mut line));
                        used = 0.0;
                    }
                    line.push(c);
                    used += w;
                }
            }
            lines.push(line);
        }
        lines
    }
}

/// What a page shows, placed: text at its baseline, rules and shaded boxes.
enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        text: String,
    },
    Rule {
        x1: f32,
        x2: f32,
        y: f32,
    },
    Shade {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
    },
}

/// The layout's cursor: the pages so far and where the next line goes.
struct Layout<'a> {
    faces: &'a Faces,
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl<'a> Layout<'a> {
    fn new(faces: &'a Faces) -> Self {
        Self {
            faces,
            pages: vec![Vec::new()],
            y: MARGIN,
        }
    }

    fn page_is_empty(&self) -> bool {
        self.pages.last().is_none_or(Vec::is_empty)
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
    }

    /// Room for `height` more points on this page, else a new page.
    fn need(&mut self, height: f32) -> bool {
        if self.y + height > BODY_BOTTOM && !self.page_is_empty() {
            self.new_page();
            return true;
        }
        false
    }

    fn push(&mut self, op: Op) {
        if let Some(page) = self.pages.last_mut() {
            page.push(op);
        }
    }

    fn text(&mut self, x: f32, size: f32, bold: bool, text: String) {
        let y = self.y + size;
        self.push(Op::Text {
            x,
            y,
            size,
            bold,
            text,
        });
    }

    fn heading(&mut self, level: u8, text: &str) {
        let (size, before) = match level {
            0 => (18.0, 0.0),
            1 => (14.0, 6.0),
            2 => (12.0, 8.0),
            _ => (10.5, 6.0),
        };
        if level == 1 && !self.page_is_empty() {
            self.new_page();
        }
        let lines = self.faces.wrap(text, size, true, PAGE_W - 2.0 * MARGIN);
        // Keep a heading with at least three lines of what follows it.
        self.need(before + lines.len() as f32 * size * LEADING + 3.0 * BODY_SIZE * LEADING);
        if !self.page_is_empty() {
            self.y += before;
        }
        for line in lines {
            self.text(MARGIN, size, true, line);
            self.y += size * LEADING;
        }
        if level <= 1 {
            self.push(Op::Rule {
                x1: MARGIN,
                x2: PAGE_W - MARGIN,
                y: self.y + 1.0,
            });
            self.y += 4.0;
        }
        self.y += 2.0;
    }

    fn paragraph(&mut self, text: &str) {
        for line in self
            .faces
            .wrap(text, BODY_SIZE, false, PAGE_W - 2.0 * MARGIN)
        {
            self.need(BODY_SIZE * LEADING);
            self.text(MARGIN, BODY_SIZE, false, line);
            self.y += BODY_SIZE * LEADING;
        }
        self.y += 4.0;
    }

    /// Rows of wrapped cells; a row that does not fit goes on (line by line) on the next
    /// page, where `header` (bold, shaded) is repeated first.
    fn rows(
        &mut self,
        widths: &[f32],
        header: Option<&[String]>,
        rows: &[Vec<String>],
        size: f32,
        bold_first: bool,
    ) {
        let line_h = size * LEADING;
        let xs: Vec<f32> = widths
            .iter()
            .scan(MARGIN, |x, w| {
                let at = *x;
                *x += w;
                Some(at)
            })
            .collect();
        let wrap_row = |cells: &[String], bold: &dyn Fn(usize) -> bool| -> Vec<Vec<String>> {
            widths
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    let cell = cells.get(i).map(String::as_str).unwrap_or("");
                    self.faces.wrap(cell, size, bold(i), w - 2.0 * CELL_PAD)
                })
                .collect()
        };
        let header_cells = header.map(|h| wrap_row(h, &|_| true));
        let draw_header = |layout: &mut Self| {
            if let Some(cells) = &header_cells {
                let height = cells.iter().map(Vec::len).max().unwrap_or(1) as f32 * line_h;
                layout.push(Op::Shade {
                    x: MARGIN,
                    y: layout.y,
                    w: widths.iter().sum(),
                    h: height + 2.0 * CELL_PAD,
                });
                layout.y += CELL_PAD;
                layout.draw_cells(&xs, cells, size, &|_| true, line_h);
                layout.y += height + CELL_PAD;
            }
        };
        self.need(line_h * 3.0);
        draw_header(self);
        for row in rows {
            let cells = wrap_row(row, &|i| bold_first && i == 0);
            let lines = cells.iter().map(Vec::len).max().unwrap_or(1);
            // A row that fits on a page is not split.
            if lines as f32 * line_h + 2.0 * CELL_PAD < BODY_BOTTOM - MARGIN - 40.0
                && self.need(lines as f32 * line_h + 2.0 * CELL_PAD)
            {
                draw_header(self);
            }
            self.y += CELL_PAD;
            for line in 0..lines {
                if self.need(line_h) {
                    draw_header(self);
                }
                let slice: Vec<Vec<String>> = cells
                    .iter()
                    .map(|c| c.get(line).cloned().into_iter().collect())
                    .collect();
                self.draw_cells(&xs, &slice, size, &|i| bold_first && i == 0, line_h);
                self.y += line_h;
            }
            self.y += CELL_PAD;
            self.push(Op::Rule {
                x1: MARGIN,
                x2: MARGIN + widths.iter().sum::<f32>(),
                y: self.y,
            });
        }
        self.y += 6.0;
    }

    fn draw_cells(
        &mut self,
        xs: &[f32],
        cells: &[Vec<String>],
        size: f32,
        bold: &dyn Fn(usize) -> bool,
        line_h: f32,
    ) {
        let top = self.y;
        for (i, lines) in cells.iter().enumerate() {
            for (n, line) in lines.iter().enumerate() {
                if line.is_empty() {
                    continue;
                }
                self.push(Op::Text {
                    x: xs[i] + CELL_PAD,
                    y: top + n as f32 * line_h + size,
                    size,
                    bold: bold(i),
                    text: line.clone(),
                });
            }
        }
    }

    fn block(&mut self, block: &Block) {
        let width = PAGE_W - 2.0 * MARGIN;
        match block {
            Block::Heading { level, text } => self.heading((*level).max(1), text),
            Block::Paragraph(text) => self.paragraph(text),
            Block::KeyValues(pairs) => {
                let rows: Vec<Vec<String>> = pairs
                    .iter()
                    .map(|(k, v)| {
                        let v = if v.trim().is_empty() { "—" } else { v };
                        vec![k.clone(), v.to_owned()]
                    })
                    .collect();
                self.rows(&[width * 0.32, width * 0.68], None, &rows, BODY_SIZE, true);
            }
            Block::Table { columns, rows } => {
                let total: f32 = columns.iter().map(|c| c.weight.max(0.1)).sum();
                let widths: Vec<f32> = columns
                    .iter()
                    .map(|c| width * c.weight.max(0.1) / total)
                    .collect();
                let header: Vec<String> =
                    columns.iter().map(|c: &Column| c.title.clone()).collect();
                self.rows(&widths, Some(&header), rows, TABLE_SIZE, false);
            }
        }
    }
}

/// Characters a PDF line cannot show (controls, tabs) become spaces.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect()
}

fn clean(block: &Block) -> Block {
    match block {
        Block::Heading { level, text } => Block::Heading {
            level: *level,
            text: printable(text),
        },
        Block::Paragraph(text) => Block::Paragraph(printable(text)),
        Block::KeyValues(pairs) => Block::KeyValues(
            pairs
                .iter()
                .map(|(k, v)| (printable(k), printable(v)))
                .collect(),
        ),
        Block::Table { columns, rows } => Block::Table {
            columns: columns.clone(),
            rows: rows
                .iter()
                .map(|r| r.iter().map(|c| printable(c)).collect())
                .collect(),
        },
    }
}

/// Renders reports as A4 PDF documents.
#[derive(Debug, Clone, Copy, Default)]
pub struct PdfRenderer;

impl ReportRenderer for PdfRenderer {
    fn render(&self, report: &Report) -> Result<Vec<u8>, RenderError> {
        let faces = Faces::load()?;
        let mut layout = Layout::new(&faces);
        layout.heading(0, &printable(&report.title));
        layout.y += 6.0;
        for block in &report.blocks {
            layout.block(&clean(block));
        }
        let pages = layout.pages;
        let count = pages.len();
        let footer_w = PAGE_W - 2.0 * MARGIN;
        let footer = faces.wrap(
            &printable(&report.footer),
            FOOTER_SIZE,
            false,
            footer_w * 0.8,
        );

        let mut document = Document::new();
        document.set_metadata(
            Metadata::new()
                .title(report.title.clone())
                .creator("AURA-GDPR".to_owned()),
        );
        let black = Fill {
            paint: rgb::Color::new(20, 20, 20).into(),
            ..Fill::default()
        };
        let grey = Fill {
            paint: rgb::Color::new(232, 232, 236).into(),
            ..Fill::default()
        };
        let settings =
            PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| RenderError("page size".into()))?;
        for (index, ops) in pages.into_iter().enumerate() {
            let mut page = document.start_page_with(settings.clone());
            let mut surface = page.surface();
            let text = |surface: &mut krilla::surface::Surface<'_>,
                        x: f32,
                        y: f32,
                        size: f32,
                        bold: bool,
                        value: &str| {
                let (metrics, font) = faces.face(bold);
                surface.set_fill(Some(black.clone()));
                surface.draw_glyphs(
                    Point::from_xy(x, y),
                    &metrics.glyphs(value),
                    font.clone(),
                    value,
                    size,
                    false,
                );
            };
            for op in &ops {
                match op {
                    Op::Text {
                        x,
                        y,
                        size,
                        bold,
                        text: value,
                    } => text(&mut surface, *x, *y, *size, *bold, value),
                    Op::Rule { x1, x2, y } => {
                        let mut path = PathBuilder::new();
                        path.move_to(*x1, *y);
                        path.line_to(*x2, *y);
                        if let Some(path) = path.finish() {
                            surface.set_fill(None);
                            surface.set_stroke(Some(Stroke {
                                paint: rgb::Color::new(160, 160, 170).into(),
                                width: 0.5,
                                ..Stroke::default()
                            }));
                            surface.draw_path(&path);
                            surface.set_stroke(None);
                        }
                    }
                    Op::Shade { x, y, w, h } => {
                        let mut path = PathBuilder::new();
                        if let Some(rect) = krilla::geom::Rect::from_xywh(*x, *y, *w, *h) {
                            path.push_rect(rect);
                        }
                        if let Some(path) = path.finish() {
                            surface.set_fill(Some(grey.clone()));
                            surface.set_stroke(None);
                            surface.draw_path(&path);
                        }
                    }
                }
            }
            // The footer: the stamp on the left, the page number on the right.
            let base = PAGE_H - MARGIN;
            for (n, line) in footer.iter().enumerate() {
                let y = base - (footer.len() - 1 - n) as f32 * FOOTER_SIZE * LEADING;
                text(&mut surface, MARGIN, y, FOOTER_SIZE, false, line);
            }
            let label = report
                .page_label
                .replace("{page}", &(index + 1).to_string())
                .replace("{pages}", &count.to_string());
            let label_w = faces.width(&label, FOOTER_SIZE, false);
            text(
                &mut surface,
                PAGE_W - MARGIN - label_w,
                base,
                FOOTER_SIZE,
                false,
                &label,
            );
            surface.finish();
            page.finish();
        }
        document.finish().map_err(|e| RenderError(format!("{e:?}")))
    }
}
