create table if not exists products (
  id uuid primary key,
  name text not null,
  price numeric(12, 2) not null check (price >= 0),
  -- the last line of defence: whatever the code does, stock never goes below zero
  qty integer not null check (qty >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- one row per order that asked for stock: the guard that takes stock at most once per order
-- (event_id records which order.created did it), and what cancel gives back
create table if not exists reservations (
  order_id uuid primary key,
  event_id uuid not null,
  product_id uuid not null,
  qty integer not null check (qty > 0),
  status text not null check (status in ('reserved', 'rejected', 'released')),
  reason text,
  created_at timestamptz not null default now(),
  released_at timestamptz
);
