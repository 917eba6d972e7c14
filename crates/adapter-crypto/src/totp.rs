//! [`SecondFactor`]: TOTP (RFC 6238 through `totp-rs`: HMAC-SHA-1, 6 digits, 30-second
//! steps, one step either side), its secret sealed at rest, and the recovery codes.
//!
//! One server key, derived from the password pepper under its own label (no new secret
//! to deploy, like the personal-data seal), and from it:
//! - the seal key: a secret is sealed with AES-256-GCM (`sealing::seal`) with the
//!   account id as associated data, so a sealed secret copied to another account's row
//!   does not open;
//! - the recovery key: a recovery code is kept as HMAC-SHA-256(recovery key, account ‖
//!   code), so a database dump gives no way to test guesses.

use aura_identity::{
    AccountId,
    mfa::{NewTotp, RECOVERY_CODE_COUNT, RecoveryCodes, RecoveryHash, SealedSecret, TimeStep},
    ports::{CryptoError, SecondFactor},
};
use rand::RngCore;
use time::OffsetDateTime;
use totp_rs::{Algorithm, Builder, Secret, Totp};
use zeroize::Zeroizing;

use crate::{
    Pepper,
    sealing::{ServerKey, mac, open, seal},
};

/// The label that derives the server key from the pepper; changing it loses every factor.
const SERVER_KEY_LABEL: &[u8] = b"aura-second-factors-v1";
const SEAL_LABEL: &[u8] = b"totp-seal";
const RECOVERY_LABEL: &[u8] = b"recovery-code";
/// 160 bits, as RFC 4226 recommends.
const SECRET_BYTES: usize = 20;
const STEP_SECONDS: u64 = 30;
/// The alphabet of recovery codes (RFC 4648 base32: no 0/1/8, nothing to confuse).
const RECOVERY_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/// Ten characters (50 bits), shown as two groups of five.
const RECOVERY_CHARS: usize = 10;

/// TOTP with sealed secrets, keyed once at start. Cheap to clone; never printed.
#[derive(Clone, Debug)]
pub struct TotpSecondFactor {
    key: ServerKey,
    /// The issuer an authenticator shows (`otpauth://totp/{issuer}:{account}`).
    issuer: String,
}

impl TotpSecondFactor {
    /// Derives the keys from the password pepper; `issuer` names the service in
    /// authenticator apps (a colon is dropped: the URI's label separator).
    pub fn from_pepper(pepper: &Pepper, issuer: &str) -> Self {
        Self {
            key: ServerKey::from_pepper(pepper, SERVER_KEY_LABEL),
            issuer: issuer.replace(':', ""),
        }
    }

    fn seal_key(&self) -> Zeroizing<[u8; 32]> {
        self.key.derive(&[SEAL_LABEL])
    }

    fn totp(&self, secret: Vec<u8>, label: &str) -> Result<Totp, CryptoError> {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_skew(1)
            .with_step_duration(STEP_SECONDS)
            .with_secret(secret)
            .with_issuer(Some(self.issuer.as_str()))
            .with_account_name(label.replace(':', ""))
            .build()
            .map_err(|e| CryptoError(format!("totp: {e}")))
    }
}

impl SecondFactor for TotpSecondFactor {
    fn new_totp(&self, account: AccountId, label: &str) -> Result<NewTotp, CryptoError> {
        let mut secret = Zeroizing::new(vec![0u8; SECRET_BYTES]);
        rand::rng().fill_bytes(&mut secret);
        let sealed = seal(&self.seal_key(), account.as_uuid().as_bytes(), &secret)
            .ok_or_else(|| CryptoError("totp: the secret could not be sealed".to_owned()))?;
        let totp = self.totp(secret.to_vec(), label)?;
        let uri = totp
            .to_url()
            .map_err(|e| CryptoError(format!("totp: {e}")))?;
        Ok(NewTotp {
            secret_base32: Secret::from(secret.to_vec()).to_base32(),
            uri,
            sealed: SealedSecret(sealed),
        })
    }

    fn check_code(
        &self,
        account: AccountId,
        sealed: &SealedSecret,
        code: &str,
        now: OffsetDateTime,
    ) -> Result<Option<TimeStep>, CryptoError> {
        let secret = open(&self.seal_key(), account.as_uuid().as_bytes(), &sealed.0)
            .map(Zeroizing::new)
            .ok_or_else(|| CryptoError("totp: the sealed secret does not open".to_owned()))?;
        // No label is needed to check a code (the builder wants none to be valid).
        let totp = self.totp(secret.to_vec(), "-")?;
        let Ok(time) = u64::try_from(now.unix_timestamp()) else {
            return Ok(None);
        };
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        Ok(totp
            .check(&code, time)
            .and_then(|step| i64::try_from(step).ok())
            .map(TimeStep))
    }

