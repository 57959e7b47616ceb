-- migrate:up
alter table users
  add column is_superuser boolean not null default false,
  add column full_name text;

-- One row per session (a login, and the family of refresh tokens that follow it; its id is the
-- `sid` of its access tokens). Only a hash of its current refresh token is kept. Refreshing and
-- revoking both update this one row, so its lock orders them: a revocation never misses a token
-- that a concurrent refresh was issuing.
create table sessions (
  id uuid primary key default gen_random_uuid(),
  user_id bigint not null references users (id) on delete cascade,
  token_hash bytea not null unique,
  created_at timestamptz not null default now(),
  last_used_at timestamptz not null default now(),
  -- The absolute end: refreshing never extends it.
  expires_at timestamptz not null,
  revoked_at timestamptz,
  user_agent text,
  client_address text
);

create index sessions_user_id_idx on sessions (user_id);
-- What the sweep looks for: sessions past their end, or revoked.
create index sessions_expires_at_idx on sessions (expires_at);
create index sessions_revoked_at_idx on sessions (revoked_at) where revoked_at is not null;

-- Hashes of the refresh tokens a session has already swapped for new ones: presenting one again is
-- a replay (a stolen copy, or a client's retry), and ends the session.
create table spent_refresh_tokens (
  token_hash bytea primary key,
  session_id uuid not null references sessions (id) on delete cascade,
  spent_at timestamptz not null default now()
);

create index spent_refresh_tokens_session_id_idx on spent_refresh_tokens (session_id);

-- Failed (and in-flight) logins and password checks, for throttling by client address and email
-- across instances.
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
drop table spent_refresh_tokens;
drop table sessions;
alter table users drop column full_name, drop column is_superuser;
