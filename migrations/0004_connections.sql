CREATE TABLE `mm_lite_connections` (
	`id` text PRIMARY KEY NOT NULL,
	`bot_id` text NOT NULL,
	`business_id` text NOT NULL,
	`waba_ids` text NOT NULL,
	`phone_number_ids` text NOT NULL,
	`ad_account_ids` text NOT NULL,
	`migrated_waba_ids` text NOT NULL,
	`created_at` text NOT NULL,
	`sync_until` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `mm_lite_connections_bot` ON `mm_lite_connections` (`bot_id`,`id`);--> statement-breakpoint
ALTER TABLE `wabas` ADD `connection_id` text;--> statement-breakpoint
ALTER TABLE `wabas` ADD `sync_settled_at` text;