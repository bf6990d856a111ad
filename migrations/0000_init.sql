CREATE TABLE "execution_logs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"script_id" uuid NOT NULL,
	"script_name" text NOT NULL,
	"version" integer NOT NULL,
	"trigger" text NOT NULL,
	"status" text NOT NULL,
	"reason" text NOT NULL,
	"request" jsonb NOT NULL,
	"response" jsonb,
	"logs" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"logs_truncated" boolean DEFAULT false NOT NULL,
	"error" jsonb,
	"duration_ms" real NOT NULL,
	"cpu_ms" real NOT NULL,
	"node_id" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "invoke_keys" (
	"id" uuid PRIMARY KEY NOT NULL,
	"script_id" uuid NOT NULL,
	"name" text NOT NULL,
	"prefix" text NOT NULL,
	"key_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "script_versions" (
	"script_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"source" text NOT NULL,
	"compiled" text NOT NULL,
	"rolled_back_from" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "script_versions_script_id_version_pk" PRIMARY KEY("script_id","version")
);
--> statement-breakpoint
CREATE TABLE "scripts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"current_version" integer NOT NULL,
	"visibility" text DEFAULT 'public' NOT NULL,
	"limits" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"env" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"id_hash" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "invoke_keys" ADD CONSTRAINT "invoke_keys_script_id_scripts_id_fk" FOREIGN KEY ("script_id") REFERENCES "public"."scripts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "script_versions" ADD CONSTRAINT "script_versions_script_id_scripts_id_fk" FOREIGN KEY ("script_id") REFERENCES "public"."scripts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "execution_logs_script_id_idx" ON "execution_logs" USING btree ("script_id","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "execution_logs_script_status_id_idx" ON "execution_logs" USING btree ("script_id","status","id" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "invoke_keys_hash_key" ON "invoke_keys" USING btree ("key_hash");--> statement-breakpoint
CREATE INDEX "invoke_keys_script_idx" ON "invoke_keys" USING btree ("script_id");--> statement-breakpoint
CREATE UNIQUE INDEX "scripts_name_key" ON "scripts" USING btree ("name");--> statement-breakpoint
CREATE INDEX "sessions_expires_idx" ON "sessions" USING btree ("expires_at");