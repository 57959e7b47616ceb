-- migrate:up
alter table users
  add column is_superuser boolean not null default false,
  add column full_name text;

-- One row per refresh token ever issued. A login starts a session (`family`, the `sid` of its access
-- tokens); each refresh marks the token it used (`rotated_at`) and adds the next one. Only a hash of a
-- token is kept. A token presented again after its rotation revokes the whole family.
create table sessions (
  id bigint generated always as identity primary key,
  family uuid not null,
  user_id bigint not null references users (id) on delete cascade,
  token_hash bytea not null unique,
  -- When the session began (the login), when this token was issued, and the session's absolute end.
  created_at timestamptz not null,
  last_used_at timestamptz not null default now(),
  expires_at timestamptz not null,
  rotated_at timestamptz,
  revoked_at timestamptz,
  user_agent text,
  client_address text
);

-- A session has one current token: this index makes a second one impossible (a double refresh
-- cannot fork a session) and is what every request's liveness check reads.
create unique index sessions_current_key on sessions (family) where rotated_at is null;
create index sessions_user_id_idx on sessions (user_id) where rotated_at is null;
create index sessions_expires_at_idx on sessions (expires_at);

-- Failed (and in-flight) logins, for throttling by client address and email across instances.
create table login_attempts (
  id bigint generated always as identity primary key,
  client_address text not null,
  email text not null,
  attempted_at timestamptz not null default now()
);

create index login_attempts_address_idx on login_attempts (client_address, email, attempted_at);
create index login_attempts_attempted_at_idx on login_attempts (attempted_at);

-- migrate:down
drop table login_attempts;
drop table sessions;
alter table users drop column full_name, drop column is_superuser;
