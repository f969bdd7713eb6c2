-- An order's journey, one row per step (accepted, published, resent, product's answer, the final
-- status, cancelled, stock released), each written in the statement or transaction of the change
-- it records, so the timeline is what happened, never rebuilt from logs. `seq` numbers an order's
-- steps in commit order: every writer takes the next from `orders.last_step` on the order's row,
-- which it holds locked until it commits, so a reader that saw step n has seen every step before
-- it (the event stream resumes from there). Orders from before this migration start at 1 with
-- the next thing that happens to them.
create table if not exists order_steps (
  order_id uuid not null references orders (id) on delete cascade,
  seq integer not null,
  kind text not null,
  at timestamptz not null default now(),
  -- the event the step is about, when there is one: a redelivered event records nothing twice
  event_id uuid,
  data jsonb not null default '{}',
  primary key (order_id, seq)
);
create unique index if not exists order_steps_by_event on order_steps (order_id, event_id) where event_id is not null;

-- constant defaults and a nullable column: no table rewrite
alter table orders add column if not exists last_step integer not null default 0;
-- stock answers that came after the one that counted (redeliveries, answers to a resend)
alter table orders add column if not exists repeated_answers integer not null default 0;
-- the W3C trace id of the request that placed it (its span, or the traceparent it came with)
alter table orders add column if not exists trace_id text;
