create table if not exists orders (
  id uuid primary key,
  product_id uuid not null,
  qty integer not null check (qty > 0),
  unit_price numeric(12, 2) not null check (unit_price >= 0),
  total_price numeric(20, 2) not null check (total_price >= 0),
  status text not null check (status in ('pending', 'confirmed', 'rejected', 'cancelled')),
  rejection_reason text,
  request_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index if not exists orders_by_product on orders (product_id, id);

-- Idempotency-Key -> the order it created, and a hash of the body it came with (kept 24 h)
create table if not exists idempotency_keys (
  key text primary key,
  request_hash text not null,
  order_id uuid not null references orders (id) on delete cascade,
  created_at timestamptz not null default now()
);
create index if not exists idempotency_keys_age on idempotency_keys (created_at);
