//! Access tokens from the outside: round trips, rotation, development mode, and the
//! forged-token suite (RFC 8725 attacks), each of which must be refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use aura_adapter_crypto::{
    CryptoConfigError, Hs256Secret, JwtAccessTokens, JwtKeySet, JwtMode, LEEWAY_SECONDS,
    VERIFIED_TOKENS_KEPT,
};
use aura_identity::{AccessClaims, ports::AccessTokens};
use aura_shared_kernel::{Role, TenantId, TenantSlug, UserId};
use aws_lc_rs::{rand::SystemRandom, signature::Ed25519KeyPair};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use jsonwebtoken::{Algorithm, EncodingKey, Header, jwk::Jwk};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime, macros::datetime};
use uuid::Uuid;

const ISSUER: &str = "https://auth.aura.test";
const AUDIENCE: &str = "aura-api";
const LIFETIME: Duration = Duration::minutes(10);
/// A fixed clock far from the system clock: verification must use the injected time.
const NOW: OffsetDateTime = datetime!(2031-03-14 09:26:53 UTC);

struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new() -> Self {
        Self(std::env::temp_dir().join(format!("aura-jwt-{}", Uuid::new_v4())))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A key directory with one key, the tokens over it, and the private key (for forging
/// tokens that a thief of the key could make: header attacks must fail even so).
struct Setup {
    dir: ScratchDir,
    kid: String,
    tokens: JwtAccessTokens,
    private: EncodingKey,
    public_raw: Vec<u8>,
}

fn private_key(dir: &ScratchDir, kid: &str) -> EncodingKey {
    let pem = std::fs::read_to_string(dir.0.join(format!("{kid}.pem"))).unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    EncodingKey::from_ed_der(&STANDARD.decode(body).unwrap())
}

fn eddsa(dir: &ScratchDir, active: Option<&str>) -> JwtAccessTokens {
    let set = JwtKeySet::load_dir(&dir.0, active).unwrap();
    JwtAccessTokens::new(JwtMode::EdDsa(set), ISSUER, AUDIENCE, LIFETIME).unwrap()
}

fn setup() -> Setup {
    let dir = ScratchDir::new();
    let kid = JwtKeySet::generate_into_dir(&dir.0).unwrap();
    let tokens = eddsa(&dir, None);
    let jwks = tokens.jwks();
    let x = jwks["keys"][0]["x"].as_str().unwrap();
    Setup {
        private: private_key(&dir, &kid),
        public_raw: URL_SAFE_NO_PAD.decode(x).unwrap(),
        dir,
        kid,
        tokens,
    }
}

fn claims() -> AccessClaims {
    AccessClaims {
        user: UserId::generate(),
        tenant: TenantId::generate(),
        tenant_slug: TenantSlug::parse("acme-corp").unwrap(),
        role: Role::Admin,
        session_id: Uuid::now_v7(),
        session_version: 3,
        jti: Uuid::new_v4(),
        issued_at: NOW,
        expires_at: NOW + LIFETIME,
    }
}

/// The claims as we put them on the wire, for forging variations.
fn wire(claims: &AccessClaims) -> Value {
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": claims.user.to_string(),
        "tenant_id": claims.tenant.to_string(),
        "tenant_slug": claims.tenant_slug.as_str(),
        "role": claims.role.as_str(),
        "jti": claims.jti.to_string(),
        "iat": claims.issued_at.unix_timestamp(),
        "nbf": claims.issued_at.unix_timestamp(),
        "exp": claims.expires_at.unix_timestamp(),
        "typ": "access",
        "sid": claims.session_id.to_string(),
        "sv": claims.session_version,
    })
}

fn header(alg: Algorithm, kid: Option<&str>) -> Header {
    let mut header = Header::new(alg);
    header.typ = Some("at+jwt".to_owned());
    header.kid = kid.map(str::to_owned);
    header
}

fn sign(header: &Header, claims: &Value, key: &EncodingKey) -> String {
    jsonwebtoken::encode(header, claims, key).unwrap()
}

fn with(mut value: Value, key: &str, replacement: Value) -> Value {
    value[key] = replacement;
    value
}

fn without(mut value: Value, key: &str) -> Value {
    value.as_object_mut().unwrap().remove(key);
    value
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

/// Flips one bit in the middle of the decoded part `index` (0 header, 1 payload, 2 signature).
fn flip(token: &str, index: usize) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut bytes = URL_SAFE_NO_PAD.decode(&parts[index]).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    parts[index] = URL_SAFE_NO_PAD.encode(bytes);
    parts.join(".")
}

