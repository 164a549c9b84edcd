-- Status webhooks arrive out of order. A stage's time is the earliest time at which the message is
-- known to have reached it (a `read` at 10:05 fills `delivered_at` with 10:05; the `delivered` of
-- 10:01 that arrives afterwards moves it back to 10:01). 0001 counts a time in the funnel and the
-- timeline when it is first set; these triggers move its timeline bucket when it moves later on, and
-- drop a bucket that is left all zero. The funnel needs nothing: the time stays set.
CREATE TRIGGER messages_timeline_sent_moved AFTER UPDATE OF sent_at ON messages
WHEN OLD.sent_at IS NOT NULL AND NEW.sent_at IS NOT NULL
  AND substr(OLD.sent_at, 1, 16) <> substr(NEW.sent_at, 1, 16)
BEGIN
  UPDATE campaign_timeline SET sent = sent - 1
  WHERE campaign_id = NEW.campaign_id AND minute = substr(OLD.sent_at, 1, 16) || ':00Z';
  DELETE FROM campaign_timeline
  WHERE campaign_id = NEW.campaign_id AND minute = substr(OLD.sent_at, 1, 16) || ':00Z'
    AND accepted = 0 AND sent = 0 AND delivered = 0 AND read = 0 AND failed = 0;
  INSERT INTO campaign_timeline (campaign_id, minute, sent)
  VALUES (NEW.campaign_id, substr(NEW.sent_at, 1, 16) || ':00Z', 1)
  ON CONFLICT (campaign_id, minute) DO UPDATE SET sent = sent + 1;
END;
--> statement-breakpoint
CREATE TRIGGER messages_timeline_delivered_moved AFTER UPDATE OF delivered_at ON messages
WHEN OLD.delivered_at IS NOT NULL AND NEW.delivered_at IS NOT NULL
  AND substr(OLD.delivered_at, 1, 16) <> substr(NEW.delivered_at, 1, 16)
BEGIN
  UPDATE campaign_timeline SET delivered = delivered - 1
  WHERE campaign_id = NEW.campaign_id AND minute = substr(OLD.delivered_at, 1, 16) || ':00Z';
  DELETE FROM campaign_timeline
  WHERE campaign_id = NEW.campaign_id AND minute = substr(OLD.delivered_at, 1, 16) || ':00Z'
    AND accepted = 0 AND sent = 0 AND delivered = 0 AND read = 0 AND failed = 0;
  INSERT INTO campaign_timeline (campaign_id, minute, delivered)
  VALUES (NEW.campaign_id, substr(NEW.delivered_at, 1, 16) || ':00Z', 1)
  ON CONFLICT (campaign_id, minute) DO UPDATE SET delivered = delivered + 1;
END;
--> statement-breakpoint
CREATE TRIGGER messages_timeline_read_moved AFTER UPDATE OF read_at ON messages
WHEN OLD.read_at IS NOT NULL AND NEW.read_at IS NOT NULL
  AND substr(OLD.read_at, 1, 16) <> substr(NEW.read_at, 1, 16)
BEGIN
  UPDATE campaign_timeline SET read = read - 1
  WHERE campaign_id = NEW.campaign_id AND minute = substr(OLD.read_at, 1, 16) || ':00Z';
  DELETE FROM campaign_timeline
  WHERE campaign_id = NEW.campaign_id AND minute = substr(OLD.read_at, 1, 16) || ':00Z'
    AND accepted = 0 AND sent = 0 AND delivered = 0 AND read = 0 AND failed = 0;
  INSERT INTO campaign_timeline (campaign_id, minute, read)
  VALUES (NEW.campaign_id, substr(NEW.read_at, 1, 16) || ':00Z', 1)
  ON CONFLICT (campaign_id, minute) DO UPDATE SET read = read + 1;
END;
