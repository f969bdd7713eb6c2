-- a note, and when its own note.added came back from the broker (null until then)
create table if not exists notes (
  id uuid primary key,
  text text not null,
  heard_at timestamptz,
  created_at timestamptz not null default now()
);