fn foreign_key() -> (EncodingKey, Vec<u8>) {
    let doc = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(doc.as_ref()).unwrap();
    use aws_lc_rs::signature::KeyPair;
    (
        EncodingKey::from_ed_der(doc.as_ref()),
        pair.public_key().as_ref().to_vec(),
    )
}

#[test]
fn a_valid_token_round_trips() {
    let s = setup();
    let claims = claims();
    let token = s.tokens.issue(&claims).unwrap();
    assert_eq!(s.tokens.verify(&token, NOW).unwrap(), claims);
    assert_eq!(s.tokens.lifetime(), LIFETIME);

    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.kid.as_deref(), Some(s.kid.as_str()));

    let payload: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(payload, wire(&claims));
}

#[test]
fn time_checks_use_the_injected_clock_with_30s_leeway() {
    let s = setup();
    let claims = claims();
    let token = s.tokens.issue(&claims).unwrap();
    let exp = claims.expires_at;
    let leeway = Duration::seconds(LEEWAY_SECONDS);
    assert!(s.tokens.verify(&token, exp).is_ok());
    assert!(s.tokens.verify(&token, exp + leeway).is_ok());
    assert_eq!(
        s.tokens
            .verify(&token, exp + leeway + Duration::SECOND)
            .unwrap_err()
            .0,
        "expired"
    );
    assert!(s.tokens.verify(&token, NOW - leeway).is_ok());
    assert_eq!(
        s.tokens
            .verify(&token, NOW - leeway - Duration::SECOND)
            .unwrap_err()
            .0,
        "not yet valid"
    );
    // The system clock plays no part: NOW is years away from it.
    assert!(OffsetDateTime::now_utc() < NOW);
}

#[test]
fn jwks_verifies_tokens_with_a_standard_library() {
    let s = setup();
    let token = s.tokens.issue(&claims()).unwrap();
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(s.tokens.jwks()).unwrap();
    let jwk = set.find(&s.kid).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(Algorithm::EdDSA);
    validation.set_audience(&[AUDIENCE]);
    validation.validate_exp = false;
    let data = jsonwebtoken::decode::<Value>(&token, &key, &validation).unwrap();
    assert_eq!(data.claims["iss"], ISSUER);
}

#[test]
fn older_keys_still_verify_after_rotation() {
    let s = setup();
    let claims = claims();
    let old_token = s.tokens.issue(&claims).unwrap();

    std::thread::sleep(std::time::Duration::from_millis(1100));
    let new_kid = JwtKeySet::generate_into_dir(&s.dir.0).unwrap();
    let rotated = eddsa(&s.dir, None);
    assert_eq!(rotated.jwks()["keys"].as_array().unwrap().len(), 2);
    assert_eq!(rotated.verify(&old_token, NOW).unwrap(), claims);
    let new_token = rotated.issue(&claims).unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(&new_token)
            .unwrap()
            .kid
            .as_deref(),
        Some(new_kid.as_str())
    );
    assert_eq!(rotated.verify(&new_token, NOW).unwrap(), claims);
    // Not yet rotated instances do not know the new key.
    assert_eq!(
        s.tokens.verify(&new_token, NOW).unwrap_err().0,
        "unknown kid"
    );

    // Once the old key is retired, its tokens die.
    std::fs::remove_file(s.dir.0.join(format!("{}.pem", s.kid))).unwrap();
    let retired = eddsa(&s.dir, None);
    assert!(retired.verify(&old_token, NOW).is_err());
    assert!(retired.verify(&new_token, NOW).is_ok());
}

#[test]
fn hs256_development_mode_round_trips_and_stays_apart() {
    let secret = Hs256Secret::new(b"a development secret of 32+ bytes!".to_vec()).unwrap();
    let dev = JwtAccessTokens::new(JwtMode::Hs256Dev(secret), ISSUER, AUDIENCE, LIFETIME).unwrap();
    assert!(dev.is_development_mode());
    assert_eq!(dev.jwks(), json!({ "keys": [] }));
    let claims = claims();
    let token = dev.issue(&claims).unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(&token).unwrap().alg,
        Algorithm::HS256
    );
    assert_eq!(dev.verify(&token, NOW).unwrap(), claims);

    let s = setup();
    assert_eq!(
        s.tokens.verify(&token, NOW).unwrap_err().0,
        "algorithm not allowed"
    );
    let eddsa_token = s.tokens.issue(&claims).unwrap();
    assert!(dev.verify(&eddsa_token, NOW).is_err());
}

