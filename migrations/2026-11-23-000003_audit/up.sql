-- The audit trail: append-only for the app, one hash chain per tenant.

CREATE TABLE audit_events (
    tenant_id   uuid        NOT NULL REFERENCES tenants (id),
    -- Position in the tenant's chain, from 1 without gaps.
    seq         bigint      NOT NULL CHECK (seq > 0),
    id          uuid        NOT NULL,
    actor_kind  text        NOT NULL CHECK (actor_kind IN ('user', 'system')),
    -- No foreign key: the trail outlives the users it names.
    actor_id    uuid,
    action      text        NOT NULL,
    entity_type text        NOT NULL,
    entity_id   text,
    changes     jsonb       NOT NULL,
    ip          text,
    user_agent  text,
    request_id  text,
    created_at  timestamptz NOT NULL,
    prev_hash   bytea       NOT NULL CHECK (octet_length(prev_hash) = 32),
    hash        bytea       NOT NULL CHECK (octet_length(hash) = 32),
    PRIMARY KEY (tenant_id, seq),
    CONSTRAINT audit_events_id_key UNIQUE (id),
    CONSTRAINT audit_events_actor_check CHECK ((actor_kind = 'user') = (actor_id IS NOT NULL))
);
-- Filters of the audit list (newest first within a tenant).
CREATE INDEX audit_events_actor_idx ON audit_events (tenant_id, actor_id, seq DESC)
    WHERE actor_id IS NOT NULL;
CREATE INDEX audit_events_action_idx ON audit_events (tenant_id, action, seq DESC);
CREATE INDEX audit_events_entity_idx ON audit_events (tenant_id, entity_type, entity_id, seq DESC);
CREATE INDEX audit_events_created_idx ON audit_events (tenant_id, created_at);

-- The head of each tenant's chain: locked (FOR UPDATE) by every append, so links are
-- sealed one after the other.
CREATE TABLE audit_chain_heads (
    tenant_id uuid   PRIMARY KEY REFERENCES tenants (id),
    seq       bigint NOT NULL CHECK (seq >= 0),
    hash      bytea  NOT NULL CHECK (octet_length(hash) = 32)
);

ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_events
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE audit_chain_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_chain_heads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_chain_heads
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Append-only: the app can neither change nor remove an event.
GRANT SELECT, INSERT ON audit_events TO aura_app;
GRANT SELECT, INSERT, UPDATE ON audit_chain_heads TO aura_app;
