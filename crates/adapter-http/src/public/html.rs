//! The few pieces every public page shares: escaping, the page frame and its stylesheet.
//! No template engine: five small pages do not need one, and building them from
//! `format!` with one escape function keeps the dependency set as it is (every value that
//! did not come from this file goes through [`escape`]).

use std::fmt::Write as _;

/// Escapes text for element content and double-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Where the pages' stylesheet is served (same origin: CSP `style-src 'self'`).
pub const STYLESHEET_PATH: &str = "/public/assets/intake.css";

/// A whole page: `lang`, title, the organisation's name above the heading (if known),
/// and `body` (already HTML).
pub fn page(lang: &str, title: &str, organisation: Option<&str>, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + 1024);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <title>{title}</title>\n<link rel=\"stylesheet\" href=\"{STYLESHEET_PATH}\">\n\
         </head>\n<body>\n<main>\n<header>\n",
        lang = escape(lang),
        title = escape(title),
    );
    if let Some(organisation) = organisation {
        let _ = writeln!(
            out,
            "<p class=\"organisation\">{}</p>",
            escape(organisation)
        );
    }
    let _ = write!(
        out,
        "<h1>{}</h1>\n</header>\n{body}\n</main>\n</body>\n</html>\n",
        escape(title)
    );
    out
}

/// Plain, high-contrast, readable at 200 % zoom; the honeypot is moved off screen (not
/// `display: none`, which some bots skip).
pub const STYLESHEET: &str = "\
body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:1.05rem;line-height:1.5;color:#1b1b1b;background:#fff}\
main{max-width:40rem;margin:0 auto;padding:1.5rem 1rem 3rem}\
h1{font-size:1.8rem;line-height:1.2;margin:.25rem 0 1rem}\
.organisation{margin:0;color:#444;font-weight:600}\
fieldset{border:0;padding:0;margin:0 0 1.5rem}\
legend{font-weight:700;font-size:1.15rem;margin-bottom:.5rem;padding:0}\
.field{margin-bottom:1.1rem}\
label{display:block;font-weight:600;margin-bottom:.2rem}\
.choice{display:flex;gap:.5rem;align-items:flex-start;margin:.35rem 0}\
.choice label{font-weight:400;margin:0}\
.choice input{width:1.3rem;height:1.3rem;margin-top:.15rem;flex:none}\
input[type=text],input[type=email],select,textarea{box-sizing:border-box;width:100%;font:inherit;padding:.45rem;border:2px solid #333;border-radius:0;background:#fff;color:inherit}\
input:focus,select:focus,textarea:focus,button:focus,a:focus{outline:3px solid #fd0;outline-offset:0}\
.hint{color:#444;margin:0 0 .3rem}\
.invalid input,.invalid select,.invalid textarea{border-color:#b00020}\
.invalid{border-left:4px solid #b00020;padding-left:.75rem}\
.error{color:#b00020;font-weight:600;margin:0 0 .3rem}\
.error-summary{border:4px solid #b00020;padding:1rem;margin-bottom:1.5rem}\
.error-summary h2{margin-top:0;font-size:1.25rem}\
.error-summary a{color:#b00020;font-weight:600}\
button{font:inherit;font-weight:600;padding:.6rem 1.2rem;border:0;background:#00703c;color:#fff;cursor:pointer}\
.hp{position:absolute;left:-10000px;top:auto;width:1px;height:1px;overflow:hidden}\
.reference{font-size:1.3rem;font-weight:700}\
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_that_could_open_markup_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\" onclick='y'>&</a>"),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn the_frame_carries_language_title_and_organisation_escaped() {
        let html = page("de", "Anfrage <1>", Some("Müller & Co"), "<p>x</p>");
        assert!(html.starts_with("<!doctype html>\n<html lang=\"de\">"));
        assert!(html.contains("<title>Anfrage &lt;1&gt;</title>"));
        assert!(html.contains("Müller &amp; Co"));
        assert!(html.contains("<p>x</p>"));
    }
}
