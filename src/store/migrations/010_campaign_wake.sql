-- A campaign that becomes running (start, resume, a review's requeue reopening it, or an edit in
-- SQL) is announced on the channel gateway_campaigns with its id, so every instance's dialer wakes
-- at once instead of each asking the database every second whether a campaign runs (engine.ts: an
-- idle dialer sleeps on this channel, with a slow poll behind it in case a notification is lost).
CREATE FUNCTION campaign_notify_running() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('gateway_campaigns', NEW.id::text);
  RETURN NULL;
END $$;

CREATE TRIGGER campaigns_notify_running AFTER INSERT OR UPDATE OF state ON campaigns
  FOR EACH ROW WHEN (NEW.state = 'running') EXECUTE FUNCTION campaign_notify_running();
