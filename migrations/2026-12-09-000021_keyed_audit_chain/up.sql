-- The keyed audit chain (version 2). Links sealed from now on are HMAC-SHA-256 under a
-- key from configuration (`AUDIT_CHAIN_KEY`, never in the database), over the exact texts
-- stored here, with the event's personal values (client address, user agent, personal
-- fields) kept beside the chain under a salted digest, so they can be shredded.
-- Existing links stay version 1 (plain SHA-256 over their re-serialised values) and are
-- verified as such: nothing is re-sealed, so nothing tampered before is laundered.

-- The changes as the exact text hashed (jsonb normalised `-0.0`, big numbers, key order
-- and escapes, so a hash over what was sent could never verify again). A version-1
-- link's text is jsonb's rendering, which reads back to the same value it hashed.
ALTER TABLE audit_events ALTER COLUMN changes TYPE text USING changes::text;

ALTER TABLE audit_events
    ADD COLUMN chain_version smallint NOT NULL DEFAULT 1 CHECK (chain_version IN (1, 2)),
    -- `{"ip": …, "user_agent": …, "values": {…}}` exactly as its digest covers it; NULL
    -- when there was nothing personal or once shredded.
    ADD COLUMN personal text,
    -- The digest's random salt, shredded with the values.
    ADD COLUMN personal_salt bytea CHECK (octet_length(personal_salt) = 32),
    -- HMAC(salt, values): what the link covers of them; stays after shredding.
    ADD COLUMN personal_digest bytea CHECK (octet_length(personal_digest) = 32),
    ADD CONSTRAINT audit_events_personal_pair_check CHECK ((personal IS NULL) = (personal_salt IS NULL)),
    -- Version 2 keeps the address and agent in `personal` only.
    ADD CONSTRAINT audit_events_v2_clear_check
        CHECK (chain_version = 1 OR (ip IS NULL AND user_agent IS NULL));
-- Every new link names its version.
ALTER TABLE audit_events ALTER COLUMN chain_version DROP DEFAULT;

-- Still append-only, but the app may clear the personal values (erasure, retention):
-- a column grant, so it can change nothing the chain covers.
GRANT UPDATE (personal, personal_salt) ON audit_events TO aura_app;
