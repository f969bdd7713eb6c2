-- who placed each order (the token's `sub`; null for orders placed with AUTH=off or before auth)
alter table orders add column if not exists customer_id text;
create index if not exists orders_by_customer on orders (customer_id, id);

-- an Idempotency-Key belongs to the customer who sent it: another customer's identical key must
-- neither replay nor block theirs
alter table idempotency_keys add column if not exists customer_id text not null default '';
alter table idempotency_keys drop constraint if exists idempotency_keys_pkey;
alter table idempotency_keys add primary key (customer_id, key);
