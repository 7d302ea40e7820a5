-- Instances and change notifications (DESIGN decision 11).
--
-- Each gateway process registers itself with a heartbeat. A call records the instance that serves
-- it (the webhook's, then the one holding its media stream); when an instance's heartbeat stops,
-- any live instance closes the calls it left open (end reason gateway_lost). `reconciling_*` is a
-- lease, so several live instances never reconcile the same lost one at once and a reconciler that
-- dies half-way is replaced once the lease runs out.
CREATE TABLE gateway_instances (
  id text PRIMARY KEY,
  host text NOT NULL,
  pid integer NOT NULL,
  started_at timestamptz(3) NOT NULL DEFAULT now(),
  heartbeat_at timestamptz(3) NOT NULL DEFAULT now(),
  stopped_at timestamptz(3),
  reconciling_by text,
  reconciling_until timestamptz(3),
  reconciled_at timestamptz(3)
);
CREATE INDEX gateway_instances_unreconciled_idx ON gateway_instances (heartbeat_at) WHERE reconciled_at IS NULL;

ALTER TABLE calls ADD COLUMN instance_id text;
CREATE INDEX calls_open_by_instance_idx ON calls (instance_id) WHERE ended_at IS NULL;

-- Routing changes are announced on the channel gateway_changes as "table:key", so every instance
-- drops its cached routes, flows and departments at once instead of serving them until a TTL.
CREATE FUNCTION gateway_notify_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  row_key text;
BEGIN
  IF TG_TABLE_NAME = 'numbers' THEN
    row_key := CASE WHEN TG_OP = 'DELETE' THEN OLD.e164 ELSE NEW.e164 END;
  ELSIF TG_TABLE_NAME = 'flows' THEN
    row_key := CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END;
  ELSE
    row_key := CASE WHEN TG_OP = 'DELETE' THEN OLD.name ELSE NEW.name END;
  END IF;
  PERFORM pg_notify('gateway_changes', TG_TABLE_NAME || ':' || row_key);
  RETURN NULL;
END $$;

CREATE TRIGGER numbers_notify_change AFTER INSERT OR UPDATE OR DELETE ON numbers
  FOR EACH ROW EXECUTE FUNCTION gateway_notify_change();
CREATE TRIGGER flows_notify_change AFTER INSERT OR UPDATE OR DELETE ON flows
  FOR EACH ROW EXECUTE FUNCTION gateway_notify_change();
CREATE TRIGGER departments_notify_change AFTER INSERT OR UPDATE OR DELETE ON departments
  FOR EACH ROW EXECUTE FUNCTION gateway_notify_change();
