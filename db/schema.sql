\restrict dbmate

-- Dumped from database version 15.18
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: items_count_added(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.items_count_added() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
  update users u set items_count = u.items_count + added_by.count
  from (select owner_id, count(*) as count from added group by owner_id) added_by
  where u.id = added_by.owner_id;
  return null;
end $$;


--
-- Name: items_count_moved(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.items_count_moved() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: items_count_removed(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.items_count_removed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
  update users u set items_count = u.items_count - removed_by.count
  from (select owner_id, count(*) as count from removed group by owner_id) removed_by
  where u.id = removed_by.owner_id;
  return null;
end $$;


--
-- Name: items_count_truncated(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.items_count_truncated() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
  update users set items_count = 0 where items_count <> 0;
  return null;
end $$;


--
-- Name: row_counts_added(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.row_counts_added() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
declare
  chosen smallint := pg_backend_pid() % 16;
begin
  update row_counts set count = count + (select count(*) from added)
  where table_name = tg_table_name and slot = chosen;
  return null;
end $$;


--
-- Name: row_counts_removed(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.row_counts_removed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
declare
  chosen smallint := pg_backend_pid() % 16;
begin
  update row_counts set count = count - (select count(*) from removed)
  where table_name = tg_table_name and slot = chosen;
  return null;
end $$;


--
-- Name: row_counts_truncated(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.row_counts_truncated() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
  update row_counts set count = 0 where table_name = tg_table_name;
  return null;
end $$;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: idempotency_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.idempotency_keys (
    caller_id bigint NOT NULL,
    key text NOT NULL,
    fingerprint bytea NOT NULL,
    body json NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: items; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.items (
    id bigint NOT NULL,
    title text NOT NULL,
    description text,
    owner_id bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: items_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.items ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.items_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: login_attempts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.login_attempts (
    id bigint NOT NULL,
    client_address text NOT NULL,
    email text NOT NULL,
    attempted_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: login_attempts_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.login_attempts ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.login_attempts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: row_counts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.row_counts (
    table_name text NOT NULL,
    slot smallint NOT NULL,
    count bigint DEFAULT 0 NOT NULL
);


--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_migrations (
    version character varying NOT NULL
);


--
-- Name: sessions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.sessions (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id bigint NOT NULL,
    token_hash bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_used_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    user_agent text,
    client_address text
);


--
-- Name: spent_refresh_tokens; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.spent_refresh_tokens (
    token_hash bytea NOT NULL,
    session_id uuid NOT NULL,
    spent_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: users; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.users (
    id bigint NOT NULL,
    email text NOT NULL,
    hashed_password text NOT NULL,
    is_active boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    is_superuser boolean DEFAULT false NOT NULL,
    full_name text,
    items_count bigint DEFAULT 0 NOT NULL
);


--
-- Name: users_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.users ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.users_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: idempotency_keys idempotency_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.idempotency_keys
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (caller_id, key);


--
-- Name: items items_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.items
    ADD CONSTRAINT items_pkey PRIMARY KEY (id);


--
-- Name: login_attempts login_attempts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.login_attempts
    ADD CONSTRAINT login_attempts_pkey PRIMARY KEY (id);


--
-- Name: row_counts row_counts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.row_counts
    ADD CONSTRAINT row_counts_pkey PRIMARY KEY (table_name, slot);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);


--
-- Name: sessions sessions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (id);


--
-- Name: sessions sessions_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_token_hash_key UNIQUE (token_hash);


--
-- Name: spent_refresh_tokens spent_refresh_tokens_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.spent_refresh_tokens
    ADD CONSTRAINT spent_refresh_tokens_pkey PRIMARY KEY (token_hash);


--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);


--
-- Name: idempotency_keys_created_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idempotency_keys_created_at_idx ON public.idempotency_keys USING btree (created_at);


--
-- Name: items_owner_id_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX items_owner_id_id_idx ON public.items USING btree (owner_id, id);


--
-- Name: login_attempts_address_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX login_attempts_address_idx ON public.login_attempts USING btree (client_address, email, attempted_at);


--
-- Name: login_attempts_attempted_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX login_attempts_attempted_at_idx ON public.login_attempts USING btree (attempted_at);


--
-- Name: sessions_expires_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX sessions_expires_at_idx ON public.sessions USING btree (expires_at);


--
-- Name: sessions_revoked_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX sessions_revoked_at_idx ON public.sessions USING btree (revoked_at) WHERE (revoked_at IS NOT NULL);


--
-- Name: sessions_user_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX sessions_user_id_idx ON public.sessions USING btree (user_id);


--
-- Name: spent_refresh_tokens_session_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX spent_refresh_tokens_session_id_idx ON public.spent_refresh_tokens USING btree (session_id);


--
-- Name: users_email_lower_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX users_email_lower_key ON public.users USING btree (lower((email COLLATE "und-x-icu")));


--
-- Name: items items_counted_delete; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER items_counted_delete AFTER DELETE ON public.items REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION public.row_counts_removed();


--
-- Name: items items_counted_insert; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER items_counted_insert AFTER INSERT ON public.items REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION public.row_counts_added();


--
-- Name: items items_counted_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER items_counted_truncate AFTER TRUNCATE ON public.items FOR EACH STATEMENT EXECUTE FUNCTION public.row_counts_truncated();


--
-- Name: items items_owned_delete; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER items_owned_delete AFTER DELETE ON public.items REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION public.items_count_removed();


--
-- Name: items items_owned_insert; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER items_owned_insert AFTER INSERT ON public.items REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION public.items_count_added();


--
-- Name: items items_owned_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER items_owned_truncate AFTER TRUNCATE ON public.items FOR EACH STATEMENT EXECUTE FUNCTION public.items_count_truncated();


--
-- Name: items items_owned_update; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER items_owned_update AFTER UPDATE ON public.items REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION public.items_count_moved();


--
-- Name: users users_counted_delete; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER users_counted_delete AFTER DELETE ON public.users REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION public.row_counts_removed();


--
-- Name: users users_counted_insert; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER users_counted_insert AFTER INSERT ON public.users REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION public.row_counts_added();


--
-- Name: users users_counted_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER users_counted_truncate AFTER TRUNCATE ON public.users FOR EACH STATEMENT EXECUTE FUNCTION public.row_counts_truncated();


--
-- Name: items items_owner_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.items
    ADD CONSTRAINT items_owner_id_fkey FOREIGN KEY (owner_id) REFERENCES public.users(id) ON DELETE CASCADE;


--
-- Name: sessions sessions_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;


--
-- Name: spent_refresh_tokens spent_refresh_tokens_session_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.spent_refresh_tokens
    ADD CONSTRAINT spent_refresh_tokens_session_id_fkey FOREIGN KEY (session_id) REFERENCES public.sessions(id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--

\unrestrict dbmate


--
-- Dbmate schema migrations
--

INSERT INTO public.schema_migrations (version) VALUES
    ('20261125090000'),
    ('20261125090100'),
    ('20261201090000'),
    ('20261201120000'),
    ('20261202090000'),
    ('20261203090000');
