package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"tandem/internal/account"
	"tandem/internal/demo"
	"tandem/internal/store"
	"tandem/internal/testkit"
)

// TestBrowserTermsAndPhoneWidth: the sharing terms keep every description, bold words
// included, in the description column; and the main pages fit a 390 px wide phone
// without sideways scrolling.
func TestBrowserTermsAndPhoneWidth(t *testing.T) {
	b := newBrowser(t)
	desk := testkit.Start(t, store.SQLite)
	if _, err := demo.SeedWith(context.Background(), desk.Srv, desk.Addr, demo.Options{SkipAI: true}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	desk.Account(t, "northwind", account.Enterprise)
	passwordFor(t, desk, "acme", "sam@acme.test")
	passwordFor(t, desk, "acme", "alice@initech.test")
	base := "http://" + desk.Host("acme")

	// Acme invites Northwind with internal notes shared: the terms say so in bold.
	admin := b.tab()
	admin.signIn(base, "admin@acme.test", demo.Password)
	admin.open(base + "/admin/sharing")
	admin.fill("#partner", desk.SharingURL("northwind"))
	admin.do("share internal notes", chromedp.Click(chromedp.CSS(`input[name=comments][value=all]`)))
	admin.click("form[action='/admin/sharing'] button[type=submit]", "Invitation sent")
	admin.open(base + "/admin/sharing")
	admin.waitText("and internal notes", false)
	misplaced := admin.eval(`(function(){var bad=[];document.querySelectorAll(".terms li").forEach(function(li){var name=li.querySelector(".term-name").getBoundingClientRect();li.querySelectorAll("strong").forEach(function(s){if(s.getBoundingClientRect().left<name.right){bad.push(li.textContent.trim())}})});return bad.join(" | ")})()`)
	if misplaced != "" {
		t.Errorf("bold words of the terms sit in the label column: %s", misplaced)
	}

	agent := b.tab()
	agent.signIn(base, "sam@acme.test", password)
	// A reply with a very long word, which must break rather than widen the page.
	agent.open(base + "/agent/tickets/1")
	agent.fill("#comment", "See "+strings.Repeat("supercalifragilistic", 12)+" for details.")
	agent.click("#ticket-form button[type=submit]", " updated.")
	user := b.tab()
	user.signIn(base, "alice@initech.test", password)
	user.open(base + "/hc/requests/organization")
	user.waitText("Invoice for PO 7781", false)
	req := user.eval(`(function(){var a=document.querySelector("a[href^='/hc/requests/']:not([href$='new']):not([href$='organization'])");return a?a.getAttribute("href"):""})()`)
	if req == "" {
		t.Fatal("Alice has no request to open")
	}

	for _, p := range []struct {
		tb        *tab
		path, see string
	}{
		{admin, "/admin/sharing", "and internal notes"},
		{agent, "/agent/tickets/1", "Properties"},
		{agent, "/agent/views/unsolved", "All unsolved tickets"},
		{user, req, "This request is visible"},
		{user, "/hc/requests/new", "Submit"},
	} {
		p.tb.do("phone viewport", chromedp.EmulateViewport(390, 844))
		p.tb.open(base + p.path)
		p.tb.waitText(p.see, false)
		w, err := strconv.Atoi(p.tb.eval(`String(document.documentElement.scrollWidth)`))
		if err != nil {
			t.Fatal(err)
		}
		if w > 390 {
			wide := p.tb.eval(`(function(){var out=[];document.querySelectorAll("body *").forEach(function(e){var r=e.getBoundingClientRect();if(r.right>391&&out.length<8){out.push(e.tagName.toLowerCase()+"."+e.className+" right="+Math.round(r.right))}});return out.join("; ")})()`)
			t.Errorf("%s is %d px wide on a 390 px phone; too wide: %s", p.path, w, wide)
		}
	}
}
