-- A database role per installation (issue 18, item 2).
--
-- Every migration grants the app's privileges to `aura_app`. That name is cluster-wide,
-- so two installations on one PostgreSQL cluster (staging and production, two customers
-- of a hoster) shared one set of privileges. From here on `aura_app` is only the grant
-- template the migration files name: `aura db init` records this installation's own app
-- role in the database (`ALTER DATABASE ... SET aura.app_role = 'aura_app_<db>'`), and
-- after every migration run (and in `aura db init`, for an installation migrated before)
-- `aura_move_app_grants()` moves every privilege `aura_app` holds on this database's
-- objects (tables, columns, sequences, functions, schemas) to that role and revokes it
-- from `aura_app`. CONNECT on the database is revoked from PUBLIC and granted only to
-- the installation's roles (db init), so `aura_app` (and any other installation's
-- login) cannot even reach this database while a migration briefly holds a grant on it.
--
-- A database without `aura.app_role` (an installation whose `aura db init` predates this
-- migration, or the test harness) keeps the old layout until `aura db init` is run again.

-- Moves every privilege `from_role` holds on this database's objects to `to_role`
-- (granted by the object's owner, as the migrations grant them). Returns how many.
CREATE FUNCTION aura_move_grants(from_role text, to_role text) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    source oid := to_regrole(quote_ident(from_role));
    moved integer := 0;
    grant_on record;
BEGIN
    IF source IS NULL OR from_role = to_role THEN
        RETURN 0;
    END IF;
    IF to_regrole(quote_ident(to_role)) IS NULL THEN
        RAISE EXCEPTION 'role "%" does not exist', to_role
            USING HINT = 'Create the installation''s roles first (aura db init).';
    END IF;
    FOR grant_on IN
        -- Tables, views and sequences.
        SELECT format('%s ON %s %s', a.privilege_type,
                      CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
                      c.oid::regclass) AS what
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        CROSS JOIN LATERAL aclexplode(c.relacl) a
        WHERE a.grantee = source
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        UNION ALL
        -- Column-level grants (e.g. UPDATE (personal, personal_salt) ON audit_events).
        SELECT format('%s (%I) ON TABLE %s', a.privilege_type, att.attname, att.attrelid::regclass)
        FROM pg_attribute att
        JOIN pg_class c ON c.oid = att.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        CROSS JOIN LATERAL aclexplode(att.attacl) a
        WHERE a.grantee = source AND NOT att.attisdropped
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        UNION ALL
        -- Functions and procedures.
        SELECT format('%s ON ROUTINE %s', a.privilege_type, p.oid::regprocedure)
        FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        CROSS JOIN LATERAL aclexplode(p.proacl) a
        WHERE a.grantee = source
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        UNION ALL
        -- Schemas.
        SELECT format('%s ON SCHEMA %I', a.privilege_type, n.nspname)
        FROM pg_namespace n
        CROSS JOIN LATERAL aclexplode(n.nspacl) a
        WHERE a.grantee = source
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    LOOP
        EXECUTE format('GRANT %s TO %I', grant_on.what, to_role);
        EXECUTE format('REVOKE %s FROM %I', grant_on.what, from_role);
        moved := moved + 1;
    END LOOP;
    RETURN moved;
END
$$;

-- Moves the template's privileges to the installation's app role, if one is recorded.
CREATE FUNCTION aura_move_app_grants() RETURNS integer
LANGUAGE sql SET search_path = pg_catalog, public AS $$
    SELECT CASE
        WHEN coalesce(current_setting('aura.app_role', true), '') IN ('', 'aura_app') THEN 0
        ELSE aura_move_grants('aura_app', current_setting('aura.app_role', true))
    END
$$;

-- Only the owner (migrations, db init as superuser) moves grants.
REVOKE ALL ON FUNCTION aura_move_grants(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION aura_move_app_grants() FROM PUBLIC;

SELECT aura_move_app_grants();
