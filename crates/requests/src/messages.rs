//! The requests' mails: the assignee's reminder, the "extend or answer" warning and the
//! digest section. They name a request by its reference and dates, never the person who
//! asked (nor the agent, nor what was asked). Texts per language as the tasks' mails
//! (whose [`fill`] and [`mail`] render them).

use aura_identity::mail::OutgoingMail;
use aura_tasks::{
    DigestPart,
    messages::{Addressee, DueWords, OverdueLine, fill, mail},
};
use time::Date;

struct Texts {
    reminder_subject: &'static str,
    /// `{name}`, `{reference}`, `{due}`, `{when}`, `{organisation}`, `{link}`.
    reminder_body: &'static str,
    due: DueWords,
    extend_subject: &'static str,
    /// `{name}`, `{reference}`, `{due}`, `{organisation}`, `{link}`.
    extend_body: &'static str,
    digest_heading: &'static str,
    /// `{reference}`, `{due}`, `{assignee}`.
    digest_line: &'static str,
    unassigned: &'static str,
}

const EN: Texts = Texts {
    reminder_subject: "Reminder: data-subject request {reference} is due {when}",
    reminder_body: "Hello {name},\n\nthe data-subject request {reference} at {organisation} is due {when} ({due}).\n\nOpen it here: {link}\n\nYou receive this reminder because the request is assigned to you.",
    due: DueWords {
        today: "today",
        tomorrow: "tomorrow",
        in_days: "in {days} days",
    },
    extend_subject: "Data-subject request {reference}: answer or extend by {due}",
    extend_body: "Hello {name},\n\nthe data-subject request {reference} at {organisation} is still open and its one-month period ends on {due}. If it cannot be answered by then, extend the period now: the person must be told of the extension and its reasons within that month (Art. 12(3) GDPR).\n\nOpen it here: {link}\n\nYou receive this as an owner or administrator of the organisation.",
    digest_heading: "Data-subject requests past their due date:",
    digest_line: "- {reference} (due {due}, {assignee})",
    unassigned: "unassigned",
};

const DE: Texts = Texts {
    reminder_subject: "Erinnerung: Betroffenenanfrage {reference} ist {when} fällig",
    reminder_body: "Hallo {name},\n\ndie Betroffenenanfrage {reference} bei {organisation} ist {when} fällig ({due}).\n\nHier öffnen: {link}\n\nSie erhalten diese Erinnerung, weil die Anfrage Ihnen zugewiesen ist.",
    due: DueWords {
        today: "heute",
        tomorrow: "morgen",
        in_days: "in {days} Tagen",
    },
    extend_subject: "Betroffenenanfrage {reference}: bis {due} beantworten oder verlängern",
    extend_body: "Hallo {name},\n\ndie Betroffenenanfrage {reference} bei {organisation} ist noch offen, und ihre Monatsfrist endet am {due}. Kann sie bis dahin nicht beantwortet werden, verlängern Sie die Frist jetzt: Die Person muss innerhalb dieses Monats über die Verlängerung und ihre Gründe unterrichtet werden (Art. 12 Abs. 3 DSGVO).\n\nHier öffnen: {link}\n\nSie erhalten diese Nachricht als Inhaber oder Administrator der Organisation.",
    digest_heading: "Betroffenenanfragen nach Fristablauf:",
    digest_line: "- {reference} (fällig {due}, {assignee})",
    unassigned: "nicht zugewiesen",
};

fn texts(language: &str) -> &'static Texts {
    match language {
        "de" => &DE,
        _ => &EN,
    }
}

/// The assignee's reminder of the request `reference`, due on `due`, sent on `today`.
pub fn reminder(
    to: Addressee<'_>,
    reference: &str,
    due: Date,
    today: Date,
    link: &str,
) -> OutgoingMail {
    let t = texts(to.language);
    let when = t.due.when(due, today);
    let due = due.to_string();
    let values = [
        ("name", to.name),
        ("reference", reference),
        ("due", due.as_str()),
        ("when", when.as_str()),
        ("organisation", to.organisation),
        ("link", link),
    ];
    let subject = fill(t.reminder_subject, &values, str::to_owned);
    mail(to.email, subject, t.reminder_body, &values)
}

/// The warning to an owner or admin that `reference` is open and unextended close to
/// its first due date.
pub fn extend_or_answer(
    to: Addressee<'_>,
    reference: &str,
    first_due: Date,
    link: &str,
) -> OutgoingMail {
    let t = texts(to.language);
    let due = first_due.to_string();
    let values = [
        ("name", to.name),
        ("reference", reference),
        ("due", due.as_str()),
        ("organisation", to.organisation),
        ("link", link),
    ];
    let subject = fill(t.extend_subject, &values, str::to_owned);
    mail(to.email, subject, t.extend_body, &values)
}

/// The digest's section of overdue requests (`total` of them, `lines` shown).
pub fn digest_section(language: &str, lines: &[OverdueLine<'_>], total: usize) -> DigestPart {
    let t = texts(language);
    DigestPart {
        heading: t.digest_heading.to_owned(),
        lines: lines
            .iter()
            .map(|line| line.render(t.digest_line, "reference", t.unassigned))
            .collect(),
        total,
    }
}

#[cfg(test)]
mod tests {
    use aura_identity::Email;
    use time::macros::date;

    use super::*;

    fn to(language: &'static str) -> Addressee<'static> {
        Addressee {
            email: Email::parse("ann@example.com").expect("valid"),
            name: "Ann <admin>",
            organisation: "Acme & Co",
            language,
        }
    }

    #[test]
    fn mails_name_the_reference_and_dates_in_the_tenants_language() {
        let due = date!(2027 - 03 - 01);
        let mail = reminder(to("en"), "DSR-2027-0001", due, date!(2027 - 02 - 22), "l/1");
        assert_eq!(
            mail.subject,
            "Reminder: data-subject request DSR-2027-0001 is due in 7 days"
        );
        assert!(mail.text.contains("(2027-03-01)") && mail.text.contains("l/1"));
        assert!(mail.html.contains("Acme &amp; Co"));
        let de = reminder(to("de"), "DSR-2027-0001", due, due, "l");
        assert!(de.subject.ends_with("ist heute fällig"), "{}", de.subject);
        let warn = extend_or_answer(to("en"), "DSR-2027-0001", due, "l");
        assert_eq!(
            warn.subject,
            "Data-subject request DSR-2027-0001: answer or extend by 2027-03-01"
        );
        assert!(warn.text.contains("Art. 12(3)"));
        let part = digest_section(
            "en",
            &[OverdueLine {
                label: "DSR-2027-0002",
                due,
                assignee: None,
            }],
            1,
        );
        assert_eq!(part.lines, ["- DSR-2027-0002 (due 2027-03-01, unassigned)"]);
    }
}
