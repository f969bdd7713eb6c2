-- The safety net asks product again about an order still pending, backing off per order: after
-- PENDING_RESEND_AFTER_SECONDS, then twice, four times as long ... at most
-- PENDING_RESEND_MAX_SECONDS apart. `last_asked_at` is when it last asked (null: never, count
-- from created_at), so `updated_at` keeps meaning "the order changed".
alter table orders add column if not exists resends integer not null default 0;
alter table orders add column if not exists last_asked_at timestamptz;
