BEGIN;
SELECT set_config('app.tenant_id', '{tenant}', true);
COMMIT;
