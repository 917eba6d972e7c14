//! The public pages as HTML: the form (with its error summary), and the one-message
//! pages (sent, confirm, received, and the refusals).

use std::fmt::Write as _;

use aura_requests::{
    intake::{IntakeForm, IntakeLanguage},
    request::{Right, SubjectCategory},
};
use aura_shared_kernel::FieldError;

use super::{
    html::{escape, page},
    texts::{self, Texts, texts},
};

/// Who the page is for: the tenant's name and privacy contact, when the tenant is known.
#[derive(Debug, Clone, Default)]
pub struct Heading {
    pub organisation: Option<String>,
    pub privacy_contact: Option<String>,
}

/// The id of the control an error of `field` links to (the first checkbox for the
/// rights: a link to a fieldset would not move the focus into it).
fn anchor(field: &str) -> String {
    match field {
        "rights" => format!("right-{}", Right::ALL[0].as_str()),
        other => format!("field-{other}"),
    }
}

/// The form, filled with `form` (empty on first view), with `errors` summarised at the top
/// and repeated at each field.
pub fn form(
    language: IntakeLanguage,
    slug: &str,
    heading: &Heading,
    form: &IntakeForm,
    errors: &[FieldError],
) -> String {
    let t = texts(language);
    let mut body = String::with_capacity(16 * 1024);
    if !errors.is_empty() {
        let _ = write!(
            body,
            "<div class=\"error-summary\" role=\"alert\" aria-labelledby=\"error-summary-title\" tabindex=\"-1\" autofocus>\n\
             <h2 id=\"error-summary-title\">{}</h2>\n<ul>\n",
            escape(t.error_summary)
        );
        for error in errors {
            let _ = writeln!(
                body,
                "<li><a href=\"#{}\">{}</a></li>",
                anchor(&error.field),
                escape(&t.field_error(language, &error.field, &error.message))
            );
        }
        body.push_str("</ul>\n</div>\n");
    }
    let _ = write!(
        body,
        "<p>{}</p>\n<p>{}</p>\n",
        escape(t.intro),
        escape(t.confirm_note)
    );
    if let Some(contact) = &heading.privacy_contact {
        let _ = writeln!(
            body,
            "<p>{} {}</p>",
            escape(t.privacy_contact),
            escape(contact)
        );
    }
    let _ = writeln!(
        body,
        "<form method=\"post\" action=\"/public/{slug}/requests?lang={lang}\" accept-charset=\"utf-8\" novalidate>",
        slug = escape(slug),
        lang = language.as_str(),
    );
    let error_of = |field: &str| {
        errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| t.field_error(language, field, &e.message))
    };
    // A labelled field whose control `control` writes with its `aria-` attributes.
    let labelled =
        |name: &str, label: &str, hint: Option<&str>, control: &dyn Fn(String) -> String| {
            let error = error_of(name);
            let attributes = described(name, hint, error.is_some());
            field(name, label, hint, error.as_deref(), &control(attributes))
        };
    let input = |name: &str,
                 kind: &str,
                 label: &str,
                 hint: Option<&str>,
                 autocomplete: &str,
                 max: usize,
                 value: &str| {
        labelled(name, label, hint, &|attributes| {
            format!(
                "<input id=\"field-{name}\" name=\"{name}\" type=\"{kind}\" autocomplete=\"{autocomplete}\" maxlength=\"{max}\" value=\"{}\"{attributes}>",
                escape(value),
            )
        })
    };
    let textarea = |name: &str,
                    label: &str,
                    hint: Option<&str>,
                    autocomplete: &str,
                    max: usize,
                    rows: u8,
                    value: &str| {
        labelled(name, label, hint, &|attributes| {
            format!(
                "<textarea id=\"field-{name}\" name=\"{name}\" autocomplete=\"{autocomplete}\" maxlength=\"{max}\" rows=\"{rows}\"{attributes}>{}</textarea>",
                escape(value),
            )
        })
    };

    let _ = write!(
        body,
        "<fieldset>\n<legend>{}</legend>\n",
        escape(t.about_person)
    );
    body.push_str(&input(
        "name", "text", t.name, None, "name", 200, &form.name,
    ));
    body.push_str(&input(
        "email",
        "email",
        t.email,
        Some(t.email_hint),
        "email",
        254,
        &form.email,
    ));
    body.push_str(&textarea(
        "contact",
        t.contact,
        Some(t.contact_hint),
        "street-address",
        1_000,
        3,
        &form.contact,
    ));
    let mut options = format!("<option value=\"\">{}</option>", escape(t.choose));
    for category in SubjectCategory::ALL {
        let selected = if form.category == category.as_str() {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            options,
            "<option value=\"{}\"{selected}>{}</option>",
            category.as_str(),
            escape(texts::category(language, *category))
        );
    }
    body.push_str(&labelled("category", t.category, None, &|attributes| {
        format!("<select id=\"field-category\" name=\"category\"{attributes}>{options}</select>")
    }));
    body.push_str("</fieldset>\n");

    let rights_error = error_of("rights");
    let _ = write!(
        body,
        "<fieldset id=\"field-rights\" aria-describedby=\"rights-hint{}\"{}>\n<legend>{}</legend>\n<p class=\"hint\" id=\"rights-hint\">{}</p>\n",
        if rights_error.is_some() {
            " rights-error"
        } else {
            ""
        },
        if rights_error.is_some() {
            " class=\"invalid\""
        } else {
            ""
        },
        escape(t.rights),
        escape(t.rights_hint),
    );
    if let Some(message) = &rights_error {
        let _ = writeln!(
            body,
            "<p class=\"error\" id=\"rights-error\">{}</p>",
            escape(message)
        );
    }
    for right in Right::ALL {
        let checked = if form.rights.iter().any(|r| r == right.as_str()) {
            " checked"
        } else {
            ""
        };
        let _ = writeln!(
            body,
            "<div class=\"choice\"><input type=\"checkbox\" id=\"right-{value}\" name=\"rights\" value=\"{value}\"{checked}><label for=\"right-{value}\">{label}</label></div>",
            value = right.as_str(),
            label = escape(texts::right(language, *right)),
        );
    }
    body.push_str("</fieldset>\n");

    body.push_str(&textarea(
        "scope",
        t.scope,
        Some(t.scope_hint),
        "off",
        aura_requests::intake::form::MAX_SCOPE_CHARS,
        6,
        &form.scope,
    ));

    let _ = write!(
        body,
        "<fieldset>\n<legend>{}</legend>\n<div class=\"choice\"><input type=\"checkbox\" id=\"field-acting_for_someone\" name=\"acting_for_someone\" value=\"yes\"{}><label for=\"field-acting_for_someone\">{}</label></div>\n",
        escape(t.agent_legend),
        if form.acting_for_someone {
            " checked"
        } else {
            ""
        },
        escape(t.acting_for_someone),
    );
    body.push_str(&input(
        "agent_name",
        "text",
        t.agent_name,
        None,
        "off",
        200,
        &form.agent_name,
    ));
    body.push_str(&textarea(
        "agent_authority",
        t.agent_authority,
        Some(t.agent_authority_hint),
        "off",
        1_000,
        3,
        &form.agent_authority,
    ));
    body.push_str("</fieldset>\n");
    let _ = write!(
        body,
        "<div class=\"hp\" aria-hidden=\"true\"><label for=\"field-website\">{}</label><input id=\"field-website\" name=\"website\" type=\"text\" tabindex=\"-1\" autocomplete=\"off\" value=\"\"></div>\n\
         <button type=\"submit\">{}</button>\n</form>",
        escape(t.honeypot),
        escape(t.send),
    );
    let title = if errors.is_empty() {
        t.form_title.to_owned()
    } else {
        format!("{}{}", t.error_prefix, t.form_title)
    };
    page(
        language.as_str(),
        &title,
        heading.organisation.as_deref(),
        &body,
    )
}

