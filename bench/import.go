package bench

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"time"

	"tandem/internal/account"
	"tandem/internal/importer"
	"tandem/internal/store"
)

// ImportResult is one run of the CSV import benchmark.
type ImportResult struct {
	Rows, Orgs int
	Bytes      int
	// First imports every user (all created); Rerun imports the same file again (all
	// unchanged: each row is read and compared, nothing is written).
	First, Rerun           time.Duration
	Created, Unchanged     int
	FailedFirst, FailedRun int
}

// RowsPerSecond is the first import's rate.
func (r ImportResult) RowsPerSecond() float64 { return float64(r.Rows) / r.First.Seconds() }

// RerunRowsPerSecond is the re-run's rate.
func (r ImportResult) RerunRowsPerSecond() float64 { return float64(r.Rows) / r.Rerun.Seconds() }

// UsersCSV generates a users file of n rows as an admin exports one from another help
// desk: every row has a name, an email, an external ID, a phone and tags; half the
// emails are in a domain that one of the orgs organizations maps (so the user joins
// it); one row in five names an organization, one in ten names two; one in a hundred is
// an agent.
func UsersCSV(n, orgs int) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"name", "email", "external_id", "role", "organization", "tags", "phone", "details"})
	for i := 1; i <= n; i++ {
		domain := fmt.Sprintf("elsewhere%d.test", i%1000)
		if i%2 == 0 {
			domain = fmt.Sprintf("company%03d.test", i%orgs)
		}
		role := "end-user"
		if i%100 == 0 {
			role = "agent"
		}
		var orgCell string
		switch {
		case i%10 == 0:
			orgCell = fmt.Sprintf("Company %03d|Company %03d", (i/10)%orgs, (i/10+1)%orgs)
		case i%5 == 0:
			orgCell = fmt.Sprintf("Company %03d", (i/5)%orgs)
		}
		_ = w.Write([]string{fmt.Sprintf("User %06d", i), fmt.Sprintf("user%06d@%s", i, domain), fmt.Sprintf("U-%06d", i), role,
			orgCell, "imported bench", fmt.Sprintf("+1 555 %06d", i), "Imported from the old help desk"})
	}
	w.Flush()
	return b.Bytes()
}

// OrgsCSV generates an organizations file: Company 000 ... with one domain each.
func OrgsCSV(n int) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"name", "external_id", "domain_names", "shared_tickets", "tags"})
	for i := 0; i < n; i++ {
		_ = w.Write([]string{fmt.Sprintf("Company %03d", i), fmt.Sprintf("C-%03d", i), fmt.Sprintf("company%03d.test", i), "true", "customer"})
	}
	w.Flush()
	return b.Bytes()
}

// ImportUsers measures importing a CSV of n users (generated in memory) through the
// importer package, directly (not over HTTP), into an account that has orgs
// organizations; then imports the same file again.
func ImportUsers(db *store.DB, n, orgs int) (ImportResult, error) {
	ctx := context.Background()
	var acct *account.Account
	err := db.Write(ctx, func(tx *store.Tx) error {
		var err error
		acct, err = account.Create(ctx, tx, "bench-import", "Bench Import", account.Enterprise)
		return err
	})
	if err != nil {
		return ImportResult{}, err
	}
	rep, err := importer.ImportOrganizations(ctx, db, acct, bytes.NewReader(OrgsCSV(orgs)), importer.Options{}, nil)
	if err != nil {
		return ImportResult{}, err
	}
	if rep.Failed > 0 {
		return ImportResult{}, fmt.Errorf("organizations: %d rows failed, first: %+v", rep.Failed, rep.Rows[0])
	}
	data := UsersCSV(n, orgs)
	res := ImportResult{Rows: n, Orgs: orgs, Bytes: len(data)}
	t0 := time.Now()
	rep, err = importer.ImportUsers(ctx, db, acct, bytes.NewReader(data), importer.Options{}, nil)
	res.First = time.Since(t0)
	if err != nil {
		return res, err
	}
	res.Created, res.FailedFirst = rep.Created, rep.Failed
	t0 = time.Now()
	rep, err = importer.ImportUsers(ctx, db, acct, bytes.NewReader(data), importer.Options{}, nil)
	res.Rerun = time.Since(t0)
	if err != nil {
		return res, err
	}
	res.Unchanged, res.FailedRun = rep.Unchanged, rep.Failed
	if res.Created != n || res.Unchanged != n {
		return res, fmt.Errorf("import: %d created and %d unchanged of %d rows (%d and %d failed)", res.Created, res.Unchanged, n, res.FailedFirst, res.FailedRun)
	}
	return res, nil
}
