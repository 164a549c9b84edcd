CREATE TABLE `marketing_opt_outs` (
	`waba_id` text NOT NULL,
	`wa_id` text NOT NULL,
	`opted_out` integer NOT NULL,
	`at` text NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`waba_id`, `wa_id`)
);
--> statement-breakpoint
CREATE TABLE `message_pricing` (
	`wamid` text PRIMARY KEY NOT NULL,
	`route` text NOT NULL,
	`at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `message_pricing_updated` ON `message_pricing` (`updated_at`);--> statement-breakpoint
CREATE TABLE `pending_statuses` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`wamid` text NOT NULL,
	`payload` text NOT NULL,
	`received_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `pending_statuses_wamid` ON `pending_statuses` (`wamid`);--> statement-breakpoint
CREATE INDEX `pending_statuses_received` ON `pending_statuses` (`received_at`);--> statement-breakpoint
CREATE TABLE `webhook_dead_letters` (
	`id` text PRIMARY KEY NOT NULL,
	`body` text,
	`inbox_id` text,
	`received_at` text,
	`attempts` integer NOT NULL,
	`dead_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `webhook_dead_letters_dead` ON `webhook_dead_letters` (`dead_at`);--> statement-breakpoint
CREATE TABLE `webhook_inbox` (
	`id` text PRIMARY KEY NOT NULL,
	`body` text NOT NULL,
	`received_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `webhook_inbox_received` ON `webhook_inbox` (`received_at`);