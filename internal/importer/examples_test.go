package importer_test

import (
	"os"
	"testing"

	"tandem/internal/account"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// The sample files the README points to (docs/examples) import without a failed row or
// a warning, and a second run changes nothing.
func TestDocsExamplesImport(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile("../../docs/examples/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	orgs, users := read("organizations.csv"), read("users.csv")
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := newAccount(t, db, "acme", account.Enterprise)
		for run := 1; run <= 2; run++ {
			ro := importOrgs(t, db, a, orgs)
			ru := importUsers(t, db, a, users)
			if ro.Failed+ru.Failed != 0 || len(ro.Warnings)+len(ru.Warnings) != 0 {
				t.Fatalf("run %d: organizations %+v, users %+v", run, ro, ru)
			}
			if run == 1 && (ro.Created != 2 || ru.Created != 4) {
				t.Fatalf("first run: organizations %+v, users %+v; want 2 and 4 created", ro, ru)
			}
			if run == 2 && ro.Unchanged+ru.Unchanged != ro.Total()+ru.Total() {
				t.Fatalf("second run changed rows: organizations %+v, users %+v", ro, ru)
			}
		}
	})
}
