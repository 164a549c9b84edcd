-- Campaign performance is maintained incrementally by triggers, in the same transaction as the
-- message change that causes it: counts per status, the funnel (each stage's time set once), the
-- confirmed route split, failed recipients per error code, and per-minute timeline buckets.
-- Intake sets the initial queued / invalid counts itself (one UPDATE instead of a trigger per row).

CREATE TRIGGER messages_status_counts AFTER UPDATE OF status ON messages
WHEN OLD.status <> NEW.status
BEGIN
  UPDATE campaigns SET
    count_queued = count_queued - (OLD.status = 'queued') + (NEW.status = 'queued'),
    count_accepted = count_accepted - (OLD.status = 'accepted') + (NEW.status = 'accepted'),
    count_sent = count_sent - (OLD.status = 'sent') + (NEW.status = 'sent'),
    count_delivered = count_delivered - (OLD.status = 'delivered') + (NEW.status = 'delivered'),
    count_read = count_read - (OLD.status = 'read') + (NEW.status = 'read'),
    count_failed = count_failed - (OLD.status = 'failed') + (NEW.status = 'failed'),
    count_cancelled = count_cancelled - (OLD.status = 'cancelled') + (NEW.status = 'cancelled'),
    count_invalid = count_invalid - (OLD.status = 'invalid') + (NEW.status = 'invalid')
  WHERE id = NEW.campaign_id;
END;
--> statement-breakpoint
CREATE TRIGGER messages_failed_errors AFTER UPDATE OF status ON messages
WHEN NEW.status = 'failed' AND OLD.status <> 'failed'
BEGIN
  INSERT INTO campaign_errors (campaign_id, code, title, count)
  VALUES (NEW.campaign_id, COALESCE(NEW.error_code, -1), NEW.error_title, 1)
  ON CONFLICT (campaign_id, code) DO UPDATE SET count = count + 1;
END;
--> statement-breakpoint
CREATE TRIGGER messages_unfailed_errors AFTER UPDATE OF status ON messages
WHEN OLD.status = 'failed' AND NEW.status <> 'failed'
BEGIN
  UPDATE campaign_errors SET count = count - 1
  WHERE campaign_id = NEW.campaign_id AND code = COALESCE(OLD.error_code, -1);
END;
--> statement-breakpoint
CREATE TRIGGER messages_funnel_accepted AFTER UPDATE OF accepted_at ON messages
WHEN OLD.accepted_at IS NULL AND NEW.accepted_at IS NOT NULL
BEGIN
  UPDATE campaigns SET funnel_accepted = funnel_accepted + 1 WHERE id = NEW.campaign_id;
  INSERT INTO campaign_timeline (campaign_id, minute, accepted)
  VALUES (NEW.campaign_id, substr(NEW.accepted_at, 1, 16) || ':00Z', 1)
  ON CONFLICT (campaign_id, minute) DO UPDATE SET accepted = accepted + 1;
END;
--> statement-breakpoint
CREATE TRIGGER messages_funnel_sent AFTER UPDATE OF sent_at ON messages
WHEN OLD.sent_at IS NULL AND NEW.sent_at IS NOT NULL
BEGIN
  UPDATE campaigns SET funnel_sent = funnel_sent + 1 WHERE id = NEW.campaign_id;
  INSERT INTO campaign_timeline (campaign_id, minute, sent)
  VALUES (NEW.campaign_id, substr(NEW.sent_at, 1, 16) || ':00Z', 1)
  ON CONFLICT (campaign_id, minute) DO UPDATE SET sent = sent + 1;
END;
--> statement-breakpoint
CREATE TRIGGER messages_funnel_delivered AFTER UPDATE OF delivered_at ON messages
WHEN OLD.delivered_at IS NULL AND NEW.delivered_at IS NOT NULL
BEGIN
  UPDATE campaigns SET funnel_delivered = funnel_delivered + 1 WHERE id = NEW.campaign_id;
  INSERT INTO campaign_timeline (campaign_id, minute, delivered)
  VALUES (NEW.campaign_id, substr(NEW.delivered_at, 1, 16) || ':00Z', 1)
  ON CONFLICT (campaign_id, minute) DO UPDATE SET delivered = delivered + 1;
END;
--> statement-breakpoint
CREATE TRIGGER messages_funnel_read AFTER UPDATE OF read_at ON messages
WHEN OLD.read_at IS NULL AND NEW.read_at IS NOT NULL
BEGIN
  UPDATE campaigns SET funnel_read = funnel_read + 1 WHERE id = NEW.campaign_id;
  INSERT INTO campaign_timeline (campaign_id, minute, read)
  VALUES (NEW.campaign_id, substr(NEW.read_at, 1, 16) || ':00Z', 1)
  ON CONFLICT (campaign_id, minute) DO UPDATE SET read = read + 1;
END;
--> statement-breakpoint
CREATE TRIGGER messages_timeline_failed AFTER UPDATE OF failed_at ON messages
WHEN OLD.failed_at IS NULL AND NEW.failed_at IS NOT NULL
BEGIN
  INSERT INTO campaign_timeline (campaign_id, minute, failed)
  VALUES (NEW.campaign_id, substr(NEW.failed_at, 1, 16) || ':00Z', 1)
  ON CONFLICT (campaign_id, minute) DO UPDATE SET failed = failed + 1;
END;
--> statement-breakpoint
CREATE TRIGGER messages_confirmed_route AFTER UPDATE OF confirmed_route ON messages
WHEN OLD.confirmed_route IS NOT NEW.confirmed_route
BEGIN
  UPDATE campaigns SET
    confirmed_mm_lite = confirmed_mm_lite - (OLD.confirmed_route IS 'mm_lite') + (NEW.confirmed_route IS 'mm_lite'),
    confirmed_cloud_api = confirmed_cloud_api - (OLD.confirmed_route IS 'cloud_api') + (NEW.confirmed_route IS 'cloud_api')
  WHERE id = NEW.campaign_id;
END;
