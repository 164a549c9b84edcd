CREATE TABLE `bots` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`key_id` text NOT NULL,
	`key_hash` text NOT NULL,
	`waba_id` text NOT NULL,
	`phone_number_id` text NOT NULL,
	`business_id` text NOT NULL,
	`throughput_mps` integer DEFAULT 80 NOT NULL,
	`mm_lite_restricted` integer DEFAULT false NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `bots_key_id` ON `bots` (`key_id`);--> statement-breakpoint
CREATE INDEX `bots_waba` ON `bots` (`waba_id`);--> statement-breakpoint
CREATE TABLE `campaign_errors` (
	`campaign_id` text NOT NULL,
	`code` integer NOT NULL,
	`title` text,
	`count` integer NOT NULL,
	PRIMARY KEY(`campaign_id`, `code`)
);
--> statement-breakpoint
CREATE TABLE `campaign_timeline` (
	`campaign_id` text NOT NULL,
	`minute` text NOT NULL,
	`accepted` integer DEFAULT 0 NOT NULL,
	`sent` integer DEFAULT 0 NOT NULL,
	`delivered` integer DEFAULT 0 NOT NULL,
	`read` integer DEFAULT 0 NOT NULL,
	`failed` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`campaign_id`, `minute`)
);
--> statement-breakpoint
CREATE TABLE `campaigns` (
	`id` text PRIMARY KEY NOT NULL,
	`bot_id` text NOT NULL,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`template_name` text NOT NULL,
	`template_language` text NOT NULL,
	`template_category` text NOT NULL,
	`route` text NOT NULL,
	`route_reason` text NOT NULL,
	`status` text NOT NULL,
	`total` integer NOT NULL,
	`invalid` integer DEFAULT 0 NOT NULL,
	`duplicates` integer DEFAULT 0 NOT NULL,
	`created_at` text NOT NULL,
	`completed_at` text,
	`count_queued` integer DEFAULT 0 NOT NULL,
	`count_accepted` integer DEFAULT 0 NOT NULL,
	`count_sent` integer DEFAULT 0 NOT NULL,
	`count_delivered` integer DEFAULT 0 NOT NULL,
	`count_read` integer DEFAULT 0 NOT NULL,
	`count_failed` integer DEFAULT 0 NOT NULL,
	`count_cancelled` integer DEFAULT 0 NOT NULL,
	`count_invalid` integer DEFAULT 0 NOT NULL,
	`funnel_accepted` integer DEFAULT 0 NOT NULL,
	`funnel_sent` integer DEFAULT 0 NOT NULL,
	`funnel_delivered` integer DEFAULT 0 NOT NULL,
	`funnel_read` integer DEFAULT 0 NOT NULL,
	`confirmed_mm_lite` integer DEFAULT 0 NOT NULL,
	`confirmed_cloud_api` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX `campaigns_bot` ON `campaigns` (`bot_id`,`id`);--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`bot_id` text NOT NULL,
	`key` text NOT NULL,
	`request_hash` text NOT NULL,
	`response_status` integer,
	`response_body` text,
	`created_at` text NOT NULL,
	PRIMARY KEY(`bot_id`, `key`)
);
--> statement-breakpoint
CREATE INDEX `idempotency_created` ON `idempotency_keys` (`created_at`);--> statement-breakpoint
CREATE TABLE `messages` (
	`id` text PRIMARY KEY NOT NULL,
	`campaign_id` text NOT NULL,
	`bot_id` text NOT NULL,
	`seq` integer NOT NULL,
	`to` text NOT NULL,
	`params` text,
	`components` text,
	`route` text NOT NULL,
	`route_reason` text NOT NULL,
	`status` text NOT NULL,
	`send_intent_at` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`wamid` text,
	`confirmed_route` text,
	`error_code` integer,
	`error_title` text,
	`accepted_at` text,
	`sent_at` text,
	`delivered_at` text,
	`read_at` text,
	`failed_at` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `messages_campaign_seq` ON `messages` (`campaign_id`,`seq`);--> statement-breakpoint
CREATE UNIQUE INDEX `messages_campaign_to` ON `messages` (`campaign_id`,`to`) WHERE status <> 'invalid';--> statement-breakpoint
CREATE UNIQUE INDEX `messages_wamid` ON `messages` (`wamid`) WHERE wamid IS NOT NULL;--> statement-breakpoint
CREATE TABLE `outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`body` text NOT NULL,
	`delay_seconds` integer DEFAULT 0 NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `outbox_created` ON `outbox` (`created_at`);--> statement-breakpoint
CREATE TABLE `wabas` (
	`id` text PRIMARY KEY NOT NULL,
	`business_id` text NOT NULL,
	`type` text NOT NULL,
	`migrated` integer DEFAULT false NOT NULL,
	`onboarding_status` text,
	`legacy_status` text,
	`checked_at` text,
	`activated_at` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
