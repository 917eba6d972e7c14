//! The reminder and digest e-mails. Texts live in one table per language (English, then
//! German), not in the code paths that send them; placeholders in braces are filled in,
//! escaped for the HTML part. [`fill`], [`mail`] and [`Addressee`] serve the other
//! domains' mails too.

use aura_identity::{
    Email, User,
    mail::{OutgoingMail, html_document, html_escape},
};
use aura_shared_kernel::Tenant;
use time::Date;

use crate::{task::Task, task_jobs::DigestPart};

struct Texts {
    reminder_subject: &'static str,
    /// `{name}`, `{title}`, `{due}`, `{when}`, `{organisation}`, `{link}`.
    reminder_body: &'static str,
    due: DueWords,
    digest_subject: &'static str,
    /// The subject when exactly one task is overdue.
    digest_subject_one: &'static str,
    /// `{name}`, `{organisation}`, `{count}`, `{list}`, `{more}`, `{sections}`.
    digest_body: &'static str,
    /// The digest when no task is overdue, only other work: `{name}`, `{organisation}`,
    /// `{sections}`.
    digest_body_others: &'static str,
    /// The subject when more than tasks are overdue: `{count}`, `{organisation}`.
    digest_subject_items: &'static str,
    digest_subject_item: &'static str,
    /// `{title}`, `{due}`, `{assignee}`.
    digest_line: &'static str,
    unassigned: &'static str,
    /// `{count}`.
    digest_more: &'static str,
}

const EN: Texts = Texts {
    reminder_subject: "Reminder: \u{201c}{title}\u{201d} is due {when}",
    reminder_body: "Hello {name},\n\nthe task \u{201c}{title}\u{201d} at {organisation} is due {when} ({due}).\n\nOpen it here: {link}\n\nYou receive this reminder because the task is assigned to you.",
    due: DueWords {
        today: "today",
        tomorrow: "tomorrow",
        in_days: "in {days} days",
    },
    digest_subject: "{count} overdue privacy tasks at {organisation}",
    digest_subject_one: "1 overdue privacy task at {organisation}",
    digest_body: "Hello {name},\n\nthese tasks at {organisation} are past their due date:\n\n{list}{more}{sections}\n\nYou receive this daily summary as an owner or administrator of the organisation.",
    digest_body_others: "Hello {name},\n\nthis is past its due date at {organisation}:{sections}\n\nYou receive this daily summary as an owner or administrator of the organisation.",
    digest_subject_items: "{count} overdue privacy items at {organisation}",
    digest_subject_item: "1 overdue privacy item at {organisation}",
    digest_line: "- {title} (due {due}, {assignee})",
    unassigned: "unassigned",
    digest_more: "\n… and {count} more",
};

const DE: Texts = Texts {
    reminder_subject: "Erinnerung: \u{201e}{title}\u{201c} ist {when} fällig",
    reminder_body: "Hallo {name},\n\ndie Aufgabe \u{201e}{title}\u{201c} bei {organisation} ist {when} fällig ({due}).\n\nHier öffnen: {link}\n\nSie erhalten diese Erinnerung, weil die Aufgabe Ihnen zugewiesen ist.",
    due: DueWords {
        today: "heute",
        tomorrow: "morgen",
        in_days: "in {days} Tagen",
    },
    digest_subject: "{count} überfällige Datenschutz-Aufgaben bei {organisation}",
    digest_subject_one: "1 überfällige Datenschutz-Aufgabe bei {organisation}",
    digest_body: "Hallo {name},\n\ndiese Aufgaben bei {organisation} sind überfällig:\n\n{list}{more}{sections}\n\nSie erhalten diese tägliche Übersicht als Inhaber oder Administrator der Organisation.",
    digest_body_others: "Hallo {name},\n\nbei {organisation} ist überfällig:{sections}\n\nSie erhalten diese tägliche Übersicht als Inhaber oder Administrator der Organisation.",
    digest_subject_items: "{count} überfällige Datenschutz-Punkte bei {organisation}",
    digest_subject_item: "1 überfälliger Datenschutz-Punkt bei {organisation}",
    digest_line: "- {title} (fällig {due}, {assignee})",
    unassigned: "nicht zugewiesen",
    digest_more: "\n… und {count} weitere",
};

fn texts(language: &str) -> &'static Texts {
    match language {
        "de" => &DE,
        _ => &EN,
    }
}

