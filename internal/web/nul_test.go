package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"tandem/internal/store/storetest"
)

// TestFormNULRefused: a NUL character in a form field or a query parameter is a 422
// naming the field on both databases, and nothing is written.
func TestFormNULRefused(t *testing.T) {
	for _, dia := range storetest.Dialects() {
		t.Run(string(dia), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, dia)
			admin := f.signedIn(t, f.admin)
			admin.get("/admin/organizations/new")
			admin.post("/admin/organizations", url.Values{"name": {"Glob\x00ex"}}).want(t, http.StatusUnprocessableEntity).has(t, "Name: must not contain a NUL character")
			admin.get("/admin/organizations").want(t, http.StatusOK).hasNot(t, "Glob")
			admin.get("/agent/search?q=tent%00pole").want(t, http.StatusUnprocessableEntity).has(t, "Q: must not contain a NUL character")
			c := newClient(t, f.desk, f.acct.Sub)
			c.get("/login")
			c.post("/login", url.Values{"email": {f.agent.Email + "\x00"}, "password": {password}}).want(t, http.StatusUnprocessableEntity)
		})
	}
}
