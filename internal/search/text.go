package search

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"tandem/internal/ids"
	"tandem/internal/store"
)

// sqliteText matches text with FTS5 (migration sqlite/0004_search.sql).
type sqliteText struct {
	// gap is rangeGap (smaller in tests).
	gap int64
}

// fts5Phrase quotes words as one FTS5 string, which FTS5 reads as a phrase; a trailing *
// makes the last word a prefix. Inside a string FTS5 syntax has no meaning, so user
// input cannot change the query's structure; the words hold only letters and digits,
// and quotes are doubled anyway.
func fts5Phrase(words []string, prefix bool) string {
	s := `"` + strings.ReplaceAll(strings.Join(words, " "), `"`, `""`) + `"`
	if prefix {
		s += " *"
	}
	return s
}

// The FTS tables drive these joins (CROSS JOIN fixes the order in SQLite): a match
// costs one lookup, where a plan starting from the account's rows would run the MATCH
// for every ticket. The comment lookup reads a narrow covering index rather than the
// comment rows with their three copies of the body.
func (sqliteText) ticketMatches(acct ids.Account, field string, words []string, prefix bool) (string, []any) {
	phrase := fts5Phrase(words, prefix)
	tickets := `SELECT x.id FROM tickets_fts CROSS JOIN tickets x ON x.rowid = tickets_fts.rowid WHERE x.account_id = ? AND tickets_fts MATCH ?`
	if field != "" {
		// A column filter; field is "subject" or "description", never user text.
		return tickets, []any{acct, "{" + field + "} : " + phrase}
	}
	comments := `SELECT c.ticket_id FROM ticket_comments_fts CROSS JOIN ticket_comments c INDEXED BY ticket_comments_fts_key ON c.id = ticket_comments_fts.rowid WHERE c.account_id = ? AND ticket_comments_fts MATCH ?`
	return tickets + " UNION " + comments, []any{acct, phrase, acct, phrase}
}

// SQLite plans a text search best from the matches: its planner cannot tell how many
// rows an IN (subquery) holds.
func (sqliteText) drives() bool { return true }

func (sqliteText) jsonHasString(col, value string, prefix bool) (string, []any) {
	if prefix {
		return "EXISTS (SELECT 1 FROM json_each(" + col + `) j WHERE LOWER(j.value) LIKE ? ESCAPE '\')`, []any{escapeLike(value) + "%"}
	}
	return "EXISTS (SELECT 1 FROM json_each(" + col + ") j WHERE LOWER(j.value) = ?)", []any{value}
}

func (sqliteText) jsonEmpty(col string) string {
	return "NOT EXISTS (SELECT 1 FROM json_each(" + col + ") j WHERE j.type = 'text')"
}

// postgresText matches text with the tsvector columns and GIN indexes of migration
// postgres/0004_search.sql.
type postgresText struct{}

// tsLexeme quotes a word as a tsquery lexeme (weight "A" for the subject, "B" for the
// description, "" for any). The words hold only letters and digits; quotes and
// backslashes are escaped anyway, so user input cannot add tsquery operators.
func tsLexeme(w string, prefix bool, weight string) string {
	s := "'" + strings.ReplaceAll(strings.ReplaceAll(w, `\`, `\\`), "'", "''") + "'"
	if prefix || weight != "" {
		s += ":"
		if prefix {
			s += "*"
		}
		s += weight
	}
	return s
}

// tsPhrase joins words with the followed-by operator.
func tsPhrase(words []string, prefix bool, weight string) string {
	parts := make([]string, len(words))
	for i, w := range words {
		parts[i] = tsLexeme(w, prefix && i == len(words)-1, weight)
	}
	return strings.Join(parts, " <-> ")
}

func (postgresText) ticketMatches(acct ids.Account, field string, words []string, prefix bool) (string, []any) {
	col, q := pgTicketQuery("x", field, words, prefix)
	tickets := `SELECT x.id FROM tickets x WHERE x.account_id = ? AND x.deleted_at = 0 AND ` + col + ` @@ to_tsquery('simple', ?)`
	if field != "" {
		return tickets, []any{acct, q}
	}
	comments := `SELECT c.ticket_id FROM ticket_comments c WHERE c.account_id = ? AND c.search_tsv @@ to_tsquery('simple', ?)`
	return tickets + " UNION " + comments, []any{acct, q, acct, tsPhrase(words, prefix, "")}
}

// PostgreSQL's planner weighs an IN (subquery) with statistics; it needs no help.
func (postgresText) drives() bool { return false }

// jsonArray reads a JSON text column as a jsonb array ([] when it holds anything else).
func jsonArray(col string) string {
	return "(CASE jsonb_typeof(" + col + "::jsonb) WHEN 'array' THEN " + col + "::jsonb ELSE '[]'::jsonb END)"
}

func (postgresText) jsonHasString(col, value string, prefix bool) (string, []any) {
	if prefix {
		return "EXISTS (SELECT 1 FROM jsonb_array_elements_text(" + jsonArray(col) + `) e(v) WHERE LOWER(e.v) LIKE ? ESCAPE '\')`, []any{escapeLike(value) + "%"}
	}
	return "EXISTS (SELECT 1 FROM jsonb_array_elements_text(" + jsonArray(col) + ") e(v) WHERE LOWER(e.v) = ?)", []any{value}
}