/// A template with its values; rendered once as text and once escaped as HTML. Shared
/// by every domain's mails (requests' reminders too).
pub fn fill(template: &str, values: &[(&str, &str)], escape: fn(&str) -> String) -> String {
    values.iter().fold(escape(template), |out, (key, value)| {
        out.replace(&format!("{{{key}}}"), &escape(value))
    })
}

/// A mail of `body` filled with `values`, as text and as escaped HTML.
pub fn mail(to: Email, subject: String, body: &str, values: &[(&str, &str)]) -> OutgoingMail {
    let html = fill(body, values, html_escape);
    OutgoingMail {
        to,
        subject,
        text: fill(body, values, str::to_owned),
        html: html_document(&html),
    }
}

/// Who a mail goes to and in which organisation.
pub struct Addressee<'a> {
    pub email: Email,
    pub name: &'a str,
    pub organisation: &'a str,
    pub language: &'a str,
}

impl<'a> Addressee<'a> {
    /// `user` of `tenant`, in the tenant's language (every domain's job mails).
    pub fn of(user: &'a User, tenant: &'a Tenant) -> Self {
        Self {
            email: user.email.clone(),
            name: user.full_name.as_str(),
            organisation: tenant.name.as_str(),
            language: tenant.settings.language(),
        }
    }
}

pub fn reminder(
    to: Addressee<'_>,
    task: &Task,
    due: Date,
    today: Date,
    link: &str,
) -> OutgoingMail {
    let t = texts(to.language);
    let when = t.due.when(due, today);
    let due = due.to_string();
    let values = [
        ("name", to.name),
        ("title", task.fields.title.as_str()),
        ("due", due.as_str()),
        ("when", when.as_str()),
        ("organisation", to.organisation),
        ("link", link),
    ];
    let subject = fill(t.reminder_subject, &values, str::to_owned);
    mail(to.email, subject, t.reminder_body, &values)
}

/// How a reminder says when its item falls due, in the mail's language.
pub struct DueWords {
    /// Due today, or already past.
    pub today: &'static str,
    pub tomorrow: &'static str,
    /// `{days}`.
    pub in_days: &'static str,
}

impl DueWords {
    /// When `due` falls, said on `today`.
    pub fn when(&self, due: Date, today: Date) -> String {
        match (due - today).whole_days() {
            ..=0 => self.today.to_owned(),
            1 => self.tomorrow.to_owned(),
            n => self.in_days.replace("{days}", &n.to_string()),
        }
    }
}

/// One overdue item in a digest: its label (a task's title, a request's reference), due
/// date, assignee's name if any.
pub struct OverdueLine<'a> {
    pub label: &'a str,
    pub due: Date,
    pub assignee: Option<&'a str>,
}

impl OverdueLine<'_> {
    /// The line as `template` says it: the label as `{label_key}`, `{due}`, and
    /// `{assignee}` (`unassigned` when no name is known).
    pub fn render(&self, template: &str, label_key: &str, unassigned: &str) -> String {
        let due = self.due.to_string();
        let values = [
            (label_key, self.label),
            ("due", due.as_str()),
            ("assignee", self.assignee.unwrap_or(unassigned)),
        ];
        fill(template, &values, str::to_owned)
    }
}

