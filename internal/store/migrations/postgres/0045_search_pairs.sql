-- Phrases on PostgreSQL (issue 16 item 4): an index of neighbouring word pairs.
--
-- GIN indexes of tsvectors hold words without their positions, so a phrase of two
-- common words ("blender warranty": each word in a third of the tickets, the phrase in
-- under 1%) could only be found by reading every row that has both words, or by
-- walking the account's rows newest first until enough of them have the phrase: the
-- whole account when fewer than 1,000 tickets do (0.8 s of PostgreSQL's time at
-- 100,000 tickets, the outside suite's search). These indexes hold each row's pairs of
-- neighbouring words as one lexeme ('blender warranty'), read from the positions of the
-- stored vector itself, so that a phrase is one index entry per pair, and the planner's
-- statistics (ANALYZE collects them for an index expression) see how common it is.
-- Searches keep the exact phrase condition on the stored vector beside it: the pairs
-- are a superset (a pair across the seam of subject and description too), never less.
-- No new column: the pairs are computed when a row is indexed, and a query asks the
-- index (internal/search/text.go, pgPairs). The function is costly (it unnests the
-- vector), so it is declared so: the planner must not evaluate it row by row in a walk.
CREATE FUNCTION tandem_pairs(v tsvector) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT COST 10000
    AS $$ SELECT array_to_tsvector(COALESCE(array_agg(DISTINCT a.l || ' ' || b.l), '{}'))
          FROM (SELECT u.lexeme AS l, p FROM unnest(v) u, unnest(u.positions) p) a
          JOIN (SELECT u.lexeme AS l, p FROM unnest(v) u, unnest(u.positions) p) b ON b.p = a.p + 1 $$;

-- The pairs of a phrase's words as a query (each pair required), split into words as
-- stored text is (tandem_comment_tsv), so that both sides pair the same lexemes.
CREATE FUNCTION tandem_pairs_query(words TEXT) RETURNS tsquery
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT string_agg('''' || replace(replace(x, '\', '\\'), '''', '''''') || '''', ' & ')::tsquery
          FROM unnest(tsvector_to_array(tandem_pairs(tandem_comment_tsv(words)))) x $$;

CREATE INDEX tickets_search_pairs ON tickets USING GIN (tandem_pairs(search_tsv)) WHERE deleted_at = 0;
CREATE INDEX ticket_comments_search_pairs ON ticket_comments USING GIN (tandem_pairs(search_tsv));

ANALYZE tickets;
ANALYZE ticket_comments;

-- A search's walks run without parallel workers: a walk stops after a few thousand rows,
-- and starting two workers for it cost more than the walk (a common word's comment walk
-- took 165 ms with a Gather Merge of two workers and 69 ms without, at 100,000 tickets
-- on two cores). A query that calls a PARALLEL UNSAFE function is planned without
-- workers; this one returns true, once a statement (it takes no column).
CREATE FUNCTION tandem_serial() RETURNS boolean
    LANGUAGE plpgsql STABLE PARALLEL UNSAFE
    AS $$ BEGIN RETURN TRUE; END $$;
