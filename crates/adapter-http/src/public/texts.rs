//! Every word the public pages show, in English and German. One table per language, as
//! identity's mail texts are kept, so a translation is read in one place.

use aura_requests::{
    intake::IntakeLanguage,
    request::{Right, SubjectCategory},
};

/// The words of one language.
pub struct Texts {
    pub form_title: &'static str,
    pub error_prefix: &'static str,
    pub intro: &'static str,
    pub confirm_note: &'static str,
    pub privacy_contact: &'static str,
    pub error_summary: &'static str,
    pub about_person: &'static str,
    pub name: &'static str,
    pub email: &'static str,
    pub email_hint: &'static str,
    pub contact: &'static str,
    pub contact_hint: &'static str,
    pub category: &'static str,
    pub choose: &'static str,
    pub rights: &'static str,
    pub rights_hint: &'static str,
    pub scope: &'static str,
    pub scope_hint: &'static str,
    pub agent_legend: &'static str,
    pub acting_for_someone: &'static str,
    pub agent_name: &'static str,
    pub agent_authority: &'static str,
    pub agent_authority_hint: &'static str,
    pub honeypot: &'static str,
    pub send: &'static str,
    pub sent_title: &'static str,
    pub sent_body: &'static str,
    pub confirm_title: &'static str,
    pub confirm_body: &'static str,
    pub confirm_button: &'static str,
    pub received_title: &'static str,
    pub received_reference: &'static str,
    pub received_due: &'static str,
    pub received_body: &'static str,
    pub invalid_link_title: &'static str,
    pub invalid_link_body: &'static str,
    pub no_page_title: &'static str,
    pub no_page_body: &'static str,
    pub too_many_title: &'static str,
    /// `{seconds}` is filled in.
    pub too_many_body: &'static str,
    pub too_large_title: &'static str,
    pub too_large_body: &'static str,
    pub unreadable_title: &'static str,
    pub unreadable_body: &'static str,
    pub failed_title: &'static str,
    pub failed_body: &'static str,
    pub months: [&'static str; 12],
}

pub fn texts(language: IntakeLanguage) -> &'static Texts {
    match language {
        IntakeLanguage::En => &EN,
        IntakeLanguage::De => &DE,
    }
}

static EN: Texts = Texts {
    form_title: "Request about your personal data",
    error_prefix: "Error: ",
    intro: "Use this form to exercise your rights under the General Data Protection Regulation (Articles 15 to 22): to see, correct, erase or move the personal data we hold about you, or to object to how we use it.",
    confirm_note: "We will send a link to the e-mail address you give. Your request counts as received when you open that link and confirm it, within 24 hours.",
    privacy_contact: "Questions about privacy:",
    error_summary: "There is a problem",
    about_person: "Who the request is about",
    name: "Full name",
    email: "E-mail address",
    email_hint: "We send the confirmation link and our answer to this address.",
    contact: "Other contact details (optional)",
    contact_hint: "A postal address or phone number, if we should reach you another way.",
    category: "How do you know us?",
    choose: "Please choose",
    rights: "What do you ask for?",
    rights_hint: "Choose one or more.",
    scope: "Details of your request (optional)",
    scope_hint: "At most 5000 characters.",
    agent_legend: "Acting for someone else",
    acting_for_someone: "I make this request on behalf of the person named above",
    agent_name: "Your name",
    agent_authority: "Your authority to act",
    agent_authority_hint: "For example: power of attorney of 4 January 2027, or parent of a child under 16.",
    honeypot: "Leave this field empty",
    send: "Send request",
    sent_title: "Check your e-mail",
    sent_body: "If your details were complete, we have sent a confirmation link to the e-mail address you gave. Open it within 24 hours and confirm your request; only then is it received. If no e-mail arrives, check your spam folder or send the form again.",
    confirm_title: "Confirm your request",
    confirm_body: "Press the button to confirm the request you sent us. It counts as received from now on.",
    confirm_button: "Confirm my request",
    received_title: "Request received",
    received_reference: "Your reference:",
    received_due: "We will answer by",
    received_body: "Please quote the reference if you contact us about this request. The law gives us one month to answer; we may extend this by up to two further months for complex requests, and would tell you why before the first month is over.",
    invalid_link_title: "This link does not work",
    invalid_link_body: "The link is unknown, has expired or was already used. If you sent a request, look for a newer e-mail from us, or send the form again.",
    no_page_title: "Page not found",
    no_page_body: "There is no request form at this address.",
    too_many_title: "Too many requests",
    too_many_body: "Too many requests came from your connection or to this organisation. Please try again in {seconds} seconds.",
    too_large_title: "Your request is too long",
    too_large_body: "The form you sent is larger than we accept. Please shorten the details and send it again.",
    unreadable_title: "The form could not be read",
    unreadable_body: "Please go back to the form and send it again.",
    failed_title: "Something went wrong",
    failed_body: "Your request could not be processed just now. Please try again in a few minutes.",
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
};