    fn recovery_codes(&self, account: AccountId) -> RecoveryCodes {
        let plain: Vec<String> = (0..RECOVERY_CODE_COUNT)
            .map(|_| {
                let mut bytes = [0u8; RECOVERY_CHARS];
                rand::rng().fill_bytes(&mut bytes);
                let chars: String = bytes
                    .iter()
                    .map(|b| char::from(RECOVERY_ALPHABET[usize::from(b % 32)]))
                    .collect();
                format!("{}-{}", &chars[..5], &chars[5..])
            })
            .collect();
        let hashes = plain
            .iter()
            .map(|code| self.hash_recovery_code(account, code))
            .collect();
        RecoveryCodes { plain, hashes }
    }

    fn hash_recovery_code(&self, account: AccountId, code: &str) -> RecoveryHash {
        let normal: String = code
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let key = self.key.derive(&[RECOVERY_LABEL]);
        RecoveryHash(mac(
            key.as_ref(),
            &[account.as_uuid().as_bytes(), normal.as_bytes()],
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use time::Duration;
    use uuid::Uuid;

    use super::*;

    fn factor() -> TotpSecondFactor {
        TotpSecondFactor::from_pepper(&Pepper::from_bytes(vec![5; 32]).unwrap(), "AURA GDPR")
    }

    fn account() -> AccountId {
        AccountId::from_uuid(Uuid::from_u128(7))
    }

    /// RFC 6238 Appendix B, SHA-1: the secret "12345678901234567890" at T = 59 s gives
    /// 94287082 (8 digits); our six digits are its last six.
    #[test]
    fn codes_follow_rfc_6238() {
        let totp = factor()
            .totp(b"12345678901234567890".to_vec(), "x")
            .unwrap();
        assert_eq!(totp.generate(59).to_string(), "287082");
        assert_eq!(totp.generate(1_111_111_109).to_string(), "081804");
        assert_eq!(totp.generate(2_000_000_000).to_string(), "279037");
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_no_further() {
        let factor = factor();
        let new = factor.new_totp(account(), "olivia@acme.example").unwrap();
        let reference = Builder::new()
            .with_secret(Secret::try_from_base32(&new.secret_base32).unwrap())
            .build()
            .unwrap();
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_015).unwrap();
        let at = |offset: i64| {
            let t = u64::try_from((now + Duration::seconds(offset)).unix_timestamp()).unwrap();
            reference.generate(t).to_string()
        };
        let check = |code: &str| {
            factor
                .check_code(account(), &new.sealed, code, now)
                .unwrap()
        };
        assert_eq!(check(&at(0)), Some(TimeStep(1_800_000_015 / 30)));
        assert!(check(&at(-30)).is_some());
        assert!(check(&at(30)).is_some());
        assert_eq!(check(&at(-60)), None, "two steps back");
        assert_eq!(check(&at(60)), None, "two steps ahead");
        assert_eq!(check("abcdef"), None);
        assert_eq!(check(""), None);
    }

    #[test]
    fn the_secret_is_sealed_and_bound_to_its_account() {
        let factor = factor();
        let new = factor.new_totp(account(), "olivia@acme.example").unwrap();
        let secret = Secret::try_from_base32(&new.secret_base32).unwrap();
        let raw = secret.as_bytes();
        assert!(
            !new.sealed.0.windows(raw.len()).any(|w| w == raw),
            "the secret is not stored in clear"
        );
        let other = AccountId::from_uuid(Uuid::from_u128(8));
        assert!(
            factor
                .check_code(other, &new.sealed, "000000", OffsetDateTime::now_utc())
                .is_err()
        );
        assert!(
            new.uri
                .starts_with("otpauth://totp/AURA%20GDPR:olivia%40acme.example?")
        );
        assert!(new.uri.contains(&format!("secret={}", new.secret_base32)));
    }

    #[test]
    fn recovery_codes_are_random_and_hashed_per_account() {
        let factor = factor();
        let codes = factor.recovery_codes(account());
        assert_eq!(codes.plain.len(), RECOVERY_CODE_COUNT);
        let distinct: std::collections::HashSet<_> = codes.plain.iter().collect();
        assert_eq!(distinct.len(), RECOVERY_CODE_COUNT);
        let first = &codes.plain[0];
        assert_eq!(first.len(), 11);
        assert_eq!(factor.hash_recovery_code(account(), first), codes.hashes[0]);
        // As typed: lower case, without the dash.
        let typed = first.replace('-', " ").to_lowercase();
        assert_eq!(
            factor.hash_recovery_code(account(), &typed),
            codes.hashes[0]
        );
        let other = AccountId::from_uuid(Uuid::from_u128(8));
        assert_ne!(factor.hash_recovery_code(other, first), codes.hashes[0]);
    }
}
