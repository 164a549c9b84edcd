DROP INDEX `webhook_inbox_received`;--> statement-breakpoint
ALTER TABLE `webhook_inbox` ADD `enqueued_at` text;--> statement-breakpoint
CREATE INDEX `webhook_inbox_enqueued` ON `webhook_inbox` (`enqueued_at`);