/// `aria-describedby` (and `aria-invalid`) of a field's control.
fn described(name: &str, hint: Option<&str>, invalid: bool) -> String {
    let mut ids = Vec::new();
    if hint.is_some() {
        ids.push(format!("{name}-hint"));
    }
    if invalid {
        ids.push(format!("{name}-error"));
    }
    let mut out = String::new();
    if !ids.is_empty() {
        let _ = write!(out, " aria-describedby=\"{}\"", ids.join(" "));
    }
    if invalid {
        out.push_str(" aria-invalid=\"true\"");
    }
    out
}

/// A labelled field: label, hint, error, control.
fn field(
    name: &str,
    label: &str,
    hint: Option<&str>,
    error: Option<&str>,
    control: &str,
) -> String {
    let mut out = format!(
        "<div class=\"field{}\">\n<label for=\"field-{name}\">{}</label>\n",
        if error.is_some() { " invalid" } else { "" },
        escape(label)
    );
    if let Some(hint) = hint {
        let _ = writeln!(
            out,
            "<p class=\"hint\" id=\"{name}-hint\">{}</p>",
            escape(hint)
        );
    }
    if let Some(error) = error {
        let _ = writeln!(
            out,
            "<p class=\"error\" id=\"{name}-error\">{}</p>",
            escape(error)
        );
    }
    let _ = write!(out, "{control}\n</div>\n");
    out
}

/// A page with a title and one paragraph.
pub fn message(language: IntakeLanguage, heading: &Heading, title: &str, text: &str) -> String {
    page(
        language.as_str(),
        title,
        heading.organisation.as_deref(),
        &format!("<p>{}</p>", escape(text)),
    )
}

/// The page a confirmation link opens: one button that posts to the same link (a GET
/// changes nothing: mail scanners follow links).
pub fn confirm(language: IntakeLanguage, heading: &Heading, action: &str) -> String {
    let t = texts(language);
    page(
        language.as_str(),
        t.confirm_title,
        heading.organisation.as_deref(),
        &format!(
            "<p>{}</p>\n<form method=\"post\" action=\"{}\">\n<button type=\"submit\">{}</button>\n</form>",
            escape(t.confirm_body),
            escape(action),
            escape(t.confirm_button)
        ),
    )
}

/// The page after a confirmation: the reference and the due date.
pub fn received(
    language: IntakeLanguage,
    heading: &Heading,
    reference: &str,
    due_on: Option<time::Date>,
) -> String {
    let t: &Texts = texts(language);
    let mut body = format!(
        "<p>{} <span class=\"reference\" id=\"reference\">{}</span></p>\n",
        escape(t.received_reference),
        escape(reference)
    );
    if let Some(due) = due_on {
        let _ = writeln!(
            body,
            "<p>{} <time id=\"due-on\" datetime=\"{due}\">{}</time>.</p>",
            escape(t.received_due),
            escape(&t.date(language, due))
        );
    }
    let _ = write!(body, "<p>{}</p>", escape(t.received_body));
    page(
        language.as_str(),
        t.received_title,
        heading.organisation.as_deref(),
        &body,
    )
}
