//! Password hashing: bcrypt over base64(HMAC-SHA-256(pepper, password)).
//!
//! bcrypt reads at most 72 bytes; the HMAC first condenses a passphrase of any length into
//! 44 base64 characters, so every byte counts, and a stolen database without the pepper
//! cannot be attacked offline. bcrypt runs on Tokio's blocking pool behind a semaphore
//! sized to the CPU count, so a burst of logins queues instead of oversubscribing the CPU.

use std::{fmt, num::NonZeroUsize, str::FromStr, sync::Arc};

use aura_identity::{
    Password, PasswordHash,
    ports::{CryptoError, PasswordHasher},
};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD},
};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use crate::CryptoConfigError;

/// Decodes a secret from configuration text: base64, standard or URL-safe alphabet,
/// padded or not (e.g. the output of `openssl rand -base64 32`).
pub fn decode_secret(text: &str, what: &str) -> Result<Vec<u8>, CryptoConfigError> {
    let text = text.trim();
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
        .ok_or_else(|| CryptoConfigError::Invalid(format!("{what} is not valid base64")))
}

/// The server-side secret mixed into every password hash (kept out of the database).
/// At least 32 bytes; never printed.
#[derive(Clone)]
pub struct Pepper(Zeroizing<Vec<u8>>);

impl Pepper {
    pub const MIN_BYTES: usize = 32;

    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, CryptoConfigError> {
        let bytes = Zeroizing::new(bytes);
        if bytes.len() < Self::MIN_BYTES {
            return Err(CryptoConfigError::Invalid(format!(
                "the password pepper must be at least {} bytes",
                Self::MIN_BYTES
            )));
        }
        Ok(Self(bytes))
    }

    /// Decodes configuration text: base64, standard or URL-safe alphabet, padded or not
    /// (e.g. the output of `openssl rand -base64 32`).
    pub fn from_base64(text: &str) -> Result<Self, CryptoConfigError> {
        Self::from_bytes(decode_secret(text, "the password pepper")?)
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Pepper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pepper(<redacted>)")
    }
}

/// [`PasswordHasher`] with bcrypt over a peppered HMAC. Cheap to clone (shared state).
#[derive(Clone)]
pub struct BcryptPasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    cost: u32,
    pepper: Pepper,
    /// A real hash of a random secret at the same cost: what an unset or unreadable hash
    /// is checked against, so it takes as long as a real check.
    dummy_hash: String,
    permits: Arc<Semaphore>,
}

impl BcryptPasswordHasher {
    /// The lowest cost accepted.
    pub const MIN_COST: u32 = 10;
    /// The cost for production (about 0.3 s per hash on the reference machine).
    pub const DEFAULT_COST: u32 = 12;
    /// bcrypt's own upper bound.
    pub const MAX_COST: u32 = 31;

    /// A hasher at `cost` (10 or more) with one concurrent bcrypt job per CPU.
    ///
    /// Computes the dummy hash at once, which takes one bcrypt run: call it at start-up,
    /// not on a request path.
    pub fn new(cost: u32, pepper: Pepper) -> Result<Self, CryptoConfigError> {
        let cpus = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        Self::with_concurrency(cost, pepper, cpus)
    }

