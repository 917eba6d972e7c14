//! The escalation alert mail. It names the breach by its title (the label the register
//! shows; no data subject's data: nothing of what happened, whom it concerns or how
//! many), the hours left to the Art. 33(1) deadline or how late it is, the deadline in
//! UTC and a link. A drill's alert says so in its subject. Texts per language as the
//! tasks' mails (whose [`fill`] and [`mail`] render them).

use aura_identity::mail::OutgoingMail;
use aura_tasks::messages::{Addressee, fill, mail};
use time::{OffsetDateTime, UtcOffset, format_description::well_known::Rfc3339};

use crate::clock::DeadlineStanding;

struct Texts {
    /// `{title}`, `{hours}`.
    subject_left: &'static str,
    subject_left_one: &'static str,
    subject_late: &'static str,
    subject_late_one: &'static str,
    /// Put before a drill's subject.
    drill_prefix: &'static str,
    /// `{name}`, `{title}`, `{organisation}`, `{deadline}`, `{standing}`, `{link}`,
    /// `{drill}`.
    body: &'static str,
    /// `{hours}`.
    left: &'static str,
    left_one: &'static str,
    late: &'static str,
    late_one: &'static str,
    /// The body's line for a drill.
    drill_note: &'static str,
}

const EN: Texts = Texts {
    subject_left: "Breach \u{201c}{title}\u{201d}: {hours} hours left to notify the supervisory authority",
    subject_left_one: "Breach \u{201c}{title}\u{201d}: 1 hour left to notify the supervisory authority",
    subject_late: "Breach \u{201c}{title}\u{201d}: the 72 hours to notify the supervisory authority ended {hours} hours ago",
    subject_late_one: "Breach \u{201c}{title}\u{201d}: the 72 hours to notify the supervisory authority ended 1 hour ago",
    drill_prefix: "[Drill] ",
    body: "Hello {name},\n\n{drill}the personal-data breach \u{201c}{title}\u{201d} at {organisation} still awaits the decision whether to notify the supervisory authority: {standing} (the 72 hours of Art. 33(1) GDPR end at {deadline} UTC). Notify the authority, or record the assessment and the decision not to notify.\n\nOpen it here: {link}\n\nYou receive this alert as the breach's owner or assignee, or as an owner or administrator of the organisation, until the decision is recorded.",
    left: "{hours} hours left",
    left_one: "1 hour left",
    late: "the deadline passed {hours} hours ago; a late notification states the reasons for the delay",
    late_one: "the deadline passed 1 hour ago; a late notification states the reasons for the delay",
    drill_note: "this is a breach drill (an exercise, not a real breach): ",
};

const DE: Texts = Texts {
    subject_left: "Datenpanne \u{201e}{title}\u{201c}: noch {hours} Stunden für die Meldung an die Aufsichtsbehörde",
    subject_left_one: "Datenpanne \u{201e}{title}\u{201c}: noch 1 Stunde für die Meldung an die Aufsichtsbehörde",
    subject_late: "Datenpanne \u{201e}{title}\u{201c}: die 72 Stunden für die Meldung an die Aufsichtsbehörde endeten vor {hours} Stunden",
    subject_late_one: "Datenpanne \u{201e}{title}\u{201c}: die 72 Stunden für die Meldung an die Aufsichtsbehörde endeten vor 1 Stunde",
    drill_prefix: "[Übung] ",
    body: "Hallo {name},\n\n{drill}für die Datenpanne \u{201e}{title}\u{201c} bei {organisation} steht die Entscheidung über die Meldung an die Aufsichtsbehörde noch aus: {standing} (die 72 Stunden nach Art. 33 Abs. 1 DSGVO enden am {deadline} UTC). Melden Sie die Panne, oder halten Sie die Risikobewertung und die Entscheidung fest, nicht zu melden.\n\nHier öffnen: {link}\n\nSie erhalten diese Warnung als Verantwortliche(r) oder Bearbeiter(in) der Panne oder als Inhaber oder Administrator der Organisation, bis die Entscheidung festgehalten ist.",
    left: "noch {hours} Stunden",
    left_one: "noch 1 Stunde",
    late: "die Frist endete vor {hours} Stunden; eine verspätete Meldung nennt die Gründe für die Verzögerung",
    late_one: "die Frist endete vor 1 Stunde; eine verspätete Meldung nennt die Gründe für die Verzögerung",
    drill_note: "dies ist eine Übung (keine echte Datenpanne): ",
};

