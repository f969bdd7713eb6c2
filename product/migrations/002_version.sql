-- a product's version: grows by one with every change of its row (name, price or stock, whether
-- by PATCH, an order taking stock or a cancel giving it back). HTTP sends it as the ETag, and a
-- write sent with If-Match changes the row only while it still has that version. Rows from
-- before start at 1 (a constant default: no table rewrite).
alter table products add column if not exists version integer not null default 1;