    /// Like [`BcryptPasswordHasher::new`] with an explicit number of concurrent bcrypt jobs.
    pub fn with_concurrency(
        cost: u32,
        pepper: Pepper,
        concurrency: usize,
    ) -> Result<Self, CryptoConfigError> {
        if !(Self::MIN_COST..=Self::MAX_COST).contains(&cost) {
            return Err(CryptoConfigError::Invalid(format!(
                "bcrypt cost must be between {} and {}, got {cost}",
                Self::MIN_COST,
                Self::MAX_COST
            )));
        }
        if concurrency == 0 {
            return Err(CryptoConfigError::Invalid(
                "bcrypt concurrency must be at least 1".to_owned(),
            ));
        }
        let mut random = Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(random.as_mut());
        let dummy_input = Zeroizing::new(STANDARD.encode(random.as_ref()));
        let dummy_hash = bcrypt::hash(dummy_input.as_bytes(), cost)
            .map_err(|e| CryptoConfigError::Invalid(format!("bcrypt failed: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                cost,
                pepper,
                dummy_hash,
                permits: Arc::new(Semaphore::new(concurrency)),
            }),
        })
    }

    pub fn cost(&self) -> u32 {
        self.inner.cost
    }

    /// Whether a stored hash should be replaced at the next successful login (it was made
    /// with another cost, or is not a bcrypt hash at all).
    pub fn needs_rehash(&self, hash: &PasswordHash) -> bool {
        bcrypt::HashParts::from_str(hash.as_str())
            .map_or(true, |parts| parts.get_cost() != self.inner.cost)
    }

    /// base64(HMAC-SHA-256(pepper, password)): 44 ASCII characters, no NUL byte.
    fn prehash(&self, password: &Password) -> Result<Zeroizing<String>, CryptoError> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.inner.pepper.as_bytes())
            .map_err(|_| CryptoError("HMAC key rejected".to_owned()))?;
        mac.update(password.expose().as_bytes());
        let digest: Zeroizing<[u8; 32]> = Zeroizing::new(mac.finalize().into_bytes().into());
        let encoded = Zeroizing::new(STANDARD.encode(digest.as_ref()));
        Ok(encoded)
    }

    /// Runs `job` on the blocking pool once a CPU permit is free. The permit travels with
    /// the job, so it is held until bcrypt finishes even if the caller gives up waiting.
    async fn run_blocking<T, F>(&self, job: F) -> Result<T, CryptoError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> T + Send + 'static,
    {
        let permit = Arc::clone(&self.inner.permits)
            .acquire_owned()
            .await
            .map_err(|_| CryptoError("password hasher is shut down".to_owned()))?;
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            job(&inner)
        })
        .await
        .map_err(|_| CryptoError("password hashing task failed".to_owned()))
    }
}

impl fmt::Debug for BcryptPasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BcryptPasswordHasher")
            .field("cost", &self.inner.cost)
            .field("pepper", &self.inner.pepper)
            .finish_non_exhaustive()
    }
}

/// Whether `stored` looks like a bcrypt hash that bcrypt can check.
fn usable_hash(stored: &str) -> bool {
    bcrypt::HashParts::from_str(stored)
        .is_ok_and(|parts| (4..=BcryptPasswordHasher::MAX_COST).contains(&parts.get_cost()))
}