#[test]
fn configuration_is_checked() {
    assert!(Hs256Secret::new(vec![7u8; 31]).is_err());
    let secret = || Hs256Secret::new(vec![7u8; 32]).unwrap();
    for lifetime in [Duration::ZERO, Duration::hours(2)] {
        let result = JwtAccessTokens::new(JwtMode::Hs256Dev(secret()), ISSUER, AUDIENCE, lifetime);
        assert!(matches!(result, Err(CryptoConfigError::Invalid(_))));
    }
    assert!(JwtAccessTokens::new(JwtMode::Hs256Dev(secret()), "", AUDIENCE, LIFETIME).is_err());
    assert!(JwtAccessTokens::new(JwtMode::Hs256Dev(secret()), ISSUER, " ", LIFETIME).is_err());

    let secret = Hs256Secret::new(b"do-not-print-this-secret-0123456789".to_vec()).unwrap();
    let dev = JwtAccessTokens::new(JwtMode::Hs256Dev(secret), ISSUER, AUDIENCE, LIFETIME).unwrap();
    let printed = format!("{dev:?}");
    assert!(!printed.contains("do-not-print"), "{printed}");
}

/// A token verified once is not verified again (its signature, key and claims are in its
/// bytes): the remembered answer still checks the times on each use, and only the exact
/// bytes find it — a token one bit away is checked afresh and refused.
#[test]
fn a_verified_token_is_remembered_by_its_exact_bytes_and_still_expires() {
    let s = setup();
    let claims = claims();
    let token = s.tokens.issue(&claims).unwrap();
    assert_eq!(s.tokens.verified_tokens_kept(), 0);
    assert_eq!(s.tokens.verify(&token, NOW).unwrap(), claims);
    assert_eq!(s.tokens.verified_tokens_kept(), 1);
    assert_eq!(s.tokens.verify(&token, NOW).unwrap(), claims);
    assert_eq!(
        s.tokens.verified_tokens_kept(),
        1,
        "remembered, not checked again"
    );

    for part in 0..3 {
        let near = flip(&token, part);
        assert!(s.tokens.verify(&near, NOW).is_err(), "part {part} changed");
    }
    assert_eq!(
        s.tokens.verified_tokens_kept(),
        1,
        "refused tokens are not remembered"
    );

    let leeway = Duration::seconds(LEEWAY_SECONDS);
    let after = claims.expires_at + leeway + Duration::SECOND;
    assert_eq!(s.tokens.verify(&token, after).unwrap_err().0, "expired");
    assert_eq!(
        s.tokens
            .verify(&token, NOW - leeway - Duration::SECOND)
            .unwrap_err()
            .0,
        "not yet valid"
    );
    // Another instance (or this one after a restart) checks the signature itself.
    let fresh = eddsa(&s.dir, None);
    assert_eq!(fresh.verify(&token, NOW).unwrap(), claims);
}

/// The memory of verified tokens is bounded: once full, the expired are forgotten first,
/// and if none is, all of them.
#[test]
fn remembered_tokens_are_bounded() {
    let s = setup();
    let expiring = {
        let mut early = claims();
        early.issued_at = NOW - Duration::minutes(20);
        early.expires_at = NOW - Duration::minutes(10);
        s.tokens.issue(&early).unwrap()
    };
    assert!(
        s.tokens
            .verify(&expiring, NOW - Duration::minutes(15))
            .is_ok()
    );
    for _ in 1..VERIFIED_TOKENS_KEPT {
        let token = s.tokens.issue(&claims()).unwrap();
        s.tokens.verify(&token, NOW).unwrap();
    }
    assert_eq!(s.tokens.verified_tokens_kept(), VERIFIED_TOKENS_KEPT);
    let one_more = s.tokens.issue(&claims()).unwrap();
    s.tokens.verify(&one_more, NOW).unwrap();
    assert_eq!(
        s.tokens.verified_tokens_kept(),
        VERIFIED_TOKENS_KEPT,
        "the expired one made room"
    );
    let another = s.tokens.issue(&claims()).unwrap();
    s.tokens.verify(&another, NOW).unwrap();
    assert_eq!(
        s.tokens.verified_tokens_kept(),
        1,
        "none expired: all forgotten"
    );
}

