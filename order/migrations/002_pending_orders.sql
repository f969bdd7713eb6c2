-- the reconciler looks for orders that waited too long for their stock answer
create index if not exists orders_pending on orders (updated_at) where status = 'pending';
