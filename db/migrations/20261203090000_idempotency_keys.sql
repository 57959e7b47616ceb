-- migrate:up
-- Creating requests sent with an Idempotency-Key: the first answer's body, kept for 24 hours so that
-- a retry gets it again instead of making a second row. Written in the same transaction as the row
-- it made, so a key is stored exactly when its write committed. Keys of different callers never
-- meet: caller_id is the authenticated user, or 0 for a request without one (sign-up).
create table idempotency_keys (
    caller_id bigint not null,
    key text not null,
    -- An HMAC (SECRET_KEY) of the method, the path and the body: it tells a different request from
    -- a retry without keeping the body, whose password a plain hash would let anyone guess offline.
    fingerprint bytea not null,
    -- `json`, not `jsonb`: the replay keeps the first answer's field order.
    body json not null,
    created_at timestamptz not null default now(),
    primary key (caller_id, key)
);

create index idempotency_keys_created_at_idx on idempotency_keys (created_at);

-- migrate:down
drop table idempotency_keys;
