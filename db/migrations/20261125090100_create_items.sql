-- migrate:up
create table items (
  id bigint generated always as identity primary key,
  title text not null,
  description text,
  owner_id bigint not null references users (id) on delete cascade,
  created_at timestamptz not null default now()
);

create index items_owner_id_idx on items (owner_id);

-- migrate:down
drop table items;
