-- Transactional outbox: events are written in the same transaction as the state they describe
-- and published by the relay (outbox.ts) with publisher confirms.
create table if not exists outbox (
  id bigint generated always as identity primary key,
  event_id uuid not null unique,
  routing_key text not null,
  payload jsonb not null,
  headers jsonb not null default '{}',
  created_at timestamptz not null default now(),
  published_at timestamptz
);
create index if not exists outbox_unpublished on outbox (id) where published_at is null;

-- wake the relay at commit instead of making it poll
create or replace function outbox_notify() returns trigger language plpgsql as $$
begin
  perform pg_notify('outbox', '');
  return null;
end $$;
drop trigger if exists outbox_notify on outbox;
create trigger outbox_notify after insert on outbox for each statement execute function outbox_notify();
