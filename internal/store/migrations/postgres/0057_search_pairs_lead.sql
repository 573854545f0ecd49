-- What a ticket create costs PostgreSQL (issue 16 item 3; docs/BENCHMARKS.md, branch
-- pgwrite): the word pairs' function again, cheaper, computing the same vector.
--
-- tandem_pairs (migrations 0045, 0048) runs for every ticket and comment written, for
-- the pair indexes. It joined the vector's (lexeme, position) rows with themselves on
-- position + 1 and removed duplicate pairs with a sort. Now one pass over the rows in
-- position order pairs each word with the next row's (lead), and array_to_tsvector,
-- which sorts and removes duplicates itself, needs no DISTINCT. That is the same result
-- when no two lexemes share a position. Text split as Tandem splits it gives each word
-- its own position, except that PostgreSQL stores every position past 16,383 as 16,383:
-- when a vector has a shared position (the next row's position equals the row's own)
-- the function answers with the old query, so that the result is the same for every
-- vector and the indexes built with the old body stay valid. 6,000 vectors of the
-- outside suite's tickets and comments (about 32 words each): 1.2-1.3 s of a backend's
-- CPU before, 0.89-0.94 s after, the same vectors.
CREATE OR REPLACE FUNCTION tandem_pairs(v tsvector) RETURNS tsvector
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT COST 10000
    AS $$
DECLARE
    pairs tsvector;
    shared boolean;
BEGIN
    SELECT array_to_tsvector(COALESCE(array_agg(b.l || ' ' || b.n) FILTER (WHERE b.np = b.p + 1), '{}')),
           bool_or(b.np = b.p)
        INTO pairs, shared
        FROM (SELECT a.l, a.p, lead(a.l) OVER w AS n, lead(a.p) OVER w AS np
              FROM (SELECT u.lexeme AS l, p FROM unnest(v) u, unnest(u.positions) p) a
              WINDOW w AS (ORDER BY a.p)) b;
    IF shared THEN
        RETURN (SELECT array_to_tsvector(COALESCE(array_agg(DISTINCT a.l || ' ' || b.l), '{}'))
            FROM (SELECT u.lexeme AS l, p FROM unnest(v) u, unnest(u.positions) p) a
            JOIN (SELECT u.lexeme AS l, p FROM unnest(v) u, unnest(u.positions) p) b ON b.p = a.p + 1);
    END IF;
    RETURN pairs;
END $$;
