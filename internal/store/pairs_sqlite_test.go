package store_test

import (
	"context"
	"strings"
	"testing"

	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// TestPairsSplitAsUnicode61: Pairs splits text into words exactly where the word
// indexes' tokenizer (unicode61 remove_diacritics 2, in the SQLite Tandem runs) does,
// for every character of the Basic Multilingual Plane and every 61st of the others: a
// character between two letters either joins them into one word for both (no pair) or
// splits them for both (one pair). And the pairs of a text, in order.
func TestPairsSplitAsUnicode61(t *testing.T) {
	for text, want := range map[string]string{
		"":                               "",
		"refund":                         "",
		"My blender, my warranty":        "My_blender blender_my my_warranty",
		"refund refund refund":           "refund_refund refund_refund",
		"printer-refund; café\u00a0CAFÉ": "printer_refund refund_café café_CAFÉ",
		"e\u0301te\u0301 x_y 4711":       "e\u0301te\u0301_x x_y y_4711",
	} {
		if got := store.Pairs(text); got != want {
			t.Errorf("Pairs(%q) = %q, want %q", text, got, want)
		}
	}
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	var cps []rune
	for r := rune(0x80); r < 0x110000; r++ {
		if (r < 0x10000 || r%61 == 0) && (r < 0xd800 || r > 0xdfff) {
			cps = append(cps, r)
		}
	}
	word := map[rune]bool{} // as FTS5 sees it: "q" + r + "z" is one token
	err := db.Write(ctx, func(tx *store.Tx) error {
		for _, q := range []string{
			`CREATE VIRTUAL TABLE temp.split USING fts5(a, tokenize = 'unicode61 remove_diacritics 2')`,
			`CREATE VIRTUAL TABLE temp.split_tokens USING fts5vocab(temp, split, 'instance')`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		for i := 0; i < len(cps); i += 500 {
			chunk := cps[i:min(i+500, len(cps))]
			args := make([]any, 0, 2*len(chunk))
			for _, r := range chunk {
				args = append(args, int64(r), "q"+string(r)+"z")
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO temp.split (rowid, a) VALUES `+strings.TrimSuffix(strings.Repeat("(?, ?), ", len(chunk)), ", "), args...); err != nil {
				return err
			}
		}
		rows, err := tx.QueryContext(ctx, `SELECT doc FROM temp.split_tokens GROUP BY doc HAVING COUNT(*) = 1`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r int64
			if err := rows.Scan(&r); err != nil {
				return err
			}
			word[rune(r)] = true
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	for _, r := range cps {
		if joined := store.Pairs("q"+string(r)+"z") == ""; joined != word[r] {
			if bad++; bad <= 10 {
				t.Errorf("%U: one word for Pairs %v, for unicode61 %v", r, joined, word[r])
			}
		}
	}
	if bad > 10 {
		t.Errorf("... %d characters in all", bad)
	}
	if len(word) < 50000 {
		t.Fatalf("unicode61 kept only %d of the characters inside a word: the probe is broken", len(word))
	}
}
