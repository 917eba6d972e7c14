//! [`AddressRules`] by the mailer's own parser: an address is accepted only if lettre
//! can send to it, and kept in one canonical form, so `bücher.example`, its punycode,
//! its NFC and NFD spellings are one mailbox, and a Cyrillic `а` in a Latin name is
//! refused rather than made a second account that looks like the first.

use std::str::FromStr;

use aura_identity::ports::AddressRules;
use icu_properties::{CodePointMapData, props::Script};
use unicode_normalization::UnicodeNormalization;

const NOT_AN_ADDRESS: &str = "must be an e-mail address (name@example.com)";
const NOT_MAILABLE: &str = "is not an address mail can be sent to";
const MIXED_SCRIPTS: &str =
    "must not mix writing systems in one name (for example Latin and Cyrillic look-alikes)";

/// The address rules of lettre, the mailer every transport here uses.
#[derive(Debug, Default, Clone, Copy)]
pub struct MailerAddressRules;

impl AddressRules for MailerAddressRules {
    fn canonical(&self, address: &str) -> Result<String, &'static str> {
        let nfc: String = address.nfc().collect();
        let (local, domain) = nfc.rsplit_once('@').ok_or(NOT_AN_ADDRESS)?;
        // UTS 46 processing: lower case, compatibility mapping, then A-labels.
        let ascii_domain = idna::domain_to_ascii(domain).map_err(|_| NOT_MAILABLE)?;
        let (unicode_domain, checked) = idna::domain_to_unicode(&ascii_domain);
        checked.map_err(|_| NOT_MAILABLE)?;
        if mixes_scripts(local) || unicode_domain.split('.').any(mixes_scripts) {
            return Err(MIXED_SCRIPTS);
        }
        let canonical = format!("{local}@{ascii_domain}");
        lettre::Address::from_str(&canonical).map_err(|_| NOT_MAILABLE)?;
        Ok(canonical)
    }
}

/// Whether `label` mixes scripts beyond what one language writes together (UTS 39's
/// "highly restrictive" level): one script besides Common and Inherited, or Latin with
/// the Han-based sets of Japanese, Chinese and Korean.
fn mixes_scripts(label: &str) -> bool {
    const ALLOWED_SETS: [&[Script]; 3] = [
        &[
            Script::Latin,
            Script::Han,
            Script::Hiragana,
            Script::Katakana,
        ],
        &[Script::Latin, Script::Han, Script::Bopomofo],
        &[Script::Latin, Script::Han, Script::Hangul],
    ];
    let scripts = CodePointMapData::<Script>::new();
    let mut used: Vec<Script> = Vec::new();
    for script in label.chars().map(|c| scripts.get(c)) {
        if script != Script::Common && script != Script::Inherited && !used.contains(&script) {
            used.push(script);
        }
    }
    used.len() > 1
        && !ALLOWED_SETS
            .iter()
            .any(|set| used.iter().all(|script| set.contains(script)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(address: &str) -> Result<String, &'static str> {
        MailerAddressRules.canonical(address)
    }

    #[test]
    fn spellings_of_one_mailbox_are_one_address() {
        let nfc = "anna@b\u{fc}cher.example";
        let nfd = "anna@bu\u{308}cher.example";
        let punycode = "anna@xn--bcher-kva.example";
        for spelling in [nfc, nfd, punycode, "anna@B\u{dc}CHER.example"] {
            assert_eq!(canonical(spelling), Ok(punycode.to_owned()), "{spelling}");
        }
        // The local part is NFC too (its case is `Email`'s business).
        assert_eq!(
            canonical("zoe\u{308}@example.com"),
            Ok("zo\u{eb}@example.com".to_owned())
        );
    }

    #[test]
    fn what_the_mailer_cannot_send_to_is_refused() {
        for bad in [
            "<script>x@example.com",
            "a b@example.com",
            "x@exa mple.com",
            "x@-example.com",
            "x\"@example.com",
            "nobody",
        ] {
            assert!(canonical(bad).is_err(), "{bad}");
        }
        assert_eq!(
            canonical("o'brien+tag@example.co.uk").as_deref(),
            Ok("o'brien+tag@example.co.uk")
        );
    }

    #[test]
    fn look_alikes_mixing_scripts_are_refused() {
        // Cyrillic а (U+0430) in a Latin name, in the domain and in the local part.
        assert_eq!(canonical("anna@ex\u{430}mple.com"), Err(MIXED_SCRIPTS));
        assert_eq!(canonical("\u{430}nna@example.com"), Err(MIXED_SCRIPTS));
        // One script per label is fine, and so is Japanese's mix.
        assert!(
            canonical(
                "\u{438}\u{432}\u{430}\u{43d}@\u{43f}\u{440}\u{438}\u{43c}\u{435}\u{440}.example"
            )
            .is_ok()
        );
        assert!(canonical("info@\u{65e5}\u{672c}\u{3054}.example").is_ok());
    }
}
