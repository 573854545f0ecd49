package search

import (
	"strconv"
	"strings"

	"tandem/internal/ids"
)

// sqliteText matches text with FTS5 (migration sqlite/0004_search.sql).
type sqliteText struct{}

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
	var q string
	switch {
	case field == "subject":
		q = tsPhrase(words, prefix, "A")
	case field == "description":
		q = tsPhrase(words, prefix, "B")
	case len(words) == 1:
		q = tsPhrase(words, prefix, "")
	default:
		// The subject and description share one tsvector; keeping a phrase within one of
		// them stops it from matching across the seam.
		q = "(" + tsPhrase(words, prefix, "A") + ") | (" + tsPhrase(words, prefix, "B") + ")"
	}
	tickets := `SELECT x.id FROM tickets x WHERE x.account_id = ? AND x.deleted_at = 0 AND x.search_tsv @@ to_tsquery('simple', ?)`
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