/// The digest: the overdue tasks (at most `lines`, of `total`), then each other
/// domain's section (`others`), in one mail.
pub fn digest(
    to: Addressee<'_>,
    lines: &[OverdueLine<'_>],
    total: usize,
    others: &[DigestPart],
) -> OutgoingMail {
    let t = texts(to.language);
    let list = lines
        .iter()
        .map(|line| line.render(t.digest_line, "title", t.unassigned))
        .collect::<Vec<_>>()
        .join("\n");
    let more = |total: usize, shown: usize| match total.saturating_sub(shown) {
        0 => String::new(),
        n => t.digest_more.replace("{count}", &n.to_string()),
    };
    let sections: String = others
        .iter()
        .map(|part| {
            format!(
                "\n\n{}\n{}{}",
                part.heading,
                part.lines.join("\n"),
                more(part.total, part.lines.len())
            )
        })
        .collect();
    let items = total + others.iter().map(|p| p.total).sum::<usize>();
    let count = items.to_string();
    let more = more(total, lines.len());
    let values = [
        ("name", to.name),
        ("organisation", to.organisation),
        ("count", count.as_str()),
        ("list", list.as_str()),
        ("more", more.as_str()),
        ("sections", sections.as_str()),
    ];
    let (subject, body) = match (total, others.is_empty(), items) {
        (1, true, _) => (t.digest_subject_one, t.digest_body),
        (_, true, _) => (t.digest_subject, t.digest_body),
        (0, false, 1) => (t.digest_subject_item, t.digest_body_others),
        (0, false, _) => (t.digest_subject_items, t.digest_body_others),
        (_, false, _) => (t.digest_subject_items, t.digest_body),
    };
    let subject = fill(subject, &values, str::to_owned);
    mail(to.email, subject, body, &values)
}

#[cfg(test)]
mod tests {
    use aura_shared_kernel::TenantId;
    use time::macros::{date, datetime};

    use super::*;
    use crate::task::{Category, Recurrence, TaskFields, TaskStatus, new_task};

    fn task(title: &str) -> Task {
        let fields = TaskFields {
            title: title.into(),
            description: None,
            category: Category::Training,
            due_date: Some(date!(2026 - 11 - 10)),
            assigned_to: None,
            link: None,
            recurrence: Recurrence::None,
            status: TaskStatus::Open,
        };
        let now = datetime!(2026-11-01 10:00 UTC);
        new_task(TenantId::generate(), fields, Default::default(), now)
    }

    fn to(language: &'static str) -> Addressee<'static> {
        Addressee {
            email: Email::parse("ann@example.com").expect("valid"),
            name: "Ann <admin>",
            organisation: "Acme & Co",
            language,
        }
    }

    #[test]
    fn reminders_say_when_in_the_tenants_language_and_escape_html() {
        let t = task("Train <staff>");
        let due = date!(2026 - 11 - 10);
        let mail = reminder(
            to("en"),
            &t,
            due,
            date!(2026 - 11 - 03),
            "https://x.test/t/1",
        );
        assert_eq!(
            mail.subject,
            "Reminder: \u{201c}Train <staff>\u{201d} is due in 7 days"
        );
        assert!(mail.text.contains("Ann <admin>") && mail.text.contains("2026-11-10"));
        assert!(mail.html.contains("Train &lt;staff&gt;") && mail.html.contains("Acme &amp; Co"));
        assert!(!mail.html.contains("<staff>"));

        let tomorrow = reminder(to("de"), &t, due, date!(2026 - 11 - 09), "l");
        assert!(
            tomorrow.subject.contains("morgen fällig"),
            "{}",
            tomorrow.subject
        );
        let today = reminder(to("fr"), &t, due, due, "l");
        assert!(today.subject.ends_with("is due today"), "{}", today.subject);
    }

    #[test]
    fn digests_list_tasks_and_count_the_rest() {
        let lines = [
            OverdueLine {
                label: "DPIA for CRM",
                due: date!(2026 - 11 - 01),
                assignee: Some("Bob"),
            },
            OverdueLine {
                label: "Renew DPA",
                due: date!(2026 - 11 - 02),
                assignee: None,
            },
        ];
        let mail = digest(to("en"), &lines, 5, &[]);
        assert_eq!(mail.subject, "5 overdue privacy tasks at Acme & Co");
        assert!(mail.text.contains("- DPIA for CRM (due 2026-11-01, Bob)"));
        assert!(
            mail.text
                .contains("- Renew DPA (due 2026-11-02, unassigned)")
        );
        assert!(mail.text.contains("and 3 more"));
    }

    #[test]
    fn other_domains_add_their_sections_to_the_one_digest() {
        let part = DigestPart {
            heading: "Data-subject requests past their due date:".into(),
            lines: vec!["- DSR-2027-0001 (due 2027-03-01, unassigned)".into()],
            total: 3,
        };
        let line = OverdueLine {
            label: "Renew DPA",
            due: date!(2026 - 11 - 02),
            assignee: None,
        };
        let both = digest(to("en"), &[line], 1, std::slice::from_ref(&part));
        assert_eq!(both.subject, "4 overdue privacy items at Acme & Co");
        assert!(
            both.text
                .contains("- Renew DPA (due 2026-11-02, unassigned)")
        );
        assert!(both.text.contains(
            "Data-subject requests past their due date:\n- DSR-2027-0001 (due 2027-03-01, unassigned)\n… and 2 more"
        ));
        let only = digest(to("de"), &[], 0, &[DigestPart { total: 1, ..part }]);
        assert_eq!(
            only.subject,
            "1 überfälliger Datenschutz-Punkt bei Acme & Co"
        );
        assert!(!only.text.contains("Aufgaben"), "{}", only.text);
        assert!(only.text.contains("DSR-2027-0001"));
    }
}