static DE: Texts = Texts {
    form_title: "Anfrage zu Ihren personenbezogenen Daten",
    error_prefix: "Fehler: ",
    intro: "Mit diesem Formular können Sie Ihre Rechte nach der Datenschutz-Grundverordnung (Artikel 15 bis 22) ausüben: Auskunft über die Daten, die wir über Sie verarbeiten, ihre Berichtigung, Löschung oder Übertragung, oder Widerspruch gegen ihre Verarbeitung.",
    confirm_note: "Wir senden einen Link an die angegebene E-Mail-Adresse. Ihre Anfrage gilt als eingegangen, sobald Sie diesen Link innerhalb von 24 Stunden öffnen und bestätigen.",
    privacy_contact: "Fragen zum Datenschutz:",
    error_summary: "Bitte prüfen Sie Ihre Angaben",
    about_person: "Um wen es geht",
    name: "Vollständiger Name",
    email: "E-Mail-Adresse",
    email_hint: "An diese Adresse senden wir den Bestätigungslink und unsere Antwort.",
    contact: "Weitere Kontaktangaben (freiwillig)",
    contact_hint: "Eine Postanschrift oder Telefonnummer, falls wir Sie anders erreichen sollen.",
    category: "In welcher Beziehung stehen Sie zu uns?",
    choose: "Bitte wählen",
    rights: "Was möchten Sie?",
    rights_hint: "Wählen Sie eines oder mehrere.",
    scope: "Einzelheiten Ihrer Anfrage (freiwillig)",
    scope_hint: "Höchstens 5000 Zeichen.",
    agent_legend: "Handeln für eine andere Person",
    acting_for_someone: "Ich stelle diese Anfrage im Namen der oben genannten Person",
    agent_name: "Ihr Name",
    agent_authority: "Ihre Vertretungsbefugnis",
    agent_authority_hint: "Zum Beispiel: Vollmacht vom 4. Januar 2027, oder Elternteil eines Kindes unter 16 Jahren.",
    honeypot: "Dieses Feld bitte leer lassen",
    send: "Anfrage senden",
    sent_title: "Bitte prüfen Sie Ihr E-Mail-Postfach",
    sent_body: "Wenn Ihre Angaben vollständig waren, haben wir einen Bestätigungslink an die angegebene E-Mail-Adresse gesendet. Öffnen Sie ihn innerhalb von 24 Stunden und bestätigen Sie Ihre Anfrage; erst dann gilt sie als eingegangen. Kommt keine E-Mail an, sehen Sie im Spam-Ordner nach oder senden Sie das Formular erneut.",
    confirm_title: "Anfrage bestätigen",
    confirm_body: "Drücken Sie die Schaltfläche, um die Anfrage zu bestätigen, die Sie uns gesendet haben. Sie gilt ab jetzt als eingegangen.",
    confirm_button: "Anfrage bestätigen",
    received_title: "Anfrage eingegangen",
    received_reference: "Ihr Aktenzeichen:",
    received_due: "Wir antworten bis zum",
    received_body: "Bitte nennen Sie das Aktenzeichen, wenn Sie uns zu dieser Anfrage schreiben. Das Gesetz gibt uns einen Monat für die Antwort; bei komplexen Anfragen können wir die Frist um bis zu zwei weitere Monate verlängern und teilen Ihnen die Gründe vor Ablauf des ersten Monats mit.",
    invalid_link_title: "Dieser Link funktioniert nicht",
    invalid_link_body: "Der Link ist unbekannt, abgelaufen oder wurde schon verwendet. Wenn Sie eine Anfrage gesendet haben, suchen Sie nach einer neueren E-Mail von uns, oder senden Sie das Formular erneut.",
    no_page_title: "Seite nicht gefunden",
    no_page_body: "Unter dieser Adresse gibt es kein Anfrageformular.",
    too_many_title: "Zu viele Anfragen",
    too_many_body: "Von Ihrer Verbindung oder an diese Organisation kamen zu viele Anfragen. Bitte versuchen Sie es in {seconds} Sekunden erneut.",
    too_large_title: "Ihre Anfrage ist zu lang",
    too_large_body: "Das gesendete Formular ist größer, als wir annehmen. Bitte kürzen Sie die Einzelheiten und senden Sie es erneut.",
    unreadable_title: "Das Formular konnte nicht gelesen werden",
    unreadable_body: "Bitte kehren Sie zum Formular zurück und senden Sie es erneut.",
    failed_title: "Etwas ist schiefgegangen",
    failed_body: "Ihre Anfrage konnte gerade nicht verarbeitet werden. Bitte versuchen Sie es in einigen Minuten erneut.",
    months: [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ],
};

impl Texts {
    /// A date as people write it: `10 March 2027`, `10. März 2027`.
    pub fn date(&self, language: IntakeLanguage, date: time::Date) -> String {
        let month = self.months[usize::from(u8::from(date.month())) - 1];
        match language {
            IntakeLanguage::En => format!("{} {month} {}", date.day(), date.year()),
            IntakeLanguage::De => format!("{}. {month} {}", date.day(), date.year()),
        }
    }