fn texts(language: &str) -> &'static Texts {
    match language {
        "de" => &DE,
        _ => &EN,
    }
}

/// What an alert says of one breach.
pub struct Alert<'a> {
    pub title: &'a str,
    pub deadline: OffsetDateTime,
    pub standing: DeadlineStanding,
    pub drill: bool,
    pub link: &'a str,
}

/// The escalation alert to one recipient.
pub fn alert(to: Addressee<'_>, breach: &Alert<'_>) -> OutgoingMail {
    let t = texts(to.language);
    let (subject, standing, hours) = match breach.standing {
        DeadlineStanding::HoursLeft(1) => (t.subject_left_one, t.left_one, 1),
        DeadlineStanding::HoursLeft(h) => (t.subject_left, t.left, h),
        DeadlineStanding::HoursLate(1) => (t.subject_late_one, t.late_one, 1),
        DeadlineStanding::HoursLate(h) => (t.subject_late, t.late, h),
    };
    let hours = hours.to_string();
    let standing = standing.replace("{hours}", &hours);
    let deadline = (breach.deadline.to_offset(UtcOffset::UTC))
        .format(&Rfc3339)
        .unwrap_or_default();
    let drill = if breach.drill { t.drill_note } else { "" };
    let values = [
        ("name", to.name),
        ("title", breach.title),
        ("hours", hours.as_str()),
        ("organisation", to.organisation),
        ("deadline", deadline.as_str()),
        ("standing", standing.as_str()),
        ("link", breach.link),
        ("drill", drill),
    ];
    let mut subject = fill(subject, &values, str::to_owned);
    if breach.drill {
        subject.insert_str(0, t.drill_prefix);
    }
    mail(to.email, subject, t.body, &values)
}

#[cfg(test)]
mod tests {
    use aura_identity::Email;
    use time::macros::datetime;

    use super::*;

    fn to(language: &str) -> Addressee<'_> {
        Addressee {
            email: Email::parse("olivia@example.test").expect("e-mail"),
            name: "Olivia Owner",
            organisation: "Acme",
            language,
        }
    }

    fn breach(standing: DeadlineStanding, drill: bool) -> Alert<'static> {
        Alert {
            title: "Laptop stolen",
            deadline: datetime!(2027-03-08 09:00 +01:00),
            standing,
            drill,
            link: "https://aura.test/breaches/1",
        }
    }

    #[test]
    fn the_subject_names_the_breach_and_the_hours_left_or_late() {
        let mail = alert(to("en"), &breach(DeadlineStanding::HoursLeft(48), false));
        assert_eq!(
            mail.subject,
            "Breach \u{201c}Laptop stolen\u{201d}: 48 hours left to notify the supervisory authority"
        );
        assert!(
            mail.text.contains("2027-03-08T08:00:00Z UTC"),
            "{}",
            mail.text
        );
        assert!(mail.text.contains("https://aura.test/breaches/1"));
        let late = alert(to("en"), &breach(DeadlineStanding::HoursLate(1), false));
        assert!(
            late.subject.ends_with("ended 1 hour ago"),
            "{}",
            late.subject
        );
        let de = alert(to("de"), &breach(DeadlineStanding::HoursLeft(2), false));
        assert!(de.subject.contains("noch 2 Stunden"), "{}", de.subject);
    }

    #[test]
    fn a_drill_says_so_in_the_subject_and_the_text() {
        let mail = alert(to("en"), &breach(DeadlineStanding::HoursLeft(72), true));
        assert!(
            mail.subject.starts_with("[Drill] Breach"),
            "{}",
            mail.subject
        );
        assert!(mail.text.contains("breach drill"), "{}", mail.text);
        let real = alert(to("en"), &breach(DeadlineStanding::HoursLeft(72), false));
        assert!(!real.subject.contains("Drill") && !real.text.contains("drill"));
        let de = alert(to("de"), &breach(DeadlineStanding::HoursLeft(72), true));
        assert!(de.subject.starts_with("[Übung] "), "{}", de.subject);
    }
}
