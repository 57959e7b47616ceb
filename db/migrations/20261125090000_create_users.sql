-- migrate:up
create table users (
  id bigint generated always as identity primary key,
  email text not null,
  hashed_password text not null,
  is_active boolean not null default true,
  created_at timestamptz not null default now()
);

-- Emails are unique regardless of case; the index, not a check before the insert, enforces it.
-- ICU's root collation lower-cases every script ("Ü" too), whatever locale the cluster has;
-- under the C locale plain lower() folds only ASCII.
create unique index users_email_lower_key on users (lower(email collate "und-x-icu"));

-- migrate:down
drop table users;