    /// What a field's error says on the page. English shows the domain's own message;
    /// German says what the field needs.
    pub fn field_error(&self, language: IntakeLanguage, field: &str, message: &str) -> String {
        match language {
            IntakeLanguage::En => format!("{}: {message}", self.label(field)),
            IntakeLanguage::De => match field {
                "name" => "Bitte geben Sie den vollständigen Namen an (eine Zeile, höchstens 200 Zeichen).",
                "email" => "Bitte geben Sie eine gültige E-Mail-Adresse an, zum Beispiel name@example.com.",
                "contact" => "Die weiteren Kontaktangaben dürfen höchstens 1000 Zeichen lang sein.",
                "category" => "Bitte wählen Sie, in welcher Beziehung Sie zu uns stehen.",
                "rights" => "Bitte wählen Sie mindestens eines der Rechte aus.",
                "scope" => "Die Einzelheiten dürfen höchstens 5000 Zeichen lang sein.",
                "agent_name" => "Bitte geben Sie Ihren Namen an (eine Zeile, höchstens 200 Zeichen).",
                "agent_authority" => "Bitte beschreiben Sie Ihre Vertretungsbefugnis (höchstens 1000 Zeichen).",
                _ => "Bitte prüfen Sie diese Angabe.",
            }
            .to_owned(),
        }
    }

    /// The label of a form field, by its name.
    pub fn label(&self, field: &str) -> &'static str {
        match field {
            "name" => self.name,
            "email" => self.email,
            "contact" => self.contact,
            "category" => self.category,
            "rights" => self.rights,
            "scope" => self.scope,
            "agent_name" => self.agent_name,
            _ => self.agent_authority,
        }
    }
}

/// A right as the form offers it.
pub fn right(language: IntakeLanguage, right: Right) -> &'static str {
    use Right::*;
    match (language, right) {
        (IntakeLanguage::En, Access) => "A copy of my data and how it is used (Art. 15)",
        (IntakeLanguage::En, Rectification) => "Correct wrong data (Art. 16)",
        (IntakeLanguage::En, Erasure) => "Erase my data (Art. 17)",
        (IntakeLanguage::En, Restriction) => "Restrict the use of my data (Art. 18)",
        (IntakeLanguage::En, Portability) => "Receive my data to move it elsewhere (Art. 20)",
        (IntakeLanguage::En, Objection) => "Object to the use of my data (Art. 21)",
        (IntakeLanguage::En, AutomatedDecision) => {
            "Not to be subject to a decision made only by a machine (Art. 22)"
        }
        (IntakeLanguage::En, ConsentWithdrawal) => "Withdraw my consent (Art. 7(3))",
        (IntakeLanguage::De, Access) => "Auskunft über meine Daten und ihre Verwendung (Art. 15)",
        (IntakeLanguage::De, Rectification) => "Berichtigung falscher Daten (Art. 16)",
        (IntakeLanguage::De, Erasure) => "Löschung meiner Daten (Art. 17)",
        (IntakeLanguage::De, Restriction) => "Einschränkung der Verarbeitung (Art. 18)",
        (IntakeLanguage::De, Portability) => "Herausgabe meiner Daten zur Übertragung (Art. 20)",
        (IntakeLanguage::De, Objection) => "Widerspruch gegen die Verarbeitung (Art. 21)",
        (IntakeLanguage::De, AutomatedDecision) => {
            "Keine ausschließlich automatisierte Entscheidung (Art. 22)"
        }
        (IntakeLanguage::De, ConsentWithdrawal) => "Widerruf meiner Einwilligung (Art. 7 Abs. 3)",
    }
}

/// A subject category as the form offers it.
pub fn category(language: IntakeLanguage, category: SubjectCategory) -> &'static str {
    use SubjectCategory::*;
    match (language, category) {
        (IntakeLanguage::En, Customer) => "Customer",
        (IntakeLanguage::En, Prospect) => "Interested in our offers",
        (IntakeLanguage::En, Employee) => "Employee or former employee",
        (IntakeLanguage::En, Applicant) => "Job applicant",
        (IntakeLanguage::En, Supplier) => "Supplier or business partner",
        (IntakeLanguage::En, Other) => "Other",
        (IntakeLanguage::De, Customer) => "Kundin oder Kunde",
        (IntakeLanguage::De, Prospect) => "Interessentin oder Interessent",
        (IntakeLanguage::De, Employee) => "Beschäftigte oder ehemalige Beschäftigte",
        (IntakeLanguage::De, Applicant) => "Bewerberin oder Bewerber",
        (IntakeLanguage::De, Supplier) => "Lieferant oder Geschäftspartner",
        (IntakeLanguage::De, Other) => "Sonstiges",
    }
}
