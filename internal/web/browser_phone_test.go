package web_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"tandem/internal/account"
	"tandem/internal/demo"
)

// TestBrowserTermsAndPhoneWidth: the sharing terms keep every description, bold words
// included, in the description column; and the main pages fit a 390 px wide phone
// without sideways scrolling, nor shows internal names (issue 19 items 15 and 21): every
// page reachable by links, not a list, so pages added later are walked too.
func TestBrowserTermsAndPhoneWidth(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	desk, _ := seededDemo(t)
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

	// Every page the three of them can reach by following links from the pages above
	// (one of each kind: /agent/tickets/1 and /agent/tickets/2 are one page), pages
	// added later included: it fits the phone and reads in words. The three walks are
	// independent (a tab each) and run side by side.
	for _, start := range []struct {
		name  string
		tb    *tab
		paths []string
	}{
		{"admin", admin, []string{"/admin", "/agent", "/admin/sharing"}},
		{"agent", agent, []string{"/agent/tickets/1", "/agent/views/unsolved", "/agent"}},
		{"end user", user, []string{req, "/hc/requests/new", "/hc"}},
	} {
		t.Run(start.name, func(t *testing.T) {
			t.Parallel()
			walkPhone(t, &tab{t: t, ctx: start.tb.ctx}, base, start.paths)
		})
	}
}

// walkPhone opens, in a 390 px wide viewport, every kind of page reachable by links
// from paths, and checks that each fits the phone and reads in words.
func walkPhone(t *testing.T, tb *tab, base string, paths []string) {
	t.Helper()
	tb.do("phone viewport", chromedp.EmulateViewport(390, 844))
	seen := map[string]bool{}
	queue := slices.Clone(paths)
	for len(queue) > 0 && len(seen) < 120 {
		path := queue[0]
		queue = queue[1:]
		if k := pageKind(path); seen[k] || !crawlable(path) {
			continue
		} else {
			seen[k] = true
		}
		tb.open(base + path)
		var pg struct {
			Width int
			Wide  string
			Text  string
			Links []string
		}
		if err := json.Unmarshal([]byte(tb.eval(phoneJS)), &pg); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if pg.Width > 390 {
			t.Errorf("%s is %d px wide on a 390 px phone; too wide: %s", path, pg.Width, pg.Wide)
		}
		for _, j := range jargon {
			if strings.Contains(pg.Text, j) {
				t.Errorf("%s shows %q, which is not in words", path, j)
			}
		}
		queue = append(queue, pg.Links...)
	}
	if len(seen) < len(paths)+5 {
		t.Errorf("the walk from %v reached only %d kinds of page", paths, len(seen))
	}
}

// phoneJS measures the page: its width, the elements past 390 px (outside anything that
// scrolls by itself), its text and the
// links to this site's pages.
const phoneJS = `(function(){
function scrolls(e){for(e=e.parentElement;e&&e!==document.body;e=e.parentElement){var o=getComputedStyle(e).overflowX;if(o==="auto"||o==="scroll"||o==="hidden"){return true}}return false}
var wide=[],w=document.documentElement.scrollWidth;if(w>390)document.querySelectorAll("body *").forEach(function(e){var r=e.getBoundingClientRect();if(r.right>391&&wide.length<8&&!scrolls(e)){wide.push(e.tagName.toLowerCase()+"."+e.className+" right="+Math.round(r.right))}});
var links=[];document.querySelectorAll("a[href]").forEach(function(a){if(a.origin===location.origin){links.push(a.pathname+a.search)}});
return JSON.stringify({Width:w,Wide:wide.join("; "),Text:document.body.innerText,Links:links})})()`

// jargon is what a page must never show: internal names and raw values.
var jargon = []string{"ticket_sharing", "via_id", "Update via", "<nil>", "%!", "map[", "0001-01-01", "1970", "dial tcp", "context deadline exceeded", "sql:", "pq:", "SQLSTATE"}

// digits is a path segment that numbers a record.
var digits = regexp.MustCompile(`/\d+(/|$)`)

// pageKind is a page's path without its query and with its record numbers as N.
func pageKind(path string) string {
	path, _, _ = strings.Cut(path, "?")
	for digits.MatchString(path) {
		path = digits.ReplaceAllString(path, "/N$1")
	}
	return path
}

// crawlable says whether the walk opens a link: pages, not downloads, streams or
// fragments.
func crawlable(path string) bool {
	p, _, _ := strings.Cut(path, "?")
	for _, skip := range []string{"/files/", "/hc-files/", "_attachments/", "/events", ".csv", ".xml", "/suggest", "/counts", "/static/", "/rate/", "/comments/"} {
		if strings.Contains(p, skip) {
			return false
		}
	}
	return strings.HasPrefix(p, "/agent") || strings.HasPrefix(p, "/admin") || strings.HasPrefix(p, "/hc")
}
