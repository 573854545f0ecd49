package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/jobs"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// TestImportReportIsBounded: a 20,000-row import with one bad row (line 1,502) shows
// counts and the failed row first on a small page; the whole report is a CSV download
// for the admin who ran the import, and nobody else (another admin, another account).
func TestImportReportIsBounded(t *testing.T) {
	t.Parallel()
	desk := testkit.Start(t, storetest.Dialects()[0])
	acme := desk.Account(t, "acme", account.Enterprise)
	other := acme.User(t, identity.Admin, "other-admin@acme.test", "Olga Admin")
	globex := desk.Account(t, "globex", account.Enterprise)
	setPassword(t, desk, acme.ID, other.UserID) // admins are provisioned with the test password
	signedIn := func(a *testkit.Acct, who testkit.Cred) *client {
		c := newClient(t, desk, a.Sub)
		c.signIn(who.Email, password)
		return c
	}
	c := signedIn(acme, acme.Admin)
	// The job is recorded as the import records it (a real 20,000-row import takes
	// minutes under the race detector; TestImport runs real files through the same page).
	rows := make([]map[string]any, 0, 20000)
	for line := 2; line <= 20001; line++ {
		if line == 1502 {
			rows = append(rows, map[string]any{"index": line - 2, "line": line, "key": "not-an-email", "status": "failed", "field": "email", "error": "InvalidValue", "details": "is not an email address", "success": false})
			continue
		}
		rows = append(rows, map[string]any{"index": line - 2, "line": line, "key": fmt.Sprintf("bulk%d@example.test", line), "id": 1000 + line, "status": "created", "success": true})
	}
	st, err := desk.Srv.Jobs.Start(context.Background(), jobs.Spec{Account: acme.ID, User: ids.User(acme.Admin.UserID), Type: "import_users", Total: len(rows)},
		func(context.Context, *jobs.Job) jobs.Result {
			return jobs.Result{Results: rows, Done: len(rows), Total: len(rows)}
		})
	if err != nil {
		t.Fatal(err)
	}
	p := page{Location: "/admin/users/import/" + st.ID}
	testkit.Eventually(t, 20*time.Second, "the import to finish", func() bool {
		st, err := jobs.Get(context.Background(), desk.DB.R(), acme.ID, st.ID)
		return err == nil && jobs.Finished(st.State)
	})
	pg := c.get(p.Location).want(t, http.StatusOK)
	pg.has(t, "Import finished", "19999 created", "1 with errors", "The page lists 100 of 20000 rows", "download the report")
	if n := len(pg.Body); n > 100<<10 {
		t.Errorf("the results page is %d bytes for 20,000 rows, want under 100 KiB", n)
	}
	// The failed row comes first.
	first := strings.Index(pg.Body, `class="row-error"`)
	if first < 0 || strings.Index(pg.Body, "<td class=\"num\">") < first || !strings.Contains(pg.Body[first:first+200], ">1502<") {
		t.Errorf("the failed row (line 1502) is not the first row listed: %s", excerpt(pg.Body))
	}

	report := p.Location + "/report.csv"
	csv := c.get(report).want(t, http.StatusOK)
	if lines := strings.Count(csv.Body, "\n"); lines != 20001 {
		t.Errorf("the CSV report has %d lines, want a header and 20,000 rows", lines)
	}
	if !strings.Contains(csv.Body, "\n1502,failed,,not-an-email,email,InvalidValue,is not an email address\n") || !strings.Contains(csv.Body, "\n20001,created,21001,") {
		t.Errorf("the CSV report lacks rows 1502 and 20001: %.300s", csv.Body)
	}
	// Only the admin who ran the import downloads its report; another account sees
	// neither the page nor the report.
	signedIn(acme, other).get(report).want(t, http.StatusNotFound)
	g := signedIn(globex, globex.Admin)
	g.get(report).want(t, http.StatusNotFound)
	g.get(p.Location).want(t, http.StatusNotFound)
}
