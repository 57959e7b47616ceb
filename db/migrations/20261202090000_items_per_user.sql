-- migrate:up
-- A user's items in id order straight from one index, so that its first page (embedded in the user)
-- and its own list read at most a page of rows however many items it owns, whatever the planner's
-- statistics say. The owner's own index is a prefix of it.
create index items_owner_id_id_idx on items (owner_id, id);
drop index items_owner_id_idx;

-- How many items each user owns, kept by triggers in the writing transaction: a user answers it
-- without counting, and an insert checks the per-user cap against it under the owner's row lock
-- (race-free: a locked row's condition is checked again on its newest version).
--
-- Writers are held off while items are counted and the triggers made, so no write falls between.
lock table users, items in share row exclusive mode;

alter table users add column items_count bigint not null default 0;

update users u set items_count = owned.count
from (select owner_id, count(*) as count from items group by owner_id) owned
where u.id = owned.owner_id;

create function items_count_added() returns trigger language plpgsql as $$
begin
  update users u set items_count = u.items_count + added_by.count
  from (select owner_id, count(*) as count from added group by owner_id) added_by
  where u.id = added_by.owner_id;
  return null;
end $$;

-- A user's deletion removes its items by cascade: its own row is gone, and nothing is updated.
create function items_count_removed() returns trigger language plpgsql as $$
begin
  update users u set items_count = u.items_count - removed_by.count
  from (select owner_id, count(*) as count from removed group by owner_id) removed_by
  where u.id = removed_by.owner_id;
  return null;
end $$;

-- The API never moves an item to another owner; SQL may.
create function items_count_moved() returns trigger language plpgsql as $$
begin
  update users u set items_count = u.items_count + moves.change
  from (
    select owner_id, sum(change) as change from (
      select n.owner_id, 1 as change from removed o join added n using (id) where o.owner_id <> n.owner_id
      union all
      select o.owner_id, -1 from removed o join added n using (id) where o.owner_id <> n.owner_id
    ) moved group by owner_id
  ) moves
  where u.id = moves.owner_id;
  return null;
end $$;

create function items_count_truncated() returns trigger language plpgsql as $$
begin
  update users set items_count = 0 where items_count <> 0;
  return null;
end $$;

create trigger items_owned_insert after insert on items
  referencing new table as added for each statement execute function items_count_added();
create trigger items_owned_delete after delete on items
  referencing old table as removed for each statement execute function items_count_removed();
create trigger items_owned_update after update on items
  referencing old table as removed new table as added for each statement execute function items_count_moved();
create trigger items_owned_truncate after truncate on items
  for each statement execute function items_count_truncated();

-- migrate:down
drop trigger items_owned_truncate on items;
drop trigger items_owned_update on items;
drop trigger items_owned_delete on items;
drop trigger items_owned_insert on items;
drop function items_count_truncated();
drop function items_count_moved();
drop function items_count_removed();
drop function items_count_added();
alter table users drop column items_count;
create index items_owner_id_idx on items (owner_id);
drop index items_owner_id_id_idx;
