-- Text search on name and description. A stored tsvector with a GIN index stays fast at
-- millions of rows where ILIKE '%q%' would scan; the 'simple' configuration does no stemming,
-- so identifiers match as typed, by prefix. Punctuation is turned into spaces first, so the parts
-- of paths, host names and rule ids ("/etc/shadow", "prod-web-01") are words of their own, the
-- same split the API applies to the query.
ALTER TABLE alerts
    ADD COLUMN search_vector TSVECTOR GENERATED ALWAYS AS (
        to_tsvector('simple'::regconfig, regexp_replace(
            coalesce(alert_name, '') || ' ' || coalesce(description, ''), '[[:punct:][:space:]]+', ' ', 'g'))
    ) STORED;
CREATE INDEX alerts_search_idx ON alerts USING GIN (search_vector);

-- ISO-8601 in UTC with a T and a Z, microseconds kept so keyset cursors round-trip exactly.
CREATE OR REPLACE FUNCTION af_iso(ts TIMESTAMP WITH TIME ZONE) RETURNS TEXT
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$;