#[test]
fn forged_tokens_are_refused() {
    let s = setup();
    let kid = s.kid.as_str();
    let claims = claims();
    let good = wire(&claims);
    let valid = s.tokens.issue(&claims).unwrap();
    assert!(
        s.tokens.verify(&valid, NOW).is_ok(),
        "the baseline token must verify"
    );
    let ed = |h: &Header, c: &Value| sign(h, c, &s.private);
    let ed_header = header(Algorithm::EdDSA, Some(kid));
    let (foreign, foreign_public) = foreign_key();

    let mut forged: Vec<(&str, String, OffsetDateTime)> = Vec::new();
    let mut add = |name: &'static str, token: String| forged.push((name, token, NOW));

    // Algorithm attacks.
    let none_header = json!({ "alg": "none", "typ": "at+jwt", "kid": kid });
    add("alg none", format!("{}.{}.", b64(&none_header), b64(&good)));
    add(
        "alg none with signature",
        format!(
            "{}.{}.{}",
            b64(&none_header),
            b64(&good),
            valid.split('.').nth(2).unwrap()
        ),
    );
    add(
        "alg None (case)",
        format!(
            "{}.{}.",
            b64(&json!({ "alg": "None", "typ": "at+jwt", "kid": kid })),
            b64(&good)
        ),
    );
    let hs = header(Algorithm::HS256, Some(kid));
    add(
        "HS256 keyed with the raw public key",
        sign(&hs, &good, &EncodingKey::from_secret(&s.public_raw)),
    );
    let x = URL_SAFE_NO_PAD.encode(&s.public_raw);
    add(
        "HS256 keyed with the JWK x text",
        sign(&hs, &good, &EncodingKey::from_secret(x.as_bytes())),
    );
    add(
        "HS512 keyed with the raw public key",
        sign(
            &header(Algorithm::HS512, Some(kid)),
            &good,
            &EncodingKey::from_secret(&s.public_raw),
        ),
    );
    add(
        "HS256 development token",
        JwtAccessTokens::new(
            JwtMode::Hs256Dev(Hs256Secret::new(vec![1u8; 32]).unwrap()),
            ISSUER,
            AUDIENCE,
            LIFETIME,
        )
        .unwrap()
        .issue(&claims)
        .unwrap(),
    );

    // Keys and signatures.
    add(
        "signed by a key not in the set",
        sign(&ed_header, &good, &foreign),
    );
    add("flipped byte in the signature", flip(&valid, 2));
    add("flipped byte in the payload", flip(&valid, 1));
    add("flipped byte in the header", flip(&valid, 0));
    let mut parts = valid.split('.');
    let (h, p) = (parts.next().unwrap(), parts.next().unwrap());
    add("signature stripped", format!("{h}.{p}."));
    add("no signature part", format!("{h}.{p}"));
    add("extra part", format!("{valid}.{p}"));
    let other_dir = ScratchDir::new();
    let other_kid = JwtKeySet::generate_into_dir(&other_dir.0).unwrap();
    std::fs::rename(
        other_dir.0.join(format!("{other_kid}.pem")),
        other_dir.0.join(format!("{kid}.pem")),
    )
    .unwrap();
    let other_set = eddsa(&other_dir, None);
    add(
        "another key set with the same kid",
        other_set.issue(&claims).unwrap(),
    );

    // Header attacks, signed with the real key (even a key thief cannot use them) or
    // with the attacker's own key where the header points to it.
    let mut missing_kid = header(Algorithm::EdDSA, None);
    add("missing kid", ed(&missing_kid, &good));
    missing_kid.kid = Some("not-a-key".to_owned());
    add("unknown kid", ed(&missing_kid, &good));
    let mut jku = ed_header.clone();
    jku.jku = Some("https://attacker.test/jwks.json".to_owned());
    add("jku header", sign(&jku, &good, &foreign));
    add("jku header, real signature", ed(&jku, &good));
    let mut jwk = ed_header.clone();
    jwk.jwk = Some(
        serde_json::from_value::<Jwk>(json!({
            "kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(&foreign_public)
        }))
        .unwrap(),
    );
    add(
        "jwk header with the attacker's key",
        sign(&jwk, &good, &foreign),
    );
    add("jwk header, real signature", ed(&jwk, &good));
    let mut x5u = ed_header.clone();
    x5u.x5u = Some("https://attacker.test/cert.pem".to_owned());
    add("x5u header", ed(&x5u, &good));
    let mut x5c = ed_header.clone();
    x5c.x5c = Some(vec![STANDARD.encode(b"not a certificate")]);
    add("x5c header", ed(&x5c, &good));
    let mut crit = ed_header.clone();
    crit.crit = Some(vec!["exp".to_owned()]);
    add("crit header", ed(&crit, &good));
    let mut typ = ed_header.clone();
    typ.typ = Some("JWT".to_owned());
    add("header typ JWT", ed(&typ, &good));
    typ.typ = None;
    add("header typ missing", ed(&typ, &good));

    // Registered claims.
    add(
        "wrong iss",
        ed(
            &ed_header,
            &with(good.clone(), "iss", json!("https://evil.test")),
        ),
    );
    add("missing iss", ed(&ed_header, &without(good.clone(), "iss")));
    add(
        "wrong aud",
        ed(&ed_header, &with(good.clone(), "aud", json!("other-api"))),
    );
    add(
        "aud array with a foreign audience",
        ed(
            &ed_header,
            &with(good.clone(), "aud", json!([AUDIENCE, "other-api"])),
        ),
    );
    add("missing aud", ed(&ed_header, &without(good.clone(), "aud")));
    add(
        "typ refresh",
        ed(&ed_header, &with(good.clone(), "typ", json!("refresh"))),
    );
    add(
        "typ id",
        ed(&ed_header, &with(good.clone(), "typ", json!("id"))),
    );
    add("missing typ", ed(&ed_header, &without(good.clone(), "typ")));
    add("missing exp", ed(&ed_header, &without(good.clone(), "exp")));
    add("missing nbf", ed(&ed_header, &without(good.clone(), "nbf")));
    add("missing iat", ed(&ed_header, &without(good.clone(), "iat")));
    let now = NOW.unix_timestamp();
    add(
        "nbf in the future",
        ed(&ed_header, &with(good.clone(), "nbf", json!(now + 120))),
    );
    add(
        "iat in the future",
        ed(&ed_header, &with(good.clone(), "iat", json!(now + 120))),
    );
    add(
        "exp as text",
        ed(
            &ed_header,
            &with(good.clone(), "exp", json!(format!("{}", now + 600))),
        ),
    );

    // Private claims, parsed strictly.
    add(
        "unknown role",
        ed(&ed_header, &with(good.clone(), "role", json!("superuser"))),
    );
    add(
        "role in capitals",
        ed(&ed_header, &with(good.clone(), "role", json!("Owner"))),
    );
    add(
        "bad tenant_slug",
        ed(
            &ed_header,
            &with(good.clone(), "tenant_slug", json!("Acme Corp")),
        ),
    );
    add(
        "sub not a uuid",
        ed(&ed_header, &with(good.clone(), "sub", json!("admin"))),
    );
    add(
        "tenant_id missing",
        ed(&ed_header, &without(good.clone(), "tenant_id")),
    );
    add(
        "nil tenant_id",
        ed(
            &ed_header,
            &with(good.clone(), "tenant_id", json!(Uuid::nil())),
        ),
    );
    add(
        "sv as text",
        ed(&ed_header, &with(good.clone(), "sv", json!("3"))),
    );
    add("sid missing", ed(&ed_header, &without(good.clone(), "sid")));

    // Junk.
    add("empty string", String::new());
    add("garbage", "garbage".to_owned());
    add("three dots of garbage", "a.b.c".to_owned());
    add("just dots", "..".to_owned());
    add("oversized", format!("{h}.{}.{}", "A".repeat(9000), "A"));
    add(
        "payload not json",
        format!(
            "{h}.{}.{}",
            URL_SAFE_NO_PAD.encode(b"nope"),
            valid.split('.').nth(2).unwrap()
        ),
    );

    // A valid token, used outside its lifetime.
    forged.push((
        "expired",
        valid.clone(),
        NOW + LIFETIME + Duration::seconds(31),
    ));
    forged.push((
        "used before issue",
        valid.clone(),
        NOW - Duration::minutes(5),
    ));

    let mut accepted = Vec::new();
    for (name, token, at) in &forged {
        match s.tokens.verify(token, *at) {
            Ok(_) => accepted.push(*name),
            Err(rejected) => println!("refused {name}: {}", rejected.0),
        }
    }
    println!(
        "{} forged tokens tried, {} accepted",
        forged.len(),
        accepted.len()
    );
    assert!(accepted.is_empty(), "accepted forged tokens: {accepted:?}");
    assert!(forged.len() >= 50);
}