#[async_trait::async_trait]
impl PasswordHasher for BcryptPasswordHasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, CryptoError> {
        let input = self.prehash(password)?;
        self.run_blocking(move |inner| bcrypt::hash(input.as_bytes(), inner.cost))
            .await?
            .map(PasswordHash::from_stored)
            .map_err(|e| CryptoError(format!("bcrypt failed: {e}")))
    }

    async fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, CryptoError> {
        let input = self.prehash(password)?;
        let stored = hash.as_str().to_owned();
        self.run_blocking(move |inner| {
            if !stored.is_empty()
                && usable_hash(&stored)
                && let Ok(matches) = bcrypt::verify(input.as_bytes(), &stored)
            {
                return matches;
            }
            // Unset or unreadable: spend the same time, then fail.
            let _ = bcrypt::verify(input.as_bytes(), &inner.dummy_hash);
            false
        })
        .await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn pepper(byte: u8) -> Pepper {
        Pepper::from_bytes(vec![byte; 32]).unwrap()
    }

    fn hasher(cost: u32) -> BcryptPasswordHasher {
        BcryptPasswordHasher::new(cost, pepper(7)).unwrap()
    }

    fn pw(raw: &str) -> Password {
        Password::presented(raw, "password").unwrap()
    }

    #[tokio::test]
    async fn round_trip_and_wrong_password() {
        let hasher = hasher(10);
        let hash = hasher.hash(&pw("correct horse battery")).await.unwrap();
        assert!(hash.as_str().starts_with("$2b$10$"));
        assert!(
            hasher
                .verify(&pw("correct horse battery"), &hash)
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify(&pw("correct horse battery!"), &hash)
                .await
                .unwrap()
        );
        assert!(!hasher.needs_rehash(&hash));
        assert!(hasher.needs_rehash(&PasswordHash::unset()));
    }

    #[tokio::test]
    async fn every_byte_counts_beyond_72() {
        let hasher = hasher(10);
        let prefix = "a".repeat(72);
        let first = pw(&format!("{prefix}-first"));
        let second = pw(&format!("{prefix}-second"));
        let hash = hasher.hash(&first).await.unwrap();
        assert!(hasher.verify(&first, &hash).await.unwrap());
        assert!(!hasher.verify(&second, &hash).await.unwrap());
    }

    #[tokio::test]
    async fn long_unicode_passphrase() {
        let hasher = hasher(10);
        let phrase: String = "Grüße, 世界! ✓ ".chars().cycle().take(200).collect();
        assert_eq!(phrase.chars().count(), 200);
        let hash = hasher.hash(&pw(&phrase)).await.unwrap();
        assert!(hasher.verify(&pw(&phrase), &hash).await.unwrap());
        let mut altered = phrase.clone();
        altered.pop();
        altered.push('!');
        assert!(!hasher.verify(&pw(&altered), &hash).await.unwrap());
    }

    #[tokio::test]
    async fn unset_and_unreadable_hashes_fail() {
        let hasher = hasher(10);
        let password = pw("correct horse battery");
        assert!(
            !hasher
                .verify(&password, &PasswordHash::unset())
                .await
                .unwrap()
        );
        for junk in [
            "x",
            "$2b$10$short",
            &"$".repeat(60),
            "$2b$99$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012",
        ] {
            let hash = PasswordHash::from_stored(junk.to_owned());
            assert!(!hasher.verify(&password, &hash).await.unwrap(), "{junk}");
        }
    }

    #[tokio::test]
    async fn another_pepper_does_not_verify() {
        let password = pw("correct horse battery");
        let hash = hasher(10).hash(&password).await.unwrap();
        let other = BcryptPasswordHasher::new(10, pepper(8)).unwrap();
        assert!(!other.verify(&password, &hash).await.unwrap());
    }

    #[test]
    fn weak_settings_are_refused() {
        assert!(BcryptPasswordHasher::new(9, pepper(1)).is_err());
        assert!(BcryptPasswordHasher::new(32, pepper(1)).is_err());
        assert!(Pepper::from_bytes(vec![1; 31]).is_err());
        assert!(Pepper::from_base64("c2hvcnQ=").is_err());
        assert!(Pepper::from_base64("not base64 at all!").is_err());
        let text = STANDARD.encode([9u8; 32]);
        assert!(Pepper::from_base64(&text).is_ok());
        assert!(Pepper::from_base64(&URL_SAFE_NO_PAD.encode([0xfbu8; 40])).is_ok());
    }

    #[test]
    fn secrets_never_print() {
        let pepper = Pepper::from_bytes(b"super-secret-pepper-value-0123456789".to_vec()).unwrap();
        assert_eq!(format!("{pepper:?}"), "Pepper(<redacted>)");
        let hasher = BcryptPasswordHasher::new(10, pepper).unwrap();
        let printed = format!("{hasher:?}");
        assert!(!printed.contains("super-secret"), "{printed}");
        assert!(!printed.contains(&hasher.inner.dummy_hash));
    }

    /// The production cost; an unset hash costs about as much as a real one.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn default_cost_and_timing_of_unset_hashes() {
        let hasher = hasher(BcryptPasswordHasher::DEFAULT_COST);
        let password = pw("correct horse battery staple");
        let hash = hasher.hash(&password).await.unwrap();
        assert!(hash.as_str().starts_with("$2b$12$"));

        let started = Instant::now();
        assert!(hasher.verify(&password, &hash).await.unwrap());
        let real = started.elapsed();

        let started = Instant::now();
        assert!(
            !hasher
                .verify(&password, &PasswordHash::unset())
                .await
                .unwrap()
        );
        let unset = started.elapsed();

        // Loose bound: the machine is shared, but a skipped bcrypt run would be ~1000x faster.
        assert!(unset * 4 >= real, "unset {unset:?} vs real {real:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_hashing_queues_on_the_semaphore() {
        let hasher = BcryptPasswordHasher::with_concurrency(10, pepper(3), 1).unwrap();
        let password = pw("correct horse battery");
        let hash = hasher.hash(&password).await.unwrap();
        let jobs = (0..4).map(|_| {
            let hasher = hasher.clone();
            let password = password.clone();
            let hash = hash.clone();
            tokio::spawn(async move { hasher.verify(&password, &hash).await })
        });
        for job in jobs {
            assert!(job.await.unwrap().unwrap());
        }
        assert_eq!(hasher.inner.permits.available_permits(), 1);
    }
}