func (postgresText) jsonEmpty(col string) string {
	return "jsonb_array_length(" + jsonArray(col) + ") = 0"
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// walkSource is one place a text term's ticket matches come from (the subject and
// description, or the comments), as a query that walks them from the newest written
// row backwards: SELECT pos, t.id, sort, key FROM from WHERE match AND pos < ? AND
// (conditions on t) ORDER BY pos DESC LIMIT ?. pos is the row's place in write order
// (its rowid or id), key the time it was written.
type walkSource struct {
	from, match string
	args        []any
	pos, key    string
	// order, when set, is the walk's ORDER BY, newest first in the order of pos (by
	// default pos DESC).
	order string
	// custom (PostgreSQL) plans the walk's statement with its arguments each time it
	// runs, never with the generic plan PostgreSQL may keep for a prepared statement
	// after five runs (see walkArgs).
	custom bool
	// probe counts up to LIMIT ? matches, cheaply, to choose which text term to walk.
	probe     string
	probeArgs []any
	// pairs (PostgreSQL), when set, selects the positions (pos) of the source's rows
	// that hold every word pair of a phrase, through the pair index (migration 0045):
	// a superset of the phrase's matches, found by a further, selective condition the
	// phrase implies. Its arguments are pairArgs and a LIMIT, and probe counts its
	// rows (the planner's estimate of them: EXPLAIN, never run), unless direct. A phrase with few of
	// them is read at those positions (read in windows with pairsIn), newest first, in
	// batches, with exact (and exactArgs: the phrase itself, on the rows' vectors)
	// rather than walked; when the rest of them is needed, it is read whole through
	// the pair index with whole (and wholeArgs: exact and the pairs' condition). A walk
	// never carries the pairs (they would be computed row by row).
	pairs, exact, whole            string
	pairArgs, exactArgs, wholeArgs []any
	// pairsIn is pairs without its LIMIT and with a window of positions (its arguments
	// are pairArgs, the window's first position and the position past its last); span
	// selects the account's first and last position in the source (its argument is the
	// account).
	pairsIn, span string
	// direct (PostgreSQL, subject: phrases) reads the source's own matches whole
	// through its words' GIN index (match, without the pairs) when the planner expects
	// fewer than pairLimit of them (probe, which counts them, EXPLAIN read), before its
	// pairs are considered: a subject is a few words, so the rows with all of a
	// phrase's words in their subject are few beside those with its pairs anywhere
	// (mostly in descriptions).
	direct bool
	// few (SQLite), when set, reads the source's first matches in the index's own
	// order, rowids only (its arguments are probeArgs and a LIMIT). at, atPos and atKey
	// are from, pos and key in the form that reads rows at known positions, without
	// the text index (see fewRows, and walk for pairs).
	few, at, atPos, atKey string
}

func (sqliteText) walkSources(acct ids.Account, field string, words []string, prefix bool) []walkSource {
	phrase := fts5Phrase(words, prefix)
	tq := phrase
	if field != "" {
		// A column filter; field is "subject" or "description", never user text.
		tq = "{" + field + "} : " + phrase
	}
	// FTS5 reads rowid order and rowid ranges from its own index, so the walk stops as
	// soon as it has enough matches; CROSS JOIN keeps the FTS table outermost.
	out := []walkSource{{
		from:  "tickets_fts CROSS JOIN tickets t ON t.rowid = tickets_fts.rowid",
		match: "tickets_fts MATCH ?", args: []any{tq},
		pos: "tickets_fts.rowid", key: "t.created_at",
		probe: "SELECT COUNT(*) FROM (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH ? LIMIT ?)", probeArgs: []any{tq},
		few: "SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH ? LIMIT ?",
		at:  "tickets t", atPos: "t.rowid", atKey: "t.created_at",
	}}
	if field == "" {
		out = append(out, walkSource{
			from:  "ticket_comments_fts CROSS JOIN ticket_comments c INDEXED BY ticket_comments_fts_key ON c.id = ticket_comments_fts.rowid CROSS JOIN tickets t ON t.account_id = c.account_id AND t.id = c.ticket_id",
			match: "ticket_comments_fts MATCH ?", args: []any{phrase},
			pos: "ticket_comments_fts.rowid", key: "c.created_at",
			probe: "SELECT COUNT(*) FROM (SELECT rowid FROM ticket_comments_fts WHERE ticket_comments_fts MATCH ? LIMIT ?)", probeArgs: []any{phrase},
			few: "SELECT rowid FROM ticket_comments_fts WHERE ticket_comments_fts MATCH ? LIMIT ?",
			at:  "ticket_comments c INDEXED BY ticket_comments_fts_key CROSS JOIN tickets t ON t.account_id = c.account_id AND t.id = c.ticket_id", atPos: "c.id", atKey: "c.created_at",
		})
	}
	return out
}

// ticketHas is a condition on the ticket t: the words appear in field ("" for the
// subject, description or any comment). SQLite reads the set of matching rows once per
// statement (it keeps an IN subquery's rows) rather than asking FTS5 about each
// candidate: one FTS5 query per candidate opens every segment of the index, about
// 0.1 ms for tickets_fts and 0.35 ms per ticket's comments at 265,000 tickets. A walked
// search checks its other text terms with having instead; this condition serves negated
// text in a search with no positive text term to walk.
func (sqliteText) ticketHas(acct ids.Account, field string, words []string, prefix bool) (string, []any) {
	phrase := fts5Phrase(words, prefix)
	if field != "" {
		return "t.rowid IN (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH ?)", []any{"{" + field + "} : " + phrase}
	}
	return "(t.rowid IN (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH ?)" +
			" OR t.id IN (SELECT c2.ticket_id FROM ticket_comments_fts CROSS JOIN ticket_comments c2 INDEXED BY ticket_comments_fts_key ON c2.id = ticket_comments_fts.rowid WHERE ticket_comments_fts MATCH ? AND c2.account_id = ?))",
		[]any{phrase, phrase, acct}
}

// pgTicketQuery is the tsquery and tickets column of a text term on tickets: the
// subject has its own vector (migration 0034), so the planner's statistics see how
// common a word is in subjects; free text uses the weighted vector of the subject
// (weight A) and the description (weight B), and so does description:, with its words
// labelled B (migration 0066 dropped the description's own vector: a description holds
// most of a ticket's words, so the shared vector's statistics are the description's).
func pgTicketQuery(alias, field string, words []string, prefix bool) (col, q string) {
	switch {
	case field == "subject":
		return alias + ".subject_tsv", tsPhrase(words, prefix, "")
	case field == "description":
		return alias + ".search_tsv", tsPhrase(words, prefix, "B")
	case len(words) == 1:
		return alias + ".search_tsv", tsPhrase(words, prefix, "")
	}
	// The subject and description share one tsvector; keeping a phrase within one of
	// them stops it from matching across the seam.
	return alias + ".search_tsv", "(" + tsPhrase(words, prefix, "A") + ") | (" + tsPhrase(words, prefix, "B") + ")"
}

// pgPairs returns the words of a phrase whose neighbouring pairs an index of word pairs
// answers (migration 0045: tandem_pairs, tandem_pairs_query), joined by spaces: all of
// them, or all but a trailing prefix; "" when fewer than two remain.
func pgPairs(words []string, prefix bool) string {
	if prefix {
		words = words[:len(words)-1]
	}
	if len(words) < 2 {
		return ""
	}
	return strings.Join(words, " ")
}

// pgPairsCond is the condition on a vector column: it holds every pair of the phrase
// given as pgPairs' words (a bind parameter). tandem_pairs(col) is the expression the
// pair indexes of migration 0045 hold.
func pgPairsCond(col string) string {
	return "tandem_pairs(" + col + ") @@ tandem_pairs_query(?)"
}

// pgExact is a phrase's exact condition beside its pairs' (pgPairsCond): IS TRUE keeps
// the planner from also reading the words' GIN index and ANDing the two bitmaps, which
// makes every row a recheck of both conditions, tandem_pairs included (0.2 ms a row);
// the pair index alone needs no recheck.
func pgExact(col, tq string) string {
	return "(" + col + " @@ to_tsquery('simple', " + tq + ")) IS TRUE"
}

func (postgresText) walkSources(acct ids.Account, field string, words []string, prefix bool) []walkSource {
	col, q := pgTicketQuery("t", field, words, prefix)
	pairs := pgPairs(words, prefix)
	// With LIMIT, the planner walks the primary key (account_id, id) backwards when its
	// statistics say the words are common, and reads the GIN index when they are rare.
	// A phrase's pairs are always in the vector of both fields (search_tsv), so
	// subject: and description: phrases use its pair index too.
	// tandem_serial() keeps the walks and the probes from starting parallel workers
	// (migration 0045): a probe of a common phrase at a million tickets started two, for
	// 19 ms against 9 ms serial.
	ticket := walkSource{
		from: "tickets t", match: col + " @@ to_tsquery('simple', ?) AND tandem_serial()", args: []any{q},
		pos: "t.id", key: "t.created_at",
		probe: "SELECT COUNT(*) FROM (SELECT 1 FROM tickets t WHERE t.account_id = ? AND t.deleted_at = 0 AND " + col + " @@ to_tsquery('simple', ?) AND tandem_serial() LIMIT ?) p", probeArgs: []any{acct, q},
	}
	if pairs != "" {
		ticket.pairs = "SELECT t.id FROM tickets t WHERE t.account_id = ? AND t.deleted_at = 0 AND " + pgPairsCond("t.search_tsv") + " AND tandem_serial() LIMIT ?"
		// subject: phrases read all their pair rows at once: the pairs are mostly in
		// descriptions, so windows would have to cover most of the account.
		if field != "subject" {
			ticket.pairsIn = "SELECT t.id FROM tickets t WHERE t.account_id = ? AND t.deleted_at = 0 AND " + pgPairsCond("t.search_tsv") + " AND t.id >= ? AND t.id < ? AND tandem_serial()"
		}
		ticket.span = "SELECT COALESCE(MIN(t.id), 0), COALESCE(MAX(t.id), 0) FROM tickets t WHERE t.account_id = ?"
		ticket.pairArgs = []any{acct, pairs}
		if field == "subject" {
			ticket.direct = true
		} else {
			ticket.probe, ticket.probeArgs = "SELECT COUNT(*) FROM ("+ticket.pairs+") p", ticket.pairArgs
		}
		ticket.exact, ticket.exactArgs = pgExact(col, "?"), []any{q}
		ticket.whole, ticket.wholeArgs = ticket.exact+" AND "+pgPairsCond("t.search_tsv")+" AND tandem_serial()", []any{q, pairs}
		ticket.at, ticket.atPos, ticket.atKey = "tickets t", "t.id", "t.created_at"
	}
	out := []walkSource{ticket}
	if field == "" {
		cq := tsPhrase(words, prefix, "")
		// The comment walk reads the account's comments newest first through
		// ticket_comments_account (account_id, id). Written as c.account_id = ? (or
		// joined on t.account_id = c.account_id, which with the tickets' t.account_id =
		// ? makes it a constant to the planner), an account holding most of the
		// comments was walked through ticket_comments_pkey (id) instead, stepping over
		// every newer comment of every other account: 11,000 of them, 15,700 rows read
		// for 3,536 matches, at 100,000 tickets with a busy second account. As = ANY
		// of an array the account is no constant for the planner, so ordering by
		// (account_id, id) needs the account's own index; the tickets' t.account_id =
		// ? keeps the join within the account. Planned without the arguments (a
		// prepared statement's generic plan), the account as an array and the words
		// as a parameter read like a rare match, and the plan read every match of a
		// common word through the GIN index and sorted them (870 ms): the walk is
		// planned with its arguments each time (custom).
		comment := walkSource{
			from:  "ticket_comments c JOIN tickets t ON t.id = c.ticket_id",
			match: "c.account_id = ANY(ARRAY[?]::bigint[]) AND c.search_tsv @@ to_tsquery('simple', ?) AND tandem_serial()", args: []any{acct, cq},
			pos: "c.id", key: "c.created_at", order: "c.account_id DESC, c.id DESC", custom: true,
			probe: "SELECT COUNT(*) FROM (SELECT 1 FROM ticket_comments c WHERE c.account_id = ? AND c.search_tsv @@ to_tsquery('simple', ?) AND tandem_serial() LIMIT ?) p", probeArgs: []any{acct, cq},
		}
		if pairs != "" {
			comment.pairs = "SELECT c.id FROM ticket_comments c WHERE c.account_id = ? AND " + pgPairsCond("c.search_tsv") + " AND tandem_serial() LIMIT ?"
			comment.pairsIn = "SELECT c.id FROM ticket_comments c WHERE c.account_id = ? AND " + pgPairsCond("c.search_tsv") + " AND c.id >= ? AND c.id < ? AND tandem_serial()"
			comment.span = "SELECT COALESCE(MIN(c.id), 0), COALESCE(MAX(c.id), 0) FROM ticket_comments c WHERE c.account_id = ?"
			comment.pairArgs = []any{acct, pairs}
			comment.probe, comment.probeArgs = "SELECT COUNT(*) FROM ("+comment.pairs+") p", comment.pairArgs
			comment.exact, comment.exactArgs = "c.account_id = ? AND "+pgExact("c.search_tsv", "?"), []any{acct, cq}
			comment.whole, comment.wholeArgs = comment.exact+" AND "+pgPairsCond("c.search_tsv")+" AND tandem_serial()", []any{acct, cq, pairs}
			comment.at, comment.atPos, comment.atKey = "ticket_comments c JOIN tickets t ON t.id = c.ticket_id", "c.id", "c.created_at"
		}
		out = append(out, comment)
	}
	return out
}

func (postgresText) ticketHas(_ ids.Account, field string, words []string, prefix bool) (string, []any) {
	col, q := pgTicketQuery("t", field, words, prefix)
	own := col + " @@ to_tsquery('simple', ?)"
	if field != "" {
		return own, []any{q}
	}
	// OFFSET 0 keeps the planner from turning EXISTS into a hashed subplan, which reads
	// every matching comment of the account before the first candidate (2 s for two
	// common words at 570,000 tickets); each candidate's comments are a few rows.
	return "(" + own + " OR EXISTS (SELECT 1 FROM ticket_comments c2 WHERE c2.account_id = t.account_id AND c2.ticket_id = t.id AND c2.search_tsv @@ to_tsquery('simple', ?) OFFSET 0))",
		[]any{q, tsPhrase(words, prefix, "")}
}

// rangeGap is the distance in index positions (FTS5 rowids) up to which neighbouring
// candidates share one read of a word's matches between them: a read costs about as
// much as stepping over a few thousand entries, since FTS5 seeks into every segment.
const rangeGap = 2048

// inChunk bounds the ids one IN list carries.
const inChunk = 500

func (sqliteText) rowRef() string { return "t.rowid" }

// having reads, for each run of candidates close together in the index, the words'
// matches between the run's first and last rowid (FTS5 seeks to a rowid range in its
// doclists), so a batch of the newest candidates costs a read of the newest part of the
// word's matches, not all of them. Comments are read for the candidates whose subject
// and description do not have the words.
func (x sqliteText) having(ctx context.Context, q store.Queryer, acct ids.Account, field string, words []string, prefix bool, cands []candidate) (map[int64]bool, error) {
	phrase := fts5Phrase(words, prefix)
	tq := phrase
	if field != "" {
		// A column filter; field is "subject" or "description", never user text.
		tq = "{" + field + "} : " + phrase
	}
	has := map[int64]bool{}
	byRef := make(map[int64]int64, len(cands))
	for _, c := range cands {
		byRef[c.ref] = c.id
	}
	err := ftsRanges(ctx, q, x.gap, "tickets_fts", tq, slices.Collect(maps.Keys(byRef)), func(rowid int64) {
		if id, ok := byRef[rowid]; ok {
			has[id] = true
		}
	})
	if err != nil || field != "" {
		return has, err
	}
	var rest []any
	for _, c := range cands {
		if !has[c.id] {
			rest = append(rest, c.id)
		}
	}
	ticketOf := map[int64]int64{}
	for len(rest) > 0 {
		chunk := rest[:min(len(rest), inChunk)]
		rest = rest[len(chunk):]
		rows, err := q.QueryContext(ctx, "SELECT c.id, c.ticket_id FROM ticket_comments c WHERE c.account_id = ? AND c.ticket_id IN ("+store.In(len(chunk))+")",
			append([]any{acct}, chunk...)...)
		if err != nil {
			return nil, fmt.Errorf("search: comments: %w", err)
		}
		for rows.Next() {
			var id, tid int64
			if err := rows.Scan(&id, &tid); err != nil {
				rows.Close()
				return nil, fmt.Errorf("search: comments: %w", err)
			}
			ticketOf[id] = tid
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("search: comments: %w", err)
		}
	}
	err = ftsRanges(ctx, q, x.gap, "ticket_comments_fts", phrase, slices.Collect(maps.Keys(ticketOf)), func(rowid int64) {
		if id, ok := ticketOf[rowid]; ok {
			has[id] = true
		}
	})
	return has, err
}

// ftsRanges calls found with those of rowids (sorted here) that match the FTS5 query tq
// in table (an FTS5 table's name, never user text). It reads the matches between
// neighbouring rowids no more than gap apart in one range (FTS5 seeks to the range's
// start in its doclists), and SQLite keeps only the rowids asked for (the unary plus
// keeps the IN list from becoming one FTS5 lookup per rowid), so that few rows come
// back even when the range holds many matches.
func ftsRanges(ctx context.Context, q store.Queryer, gap int64, table, tq string, rowids []int64, found func(int64)) error {
	slices.Sort(rowids)
	for i := 0; i < len(rowids); {
		j := i + 1
		for j < len(rowids) && j-i < inChunk && rowids[j]-rowids[j-1] <= gap {
			j++
		}
		run := rowids[i:j]
		args := make([]any, 0, len(run)+3)
		args = append(args, tq, run[0], run[len(run)-1])
		for _, id := range run {
			args = append(args, id)
		}
		rows, err := q.QueryContext(ctx, "SELECT rowid FROM "+table+" WHERE "+table+" MATCH ? AND rowid BETWEEN ? AND ? AND +rowid IN ("+store.In(len(run))+")", args...)
		if err != nil {
			return fmt.Errorf("search: %s: %w", table, err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("search: %s: %w", table, err)
			}
			found(id)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("search: %s: %w", table, err)
		}
		i = j
	}
	return nil
}

func (postgresText) rowRef() string { return "t.id" }

// having checks the candidates' own vectors, then the comments of those that lack the
// words. OFFSET 0 keeps the planner from reading the words' matches from the GIN index
// (every match in the account, for a common word) instead of the candidates' rows; the
// ids travel as one array, so that the statement is planned once, not once per length
// of an IN list.
func (postgresText) having(ctx context.Context, q store.Queryer, acct ids.Account, field string, words []string, prefix bool, cands []candidate) (map[int64]bool, error) {
	col, tq := pgTicketQuery("t", field, words, prefix)
	has := map[int64]bool{}
	rest := make([]int64, len(cands))
	for i, c := range cands {
		rest[i] = c.id
	}
	err := pgHaving(ctx, q, "SELECT x.id FROM (SELECT t.id, "+col+" AS v FROM tickets t WHERE t.account_id = ? AND t.id = ANY(?) OFFSET 0) x WHERE x.v @@ to_tsquery('simple', ?)",
		acct, rest, tq, has)
	if err != nil || field != "" {
		return has, err
	}
	rest = slices.DeleteFunc(rest, func(id int64) bool { return has[id] })
	err = pgHaving(ctx, q, "SELECT DISTINCT x.ticket_id FROM (SELECT c.ticket_id, c.search_tsv FROM ticket_comments c WHERE c.account_id = ? AND c.ticket_id = ANY(?) OFFSET 0) x WHERE x.search_tsv @@ to_tsquery('simple', ?)",
		acct, rest, tsPhrase(words, prefix, ""), has)
	return has, err
}

// pgHaving runs query (account, an array of ticket ids, the tsquery) and records the
// ticket ids it returns in has.
func pgHaving(ctx context.Context, q store.Queryer, query string, acct ids.Account, tickets []int64, tq string, has map[int64]bool) error {
	if len(tickets) == 0 {
		return nil
	}
	rows, err := q.QueryContext(ctx, query, acct, tickets, tq)
	if err != nil {
		return fmt.Errorf("search: check: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("search: check: %w", err)
		}
		has[id] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("search: check: %w", err)
	}
	return nil
}
